//! `verity decontam IN... -o OUT --against SPEC...`: find benchmark problems in a dataset.
//!
//! Streams (not a pipeline blocker: the benchmark index is built first, records are checked in
//! parallel in input order). Matchers: word 13-grams on every checked field, plus a
//! contained/fuzzy matcher on the problem (see `verity_dedup::decontam`). `--mode flag` (default)
//! writes every record and marks contaminated ones with `signals.contamination` (a list of
//! `{benchmark, item, field, method}`); `--mode drop` writes clean records to the output and
//! contaminated ones to the removed file. The report lists every hit with its matching span.
//!
//! Exit code: 0 whether or not hits were found, so a pipeline keeps going; `--fail-on-hits`
//! exits 1 when any record was contaminated (a CI gate).

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::{sibling, Encoded, OutputArgs, Progress, StageOutput};
use anyhow::{bail, Context as _, Result};
use clap::ValueEnum;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use verity_core::io::{RowWriter, WriteOptions};
use verity_core::Record;
use verity_dedup::benchmarks::{self, BUILTIN};
use verity_dedup::decontam::{DecontamConfig, DecontamIndex, Hit, Method};
use verity_dedup::exact::TRACE_FIELDS;
use verity_dedup::report::{HitLine, ReportWriter};

/// What one parallel batch hands to the writer: rows read, rejected rows, the contaminated
/// records (id and hits, in input order), the encoded output rows, and in drop mode the encoded
/// contaminated rows.
struct BatchOutput {
    rows: usize,
    rejects: Vec<verity_core::stream::Reject>,
    contaminated: Vec<(String, Vec<Hit>)>,
    kept: Encoded,
    dropped: Option<Encoded>,
}

/// What to do with contaminated records: flag or drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Keep every record; mark contaminated ones in `signals.contamination`.
    Flag,
    /// Move contaminated records to the removed file.
    Drop,
}

/// Record fields that can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FieldArg {
    /// The problem (also gets the short/fuzzy matcher).
    Problem,
    /// Attempts' traces and responses (or an unmapped `trace`-like column).
    Trace,
    /// The reference solution.
    Solution,
    /// The reference answer.
    Answer,
}

/// Arguments of `verity decontam`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// List the builtin benchmarks (name, items, source, license) and exit.
    #[arg(long, exclusive = true)]
    pub list: bool,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Benchmarks: `builtin:NAME[,NAME...]`, `builtin:all`, or files/directories of items
    /// (fields id/task_id/unique_id and problem/question/prompt/text/input).
    #[arg(long, value_name = "SPEC", num_args = 1.., required = true)]
    pub against: Vec<String>,
    /// Word n-gram length.
    #[arg(long, value_name = "N", default_value_t = 13)]
    pub ngram: usize,
    /// flag (mark and keep) or drop (move to the removed file).
    #[arg(long, value_enum, default_value_t = ModeArg::Flag)]
    pub mode: ModeArg,
    /// Record fields checked by n-grams.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [FieldArg::Problem, FieldArg::Trace])]
    pub fields: Vec<FieldArg>,
    /// Turn off the short-problem (contained / fuzzy) matcher.
    #[arg(long)]
    pub no_short: bool,
    /// Fuzzy matcher: minimum fraction of a benchmark problem's words aligned in order.
    #[arg(long, value_name = "F", default_value_t = 0.8)]
    pub fuzzy_threshold: f64,
    /// Hit report (JSONL: record, field, benchmark, item, method, span).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Where dropped records go in `--mode drop` (default `<OUTPUT stem>.contaminated.jsonl`).
    #[arg(long, value_name = "PATH")]
    pub removed: Option<PathBuf>,
    /// Exit with code 1 when any record is contaminated.
    #[arg(long)]
    pub fail_on_hits: bool,
}

fn field_name(field: FieldArg) -> &'static str {
    match field {
        FieldArg::Problem => "problem",
        FieldArg::Trace => "trace",
        FieldArg::Solution => "solution",
        FieldArg::Answer => "answer",
    }
}

/// Call `f` on each text of `field` in `record`.
fn for_each_text<'a>(record: &'a Record, field: FieldArg, mut f: impl FnMut(&'a str)) {
    match field {
        FieldArg::Problem => record.problem_text().into_iter().for_each(f),
        FieldArg::Solution => record
            .task
            .reference
            .solution
            .as_deref()
            .into_iter()
            .for_each(f),
        FieldArg::Answer => record
            .task
            .reference
            .answer
            .as_deref()
            .into_iter()
            .for_each(f),
        FieldArg::Trace => {
            let mut any = false;
            for attempt in &record.attempts {
                for text in [attempt.trace.as_deref(), attempt.response.as_deref()]
                    .into_iter()
                    .flatten()
                {
                    any = true;
                    f(text);
                }
            }
            if !any {
                if let Some(t) = TRACE_FIELDS
                    .iter()
                    .find_map(|k| record.meta.get(*k).and_then(Value::as_str))
                {
                    f(t);
                }
            }
        }
    }
}

