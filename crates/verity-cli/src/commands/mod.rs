//! One module per subcommand. To add one: a `mod` line, a variant in [`Command`] and an arm in
//! [`run`] (each on its own line, so concurrent additions do not collide).

use crate::common::{Context, ExitStatus};
use anyhow::Result;
use clap::Subcommand;

mod agree;
mod atlas;
mod card;
mod convert;
mod decontam;
mod dedup;
mod export;
mod generate;
mod inspect;
mod math_eq;
mod report;
mod run;
mod sandbox_check;
mod schema;
mod score;
mod select;
mod split;
mod stages;
mod stats;
mod verify;
// (new subcommand modules go above this line)

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// What is in a dataset: layout, object kinds, fields, counts, lengths in chars and tokens.
    Inspect(inspect::Args),
    /// Convert between layouts and containers (JSONL/Parquet; ShareGPT, messages, DPO, verl, ...).
    Convert(convert::Args),
    /// Print the JSON Schema of a record (or a release card).
    Schema(schema::Args),
    /// Fill feedback on every attempt with a verifier (math, exact, choice, regex, code, command).
    Verify(verify::Args),
    /// Release cards: build from the ledger, check completeness (L0..L5), diff, export (HF, Croissant).
    Card(card::Args),
    /// The shipped atlas of published reasoning-data works: search, show.
    Atlas(atlas::Args),
    /// Remove exact and MinHash-LSH near duplicates; write clusters and `dup_of`.
    Dedup(dedup::Args),
    /// Find benchmark problems (builtin or files) by 13-grams and a short/fuzzy problem matcher.
    Decontam(decontam::Args),
    /// Run a recipe: the whole pipeline with ledger, card and report; resumable (`--dry-run` prints the plan).
    Run(run::Args),
    /// Write records in a trainer's format (TRL SFT/DPO/GRPO/PRM, verl, OpenRLHF, ShareGPT).
    Export(export::Args),
    /// One self-contained HTML report (inline SVG plots) of a `verity run` output directory.
    Report(report::Args),
    /// Answer equivalence: one pair (--gold G --pred P) or a JSONL file of {gold, pred}.
    MathEq(math_eq::Args),
    /// Utility signals on attempts and rollout statistics on tasks (pass rate, pass@k, bands).
    Score(score::Args),
    /// Filter by expressions, keep bands, quotas, top-k, diversity, s1K recipe, preference pairs.
    Select(select::Args),
    /// Grouped train/validation/test splits (same problem and near-duplicates never cross).
    Split(split::Args),
    /// The scaling ledger: unique tasks vs rows, reuse, attempts, passes, tokens, bands, funnel.
    Stats(stats::Args),
    /// Check that the code sandbox really isolates on this machine (probes with evidence).
    SandboxCheck(sandbox_check::Args),
    /// Every pipeline stage with its parameters, types, defaults and docs.
    Stages(stages::Args),
    /// How often two verifiers agree on the same attempts: confusion counts, rate, Cohen's kappa, the disagreements.
    Agree(agree::Args),
    /// Sample attempts from an OpenAI-compatible server (cached: a rerun sends no request twice).
    Generate(generate::Args),
    // (new subcommand variants go above this line)
}

impl Command {
    /// Whether the subcommand records SHA-256 digests of its input and output files (then
    /// they are hashed as they stream, see [`verity_core::ledger::set_streamed_digests`]).
    pub fn hashes_files(&self) -> bool {
        match self {
            Command::Convert(a) => !a.output.no_hash,
            Command::Verify(a) => !a.output.no_hash,
            Command::Dedup(a) => !a.output.no_hash,
            Command::Decontam(a) => !a.output.no_hash,
            Command::Score(a) => !a.output.no_hash,
            Command::Select(a) => !a.output.no_hash,
            Command::Split(_) | Command::Run(_) => true,
            Command::Generate(a) => !a.output.no_hash,
            _ => false,
        }
    }
}

/// Run a subcommand.
pub fn run(command: Command, ctx: &Context) -> Result<ExitStatus> {
    match command {
        Command::Inspect(args) => inspect::run(args, ctx),
        Command::Convert(args) => convert::run(args, ctx),
        Command::Schema(args) => schema::run(args, ctx),
        Command::Verify(args) => verify::run(args, ctx),
        Command::Card(args) => card::run(args, ctx),
        Command::Atlas(args) => atlas::run(args, ctx),
        Command::Dedup(args) => dedup::run(args, ctx),
        Command::Decontam(args) => decontam::run(args, ctx),
        Command::Run(args) => run::run(args, ctx),
        Command::Export(args) => export::run(args, ctx),
        Command::Report(args) => report::run(args, ctx),
        Command::MathEq(args) => math_eq::run(args, ctx),
        Command::Score(args) => score::run(args, ctx),
        Command::Select(args) => select::run(args, ctx),
        Command::Split(args) => split::run(args, ctx),
        Command::Stats(args) => stats::run(args, ctx),
        Command::SandboxCheck(args) => sandbox_check::run(args, ctx),
        Command::Stages(args) => stages::run(args, ctx),
        Command::Agree(args) => agree::run(args, ctx),
        Command::Generate(args) => generate::run(args, ctx),
        // (new subcommand arms go above this line)
    }
}
