//! Errors of the core library. Messages name the file, line and field; the cause goes in the
//! source chain. Bad *rows* are not errors of the run: readers report them as [`RowError`]s so
//! the caller can skip them into a rejects file (`--on-error skip`) or stop (`--on-error fail`).

use std::path::Path;

/// A result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong at the library level.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed (the OS error is the source).
    #[error("I/O error on {path}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON document (not a row) could not be parsed.
    #[error("{path}:{line}: invalid JSON: {message}")]
    Json {
        /// The file.
        path: String,
        /// 1-based line.
        line: u64,
        /// Parser message.
        message: String,
    },
    /// One row was bad and the run was told to stop on errors.
    #[error("{0}")]
    Row(#[from] RowError),
    /// A compressed stream or document ended early or is corrupt: every row after the damage is
    /// lost, so this stops the run whatever the bad-row policy.
    #[error("{path}: {message}")]
    Damaged {
        /// The file.
        path: String,
        /// Rows read before the damage.
        rows_read: u64,
        /// What is wrong, where, and what was read.
        message: String,
    },
    /// Parquet / Arrow failure.
    #[error("{path}: parquet: {message}")]
    Parquet {
        /// The file.
        path: String,
        /// Library message.
        message: String,
    },
    /// No layout adapter recognised the rows.
    #[error("{path}: could not detect the layout (fields: {fields}); name the fields with --map TARGET=FIELD,... (`verity inspect` on the file proposes one) or pass --from LAYOUT")]
    UnknownLayout {
        /// The file.
        path: String,
        /// Top-level fields of the first row.
        fields: String,
    },
    /// A layout name that does not exist.
    #[error("unknown layout `{0}`; see `verity convert --list-layouts`")]
    NoSuchLayout(String),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// A problem with one row: file, line (1-based for JSONL; item index for arrays), optional
/// field, and what is wrong. Written to the rejects file as `{"file","line","field","reason"}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{file}:{line}{}: {reason}", field.as_ref().map(|f| format!(": field `{f}`")).unwrap_or_default())]
pub struct RowError {
    /// The file.
    pub file: String,
    /// 1-based line (JSONL) or 0-based item index (JSON arrays, Parquet rows).
    pub line: u64,
    /// The offending field, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong and, where possible, what to do.
    pub reason: String,
}

/// A field-level problem found by a layout adapter (the reader adds file and line).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct FieldError {
    /// The offending field (dotted path).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The field is required but absent or null.
    pub fn missing(field: impl Into<String>) -> Self {
        FieldError::new(field, MISSING)
    }

    /// The field has the wrong JSON type.
    pub fn wrong_type(field: impl Into<String>, expected: &str, got: &serde_json::Value) -> Self {
        FieldError::new(
            field,
            format!("expected {expected}, got {}", json_type_name(got)),
        )
    }
}

/// The reason of [`FieldError::missing`].
pub const MISSING: &str = "missing (required by this layout)";

/// The JSON type name of a value, for messages.
pub fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}
