//! The HTTP client of an OpenAI-compatible server: one request with limits and retries, and
//! the classification of every failure.
//!
//! | reply | what happens |
//! |---|---|
//! | 200 with choices | the reply |
//! | 200 that is not JSON / has no choices / a body cut mid-way | retried (`malformed_json`, `no_choices`, `dropped_connection`) |
//! | 429 | retried after `Retry-After` (every request pauses) or the backoff (`http_429`) |
//! | 408, 409, 425, 5xx | retried (`http_NNN`), honouring `Retry-After` |
//! | timeout, refused or reset connection | retried (`timeout`, `connect`, `connection`) |
//! | 400/413/422 naming the context length | the task is rejected: `context_too_long` |
//! | 400/403/422 from a content filter | the task is rejected: `content_refused` |
//! | other 400/413/422 | the task is rejected: `http_NNN` with the server's message |
//! | 401, 403 | the run stops: authentication failed (nothing else is sent) |
//! | 404 | the run stops: model or route not found |
//!
//! Before the first request a run sends (and only then: a fully cached rerun sends nothing),
//! `GET /models` checks the credentials and that the server lists the model, so a wrong key or
//! model name stops the run before anything is spent.
//!
//! The API key is sent in the `Authorization` header only; it is not part of [`Client`]'s
//! `Debug` output, of any error message, of the cache key or of the ledger.

use crate::config::{Api, EndpointConfig};
use crate::error::{Error, Result, TaskFailure};
use crate::limits::Limiter;
use crate::response::{self, Reply};
use crate::retry::{parse_retry_after, Backoff};
use crate::stats::Stats;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one logical request (with its retries) came to.
#[derive(Debug)]
pub enum Outcome {
    /// A usable reply and its wall time (of the successful try).
    Reply(Reply, Duration),
    /// The task cannot be completed.
    Failed(TaskFailure),
}

/// A client of one endpoint, shared by every task of a stage.
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    api_key_env: String,
    model: String,
    api: Api,
    max_retries: u32,
    backoff: Backoff,
    limiter: Limiter,
    stats: Arc<Stats>,
    preflight: tokio::sync::OnceCell<Result<()>>,
    stopped: Mutex<Option<Error>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api", &self.api)
            .field("api_key_env", &self.api_key_env)
            .finish_non_exhaustive()
    }
}

enum Try {
    Ok(Reply),
    Retry(String, Option<Duration>),
    Fail(TaskFailure),
    Fatal(Error),
}

