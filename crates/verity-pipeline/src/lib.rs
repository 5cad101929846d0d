//! # verity-pipeline
//!
//! The product a user runs: one command from raw published data to a clean, verified,
//! decontaminated, documented training set in the exact format their trainer reads.
//!
//! - [`recipe`]: the TOML recipe (inputs, stages in order with parameters, output, export),
//!   parsed strictly: an unknown stage or parameter is an error naming it and the valid ones.
//! - [`plan`]: the execution plan (`verity run --dry-run`): segments of streaming stages
//!   separated by first-pass stages, and where checkpoints go.
//! - [`stages`]: adapters from recipe stage configs to pipeline stages (normalize, verify,
//!   score, dedup, decontam, select, split, pairs), built on the verifier, dedup and score
//!   crates.
//! - [`construct`]: adapters of the construction stages (generate, judge, step_label) of
//!   verity-gen.
//! - [`runner`]: streams records through the stages on all cores with bounded memory, keeps
//!   input order, writes data, per-stage rejects, the ledger, the release card and the report.
//! - [`resume`]: content-addressed segment checkpoints, so a killed run resumes with the same
//!   output and a changed recipe or input reruns the affected segments.
//! - [`export`]: trainer formats (TRL SFT/DPO/GRPO/PRM, verl, OpenRLHF, ShareGPT).
//! - [`report`]: one self-contained HTML page with inline SVG plots.
//!
//! Why a separate crate: the CLI stays thin (`verity run`, `verity export`, `verity report`
//! are a few lines each) and the pipeline can be driven from tests and bindings.
//!
//! Known failure modes: see each module; the main one is that first-pass stages (dedup,
//! global select, split) hold per-record state in memory (see [`stages`] for the formulas).
#![deny(missing_docs)]

pub mod construct;
pub mod error;
pub mod export;
mod input_map;
pub mod normalize;
pub mod plan;
pub mod recipe;
pub mod registry;
pub mod report;
pub mod resume;
pub mod runner;
pub mod stage_lines;
pub mod stages;

pub use error::{Error, Result};
pub use recipe::Recipe;
pub use runner::{run, Reporter, RunOptions, RunSummary, SilentReporter};
