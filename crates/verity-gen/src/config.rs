//! The configuration of the construction stages, as written in a recipe.
//!
//! Every stage that talks to a model has an `endpoint` table ([`EndpointConfig`]): where the
//! server is, which model, the API key's variable, limits, retries, the request cache and
//! prices. The stage's own fields (template, sampling) sit next to it:
//!
//! ```toml
//! [[stage]]
//! stage = "generate"
//! n = 4
//! temperature = 0.8
//! max_tokens = 512
//! user = "Solve the problem. Put the final answer in \\boxed{{}}.\n\n{problem}"
//! [stage.endpoint]
//! base_url = "http://127.0.0.1:8080/v1"
//! model = "smollm2-135m"
//! api_key_env = "OPENAI_API_KEY"
//! concurrency = 16
//! ```
//!
//! Defaults live here, in one place (the `default_*` functions and `Default` impls), and
//! `docs/generation.md` lists them.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Which OpenAI-compatible route requests go to.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// `/chat/completions` with `messages`.
    #[default]
    Chat,
    /// `/completions` with a raw `prompt`.
    Completions,
}

impl Api {
    /// The route under the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Api::Chat => "chat/completions",
            Api::Completions => "completions",
        }
    }
}

/// `endpoint = { ... }`: the server, the model and how to talk to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// Base URL of the OpenAI-compatible API, including `/v1` (`http://127.0.0.1:8000/v1`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// An environment variable holding the base URL; when set, it wins over `base_url`.
    #[serde(default)]
    pub base_url_env: Option<String>,
    /// Model name sent in every request.
    pub model: String,
    /// Name of the environment variable holding the API key (the key itself is never written
    /// to any output, ledger, cache or log).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// `chat` (default) or `completions`.
    #[serde(default)]
    pub api: Api,
    /// Requests in flight at most.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Requests started per minute at most (none by default).
    #[serde(default)]
    pub requests_per_minute: Option<f64>,
    /// Tokens (prompt estimate + max_tokens) per minute at most (none by default).
    #[serde(default)]
    pub tokens_per_minute: Option<f64>,
    /// Time limit of one request, seconds.
    #[serde(default = "default_timeout")]
    pub timeout_s: f64,
    /// Retries of one request on 429, 5xx, timeouts, dropped connections and malformed replies.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// First backoff, seconds; doubles each retry (with jitter) up to `max_backoff_s`.
    #[serde(default = "default_backoff")]
    pub backoff_s: f64,
    /// Longest backoff, seconds (a longer `Retry-After` is still honoured, up to 10 minutes).
    #[serde(default = "default_max_backoff")]
    pub max_backoff_s: f64,
    /// The request cache (SQLite), relative to the recipe; default
    /// `.verity/generate-cache.sqlite` next to the recipe (CLI: next to the output).
    #[serde(default)]
    pub cache: Option<PathBuf>,
    /// Price in the recipe's currency per million prompt tokens (for the ledger's cost).
    #[serde(default)]
    pub price_input_per_mtok: Option<f64>,
    /// Price per million completion tokens.
    #[serde(default)]
    pub price_output_per_mtok: Option<f64>,
}

/// `x > 0` (false for NaN).
fn positive(x: f64) -> bool {
    x > 0.0
}

/// `x >= 0` (false for NaN).
fn non_negative(x: f64) -> bool {
    x >= 0.0
}

fn default_concurrency() -> usize {
    16
}
fn default_timeout() -> f64 {
    120.0
}
fn default_retries() -> u32 {
    6
}
fn default_backoff() -> f64 {
    1.0
}
fn default_max_backoff() -> f64 {
    60.0
}

impl EndpointConfig {
    /// An endpoint with every default, for `base_url` and `model`.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        EndpointConfig {
            base_url: Some(base_url.into()),
            base_url_env: None,
            model: model.into(),
            api_key_env: None,
            api: Api::Chat,
            concurrency: default_concurrency(),
            requests_per_minute: None,
            tokens_per_minute: None,
            timeout_s: default_timeout(),
            max_retries: default_retries(),
            backoff_s: default_backoff(),
            max_backoff_s: default_max_backoff(),
            cache: None,
            price_input_per_mtok: None,
            price_output_per_mtok: None,
        }
    }

    /// The base URL (from `base_url_env` when that variable is set), without a trailing `/`.
    pub fn resolved_base_url(&self) -> Result<String> {
        if let Some(var) = &self.base_url_env {
            if let Ok(url) = std::env::var(var) {
                if !url.trim().is_empty() {
                    return Ok(url.trim().trim_end_matches('/').to_string());
                }
            }
        }
        match &self.base_url {
            Some(url) => Ok(url.trim().trim_end_matches('/').to_string()),
            None => Err(Error::Config {
                field: "endpoint.base_url".into(),
                message: match &self.base_url_env {
                    Some(var) => format!("${var} is not set and no `base_url` is given"),
                    None => "missing: give `base_url = \"http://host:port/v1\"`".into(),
                },
            }),
        }
    }

    /// The API key from `api_key_env` (None when no variable is named).
    pub fn api_key(&self) -> Result<Option<String>> {
        match &self.api_key_env {
            None => Ok(None),
            Some(var) => match std::env::var(var) {
                Ok(key) if !key.is_empty() => Ok(Some(key)),
                _ => Err(Error::Config {
                    field: "endpoint.api_key_env".into(),
                    message: format!("the environment variable ${var} is not set"),
                }),
            },
        }
    }

    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, message: &str| {
            Err(Error::Config {
                field: format!("endpoint.{field}"),
                message: message.into(),
            })
        };
        if self.model.trim().is_empty() {
            return bad("model", "empty");
        }
        if self.concurrency == 0 {
            return bad("concurrency", "must be at least 1");
        }
        if !positive(self.timeout_s) {
            return bad("timeout_s", "must be > 0");
        }
        if !(non_negative(self.backoff_s) && non_negative(self.max_backoff_s)) {
            return bad("backoff_s", "backoffs must be >= 0");
        }
        for (field, value) in [
            ("timeout_s", self.timeout_s),
            ("backoff_s", self.backoff_s),
            ("max_backoff_s", self.max_backoff_s),
        ] {
            if value > 86_400.0 {
                return bad(field, "at most one day (86400 s)");
            }
        }
        for (field, value) in [
            ("requests_per_minute", self.requests_per_minute),
            ("tokens_per_minute", self.tokens_per_minute),
        ] {
            if let Some(v) = value {
                if !positive(v) {
                    return bad(field, "must be > 0 (leave it out for no limit)");
                }
            }
        }
        Ok(())
    }
}