impl Client {
    /// A client for `endpoint` (reads the key from its variable now).
    pub fn new(endpoint: &EndpointConfig, stats: Arc<Stats>) -> Result<Client> {
        endpoint.validate()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs_f64(endpoint.timeout_s))
            .connect_timeout(Duration::from_secs_f64(endpoint.timeout_s.min(30.0)))
            .pool_max_idle_per_host(endpoint.concurrency)
            .build()
            .map_err(|e| Error::Client(e.to_string()))?;
        Ok(Client {
            http,
            base_url: endpoint.resolved_base_url()?,
            api_key: endpoint.api_key()?,
            api_key_env: endpoint
                .api_key_env
                .clone()
                .unwrap_or_else(|| "(none)".into()),
            model: endpoint.model.clone(),
            api: endpoint.api,
            max_retries: endpoint.max_retries,
            backoff: Backoff {
                base: Duration::from_secs_f64(endpoint.backoff_s),
                max: Duration::from_secs_f64(endpoint.max_backoff_s),
            },
            limiter: Limiter::new(
                endpoint.concurrency,
                endpoint.requests_per_minute,
                endpoint.tokens_per_minute,
            ),
            stats,
            preflight: tokio::sync::OnceCell::new(),
            stopped: Mutex::new(None),
        })
    }

    /// The model name requests carry.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The API route.
    pub fn api(&self) -> Api {
        self.api
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// The error that stopped the run, if any.
    pub fn stop_error(&self) -> Option<Error> {
        self.stopped.lock().ok().and_then(|s| s.clone())
    }

    fn stop(&self, error: Error) -> Error {
        if let Ok(mut s) = self.stopped.lock() {
            if s.is_none() {
                *s = Some(error.clone());
            }
        }
        error
    }

    fn check_stopped(&self) -> Result<()> {
        match self.stop_error() {
            Some(e) => Err(Error::Stopped(e.to_string())),
            None => Ok(()),
        }
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, url);
        match &self.api_key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    /// Check credentials and model once, before the first request of the run.
    async fn ensure_preflight(&self) -> Result<()> {
        self.preflight
            .get_or_init(|| self.preflight_once())
            .await
            .clone()
            .map_err(|e| self.stop(e))
    }

    async fn preflight_once(&self) -> Result<()> {
        let url = format!("{}/models", self.base_url);
        let mut retry = 0;
        loop {
            let result = self.request(reqwest::Method::GET, &url).send().await;
            let message = match result {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.unwrap_or_default();
                    match status {
                        200 => return self.check_model_list(&url, &body),
                        401 | 403 => {
                            return Err(Error::Auth {
                                url,
                                status,
                                message: server_message(&body),
                                env: self.api_key_env.clone(),
                            })
                        }
                        // A server without a model list: the first request tells.
                        404 | 405 => return Ok(()),
                        s if s == 429 || s >= 500 => format!("HTTP {s}"),
                        _ => return Ok(()),
                    }
                }
                Err(e) => describe(&e),
            };
            if retry >= self.max_retries {
                return Err(Error::Unreachable {
                    url,
                    retries: retry,
                    message,
                });
            }
            self.stats.retry("preflight");
            tokio::time::sleep(self.backoff.delay(retry, None)).await;
            retry += 1;
        }
    }

    fn check_model_list(&self, url: &str, body: &[u8]) -> Result<()> {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Ok(());
        };
        let Some(models) = value.get("data").and_then(Value::as_array) else {
            return Ok(());
        };
        let ids: Vec<&str> = models
            .iter()
            .filter_map(|m| m.get("id").and_then(Value::as_str))
            .collect();
        if ids.is_empty() || ids.contains(&self.model.as_str()) {
            return Ok(());
        }
        Err(Error::ModelNotFound {
            url: url.to_string(),
            model: self.model.clone(),
            status: 200,
            message: format!("the server lists {}", ids.join(", ")),
        })
    }

    /// Send `body` to the completion route, with limits and retries. `tokens` is the
    /// request's estimated cost for the tokens-per-minute limit.
    pub async fn complete(&self, body: &Value, tokens: u64) -> Result<Outcome> {
        self.check_stopped()?;
        self.ensure_preflight().await?;
        let url = format!("{}/{}", self.base_url, self.api.path());
        let mut retry = 0u32;
        loop {
            self.check_stopped()?;
            let slot = self.limiter.acquire(tokens).await;
            self.check_stopped()?;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            self.stats.in_flight.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let outcome = self.try_once(&url, body).await;
            let elapsed = started.elapsed();
            self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
            let (cause, retry_after) = match outcome {
                Try::Ok(reply) => {
                    self.stats.replies.fetch_add(1, Ordering::Relaxed);
                    if let Some(t) = reply.prompt_tokens {
                        self.stats.tokens_in.fetch_add(t, Ordering::Relaxed);
                    }
                    if let Some(t) = reply.completion_tokens {
                        self.stats.tokens_out.fetch_add(t, Ordering::Relaxed);
                    }
                    return Ok(Outcome::Reply(reply, elapsed));
                }
                Try::Fail(failure) => return Ok(Outcome::Failed(failure)),
                Try::Fatal(error) => return Err(self.stop(error)),
                Try::Retry(cause, after) => (cause, after),
            };
            if retry >= self.max_retries {
                return Ok(Outcome::Failed(TaskFailure::RetriesExhausted {
                    retries: retry,
                    cause,
                }));
            }
            self.stats.retry(&cause);
            if cause == "http_429" {
                if let Some(after) = retry_after {
                    self.limiter.cool_down(after);
                }
            }
            tokio::time::sleep(self.backoff.delay(retry, retry_after)).await;
            retry += 1;
        }
    }

    async fn try_once(&self, url: &str, body: &Value) -> Try {
        let response = match self
            .request(reqwest::Method::POST, url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Try::Retry(cause_of(&e), None),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => return Try::Retry("timeout".into(), None),
            Err(_) => return Try::Retry("dropped_connection".into(), retry_after),
        };
        match status {
            200..=299 => match response::parse(&bytes, self.api) {
                Ok(reply) if reply.choices.is_empty() => Try::Retry("no_choices".into(), None),
                Ok(reply) => Try::Ok(reply),
                Err(_) => Try::Retry("malformed_json".into(), None),
            },
            401 => Try::Fatal(Error::Auth {
                url: url.to_string(),
                status,
                message: server_message(&bytes),
                env: self.api_key_env.clone(),
            }),
            403 => {
                let message = server_message(&bytes);
                if is_refusal(&message) {
                    Try::Fail(TaskFailure::ContentRefused(message))
                } else {
                    Try::Fatal(Error::Auth {
                        url: url.to_string(),
                        status,
                        message,
                        env: self.api_key_env.clone(),
                    })
                }
            }
            404 => Try::Fatal(Error::ModelNotFound {
                url: url.to_string(),
                model: self.model.clone(),
                status,
                message: server_message(&bytes),
            }),
            400 | 413 | 422 => {
                let message = server_message(&bytes);
                if is_context_error(&message) || status == 413 {
                    Try::Fail(TaskFailure::ContextTooLong(message))
                } else if is_refusal(&message) {
                    Try::Fail(TaskFailure::ContentRefused(message))
                } else {
                    Try::Fail(TaskFailure::BadRequest(status, message))
                }
            }
            408 | 409 | 425 | 429 | 500..=599 => Try::Retry(format!("http_{status}"), retry_after),
            _ => Try::Fail(TaskFailure::BadRequest(status, server_message(&bytes))),
        }
    }
}

