//! `verity dedup IN... -o OUT`: exact and MinHash-LSH near-duplicate removal.
//!
//! Two passes without holding records in memory: while reading, each record's view text is
//! hashed (exact key, MinHash signature, LSH band keys) on worker threads and the encoded
//! output row is appended to a spool file next to the output; after the last record the
//! clusters are formed and the spool is replayed in input order, sending kept records to the
//! output and removed ones (with `lineage.dup_of`, or a top-level `dup_of` for non-verity
//! layouts) to the removed file. Signatures and LSH band entries spill to temporary files next
//! to the output as well, so memory grows by ~63 B per record plus the id (see
//! `verity_dedup::dedup`; 1M records: 176 MiB peak). Exit code 0 whether or not duplicates were found.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::{sibling, Encoded, Lines, OutputArgs, Progress, StageOutput};
use anyhow::{bail, Context as _, Result};
use clap::ValueEnum;
use serde_json::{json, Value};
use std::path::PathBuf;
use verity_core::io::{RowWriter, WriteOptions};
use verity_dedup::cluster::KeepPolicy;
use verity_dedup::dedup::{DedupConfig, Deduper, Mode, DEFAULT_NUM_PERM, DEFAULT_THRESHOLD};
use verity_dedup::exact::{keep_key, View};
use verity_dedup::lsh::LshParams;
use verity_dedup::minhash::{Scratch, Shingle};
use verity_dedup::report::{ClusterLine, ReportWriter};
use verity_dedup::spool::Spool;

/// What part of a record is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewArg {
    /// The problem only.
    Problem,
    /// Problem and reference answer.
    #[value(name = "problem_answer", alias = "problem-answer")]
    ProblemAnswer,
    /// Problem and the attempts' traces/responses (default).
    Trace,
    /// The whole record except id and lineage.
    Record,
}

/// Which duplicates to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Equal normalized text only.
    Exact,
    /// MinHash near duplicates only.
    Near,
    /// Both.
    Both,
}

/// Shingle unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShingleArg {
    /// Word n-grams.
    Word,
    /// Character n-grams.
    Char,
}

/// Keep policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeepArg {
    /// First in input order.
    First,
    /// Longest view text.
    Longest,
    /// An attempt passed its verifier.
    Passing,
    /// Highest feedback score (else signals.score).
    HighestScore,
}

/// Arguments of `verity dedup`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Text compared: problem, problem_answer, trace (problem + attempts' traces), record.
    #[arg(long, value_enum, default_value_t = ViewArg::Trace)]
    pub view: ViewArg,
    /// exact (normalized text), near (MinHash-LSH) or both.
    #[arg(long, value_enum, default_value_t = ModeArg::Both)]
    pub mode: ModeArg,
    /// Shingle unit for MinHash.
    #[arg(long, value_enum, default_value_t = ShingleArg::Word)]
    pub shingle: ShingleArg,
    /// Shingle length in words or characters (default 5).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub ngram: usize,
    /// MinHash signature length.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_NUM_PERM)]
    pub num_perm: usize,
    /// LSH bands (with --rows; default: derived from --threshold).
    #[arg(long, value_name = "B", requires = "rows")]
    pub bands: Option<usize>,
    /// LSH rows per band (with --bands).
    #[arg(long, value_name = "R", requires = "bands")]
    pub rows: Option<usize>,
    /// Jaccard similarity threshold: candidate pairs below it are not duplicates; also picks
    /// bands/rows unless given.
    #[arg(long, value_name = "T", default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Verify candidates with exact Jaccard of the shingle sets (keeps them in memory) instead
    /// of the signature estimate.
    #[arg(long)]
    pub verify_jaccard: bool,
    /// Link near duplicates even when their reference answers differ (by default a problem
    /// and its variant with another answer are two tasks, whatever their similarity).
    #[arg(long)]
    pub ignore_answers: bool,
    /// Which record of a cluster is kept.
    #[arg(long, value_enum, default_value_t = KeepArg::First)]
    pub keep: KeepArg,
    /// Cluster report (JSONL: kept id, member ids, similarity).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Where removed records go (default `<OUTPUT stem>.removed.jsonl`).
    #[arg(long, value_name = "PATH")]
    pub removed: Option<PathBuf>,
}