/// Where a reasoning trace is read from in a completion.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningMode {
    /// `reasoning_content` (or `reasoning`) when the server returns one, else a leading
    /// `<think>...</think>` block of the text.
    #[default]
    Auto,
    /// Only the separate reasoning field.
    Field,
    /// Only `<think>` tags in the text.
    ThinkTags,
    /// Never split: the whole text is the response.
    None,
}

/// One few-shot message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FewShot {
    /// `user` or `assistant`.
    pub role: String,
    /// The text (not templated).
    pub content: String,
}

/// The prompt template (see [`crate::template`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// System message (templated).
    #[serde(default)]
    pub system: Option<String>,
    /// User message, with `{problem}`, `{answer}`, `{domain}`, `{id}` or `{meta.FIELD}` fields
    /// (`{{` and `}}` for literal braces). Default: the task's own messages, or `{problem}`.
    #[serde(default)]
    pub user: Option<String>,
    /// Few-shot messages put between the system message and the user message.
    #[serde(default)]
    pub few_shot: Vec<FewShot>,
}

/// Sampling parameters of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplingConfig {
    /// Samples per task.
    #[serde(default = "one")]
    pub n: u32,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Completion token limit.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Base seed: sample `i` is requested with `seed + i` (distinct seeds per sample).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Vec<String>,
    /// Samples asked in one request (`n` in the body). Servers that return fewer choices than
    /// asked (llama.cpp returns one) get the missing samples asked again with the next seeds.
    #[serde(default = "one")]
    pub samples_per_request: u32,
}

fn one() -> u32 {
    1
}

impl Default for SamplingConfig {
    fn default() -> Self {
        SamplingConfig {
            n: 1,
            temperature: None,
            top_p: None,
            max_tokens: None,
            seed: None,
            stop: Vec::new(),
            samples_per_request: 1,
        }
    }
}

impl SamplingConfig {
    /// Check the values.
    pub fn validate(&self, prefix: &str) -> Result<()> {
        let bad = |field: &str, message: &str| {
            Err(Error::Config {
                field: format!("{prefix}{field}"),
                message: message.into(),
            })
        };
        if self.n == 0 {
            return bad("n", "must be at least 1");
        }
        if self.samples_per_request == 0 {
            return bad("samples_per_request", "must be at least 1");
        }
        if let Some(t) = self.temperature {
            if !(0.0..=10.0).contains(&t) {
                return bad("temperature", "expected 0 to 10");
            }
        }
        if let Some(p) = self.top_p {
            if !(positive(p) && p <= 1.0) {
                return bad("top_p", "expected a value in (0, 1]");
            }
        }
        if self.max_tokens == Some(0) {
            return bad("max_tokens", "must be at least 1");
        }
        Ok(())
    }
}

/// `stage = "generate"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {
    /// The server.
    pub endpoint: EndpointConfig,
    /// System message (templated).
    #[serde(default)]
    pub system: Option<String>,
    /// User template.
    #[serde(default)]
    pub user: Option<String>,
    /// Few-shot messages.
    #[serde(default)]
    pub few_shot: Vec<FewShot>,
    /// Samples per task.
    #[serde(default = "one")]
    pub n: u32,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Completion token limit.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Base seed (sample `i` uses `seed + i`).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Vec<String>,
    /// Samples asked per request.
    #[serde(default = "one")]
    pub samples_per_request: u32,
    /// Where the reasoning trace comes from.
    #[serde(default)]
    pub reasoning: ReasoningMode,
    /// The base model the generator was trained from, when known (goes into each attempt's
    /// generator and the ledger).
    #[serde(default)]
    pub base_model: Option<String>,
    /// Keep the records' existing attempts (default false: the generated samples replace them).
    #[serde(default)]
    pub keep_attempts: bool,
}

impl GenerateConfig {
    /// A config with every default for `endpoint`.
    pub fn new(endpoint: EndpointConfig) -> Self {
        GenerateConfig {
            endpoint,
            system: None,
            user: None,
            few_shot: Vec::new(),
            n: 1,
            temperature: None,
            top_p: None,
            max_tokens: None,
            seed: None,
            stop: Vec::new(),
            samples_per_request: 1,
            reasoning: ReasoningMode::Auto,
            base_model: None,
            keep_attempts: false,
        }
    }

    /// The template part.
    pub fn template(&self) -> TemplateConfig {
        TemplateConfig {
            system: self.system.clone(),
            user: self.user.clone(),
            few_shot: self.few_shot.clone(),
        }
    }

    /// The sampling part.
    pub fn sampling(&self) -> SamplingConfig {
        SamplingConfig {
            n: self.n,
            temperature: self.temperature,
            top_p: self.top_p,
            max_tokens: self.max_tokens,
            seed: self.seed,
            stop: self.stop.clone(),
            samples_per_request: self.samples_per_request,
        }
    }
}
