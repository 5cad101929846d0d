//! Token counting with real BPE tokenizers shipped inside verity (no download).
//!
//! - `o200k_base`: OpenAI's GPT-4o / o-series BPE.
//! - `cl100k_base` (default): OpenAI's GPT-4 / GPT-3.5 BPE, a common proxy for Llama/Qwen-class
//!   vocabularies (counts differ from a model's own tokenizer by a few percent; name the
//!   tokenizer next to every token figure).
//! - `whitespace`: whitespace-separated words, for quick estimates.
//!
//! Special-token text inside data (`<|endoftext|>`) is counted as ordinary text, never
//! interpreted.

use crate::error::{Error, Result};
use std::sync::{Arc, OnceLock};

/// Names accepted by [`Tokenizer::by_name`].
pub const TOKENIZERS: &[&str] = &["cl100k_base", "o200k_base", "whitespace"];

/// The default tokenizer name.
pub const DEFAULT_TOKENIZER: &str = "cl100k_base";

/// A named tokenizer that counts tokens.
#[derive(Clone)]
pub struct Tokenizer {
    name: &'static str,
    bpe: Option<Arc<tiktoken_rs::CoreBPE>>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("name", &self.name)
            .finish()
    }
}

fn cl100k() -> Result<Arc<tiktoken_rs::CoreBPE>> {
    static CELL: OnceLock<std::result::Result<Arc<tiktoken_rs::CoreBPE>, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        tiktoken_rs::cl100k_base()
            .map(Arc::new)
            .map_err(|e| e.to_string())
    })
    .clone()
    .map_err(Error::Other)
}

fn o200k() -> Result<Arc<tiktoken_rs::CoreBPE>> {
    static CELL: OnceLock<std::result::Result<Arc<tiktoken_rs::CoreBPE>, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        tiktoken_rs::o200k_base()
            .map(Arc::new)
            .map_err(|e| e.to_string())
    })
    .clone()
    .map_err(Error::Other)
}

impl Tokenizer {
    /// The tokenizer called `name` (see [`TOKENIZERS`]).
    pub fn by_name(name: &str) -> Result<Tokenizer> {
        match name {
            "cl100k_base" | "cl100k" | "gpt-4" => Ok(Tokenizer {
                name: "cl100k_base",
                bpe: Some(cl100k()?),
            }),
            "o200k_base" | "o200k" | "gpt-4o" => Ok(Tokenizer {
                name: "o200k_base",
                bpe: Some(o200k()?),
            }),
            "whitespace" | "words" => Ok(Tokenizer {
                name: "whitespace",
                bpe: None,
            }),
            other => Err(Error::Other(format!(
                "unknown tokenizer `{other}`; choose one of: {}",
                TOKENIZERS.join(", ")
            ))),
        }
    }

    /// The tokenizer's canonical name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Number of tokens in `text`.
    pub fn count(&self, text: &str) -> usize {
        match &self.bpe {
            Some(bpe) => bpe.encode_ordinary(text).len(),
            None => text.split_whitespace().count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_known_encodings() {
        let cl = Tokenizer::by_name("cl100k_base").unwrap();
        // "hello world" is two tokens in cl100k_base: [15339, 1917].
        assert_eq!(cl.count("hello world"), 2);
        assert_eq!(cl.count(""), 0);
        // Special-token text is ordinary text.
        assert!(cl.count("<|endoftext|>") > 1);
        let ws = Tokenizer::by_name("whitespace").unwrap();
        assert_eq!(ws.count(" a  b\nc "), 3);
        assert!(Tokenizer::by_name("nope").is_err());
    }
}
