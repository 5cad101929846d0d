//! Errors of the dedup and decontamination stages.

use std::path::PathBuf;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `--against` named a builtin benchmark that does not exist.
    #[error("no builtin benchmark `{name}` (known: {known})")]
    UnknownBenchmark {
        /// The name given.
        name: String,
        /// The builtin names.
        known: String,
    },
    /// A builtin benchmark's embedded data is corrupt (a build problem).
    #[error("builtin benchmark `{name}`: {message}")]
    CorruptBuiltin {
        /// The benchmark.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A benchmark file row lacks a problem text.
    #[error("{file}:{line}: no problem text (looked for fields {fields})")]
    NoProblem {
        /// The file.
        file: String,
        /// The row (1-based line or 0-based item).
        line: u64,
        /// The field names tried.
        fields: String,
    },
    /// A benchmark file or directory held no usable rows.
    #[error("{0}: no benchmark items found")]
    EmptyBenchmark(String),
    /// Reading rows failed.
    #[error(transparent)]
    Core(#[from] verity_core::Error),
    /// Invalid parameters.
    #[error("{0}")]
    Config(String),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
