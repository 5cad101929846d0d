//! # verity-core
//!
//! The library core of verity, a Rust engine for post-training reasoning data.
//!
//! - [`record`]: the typed record (`task -> attempts (trace, steps, events) -> answer ->
//!   feedback -> lineage`), with a JSON Schema.
//! - [`layout`]: adapters for the published dataset shapes (ShareGPT, chat messages, GSM8K,
//!   MATH, DPO, PRM800K, verl, HumanEval, agent trajectories, rollout dumps, ...), detected
//!   automatically and written back losslessly.
//! - [`io`]: streaming readers and writers (JSONL plain/gzip/zstd, JSON arrays, Parquet) with
//!   bounded memory and parallel parsing, atomic outputs, sharding.
//! - [`verify`]: the [`verify::Verifier`] trait implemented by the verifier crates.
//! - [`ledger`]: one entry per stage run; the measured half of the release card.
//!
//! ```
//! use verity_core::layout::{self, RowContext};
//! let row = serde_json::json!({"question": "2+2?", "answer": "2+2=4\n#### 4"});
//! let fields = row.as_object().unwrap().clone();
//! let gsm8k = layout::detect(&[fields.clone()]).unwrap();
//! let ctx = RowContext { file: "x.jsonl", dataset: "x", row: 1 };
//! let record = layout::read_row(gsm8k, fields, &ctx).unwrap();
//! assert_eq!(record.task.reference.answer.as_deref(), Some("4"));
//! assert_eq!(layout::write_row(gsm8k, &record, true).unwrap(), row);
//! ```
#![deny(missing_docs)]

pub mod bytes;
pub mod error;
pub mod io;
pub mod layout;
pub mod ledger;
pub mod record;
pub mod stage;
pub mod stream;
pub mod summary;
#[doc(hidden)]
pub mod testing;
pub mod tokens;
pub mod verify;

pub use error::{Error, FieldError, Result, RowError};
pub use record::Record;
