//! `verity export IN... -o OUT --target TARGET`: records in the exact layout a trainer reads
//! (TRL SFT/DPO/GRPO/PRM, verl, OpenRLHF, ShareGPT). The same code as a recipe's export stage;
//! see `docs/recipes.md` for every target and its columns.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use anyhow::{bail, Result};
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `verity export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output file; `.jsonl` or `.parquet` (optionally `.jsonl.gz`/`.jsonl.zst`).
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: PathBuf,
    /// Trainer format: native, trl-sft, trl-sft-prompt-completion, trl-dpo, trl-grpo, trl-prm,
    /// verl, openrlhf-sft, openrlhf-dpo, openrlhf-prompt, sharegpt.
    #[arg(long)]
    pub target: String,
    /// Where think content goes: tags (`<think>` in the content), field (a reasoning key), drop.
    #[arg(long, default_value = "tags")]
    pub think: String,
    /// Name of the reasoning key with `--think field`.
    #[arg(long, default_value = "reasoning_content")]
    pub reasoning_field: String,
    /// Which attempt becomes the response: best (first passing, else first), first, passing.
    #[arg(long, default_value = "best")]
    pub attempt: String,
    /// A system message put first in conversational targets.
    #[arg(long)]
    pub system: Option<String>,
    /// verl/GRPO data_source (default: the record's source dataset).
    #[arg(long)]
    pub data_source: Option<String>,
    /// verl ability (default: the record's domain, else math).
    #[arg(long)]
    pub ability: Option<String>,
    /// PRM: neutral step labels become true, false, or drop the record.
    #[arg(long, default_value = "true")]
    pub neutral: String,
}

/// Run `verity export`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let name = args
        .output
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let format = if name.ends_with(".parquet") {
        "parquet"
    } else if name.ends_with(".jsonl")
        || name.ends_with(".jsonl.gz")
        || name.ends_with(".jsonl.zst")
    {
        "jsonl"
    } else {
        bail!(
            "{}: use a .jsonl, .jsonl.gz, .jsonl.zst or .parquet output name",
            args.output.display()
        );
    };
    let cfg = verity_pipeline::export::ExportConfig {
        target: args.target.clone(),
        format: format.into(),
        think: args.think.clone(),
        reasoning_field: args.reasoning_field.clone(),
        system: args.system.clone(),
        attempt: args.attempt.clone(),
        data_source: args.data_source.clone(),
        ability: args.ability.clone(),
        neutral: args.neutral.clone(),
        keep_meta: true,
    };
    if let Err(message) = cfg.validate() {
        bail!(message);
    }
    let source = args.input.open()?;
    let rejects = args
        .input
        .rejects
        .clone()
        .unwrap_or_else(|| crate::output::sibling(&args.output, "rejects.jsonl"));
    let bars = super::run::Bars::new(ctx);
    let (rows, reasons, files) =
        verity_pipeline::runner::export_source(source, &cfg, &args.output, &rejects, &bars)?;
    if ctx.json {
        print_json(
            &json!({"rows": rows, "rejected": reasons, "outputs": files, "rejects": rejects}),
        )?;
    } else if !ctx.quiet {
        eprintln!(
            "{rows} rows as {} -> {}",
            cfg.target,
            files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (reason, n) in &reasons {
            eprintln!("  not exported: {reason} ({n}) -> {}", rejects.display());
        }
    }
    Ok(ExitStatus::Success)
}
