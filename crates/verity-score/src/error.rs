//! Errors of the scoring, selection and split stages.

/// Errors raised by this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An expression could not be parsed.
    #[error("expression error at column {column}: {message}\n  {source_text}\n  {caret}")]
    Expr {
        /// 1-based column of the offending character.
        column: usize,
        /// What is wrong.
        message: String,
        /// The expression text.
        source_text: String,
        /// A caret line pointing at the column.
        caret: String,
    },
    /// A parameter is invalid (ratios that do not sum to 1, an unknown band, ...).
    #[error("invalid parameter `{name}`: {message}")]
    Param {
        /// Parameter name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// An error from verity-core (I/O, tokenizer).
    #[error(transparent)]
    Core(#[from] verity_core::Error),
}

impl Error {
    /// A parameter error.
    pub fn param(name: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Param {
            name: name.into(),
            message: message.into(),
        }
    }

    /// An expression error at 0-based byte offset `offset` of `text`.
    pub fn expr(text: &str, offset: usize, message: impl Into<String>) -> Error {
        let column = text
            .get(..offset.min(text.len()))
            .map_or(offset, |s| s.chars().count())
            + 1;
        Error::Expr {
            column,
            message: message.into(),
            source_text: text.to_string(),
            caret: format!("{}^", " ".repeat(column - 1)),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
