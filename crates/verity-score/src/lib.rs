//! # verity-score
//!
//! What makes reasoning data useful is relational: correctness is relative to a verifier,
//! difficulty to a model, coverage to lineage. This crate measures it and selects on it.
//!
//! - [`agree`]: agreement between two verifiers on the same attempts (confusion counts, rate,
//!   Cohen's kappa, the disagreements).
//! - [`signals`]: per-attempt signals (tokens, lengths, think-block well-formedness, truncation,
//!   answer consistency, repetition, reflection markers, language mix), per-task rollout
//!   statistics (pass rate, unbiased pass@k, majority vote, difficulty band) and agent
//!   trajectory signals (steps, tool calls, failures, retries, recoveries, terminal check).
//! - [`group`]: grouping one-attempt-per-row data into tasks by a key (normalized problem text or
//!   a field).
//! - [`expr`]: the small expression language used by `verity select`
//!   (`pass_rate > 0 and pass_rate < 0.8 and not truncated`).
//! - [`select`]: filters with rejection counts, band keeps, quotas, top-k, diversity-aware
//!   sampling, the s1K-style staged recipe and preference-pair building.
//! - [`split`]: grouped, deterministic train/validation/test splits (the same problem and its
//!   near-duplicates never cross splits).
//! - [`stats`]: the scaling ledger (unique tasks vs rows, reuse, attempts and passes per task,
//!   tokens, pass-rate bands, source mixture, funnel).
//!
//! Signals are reported, never assumed good: a long trace is not better reasoning, harder is not
//! always more useful, more rows are not more coverage (see `docs/signals.md`).
#![deny(missing_docs)]

pub mod agree;
pub mod error;
pub mod expr;
pub mod group;
pub mod minhash;
pub mod select;
pub mod signals;
pub mod split;
pub mod stats;
pub mod util;

pub use error::{Error, Result};
