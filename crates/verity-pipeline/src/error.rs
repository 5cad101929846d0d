//! Errors of the pipeline. Messages name the recipe file, the stage and the parameter.

use std::path::{Path, PathBuf};

/// A pipeline error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The recipe could not be read or parsed.
    #[error("{path}: {message}")]
    Recipe {
        /// The recipe file.
        path: String,
        /// What is wrong (TOML parser messages carry line and column).
        message: String,
    },
    /// A stage's parameters are invalid.
    #[error("stage {index} (`{stage}`): {message}")]
    Stage {
        /// 1-based position in the recipe.
        index: usize,
        /// Stage name.
        stage: String,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An error from verity-core (reading inputs, writing outputs).
    #[error(transparent)]
    Core(#[from] verity_core::Error),
    /// An error from the dedup crate.
    #[error(transparent)]
    Dedup(#[from] verity_dedup::Error),
    /// An error from the score crate.
    #[error(transparent)]
    Score(#[from] verity_score::Error),
    /// An error from the card crate.
    #[error(transparent)]
    Card(#[from] verity_card::Error),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;