fn cause_of(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else {
        "connection".into()
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The server's error message (`error.message`, `message`, `detail`, or the body's start).
fn server_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        for path in [
            &["error", "message"][..],
            &["message"],
            &["detail"],
            &["error"],
        ] {
            let mut cur = &v;
            let mut found = true;
            for k in path {
                match cur.get(*k) {
                    Some(next) => cur = next,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if found {
                if let Some(s) = cur.as_str() {
                    return s.to_string();
                }
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(300);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].trim().to_string()
}

fn is_context_error(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("context length")
        || m.contains("context_length")
        || m.contains("maximum context")
        || m.contains("context window")
        || m.contains("too many tokens")
        || m.contains("exceeds the context")
        || (m.contains("prompt") && m.contains("too long"))
}

fn is_refusal(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("content_filter")
        || m.contains("content filter")
        || m.contains("content policy")
        || m.contains("content_policy")
        || m.contains("safety")
        || m.contains("refus")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_are_found_in_the_usual_places() {
        assert_eq!(
            server_message(br#"{"error":{"message":"bad key"}}"#),
            "bad key"
        );
        assert_eq!(server_message(br#"{"detail":"nope"}"#), "nope");
        assert_eq!(server_message(b"plain text"), "plain text");
    }

    #[test]
    fn context_and_refusal_messages_are_told_apart() {
        assert!(is_context_error(
            "This model's maximum context length is 2048 tokens"
        ));
        assert!(is_context_error(
            "Requested tokens (3000) exceed context window of 2048"
        ));
        assert!(!is_context_error("temperature must be positive"));
        assert!(is_refusal(
            "The response was filtered due to content_filter"
        ));
        assert!(!is_refusal("temperature must be positive"));
    }
}
