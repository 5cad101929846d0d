//! `verity run RECIPE.toml`: the whole pipeline from a recipe (see `docs/recipes.md`).
//!
//! Streams the inputs through the recipe's stages on all cores with bounded memory, one
//! progress bar per segment pass, and writes data files, rejects per stage, the ledger, the
//! release card and the report into the output directory. Rerunning after an interruption
//! resumes from the last completed segment checkpoint; `--fresh` ignores checkpoints.
//! `--dry-run` validates the recipe and prints the plan without reading any data.

use crate::common::{print_json, Context, ExitStatus};
use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Mutex;

/// Arguments of `verity run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recipe (TOML).
    #[arg(value_name = "RECIPE")]
    pub recipe: PathBuf,
    /// Output directory (overrides `[output] dir`).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Validate the recipe and print the plan (segments, checkpoints, outputs); read no data.
    #[arg(long)]
    pub dry_run: bool,
    /// Ignore existing checkpoints and run every segment again.
    #[arg(long)]
    pub fresh: bool,
}

/// Progress bars for the pipeline (one per segment pass).
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<Vec<ProgressBar>>,
    enabled: bool,
    quiet: bool,
}

impl Bars {
    /// Bars shown when `ctx` allows it.
    pub fn new(ctx: &Context) -> Bars {
        Bars {
            multi: MultiProgress::new(),
            bars: Mutex::new(Vec::new()),
            enabled: ctx.progress,
            quiet: ctx.quiet || ctx.json,
        }
    }
}

impl verity_pipeline::Reporter for Bars {
    fn begin(&self, label: &str, total_bytes: u64) -> usize {
        let bar = if self.enabled {
            let bar = self.multi.add(ProgressBar::new(total_bytes));
            let template = if total_bytes > 0 {
                "{prefix} [{bar:28}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}"
            } else {
                "{prefix} {spinner} {msg}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar
        } else {
            ProgressBar::hidden()
        };
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.push(bar);
        bars.len() - 1
    }
    fn progress(&self, task: usize, bytes: u64, rows: u64) {
        if let Some(bar) = self
            .bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(task)
        {
            bar.set_position(bytes);
            bar.set_message(format!("{rows} records"));
        }
    }
    fn end(&self, task: usize, message: &str) {
        if let Some(bar) = self
            .bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(task)
        {
            if message.is_empty() {
                bar.finish_and_clear();
            } else {
                bar.finish_with_message(message.to_string());
            }
        }
    }
    fn note(&self, message: &str) {
        if !self.quiet {
            let _ = self.multi.println(message);
        }
    }
}

/// Run `verity run`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let recipe = verity_pipeline::Recipe::load(&args.recipe)?;
    if args.dry_run {
        let (plan, text) = verity_pipeline::runner::dry_run(&recipe, args.out.as_deref())?;
        // A plan whose inputs are missing cannot run: it is printed, then refused (exit 2).
        let runnable = crate::common::require_inputs(&recipe);
        if ctx.json {
            print_json(&json!({
                "recipe": recipe.display_name(),
                "valid": runnable.is_ok(),
                "segments": plan.segments.iter().map(|s| json!({
                    "index": s.index,
                    "stages": s.stages.iter().map(|&i| json!({"position": i + 1, "stage": recipe.stages[i].name()})).collect::<Vec<_>>(),
                    "first_pass": s.first_pass,
                    "checkpoint": s.checkpoint,
                })).collect::<Vec<_>>(),
            }))?;
        } else {
            print!("{text}");
        }
        runnable?;
        if !ctx.json {
            println!("recipe is valid");
        }
        return Ok(ExitStatus::Success);
    }
    let bars = Bars::new(ctx);
    let options = verity_pipeline::RunOptions {
        out_dir: args.out.clone(),
        fresh: args.fresh,
    };
    // One run at a time per output directory (released when this function returns).
    let _lock = crate::common::lock_output_dir(&recipe, args.out.as_deref())?;
    let summary = verity_pipeline::run(&recipe, &options, &bars)?;
    crate::gates::observe_run(summary.rows_out, &summary.ledger)?;
    if ctx.json {
        print_json(&json!({
            "out_dir": summary.out_dir,
            "rows_read": summary.rows_read,
            "rows_out": summary.rows_out,
            "data": summary.data_files,
            "ledger": summary.ledger,
            "card": summary.card,
            "report": summary.report,
            "reused_segments": summary.reused_segments,
            "funnel": summary.funnel.iter().map(|(s, i, o, r)| json!({"stage": s, "rows_in": i, "rows_out": o, "rejected": r})).collect::<Vec<_>>(),
        }))?;
    } else if !ctx.quiet {
        eprintln!(
            "{:<10} {:>10} {:>10} {:>10}",
            "stage", "rows in", "rows out", "rejected"
        );
        for (stage, rows_in, rows_out, rejected) in &summary.funnel {
            eprintln!("{stage:<10} {rows_in:>10} {rows_out:>10} {rejected:>10}");
        }
        eprintln!(
            "{} rows read, {} rows released in {}",
            summary.rows_read,
            summary.rows_out,
            summary
                .data_files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        eprintln!("rejects: {}", summary.out_dir.join("rejects").display());
        eprintln!("ledger:  {}", summary.ledger.display());
        if let Some(card) = &summary.card {
            eprintln!("card:    {}", card.display());
        }
        if let Some(report) = &summary.report {
            eprintln!("report:  {}", report.display());
        }
    }
    Ok(ExitStatus::Success)
}
