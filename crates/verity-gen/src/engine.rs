//! The generator: tasks in, attempts out, every sample looked up in the cache first.
//!
//! For each task the prompt is rendered once; sample `i` (0-based, `i < n`) has its own cache
//! key and, when a seed is given, is requested with `seed + i`. Missing samples are requested
//! concurrently (one request each), or `samples_per_request` at a time with `n` in the body;
//! a reply with fewer choices than asked leaves the rest missing and they are asked again with
//! the next seeds. Every reply is stored in the cache before it is used.
//!
//! Each attempt carries its lineage: `generator.model` is the model id the *server* reports,
//! `generator.params` the sampling parameters, the sample index, the template hash and the
//! requested model name; `signals` hold `prompt_tokens`, `completion_tokens`, `latency_ms`
//! and `truncated` (`finish_reason = length`).

use crate::cache::{request_key, Cache};
use crate::client::{Client, Outcome};
use crate::config::{GenerateConfig, ReasoningMode, SamplingConfig};
use crate::error::{Error, Result, TaskFailure};
use crate::response::{split_reasoning, Sample};
use crate::stats::Stats;
use crate::template::{Prompt, Template};
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::task::JoinSet;
use verity_core::record::{Attempt, AttemptRole, Generator as GeneratorInfo, ObjectKind, Record};

/// What became of one task.
#[derive(Debug)]
pub enum TaskResult {
    /// The record with its samples.
    Done(Record),
    /// The record could not be completed (reason code, detail).
    Failed(Record, String, Value),
}

/// Samples for tasks; shared by every task of a stage.
pub struct Generator {
    client: Arc<Client>,
    cache: Arc<Cache>,
    template: Template,
    sampling: SamplingConfig,
    reasoning: ReasoningMode,
    base_model: Option<String>,
    keep_attempts: bool,
}

/// One request's worth of samples of a task.
struct Pending {
    base: Map<String, Value>,
    key_body: Value,
    estimated_tokens: u64,
}

