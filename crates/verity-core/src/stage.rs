//! The stage interface the pipeline runner (`verity run`) drives.
//!
//! Stages stream records: `read -> normalize -> verify -> score -> dedup -> decontaminate ->
//! select -> split -> export`. Each stage crate implements [`Stage`] for its stages; each CLI
//! subcommand is the same stage run alone.
//!
//! Who drives: the runner. For a streaming stage it calls [`Stage::process`] on batches of
//! records, in parallel on several threads, and keeps input order itself. A stage that needs
//! global state first (dedup needs every signature; top-k selection and quotas need every
//! score; grouped splits need every group) says so with [`Stage::needs_first_pass`]: the runner
//! then reads the stage's input once, calling [`Stage::observe`] on every batch in order, then
//! [`Stage::seal`], and only then streams the batches through `process`. Such a stage is a
//! pipeline blocker: the runner checkpoints the records in front of it to disk (which is also
//! what makes a run resumable).
//!
//! What `Err` means: the run cannot continue (bad configuration, I/O). A record the stage drops
//! is not an error: it goes to `rejected` with a reason code, is written to the stage's rejects
//! file and counted in the ledger. Stages never drop records silently.

use crate::error::Result;
use crate::record::{Record, VerifierId};
use crate::summary::StageSummary;
use serde_json::Value;

/// A record removed by a stage, with the reason code (`near_duplicate`, `contaminated:math500`,
/// `filter:pass_rate`, ...) and optional detail.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The record as it was when rejected (its lineage says by what).
    pub record: Record,
    /// Short reason code, counted in the ledger.
    pub reason: String,
    /// Detail for the rejects file (`dup_of`, matching span, expression, ...).
    pub detail: Option<Value>,
}

/// The output of one batch.
#[derive(Debug, Clone, Default)]
pub struct Processed {
    /// Records passed on (possibly modified: feedback, signals, lineage).
    pub kept: Vec<Record>,
    /// Records removed, with reasons.
    pub rejected: Vec<Rejected>,
}

impl Processed {
    /// Keep every record unchanged.
    pub fn keep_all(records: Vec<Record>) -> Processed {
        Processed {
            kept: records,
            rejected: Vec::new(),
        }
    }
}

/// One pipeline stage: the only stage abstraction. `verity run`, the single-stage commands
/// (`verity dedup`, ...) and the Python API all drive stages through it.
///
/// Positions: `first` is the 0-based index, in the stage's input, of `records[0]`. First-pass
/// stages decide per record index (dedup keeps the first of a cluster, selection and splits
/// choose by position), so the runner passes it to `observe` and `process`; streaming stages
/// ignore it.
pub trait Stage: Send + Sync {
    /// Stage name as in recipes and the ledger (`verify`, `dedup`, ...).
    fn name(&self) -> &str;

    /// The resolved parameters, written to the ledger exactly.
    fn params(&self) -> Value;

    /// Verifiers whose feedback this stage writes (for the ledger and the card).
    fn verifiers(&self) -> Vec<VerifierId> {
        Vec::new()
    }

    /// True when the stage needs to see every record before emitting any ([`Stage::observe`]).
    fn needs_first_pass(&self) -> bool {
        false
    }

    /// First pass, called on every batch in input order (only if `needs_first_pass`).
    fn observe(&mut self, _first: u64, _records: &[Record]) -> Result<()> {
        Ok(())
    }

    /// End of the first pass: build the global state (clusters, thresholds, split groups).
    fn seal(&mut self) -> Result<()> {
        Ok(())
    }

    /// Process one batch. Called from several threads at once; batches arrive in any order, and
    /// the runner restores input order.
    fn process(&self, first: u64, records: Vec<Record>) -> Result<Processed>;

    /// What the stage measured (counts, clusters, hits per benchmark, pass-rate bands, ...),
    /// called once after the last batch; it becomes the ledger entry's `summary`.
    fn summary(&self) -> StageSummary;
}
