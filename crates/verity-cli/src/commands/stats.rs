//! `verity stats IN... [--ledger LEDGER]`: the scaling ledger (unique tasks vs rows, reuse,
//! attempts and passes per task, tokens, pass-rate bands, source mixture, funnel), with what
//! each number does not mean.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::Progress;
use anyhow::{Context as _, Result};
use std::path::PathBuf;
use verity_core::ledger::read_ledger;
use verity_core::tokens::Tokenizer;
use verity_score::group::GroupKey;
use verity_score::signals::VerifierChoice;
use verity_score::stats::{render_text, StatsAccumulator};

/// Arguments of `verity stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Ledger file(s) whose entries make the funnel (repeatable; default: `ledger.jsonl` next
    /// to the first input, when it exists).
    #[arg(long, value_name = "PATH")]
    pub ledger: Vec<PathBuf>,
    /// What makes rows the same task: `problem` (normalized text) or `field:PATH`.
    #[arg(long, default_value = "problem", value_name = "KEY")]
    pub group_by: String,
    /// Which verifier's verdicts count (default: own latest, else imported).
    #[arg(long, value_name = "NAME")]
    pub verifier: Option<String>,
    /// Count tokens with this tokenizer instead of reading `attempt.signals.tokens`.
    #[arg(long, value_name = "NAME")]
    pub tokenizer: Option<String>,
}

/// Run `verity stats`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let key = GroupKey::parse(&args.group_by)?;
    let tokenizer = args
        .tokenizer
        .as_deref()
        .map(Tokenizer::by_name)
        .transpose()?;
    let acc = StatsAccumulator::new(
        key,
        VerifierChoice::parse(args.verifier.as_deref()),
        tokenizer,
    );
    let mut ledgers = args.ledger.clone();
    if ledgers.is_empty() {
        if let Some(dir) = args.input.inputs.first().and_then(|p| {
            if p.is_dir() {
                Some(p.as_path())
            } else {
                p.parent()
            }
        }) {
            let candidate = dir.join("ledger.jsonl");
            if candidate.is_file() {
                ledgers.push(candidate);
            }
        }
    }
    let mut entries = Vec::new();
    for path in &ledgers {
        entries.extend(
            read_ledger(path)
                .with_context(|| format!("cannot read the ledger {}", path.display()))?,
        );
    }
    let mut source = args.input.open()?;
    let progress = Progress::bytes(ctx, source.total_bytes(), "stats");
    source.set_progress(progress.counter());
    let mut total = acc.empty_like();
    let mut rows = 0u64;
    let mut unreadable = 0u64;
    source.for_each(
        |batch| {
            let mut part = acc.empty_like();
            for r in &batch.records {
                part.add(r);
            }
            (
                part,
                batch.records.len() + batch.rejects.len(),
                batch.rejects.len(),
            )
        },
        |(part, n, rejected)| {
            total.merge(part);
            rows += n as u64;
            unreadable += rejected as u64;
            progress.tick(rows);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();
    let mut stats = total.finish(&entries);
    stats["unreadable_rows"] = serde_json::json!(unreadable);
    stats["ledgers"] = serde_json::json!(ledgers);
    if ctx.json {
        print_json(&stats)?;
    } else {
        print!("{}", render_text(&stats));
        if unreadable > 0 {
            println!("  ({unreadable} unreadable rows skipped)");
        }
    }
    Ok(ExitStatus::Success)
}
