//! `verity report DIR -o report.html`: one self-contained HTML page (inline SVG, no network)
//! about a `verity run` output directory: the funnel, time per stage, length and token
//! distributions, pass-rate bands, source mixture, duplicate clusters, contamination hits,
//! verifier verdicts and the release card.

use crate::common::{Context, ExitStatus};
use anyhow::Result;
use std::path::PathBuf;

/// Arguments of `verity report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The output directory of `verity run` (holds ledger.jsonl, stats.json, card.json).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The HTML file to write (default DIR/report.html).
    #[arg(long, short = 'o', value_name = "HTML")]
    pub output: Option<PathBuf>,
}

/// Run `verity report`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| args.dir.join("report.html"));
    verity_pipeline::report::write_report(&args.dir, &out)?;
    ctx.note(format!("report: {}", out.display()));
    Ok(ExitStatus::Success)
}