/// The hits of one record (at most one per field, benchmark and item), appended to `hits`.
fn record_hits(
    index: &DecontamIndex,
    record: &Record,
    fields: &[FieldArg],
    short: bool,
    hits: &mut Vec<Hit>,
) {
    for &field in fields {
        let name = field_name(field);
        for_each_text(record, field, |text| {
            index.check(name, text, field == FieldArg::Problem, hits);
        });
    }
    if short && !fields.contains(&FieldArg::Problem) {
        if let Some(problem) = record.problem_text() {
            let before = hits.len();
            index.check("problem", problem, true, hits);
            let mut i = before;
            while i < hits.len() {
                if hits[i].method == Method::Ngram {
                    hits.remove(i);
                } else {
                    i += 1;
                }
            }
        }
    }
    // One hit per (field, benchmark, item); hits are few, a quadratic scan is cheapest.
    let mut i = 1;
    while i < hits.len() {
        let dup = hits[..i].iter().any(|h| {
            h.field == hits[i].field && h.benchmark == hits[i].benchmark && h.item == hits[i].item
        });
        if dup {
            hits.remove(i);
        } else {
            i += 1;
        }
    }
}

/// The `signals.contamination` entry of a hit: `{benchmark, item, field, method}`.
fn mark(hit: &Hit) -> Value {
    let mut object = serde_json::Map::with_capacity(4);
    object.insert("benchmark".into(), Value::String(hit.benchmark.clone()));
    object.insert("item".into(), Value::String(hit.item.clone()));
    object.insert("field".into(), Value::String(hit.field.clone()));
    object.insert(
        "method".into(),
        Value::String(method_name(hit.method).into()),
    );
    Value::Object(object)
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Ngram => "ngram",
        Method::Contained => "contained",
        Method::Fuzzy => "fuzzy",
    }
}

fn list(ctx: &Context) -> Result<ExitStatus> {
    if ctx.json {
        print_json(&serde_json::to_value(BUILTIN)?)?;
        return Ok(ExitStatus::Success);
    }
    println!(
        "{:<14} {:>6}  {:<30} {:<10}  description",
        "name", "items", "source", "license"
    );
    for b in BUILTIN {
        println!(
            "{:<14} {:>6}  {:<30} {:<10}  {} ({} @ {})",
            b.name,
            b.items,
            b.repo,
            b.license.split_whitespace().next().unwrap_or(""),
            b.description,
            b.path,
            &b.commit[..10.min(b.commit.len())]
        );
    }
    println!("\nuse: --against builtin:all | builtin:NAME[,NAME...] | FILE | DIR");
    Ok(ExitStatus::Success)
}