impl Generator {
    /// A generator for `config`, with its client and cache.
    pub fn new(config: &GenerateConfig, client: Arc<Client>, cache: Arc<Cache>) -> Result<Self> {
        let sampling = config.sampling();
        sampling.validate("")?;
        Ok(Generator {
            template: Template::new(&config.template(), client.api())?,
            client,
            cache,
            sampling,
            reasoning: config.reasoning,
            base_model: config.base_model.clone(),
            keep_attempts: config.keep_attempts,
        })
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<Stats> {
        self.client.stats()
    }

    /// The client.
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    /// The template hash.
    pub fn template_hash(&self) -> &str {
        self.template.hash()
    }

    /// The sampling parameters.
    pub fn sampling(&self) -> &SamplingConfig {
        &self.sampling
    }

    /// The declared base model.
    pub fn base_model(&self) -> Option<&str> {
        self.base_model.as_deref()
    }

    /// The request body without `n` and `seed`, and the token estimate.
    fn pending(&self, prompt: &Prompt) -> Pending {
        let mut base = Map::new();
        base.insert("model".into(), json!(self.client.model()));
        let (field, value) = prompt.to_json();
        base.insert(field.into(), value);
        let s = &self.sampling;
        if let Some(t) = s.temperature {
            base.insert("temperature".into(), json!(t));
        }
        if let Some(p) = s.top_p {
            base.insert("top_p".into(), json!(p));
        }
        if let Some(m) = s.max_tokens {
            base.insert("max_tokens".into(), json!(m));
        }
        if !s.stop.is_empty() {
            base.insert("stop".into(), json!(s.stop));
        }
        let mut key_body = base.clone();
        key_body.insert("seed".into(), json!(s.seed));
        Pending {
            estimated_tokens: prompt.estimated_tokens() + u64::from(s.max_tokens.unwrap_or(256)),
            base,
            key_body: Value::Object(key_body),
        }
    }

    fn key(&self, pending: &Pending, index: u32) -> String {
        request_key(
            self.client.model(),
            self.client.api().path(),
            &pending.key_body,
            index,
        )
    }

    /// Request samples `indices` (consecutive positions in the missing list) in one request.
    async fn request(
        &self,
        pending: &Pending,
        indices: &[u32],
    ) -> Result<std::result::Result<Vec<(u32, Sample)>, TaskFailure>> {
        let mut body = pending.base.clone();
        if indices.len() > 1 {
            body.insert("n".into(), json!(indices.len()));
        }
        if let Some(seed) = self.sampling.seed {
            body.insert("seed".into(), json!(seed + u64::from(indices[0])));
        }
        let body = Value::Object(body);
        let (reply, latency) = match self
            .client
            .complete(&body, pending.estimated_tokens * indices.len() as u64)
            .await?
        {
            Outcome::Reply(reply, latency) => (reply, latency),
            Outcome::Failed(f) => return Ok(Err(f)),
        };
        let single = reply.choices.len() == 1;
        let model = reply
            .model
            .clone()
            .unwrap_or_else(|| self.client.model().to_string());
        let samples: Vec<(u32, Sample)> = indices
            .iter()
            .zip(reply.choices)
            .map(|(&i, c)| {
                (
                    i,
                    Sample {
                        model: model.clone(),
                        text: c.text,
                        reasoning: c.reasoning,
                        finish_reason: c.finish_reason,
                        prompt_tokens: reply.prompt_tokens,
                        completion_tokens: if single {
                            reply.completion_tokens
                        } else {
                            None
                        },
                        latency_ms: latency.as_millis() as u64,
                    },
                )
            })
            .collect();
        let entries: Vec<(String, Sample)> = samples
            .iter()
            .map(|(i, s)| (self.key(pending, *i), s.clone()))
            .collect();
        self.cache.put(&entries)?;
        self.stats()
            .samples_generated
            .fetch_add(samples.len() as u64, Ordering::Relaxed);
        Ok(Ok(samples))
    }

    /// The `n` samples of a task from the cache and the server, in sample order.
    pub async fn samples(
        self: &Arc<Self>,
        prompt: &Prompt,
    ) -> Result<std::result::Result<Vec<Sample>, TaskFailure>> {
        let pending = Arc::new(self.pending(prompt));
        let n = self.sampling.n;
        let mut slots: Vec<Option<Sample>> = vec![None; n as usize];
        let mut missing = Vec::new();
        for i in 0..n {
            match self.cache.get(&self.key(&pending, i))? {
                Some(s) => {
                    self.stats().cache_hits.fetch_add(1, Ordering::Relaxed);
                    slots[i as usize] = Some(s);
                }
                None => missing.push(i),
            }
        }
        let per = self.sampling.samples_per_request as usize;
        if per <= 1 {
            let mut set = JoinSet::new();
            for i in missing {
                let me = self.clone();
                let pending = pending.clone();
                set.spawn(async move { me.request(&pending, &[i]).await });
            }
            let mut failure = None;
            while let Some(joined) = set.join_next().await {
                let got =
                    joined.map_err(|e| Error::Stopped(format!("a request task failed: {e}")))??;
                match got {
                    Ok(samples) => {
                        for (i, s) in samples {
                            slots[i as usize] = Some(s);
                        }
                    }
                    Err(f) => failure = failure.or(Some(f)),
                }
            }
            if let Some(f) = failure {
                return Ok(Err(f));
            }
        } else {
            while !missing.is_empty() {
                let take = missing.len().min(per);
                let got = self.request(&pending, &missing[..take]).await?;
                match got {
                    Ok(samples) => {
                        let done: Vec<u32> = samples.iter().map(|(i, _)| *i).collect();
                        for (i, s) in samples {
                            slots[i as usize] = Some(s);
                        }
                        missing.retain(|i| !done.contains(i));
                    }
                    Err(f) => return Ok(Err(f)),
                }
            }
        }
        Ok(Ok(slots.into_iter().flatten().collect()))
    }

    /// Turn a sample into an attempt with its lineage.
    pub fn attempt(&self, index: u32, sample: &Sample) -> Attempt {
        let (trace, response) = split_reasoning(sample, self.reasoning);
        let s = &self.sampling;
        let mut params = Map::new();
        params.insert("requested_model".into(), json!(self.client.model()));
        params.insert("api".into(), json!(self.client.api().path()));
        if let Some(t) = s.temperature {
            params.insert("temperature".into(), json!(t));
        }
        if let Some(p) = s.top_p {
            params.insert("top_p".into(), json!(p));
        }
        if let Some(m) = s.max_tokens {
            params.insert("max_tokens".into(), json!(m));
        }
        if let Some(seed) = s.seed {
            params.insert("seed".into(), json!(seed + u64::from(index)));
        }
        if !s.stop.is_empty() {
            params.insert("stop".into(), json!(s.stop));
        }
        params.insert("n".into(), json!(s.n));
        params.insert("sample_index".into(), json!(index));
        params.insert("template_sha256".into(), json!(self.template.hash()));
        let mut attempt = Attempt {
            role: AttemptRole::Sample,
            trace,
            response,
            generator: Some(GeneratorInfo {
                model: Some(sample.model.clone()),
                base: self.base_model.clone(),
                params,
            }),
            finish_reason: sample.finish_reason.clone(),
            ..Attempt::default()
        };
        if let Some(t) = sample.prompt_tokens {
            attempt.signals.insert("prompt_tokens".into(), json!(t));
        }
        if let Some(t) = sample.completion_tokens {
            attempt.signals.insert("completion_tokens".into(), json!(t));
        }
        attempt
            .signals
            .insert("latency_ms".into(), json!(sample.latency_ms));
        attempt.signals.insert(
            "truncated".into(),
            json!(sample.finish_reason.as_deref() == Some("length")),
        );
        attempt
    }

    /// Generate the samples of one record.
    pub async fn task(self: &Arc<Self>, mut record: Record) -> Result<TaskResult> {
        let prompt = match self.template.render(&record) {
            Ok(p) => p,
            Err(message) => {
                self.stats().failure("generate:template");
                return Ok(TaskResult::Failed(
                    record,
                    "generate:template".into(),
                    json!({ "message": message }),
                ));
            }
        };
        match self.samples(&prompt).await? {
            Ok(samples) => {
                let attempts: Vec<Attempt> = samples
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.attempt(i as u32, s))
                    .collect();
                if !self.keep_attempts {
                    record.attempts.clear();
                }
                record.attempts.extend(attempts);
                if matches!(
                    record.object,
                    ObjectKind::PromptAnswer
                        | ObjectKind::PromptTraceAnswer
                        | ObjectKind::RolloutSet
                ) {
                    record.object = if record.attempts.len() > 1 {
                        ObjectKind::RolloutSet
                    } else if record.attempts.iter().any(|a| a.trace.is_some()) {
                        ObjectKind::PromptTraceAnswer
                    } else {
                        ObjectKind::PromptAnswer
                    };
                }
                let label = format!("generate:{}", self.client.model());
                if !record.lineage.stages.contains(&label) {
                    record.lineage.stages.push(label);
                }
                self.stats().tasks_done.fetch_add(1, Ordering::Relaxed);
                Ok(TaskResult::Done(record))
            }
            Err(failure) => {
                let reason = failure.reason();
                self.stats().failure(&reason);
                Ok(TaskResult::Failed(record, reason, failure.detail()))
            }
        }
    }

    /// Generate for every record of a batch, concurrently (bounded by the endpoint's
    /// `concurrency`); results in input order. A run-stopping error is returned as soon as
    /// every task of the batch has ended.
    pub async fn batch(self: &Arc<Self>, records: Vec<Record>) -> Result<Vec<TaskResult>> {
        let n = records.len();
        let mut set = JoinSet::new();
        for (i, record) in records.into_iter().enumerate() {
            let me = self.clone();
            set.spawn(async move { (i, me.task(record).await) });
        }
        let mut out: Vec<Option<TaskResult>> = (0..n).map(|_| None).collect();
        let mut first_error = None;
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, Ok(r))) => out[i] = Some(r),
                Ok((_, Err(e))) => {
                    if first_error.is_none() || matches!(first_error, Some(Error::Stopped(_))) {
                        first_error = Some(e);
                    }
                }
                Err(e) => {
                    first_error =
                        first_error.or(Some(Error::Stopped(format!("a task panicked: {e}"))))
                }
            }
        }
        if let Some(e) = first_error {
            return Err(self.client.stop_error().unwrap_or(e));
        }
        Ok(out.into_iter().flatten().collect())
    }
}
