//! Errors of the construction stages.
//!
//! Two kinds of failure exist, and they are kept apart on purpose:
//! - [`Error`]: the run cannot continue (bad configuration, the cache cannot be opened, the
//!   server refuses the credentials or does not serve the model). Nothing else is sent.
//! - [`TaskFailure`]: one task could not be completed (context too long, content refused,
//!   retries exhausted). It is data: the task is rejected with the reason and the run goes on.

use std::path::PathBuf;

/// A failure that stops the run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A configuration value is invalid.
    #[error("generate config: `{field}`: {message}")]
    Config {
        /// The recipe field.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The prompt template cannot be rendered for a record.
    #[error("template: record `{record}`: {message}")]
    Template {
        /// Record id.
        record: String,
        /// What is missing.
        message: String,
    },
    /// The request cache cannot be opened, read or written.
    #[error("request cache {path}: {message}")]
    Cache {
        /// Cache file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The server refused the credentials (HTTP 401/403).
    #[error(
        "{url}: authentication failed (HTTP {status}): {message}; check the API key in ${env}"
    )]
    Auth {
        /// Endpoint URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// Server message.
        message: String,
        /// Name of the API key variable (`(none)` when no key is configured).
        env: String,
    },
    /// The server does not serve the model, or the endpoint does not exist (HTTP 404).
    #[error("{url}: model `{model}` not found (HTTP {status}): {message}")]
    ModelNotFound {
        /// Endpoint URL.
        url: String,
        /// The model asked for.
        model: String,
        /// HTTP status.
        status: u16,
        /// Server message, or the models the server lists.
        message: String,
    },
    /// The server did not answer the model list before any work was sent.
    #[error("{url}: cannot reach the server ({retries} retries): {message}")]
    Unreachable {
        /// URL tried.
        url: String,
        /// Retries made.
        retries: u32,
        /// The last error.
        message: String,
    },
    /// Another request hit a run-stopping error first; this one was not sent.
    #[error("stopped: {0}")]
    Stopped(String),
    /// The HTTP client cannot be built (TLS backend).
    #[error("http client: {0}")]
    Client(String),
}

impl From<Error> for verity_core::Error {
    fn from(e: Error) -> Self {
        verity_core::Error::Other(e.to_string())
    }
}

/// Why one task (or one request) could not be completed; the task is rejected with
/// [`TaskFailure::reason`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskFailure {
    /// The prompt does not fit the model's context (HTTP 400 naming the context length).
    ContextTooLong(String),
    /// The server or its content filter refused the prompt.
    ContentRefused(String),
    /// Another HTTP 4xx that retrying cannot fix.
    BadRequest(u16, String),
    /// Every retry failed; the last cause is given.
    RetriesExhausted {
        /// Retries made.
        retries: u32,
        /// The cause of the last failure (`http_429`, `timeout`, ...).
        cause: String,
    },
}

impl TaskFailure {
    /// Short reason code for rejects and the ledger (`generate:context_too_long`, ...).
    pub fn reason(&self) -> String {
        match self {
            TaskFailure::ContextTooLong(_) => "generate:context_too_long".into(),
            TaskFailure::ContentRefused(_) => "generate:content_refused".into(),
            TaskFailure::BadRequest(status, _) => format!("generate:http_{status}"),
            TaskFailure::RetriesExhausted { cause, .. } => {
                format!("generate:retries_exhausted:{cause}")
            }
        }
    }

    /// Detail for the rejects file.
    pub fn detail(&self) -> serde_json::Value {
        match self {
            TaskFailure::ContextTooLong(m)
            | TaskFailure::ContentRefused(m)
            | TaskFailure::BadRequest(_, m) => serde_json::json!({"message": m}),
            TaskFailure::RetriesExhausted { retries, cause } => {
                serde_json::json!({"retries": retries, "last_cause": cause})
            }
        }
    }
}

impl std::fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskFailure::ContextTooLong(m) => write!(f, "context too long: {m}"),
            TaskFailure::ContentRefused(m) => write!(f, "content refused: {m}"),
            TaskFailure::BadRequest(s, m) => write!(f, "HTTP {s}: {m}"),
            TaskFailure::RetriesExhausted { retries, cause } => {
                write!(f, "{retries} retries exhausted, last cause: {cause}")
            }
        }
    }
}

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