fn config(args: &Args) -> Result<DedupConfig> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!(
            "--threshold must be between 0 and 1 (got {})",
            args.threshold
        );
    }
    if args.num_perm == 0 || args.num_perm > 4096 {
        bail!(
            "--num-perm must be between 1 and 4096 (got {})",
            args.num_perm
        );
    }
    if args.ngram == 0 {
        bail!("--ngram must be at least 1");
    }
    let lsh = match (args.bands, args.rows) {
        (Some(b), Some(r)) => {
            if b == 0 || r == 0 || b * r > args.num_perm {
                bail!(
                    "--bands x --rows must be at least 1 and at most --num-perm ({} x {} > {})",
                    b,
                    r,
                    args.num_perm
                );
            }
            LshParams { bands: b, rows: r }
        }
        _ => LshParams::for_threshold(args.threshold, args.num_perm),
    };
    Ok(DedupConfig {
        mode: match args.mode {
            ModeArg::Exact => Mode::Exact,
            ModeArg::Near => Mode::Near,
            ModeArg::Both => Mode::Both,
        },
        view: match args.view {
            ViewArg::Problem => View::Problem,
            ViewArg::ProblemAnswer => View::ProblemAnswer,
            ViewArg::Trace => View::Trace,
            ViewArg::Record => View::Record,
        },
        shingle: match args.shingle {
            ShingleArg::Word => Shingle::Word(args.ngram),
            ShingleArg::Char => Shingle::Char(args.ngram),
        },
        num_perm: args.num_perm,
        lsh,
        threshold: args.threshold,
        verify_jaccard: args.verify_jaccard,
        answer_guard: !args.ignore_answers,
        keep: match args.keep {
            KeepArg::First => KeepPolicy::First,
            KeepArg::Longest => KeepPolicy::Longest,
            KeepArg::Passing => KeepPolicy::Passing,
            KeepArg::HighestScore => KeepPolicy::HighestScore,
        },
        ..DedupConfig::default()
    })
}

/// Record ids stored compactly (one string arena).
#[derive(Default)]
struct Ids {
    text: String,
    ends: Vec<u32>,
}

impl Ids {
    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len() as u32);
    }
    fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize).unwrap_or("")
    }
}

