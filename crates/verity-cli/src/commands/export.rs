//! `verity export IN... -o OUT --target TARGET`: records in the exact layout a trainer reads
//! (TRL SFT/DPO/GRPO/PRM, verl, OpenRLHF, ShareGPT). The same code as a recipe's export stage;
//! see `docs/recipes.md` for every target and its columns.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use anyhow::{bail, Result};
use serde_json::json;
use std::path::PathBuf;
use verity_core::ledger::{FileDigest, LedgerEntry};

/// Arguments of `verity export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output file; `.jsonl` or `.parquet` (optionally `.jsonl.gz`/`.jsonl.zst`); `-` for
    /// stdout (container: `--format`).
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
    /// verl/GRPO data_source. verl: picks verl's reward function; default `lighteval/MATH`
    /// for math records (boxed-answer reward), required for other domains. GRPO: default the
    /// record's source dataset.
    #[arg(long)]
    pub data_source: Option<String>,
    /// Template of the user turn, `{prompt}` marking the problem (default for verl, trl-grpo
    /// and openrlhf-prompt: ask for the final answer in `\boxed{}`; `none` turns it off).
    #[arg(long, value_name = "TEMPLATE")]
    pub prompt_template: Option<String>,
    /// Export records that decontamination flagged (by default they are refused and counted as
    /// `export:contaminated`).
    #[arg(long)]
    pub allow_contaminated: bool,
    /// Ledger file to append this export's entry to (default: `ledger.jsonl` next to the
    /// output).
    #[arg(long, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// Do not write a ledger entry.
    #[arg(long)]
    pub no_ledger: bool,
    /// verl ability (default: the record's domain, else math).
    #[arg(long)]
    pub ability: Option<String>,
    /// PRM: neutral step labels become true, false, or drop the record.
    #[arg(long, default_value = "true")]
    pub neutral: String,
}

/// Run `verity export`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let to_stdout = crate::pipes::is_dash(&args.output);
    let output = if to_stdout {
        crate::pipes::stdout_file()?
    } else {
        args.output.clone()
    };
    let name = output
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
            output.display()
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
        prompt_template: args.prompt_template.clone(),
        allow_contaminated: args.allow_contaminated,
    };
    if let Err(message) = cfg.validate() {
        bail!(message);
    }
    let source = args.input.open()?;
    let rejects = args
        .input
        .rejects
        .clone()
        .unwrap_or_else(|| crate::output::sibling(&output, "rejects.jsonl"));
    let bars = super::run::Bars::new(ctx);
    let inputs: Vec<PathBuf> = source.inputs().iter().map(|i| i.path.clone()).collect();
    let mut entry = LedgerEntry::start(
        "export",
        serde_json::to_value(&cfg).unwrap_or(serde_json::Value::Null),
    );
    let (rows, reasons, files) =
        verity_pipeline::runner::export_source(source, &cfg, &output, &rejects, &bars)?;
    let rejected: u64 = reasons.values().sum();
    let contaminated = reasons.get("export:contaminated").copied().unwrap_or(0);
    entry.rows_in = rows + rejected;
    entry.rows_out = rows;
    entry.rejections = reasons.clone();
    entry.summarize("target", json!(cfg.target));
    entry.summarize("contaminated_refused", json!(contaminated));
    for path in &inputs {
        entry.inputs.push(FileDigest::of(path)?);
    }
    for path in &files {
        entry.outputs.push(FileDigest::of(path)?);
    }
    for digest in entry.inputs.iter_mut().chain(entry.outputs.iter_mut()) {
        if crate::pipes::is_spooled(std::path::Path::new(&digest.path)) {
            digest.path = crate::pipes::DASH.into();
        }
    }
    entry.finish();
    // A stdout output has no directory to hold a ledger: only `--ledger` writes one.
    let ledger = if args.no_ledger {
        None
    } else if to_stdout {
        args.ledger.clone()
    } else {
        Some(
            args.ledger
                .clone()
                .unwrap_or_else(|| crate::output::default_ledger(&output)),
        )
    };
    if let Some(path) = &ledger {
        crate::output::append_entry(&entry, path)?;
    }
    crate::gates::observe(&entry);
    if to_stdout {
        for file in &files {
            crate::pipes::emit(file)?;
        }
    }
    let files: Vec<PathBuf> = files.iter().map(|p| crate::pipes::shown(p)).collect();
    if ctx.json {
        print_json(&json!({
            "rows": rows,
            "rejected": reasons,
            "contaminated_refused": contaminated,
            "outputs": files,
            "rejects": rejects,
            "ledger": ledger,
        }))?;
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
        if contaminated > 0 {
            eprintln!(
                "  {contaminated} record(s) flagged by decontamination were refused; pass \
                 --allow-contaminated to export them anyway"
            );
        }
    }
    Ok(ExitStatus::Success)
}
