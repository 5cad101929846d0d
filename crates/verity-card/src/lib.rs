//! # verity-card
//!
//! Release cards for post-training reasoning data, and the tools around them.
//!
//! - [`model`]: the card ([`Card`]); every field is a value, `unknown` or `not_applicable` with
//!   its provenance (`measured`, `declared`, `unknown`); JSON Schema via [`card_json_schema`].
//! - [`build`]: fill the measured fields from a run's ledger (and optionally a scan of the data),
//!   merge a declared-facts TOML file, refuse declared values that contradict measured ones.
//! - [`check`]: the curation scale L0..L5, the level reached, missing fields ordered by how much
//!   they block reuse, and the reuse class.
//! - [`diff`]: field-by-field differences grouped by the six attribution factors and by data
//!   facts, with a verdict (attributable / confounded / undetermined).
//! - [`export`]: Hugging Face dataset card (README.md with YAML front matter) and MLCommons
//!   Croissant 1.1 JSON-LD with RAI and PROV fields.
//! - [`atlas`]: the shipped atlas of published reasoning-data works (search, show, as cards).
//!
//! The field mapping from ledger stages to card fields is documented in `docs/card.md`.
#![deny(missing_docs)]
#![recursion_limit = "256"]

pub mod agreement;
pub mod atlas;
pub mod build;
pub mod check;
pub mod diff;
pub mod export;
mod from_ledger;
pub mod model;

pub use model::{card_json_schema, Card, Fact, Provenance};

use std::path::Path;

/// Errors of the card tools.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A card, ledger or facts file could not be parsed.
    #[error("{path}: {message}")]
    Parse {
        /// The file (and field where known).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A declared fact contradicts a measured one.
    #[error("{declared_in}: declared `{field}` = {declared} contradicts the measured value {measured} (from {measured_from}); remove it from the declared-facts file or fix the data")]
    Contradiction {
        /// Card field.
        field: String,
        /// Declared value (JSON).
        declared: String,
        /// Where it was declared.
        declared_in: String,
        /// Measured value (JSON).
        measured: String,
        /// Which ledger entry or scan measured it.
        measured_from: String,
    },
    /// A declared-facts key that names no card field.
    #[error("{path}: `{key}` is not a card field (known fields under `{section}`: {known})")]
    UnknownField {
        /// Facts file.
        path: String,
        /// The key.
        key: String,
        /// The section it was under.
        section: String,
        /// Known keys there.
        known: String,
    },
    /// No atlas entry with this id.
    #[error("no atlas entry `{0}` (try `verity atlas search`)")]
    NoSuchAtlasEntry(String),
    /// An error from verity-core (ledger, data scan).
    #[error(transparent)]
    Core(#[from] verity_core::Error),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// Write `bytes` to `path` atomically (temp file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_data().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
