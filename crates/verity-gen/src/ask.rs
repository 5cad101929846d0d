//! One cached question to a model: the building block of the judge and the step labeller
//! (the `generate` stage batches samples itself, see [`crate::engine`]).

use crate::cache::{request_key, Cache};
use crate::client::{Client, Outcome};
use crate::config::SamplingConfig;
use crate::error::{Result, TaskFailure};
use crate::response::Sample;
use crate::template::Prompt;
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;

/// Ask `prompt` once (sample `index`: seed `seed + index`), from the cache when it was asked
/// before.
pub async fn ask(
    client: &Client,
    cache: &Cache,
    prompt: &Prompt,
    sampling: &SamplingConfig,
    index: u32,
) -> Result<std::result::Result<Sample, TaskFailure>> {
    let mut body = Map::new();
    body.insert("model".into(), json!(client.model()));
    let (field, value) = prompt.to_json();
    body.insert(field.into(), value);
    if let Some(t) = sampling.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = sampling.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(m) = sampling.max_tokens {
        body.insert("max_tokens".into(), json!(m));
    }
    if !sampling.stop.is_empty() {
        body.insert("stop".into(), json!(sampling.stop));
    }
    let mut key_body = body.clone();
    key_body.insert("seed".into(), json!(sampling.seed));
    let key = request_key(
        client.model(),
        client.api().path(),
        &Value::Object(key_body),
        index,
    );
    if let Some(sample) = cache.get(&key)? {
        client.stats().cache_hits.fetch_add(1, Ordering::Relaxed);
        return Ok(Ok(sample));
    }
    if let Some(seed) = sampling.seed {
        body.insert("seed".into(), json!(seed + u64::from(index)));
    }
    let tokens = prompt.estimated_tokens() + u64::from(sampling.max_tokens.unwrap_or(256));
    match client.complete(&Value::Object(body), tokens).await? {
        Outcome::Failed(f) => Ok(Err(f)),
        Outcome::Reply(reply, latency) => {
            let single = reply.choices.len() == 1;
            let Some(choice) = reply.choices.into_iter().next() else {
                return Ok(Err(TaskFailure::RetriesExhausted {
                    retries: 0,
                    cause: "no_choices".into(),
                }));
            };
            let sample = Sample {
                model: reply.model.unwrap_or_else(|| client.model().to_string()),
                text: choice.text,
                reasoning: choice.reasoning,
                finish_reason: choice.finish_reason,
                prompt_tokens: reply.prompt_tokens,
                completion_tokens: if single {
                    reply.completion_tokens
                } else {
                    None
                },
                latency_ms: latency.as_millis() as u64,
            };
            cache.put(&[(key, sample.clone())])?;
            client
                .stats()
                .samples_generated
                .fetch_add(1, Ordering::Relaxed);
            Ok(Ok(sample))
        }
    }
}