/// Run `verity decontam`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    if args.list {
        return list(ctx);
    }
    if args.ngram == 0 {
        bail!("--ngram must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.fuzzy_threshold) {
        bail!("--fuzzy-threshold must be between 0 and 1");
    }
    let benchmarks = benchmarks::resolve(&args.against)
        .context("cannot load the benchmarks given to --against")?;
    let config = DecontamConfig {
        ngram: args.ngram,
        short_matcher: !args.no_short,
        fuzzy_threshold: args.fuzzy_threshold,
    };
    let index = DecontamIndex::build(&benchmarks, config.clone());
    let mut source = args.input.open()?;
    let fields: Vec<FieldArg> = {
        let mut f = args.fields.clone();
        f.dedup();
        f
    };
    let params = json!({
        "against": args.against,
        "benchmarks": benchmarks.iter().map(|b| json!({"name": b.name, "items": b.items.len()})).collect::<Vec<_>>(),
        "ngram": config.ngram,
        "fields": fields.iter().map(|f| field_name(*f)).collect::<Vec<_>>(),
        "short_matcher": config.short_matcher,
        "fuzzy_threshold": config.fuzzy_threshold,
        "mode": if args.mode == ModeArg::Drop { "drop" } else { "flag" },
        "normalization": "nfkc,lowercase,latex_formatting,punctuation_split",
    });
    let output_path = args.output.path()?;
    let mut out = StageOutput::create("decontam", params, &args.input, &source, &args.output)?;
    let removed_path = args
        .removed
        .clone()
        .unwrap_or_else(|| sibling(&output_path, "contaminated.jsonl"));
    let mut removed: Option<RowWriter> = None;
    let mut report = match &args.report {
        Some(path) => Some(ReportWriter::create(path)?),
        None => None,
    };
    let progress = Progress::bytes(ctx, source.total_bytes(), "decontam");
    source.set_progress(progress.counter());
    let encoder = out.encoder();
    let drop_mode = args.mode == ModeArg::Drop;
    let mut rows_in = 0u64;
    let mut contaminated = 0u64;
    let mut per_benchmark: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_method: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut per_field: BTreeMap<String, u64> = BTreeMap::new();
    let mut hits_total = 0u64;
    let short = !args.no_short;
    source.for_each(
        |mut batch| {
            let mut contaminated = Vec::new();
            let mut is_contaminated = Vec::new();
            let mut hits = Vec::new();
            for record in &mut batch.records {
                hits.clear();
                record_hits(&index, record, &fields, short, &mut hits);
                record.lineage.stages.push("decontam".into());
                is_contaminated.push(!hits.is_empty());
                if !hits.is_empty() {
                    let marks: Vec<Value> = hits.iter().map(mark).collect();
                    record
                        .signals
                        .insert("contamination".into(), Value::Array(marks));
                    contaminated.push((record.id.clone(), std::mem::take(&mut hits)));
                }
            }
            let rows = batch.records.len() + batch.rejects.len();
            // The whole batch is encoded at once (one buffer per batch, not per record); in
            // drop mode the contaminated records are encoded apart.
            let (kept, dropped) = if drop_mode && !contaminated.is_empty() {
                let mut flags = is_contaminated.into_iter();
                let (dirty, clean): (Vec<Record>, Vec<Record>) = batch
                    .records
                    .into_iter()
                    .partition(|_| flags.next().unwrap_or(false));
                (encoder.encode(&clean), Some(encoder.encode(&dirty)))
            } else {
                (encoder.encode(&batch.records), None)
            };
            BatchOutput {
                rows,
                rejects: batch.rejects,
                contaminated,
                kept,
                dropped,
            }
        },
        |batch: BatchOutput| -> Result<()> {
            rows_in += batch.rows as u64;
            out.reject(&batch.rejects)?;
            for (id, hits) in &batch.contaminated {
                contaminated += 1;
                let mut benches: Vec<&str> = hits.iter().map(|h| h.benchmark.as_str()).collect();
                benches.sort_unstable();
                benches.dedup();
                for b in benches {
                    match per_benchmark.get_mut(b) {
                        Some(count) => *count += 1,
                        None => {
                            per_benchmark.insert(b.to_string(), 1);
                        }
                    }
                }
                for h in hits {
                    hits_total += 1;
                    *per_method.entry(method_name(h.method)).or_default() += 1;
                    match per_field.get_mut(h.field.as_str()) {
                        Some(count) => *count += 1,
                        None => {
                            per_field.insert(h.field.clone(), 1);
                        }
                    }
                    if let Some(r) = report.as_mut() {
                        r.write(&HitLine { record: id, hit: h })?;
                    }
                }
            }
            if let Some(dropped) = batch.dropped {
                if removed.is_none() {
                    removed = Some(RowWriter::create(&removed_path, WriteOptions::default())?);
                }
                if let Some(w) = removed.as_mut() {
                    for line in &dropped.lines {
                        w.write_line(line)?;
                    }
                }
                out.reject(&dropped.rejects)?;
            }
            out.write(batch.kept)?;
            progress.tick(rows_in);
            Ok(())
        },
    )?;
    progress.finish();
    let removed_file = match removed {
        Some(w) => w.finish()?.into_iter().next(),
        None => None,
    };
    let report_path = match report {
        Some(r) => Some(r.finish()?),
        None => None,
    };
    {
        let entry = out.entry_mut();
        if drop_mode {
            for (bench, count) in &per_benchmark {
                entry.reject(format!("contaminated:{bench}"), *count);
            }
        }
        let decontam = json!({
            "records": rows_in,
            "contaminated_records": contaminated,
            "hits": hits_total,
            "records_per_benchmark": per_benchmark,
            "hits_per_method": per_method,
            "hits_per_field": per_field,
            "benchmarks_checked": index.benchmarks(),
            "benchmark_items": index.items(),
            "ngrams_indexed": index.ngrams(),
            "mode": if drop_mode { "drop" } else { "flag" },
            "removed_file": removed_file,
            "report": report_path,
        });
        entry.summarize("decontam", decontam);
    }
    let result = out.finish(rows_in)?;
    let summary = json!({
        "rows_in": rows_in,
        "rows_out": result.entry.rows_out,
        "contaminated_records": contaminated,
        "hits": hits_total,
        "records_per_benchmark": per_benchmark,
        "hits_per_method": per_method,
        "mode": if drop_mode { "drop" } else { "flag" },
        "outputs": result.outputs,
        "removed_file": removed_file,
        "report": report_path,
        "rejects": result.rejects,
        "ledger": result.ledger,
    });
    if ctx.json {
        print_json(&summary)?;
    } else if !ctx.quiet {
        eprintln!(
            "decontam: {} rows checked against {} benchmark(s) ({} items): {} contaminated ({})",
            rows_in,
            index.benchmarks().len(),
            index.items(),
            contaminated,
            per_benchmark
                .iter()
                .map(|(b, n)| format!("{b}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(path) = &removed_file {
            eprintln!("dropped records: {}", path.display());
        }
        if let Some(path) = &report_path {
            eprintln!("hit report: {}", path.display());
        }
    }
    if args.fail_on_hits && contaminated > 0 {
        return Ok(ExitStatus::Findings);
    }
    Ok(ExitStatus::Success)
}