/// Run `verity dedup`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let started = std::time::Instant::now();
    let config = config(&args)?;
    let mut source = args.input.open()?;
    let params = json!({
        "mode": config.mode,
        "view": config.view,
        "shingle": match config.shingle { Shingle::Word(_) => "word", Shingle::Char(_) => "char" },
        "ngram": args.ngram,
        "num_perm": config.num_perm,
        "bands": config.lsh.bands,
        "rows": config.lsh.rows,
        "threshold": config.threshold,
        "lsh_implied_threshold": (config.lsh.implied_threshold() * 1000.0).round() / 1000.0,
        "verify": if config.verify_jaccard { "exact_jaccard" } else { "signature_estimate" },
        "keep": config.keep.name(),
        "answer_guard": config.answer_guard,
        "minhash": "one-permutation hashing + optimal densification",
        "normalization": "nfkc,lowercase,latex_spacing,whitespace",
        "seed": config.seed,
    });
    let output_path = args.output.path()?;
    let mut out = StageOutput::create("dedup", params, &args.input, &source, &args.output)?;
    let removed_path = args
        .removed
        .clone()
        .unwrap_or_else(|| sibling(&output_path, "removed.jsonl"));
    let spool_dir = output_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    // The spool lives next to the output: create the output directory first, as every other
    // command's writer does.
    std::fs::create_dir_all(&spool_dir)
        .with_context(|| format!("cannot create the output directory {}", spool_dir.display()))?;
    let mut spool = Spool::create(Some(&spool_dir))?;
    let progress = Progress::bytes(ctx, source.total_bytes(), "dedup");
    source.set_progress(progress.counter());
    let encoder = out.encoder();
    let hasher = config.hasher();
    let stage_tag = format!(
        "dedup:{}",
        args.mode
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    );
    // Signatures and band entries spill next to the output, like the rows.
    let mut deduper = Deduper::spilling(config.clone(), &spool_dir)?;
    let mut ids = Ids::default();
    let mut rows_in = 0u64;
    source.for_each(
        |mut batch| {
            let mut scratch = Scratch::default();
            let mut prepared = Vec::with_capacity(batch.records.len());
            let mut write_rejects = Vec::new();
            for record in &mut batch.records {
                let text = config.view.text(record);
                let key = keep_key(record, text.chars().count() as u64);
                record.lineage.stages.push(stage_tag.clone());
                let encoded = encoder.encode(std::slice::from_ref(record));
                let line = encoded.lines.iter().next().map(<[u8]>::to_vec);
                match line {
                    Some(line) => {
                        let p = config
                            .prepare(&hasher, &text, key, &mut scratch)
                            .with_answer(record.task.reference.answer.as_deref());
                        prepared.push((record.id.clone(), p, line));
                    }
                    None => write_rejects.extend(encoded.rejects),
                }
            }
            (
                batch.records.len() + batch.rejects.len(),
                batch.rejects,
                write_rejects,
                prepared,
            )
        },
        |(rows, rejects, write_rejects, prepared)| -> Result<()> {
            rows_in += rows as u64;
            out.reject(&rejects)?;
            out.reject(&write_rejects)?;
            for (id, p, line) in prepared {
                ids.push(&id);
                deduper.push(p)?;
                spool.push(&line)?;
            }
            progress.tick(rows_in);
            Ok(())
        },
    )?;
    progress.finish();
    let timing = std::env::var_os("VERITY_DEDUP_TIMING").is_some();
    let t0 = std::time::Instant::now();
    if timing {
        eprintln!("timing: read+hash done at {:?}", started.elapsed());
    }
    let outcome = deduper.finish()?;
    if timing {
        eprintln!("timing: clustering {:?}", t0.elapsed());
    }
    // Replay in input order.
    let native = args.output.to == "verity";
    let mut removed = RowWriter::create(&removed_path, WriteOptions::default())?;
    spool.replay(|i, line| {
        match outcome.dup_of.get(i as usize).copied().flatten() {
            None => out
                .write(Encoded {
                    lines: Lines::from_line(line),
                    rejects: Vec::new(),
                })
                .map_err(|e| verity_dedup::Error::Config(format!("{e:#}")))?,
            Some(kept) => {
                let mut value: Value = serde_json::from_slice(line).map_err(|e| {
                    verity_dedup::Error::Config(format!("internal: spooled row is not JSON: {e}"))
                })?;
                let kept_id = Value::String(ids.get(kept).to_string());
                if let Value::Object(map) = &mut value {
                    if native {
                        let lineage = map.entry("lineage").or_insert_with(|| json!({}));
                        if let Value::Object(l) = lineage {
                            l.insert("dup_of".into(), kept_id);
                        }
                    } else {
                        map.insert("dup_of".into(), kept_id);
                    }
                }
                removed.write_value(value)?;
            }
        }
        Ok(())
    })?;
    if timing {
        eprintln!("timing: replay done at {:?}", started.elapsed());
    }
    let removed_rows = removed.rows();
    let removed_files = removed.finish()?;
    // Report.
    let report_path = match &args.report {
        Some(path) => {
            let mut report = ReportWriter::create(path)?;
            for (n, cluster) in outcome.clusters.iter().enumerate() {
                report.write(&ClusterLine::new(n, cluster, |i| ids.get(i)))?;
            }
            Some(report.finish()?)
        }
        None => None,
    };
    let stats = &outcome.stats;
    {
        let entry = out.entry_mut();
        if stats.exact_removed > 0 {
            entry.reject("exact_duplicate", stats.exact_removed);
        }
        if stats.near_removed > 0 {
            entry.reject("near_duplicate", stats.near_removed);
        }
        let mut sizes = std::collections::BTreeMap::<String, u64>::new();
        for c in &outcome.clusters {
            let bucket = match c.members.len() {
                2 => "2",
                3..=5 => "3-5",
                6..=20 => "6-20",
                _ => "21+",
            };
            *sizes.entry(bucket.to_string()).or_default() += 1;
        }
        let dedup_summary = json!({
            "records": stats.records,
            "kept": stats.records - stats.exact_removed - stats.near_removed,
            "removed_exact": stats.exact_removed,
            "removed_near": stats.near_removed,
            "clusters": stats.clusters,
            "largest_cluster": stats.largest_cluster,
            "cluster_sizes": sizes,
            "empty_texts": stats.empty_texts,
            "candidate_pairs": stats.candidate_pairs,
            "verified_pairs": stats.verified_pairs,
            "answer_conflicts": stats.answer_conflicts,
            "index_bytes": stats.index_bytes,
            "removed_file": removed_files.first(),
            "report": report_path,
        });
        entry.summarize("dedup", dedup_summary);
    }
    let result = out.finish(rows_in)?;
    let summary = json!({
        "rows_in": rows_in,
        "rows_out": result.entry.rows_out,
        "removed": removed_rows,
        "removed_exact": stats.exact_removed,
        "removed_near": stats.near_removed,
        "clusters": stats.clusters,
        "largest_cluster": stats.largest_cluster,
        "answer_conflicts": stats.answer_conflicts,
        "bands": config.lsh.bands,
        "rows": config.lsh.rows,
        "threshold": config.threshold,
        "outputs": result.outputs,
        "removed_file": removed_files.first(),
        "report": report_path,
        "rejects": result.rejects,
        "ledger": result.ledger,
    });
    if ctx.json {
        print_json(&summary)?;
    } else if !ctx.quiet {
        eprintln!(
            "dedup: {} rows -> {} kept, {} removed ({} exact, {} near) in {} clusters (largest {}); bands x rows = {} x {}, threshold {}",
            rows_in,
            result.entry.rows_out,
            removed_rows,
            stats.exact_removed,
            stats.near_removed,
            stats.clusters,
            stats.largest_cluster,
            config.lsh.bands,
            config.lsh.rows,
            config.threshold
        );
        if let Some(path) = removed_files.first() {
            eprintln!("removed records (with dup_of): {}", path.display());
        }
        if let Some(path) = &report_path {
            eprintln!("cluster report: {}", path.display());
        }
        if let Some(rejects) = &result.rejects {
            eprintln!("unreadable rows: {}", rejects.display());
        }
    }
    Ok(ExitStatus::Success)
}
