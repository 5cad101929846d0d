//! Reading an OpenAI-compatible reply: choices, the reasoning field or `<think>` block, the
//! finish reason, token usage and the model id the server reports.

use crate::config::{Api, ReasoningMode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One choice of a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The text (`message.content` or `text`).
    pub text: String,
    /// `message.reasoning_content` (vLLM, DeepSeek) or `message.reasoning`.
    pub reasoning: Option<String>,
    /// `stop`, `length`, `content_filter`, ...
    pub finish_reason: Option<String>,
}

/// A parsed reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The model id the server reports.
    pub model: Option<String>,
    /// Choices in `index` order.
    pub choices: Vec<Choice>,
    /// `usage.prompt_tokens`.
    pub prompt_tokens: Option<u64>,
    /// `usage.completion_tokens`.
    pub completion_tokens: Option<u64>,
}

/// Parse a 200 reply body; `Err` says what is malformed.
pub fn parse(body: &[u8], api: Api) -> Result<Reply, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let Some(choices) = value.get("choices").and_then(Value::as_array) else {
        return Err("no `choices` array".into());
    };
    let mut indexed = Vec::with_capacity(choices.len());
    for (position, c) in choices.iter().enumerate() {
        let index = c
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position as u64);
        let (text, reasoning) = match api {
            Api::Chat => {
                let Some(message) = c.get("message") else {
                    return Err(format!("choices[{position}] has no `message`"));
                };
                let text = match message.get("content") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(_) => {
                        return Err(format!("choices[{position}].message.content is not text"))
                    }
                };
                let reasoning = ["reasoning_content", "reasoning"]
                    .iter()
                    .find_map(|k| message.get(*k).and_then(Value::as_str))
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                if text.is_empty() && reasoning.is_none() && message.get("content").is_none() {
                    return Err(format!("choices[{position}].message has no `content`"));
                }
                (text, reasoning)
            }
            Api::Completions => match c.get("text") {
                Some(Value::String(s)) => (s.clone(), None),
                _ => return Err(format!("choices[{position}] has no `text`")),
            },
        };
        let finish_reason = c
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(str::to_string);
        indexed.push((
            index,
            Choice {
                text,
                reasoning,
                finish_reason,
            },
        ));
    }
    indexed.sort_by_key(|(i, _)| *i);
    let usage = value.get("usage");
    let tokens = |k: &str| usage.and_then(|u| u.get(k)).and_then(Value::as_u64);
    Ok(Reply {
        model: value
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string),
        choices: indexed.into_iter().map(|(_, c)| c).collect(),
        prompt_tokens: tokens("prompt_tokens"),
        completion_tokens: tokens("completion_tokens"),
    })
}

/// One sample as kept in the cache and turned into an attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Model id reported by the server (the requested name when it reports none).
    pub model: String,
    /// Raw text of the choice.
    pub text: String,
    /// Separate reasoning field, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Finish reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Prompt tokens of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    /// Completion tokens of this sample (known when the request returned one choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    /// Wall time of the request that produced it, milliseconds.
    pub latency_ms: u64,
}

/// Split a sample into (trace, response) according to `mode`.
pub fn split_reasoning(sample: &Sample, mode: ReasoningMode) -> (Option<String>, Option<String>) {
    let text = sample.text.as_str();
    let whole = || (!text.is_empty()).then(|| text.to_string());
    match mode {
        ReasoningMode::None => (None, whole()),
        ReasoningMode::Field => (sample.reasoning.clone(), whole()),
        ReasoningMode::ThinkTags => think_tags(text).unwrap_or_else(|| (None, whole())),
        ReasoningMode::Auto => {
            if sample.reasoning.is_some() {
                (sample.reasoning.clone(), whole())
            } else {
                think_tags(text).unwrap_or_else(|| (None, whole()))
            }
        }
    }
}

/// `<think>trace</think>response`; an unclosed block (a truncated sample) is all trace; a
/// closing tag without an opening one (templates that put `<think>` in the prompt) closes a
/// trace that starts at the beginning.
fn think_tags(text: &str) -> Option<(Option<String>, Option<String>)> {
    let trimmed = text.trim_start();
    let non_empty = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_string())
    };
    if let Some(rest) = trimmed.strip_prefix("<think>") {
        return Some(match rest.find("</think>") {
            Some(end) => (
                non_empty(&rest[..end]),
                non_empty(&rest[end + "</think>".len()..]),
            ),
            None => (non_empty(rest), None),
        });
    }
    let end = trimmed.find("</think>")?;
    Some((
        non_empty(&trimmed[..end]),
        non_empty(&trimmed[end + "</think>".len()..]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str, reasoning: Option<&str>) -> Sample {
        Sample {
            model: "m".into(),
            text: text.into(),
            reasoning: reasoning.map(str::to_string),
            finish_reason: None,
            prompt_tokens: None,
            completion_tokens: None,
            latency_ms: 0,
        }
    }

    #[test]
    fn chat_reply_with_reasoning_content_and_usage() {
        let body = br#"{"model":"served-id","choices":[
            {"index":1,"message":{"role":"assistant","content":"B"},"finish_reason":"length"},
            {"index":0,"message":{"role":"assistant","content":"A","reasoning_content":"why"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":7,"completion_tokens":9}}"#;
        let r = parse(body, Api::Chat).unwrap();
        assert_eq!(r.model.as_deref(), Some("served-id"));
        assert_eq!(r.choices[0].text, "A");
        assert_eq!(r.choices[0].reasoning.as_deref(), Some("why"));
        assert_eq!(r.choices[1].finish_reason.as_deref(), Some("length"));
        assert_eq!((r.prompt_tokens, r.completion_tokens), (Some(7), Some(9)));
    }

    #[test]
    fn malformed_replies_say_what_is_wrong() {
        assert!(parse(b"{\"choices\": [", Api::Chat)
            .unwrap_err()
            .starts_with("not JSON"));
        assert_eq!(
            parse(b"{\"error\": 1}", Api::Chat).unwrap_err(),
            "no `choices` array"
        );
        assert!(parse(br#"{"choices":[{"text":"x"}]}"#, Api::Chat)
            .unwrap_err()
            .contains("no `message`"));
        assert!(parse(br#"{"choices":[{"message":{}}]}"#, Api::Completions)
            .unwrap_err()
            .contains("no `text`"));
    }

    #[test]
    fn think_blocks_become_the_trace() {
        let s = sample("<think>\nstep 1\n</think>\n\nThe answer is 4.", None);
        assert_eq!(
            split_reasoning(&s, ReasoningMode::Auto),
            (Some("step 1".into()), Some("The answer is 4.".into()))
        );
        let s = sample("<think>cut off", None);
        assert_eq!(
            split_reasoning(&s, ReasoningMode::Auto),
            (Some("cut off".into()), None)
        );
        let s = sample("half</think>ans", None);
        assert_eq!(
            split_reasoning(&s, ReasoningMode::ThinkTags),
            (Some("half".into()), Some("ans".into()))
        );
        let s = sample("<think>t</think>a", None);
        assert_eq!(
            split_reasoning(&s, ReasoningMode::None),
            (None, Some("<think>t</think>a".into()))
        );
        let s = sample("answer", Some("field"));
        assert_eq!(
            split_reasoning(&s, ReasoningMode::Auto),
            (Some("field".into()), Some("answer".into()))
        );
    }
}
