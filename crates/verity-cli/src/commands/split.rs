//! `verity split IN... -o DIR`: train/validation/test by ratio or count, grouped so the same
//! problem and its near-duplicates never cross splits; deterministic with a seed.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::Progress;
use anyhow::{bail, Context as _, Result};
use serde_json::json;
use std::path::PathBuf;
use verity_core::io::{RowWriter, WriteOptions};
use verity_core::layout;
use verity_core::ledger::{FileDigest, LedgerEntry};
use verity_score::group::GroupKey;
use verity_score::minhash::{self, MinHashParams};
use verity_score::split::{assign, SplitItem, SplitSpec};

/// Arguments of `verity split`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output directory: one file per split (`train.jsonl`, ...), plus `ledger.jsonl`.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: PathBuf,
    /// Split names.
    #[arg(long, value_delimiter = ',', default_value = "train,validation,test")]
    pub names: Vec<String>,
    /// Sizes, one per name: ratios summing to 1 (`0.8,0.1,0.1`) or row counts (`9000,500,500`).
    #[arg(long, default_value = "0.8,0.1,0.1")]
    pub sizes: String,
    /// Seed of the group order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// What makes rows the same task: `problem` (normalized text) or `field:PATH`.
    #[arg(long, default_value = "problem", value_name = "KEY")]
    pub group_by: String,
    /// Do not join near-duplicate problems (MinHash); only identical keys are grouped.
    #[arg(long)]
    pub no_near_dup: bool,
    /// Estimated Jaccard similarity at which two problems are near-duplicates.
    #[arg(long, default_value_t = 0.7)]
    pub threshold: f64,
    /// Output layout.
    #[arg(long, default_value = "verity", value_name = "LAYOUT")]
    pub to: String,
    /// File extension of the split files (`jsonl`, `jsonl.gz`, `jsonl.zst`, `parquet`).
    #[arg(long, default_value = "jsonl")]
    pub ext: String,
    /// Ledger file (default: DIR/ledger.jsonl).
    #[arg(long, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
}

/// Run `verity split`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let mut spec = SplitSpec::parse(&args.names, &args.sizes, args.seed)?;
    let params = MinHashParams {
        threshold: args.threshold,
        ..MinHashParams::default()
    };
    spec.near_dup = (!args.no_near_dup).then_some(params);
    let key = GroupKey::parse(&args.group_by)?;
    let out_layout = layout::by_name(&args.to)
        .ok_or_else(|| verity_core::Error::NoSuchLayout(args.to.clone()))?;
    let mut entry = LedgerEntry::start(
        "split",
        json!({"names": args.names, "sizes": args.sizes, "seed": args.seed, "group_by": args.group_by,
               "near_duplicates": !args.no_near_dup, "threshold": args.threshold, "to": args.to}),
    );

    // Pass 1: keys and signatures.
    let mut source = args.input.open()?;
    let progress = Progress::bytes(ctx, source.total_bytes(), "group");
    source.set_progress(progress.counter());
    let mut items: Vec<SplitItem> = Vec::new();
    let near = spec.near_dup;
    source.for_each(
        |batch| {
            batch
                .records
                .iter()
                .map(|r| SplitItem {
                    key: key.key(r).ok(),
                    signature: near
                        .and_then(|p| r.problem_text().map(|t| minhash::signature(t, &p))),
                })
                .collect::<Vec<_>>()
        },
        |batch_items| {
            items.extend(batch_items);
            progress.tick(items.len() as u64);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();
    let assignment = assign(&items, &spec);
    drop(items);

    // Pass 2: write.
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let mut writers = Vec::new();
    for name in &args.names {
        if name.is_empty() || name.contains(['/', '\\']) {
            bail!("split name `{name}` cannot be a file name");
        }
        writers.push(RowWriter::create(
            &args.output.join(format!("{name}.{}", args.ext)),
            WriteOptions::default(),
        )?);
    }
    let mut source = args.input.open()?;
    let inputs: Vec<PathBuf> = source.inputs().iter().map(|i| i.path.clone()).collect();
    let progress = Progress::bytes(ctx, source.total_bytes(), "split");
    source.set_progress(progress.counter());
    let mut offset = 0usize;
    let mut rows_in = 0u64;
    let mut read_rejects = 0u64;
    let mut write_rejects = 0u64;
    source.for_each(
        |batch| {
            let lines: Vec<Option<Vec<u8>>> = batch
                .records
                .iter()
                .map(|r| {
                    layout::write_row(out_layout, r, true)
                        .ok()
                        .and_then(|v| serde_json::to_vec(&v).ok())
                })
                .collect();
            (lines, batch.rejects.len())
        },
        |(lines, rejects)| {
            let n = lines.len();
            rows_in += (n + rejects) as u64;
            read_rejects += rejects as u64;
            for (i, line) in lines.into_iter().enumerate() {
                let Some(split) = assignment.split.get(offset + i).copied().flatten() else {
                    continue;
                };
                match line {
                    Some(l) => writers[split].write_line(&l)?,
                    None => write_rejects += 1,
                }
            }
            offset += n;
            progress.tick(rows_in);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();
    let mut outputs = Vec::new();
    let mut rows_out = 0;
    for w in writers {
        rows_out += w.rows();
        outputs.extend(w.finish()?);
    }
    entry.rows_in = rows_in;
    entry.rows_out = rows_out;
    if assignment.over_count > 0 {
        entry.reject("split: over the requested counts", assignment.over_count);
    }
    if read_rejects > 0 {
        entry.reject("read: unreadable rows (--on-error skip)", read_rejects);
    }
    if write_rejects > 0 {
        entry.reject(
            format!("write: cannot be written as `{}`", args.to),
            write_rejects,
        );
    }
    entry.summary = assignment.to_json(&spec);
    for p in &inputs {
        entry.inputs.push(FileDigest::of(p)?);
    }
    for p in &outputs {
        entry.outputs.push(FileDigest::of(p)?);
    }
    entry.finish();
    let ledger = args
        .ledger
        .clone()
        .unwrap_or_else(|| args.output.join("ledger.jsonl"));
    crate::output::append_entry(&entry, &ledger)?;
    crate::gates::observe(&entry);
    let printed = json!({"rows_in": rows_in, "rows_out": rows_out, "outputs": outputs, "ledger": ledger, "summary": entry.summary, "rejections": entry.rejections});
    if ctx.json {
        print_json(&printed)?;
    } else if !ctx.quiet {
        eprintln!(
            "split {rows_in} rows into {} groups ({} near-duplicate joins):",
            assignment.groups, assignment.near_dup_joins
        );
        for (j, name) in args.names.iter().enumerate() {
            eprintln!(
                "  {name:<12} {:>9} rows  {:>8} groups",
                assignment.rows[j], assignment.groups_per_split[j]
            );
        }
        for (reason, n) in &entry.rejections {
            eprintln!("  left out {n}: {reason}");
        }
        eprintln!("no task key or near-duplicate cluster appears in two splits (by construction)");
    }
    Ok(ExitStatus::Success)
}
