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

/// What one parallel batch hands to the writer: rows read, rejected rows, the batch's hit
/// counts, with a report the contaminated records (id and hits, in input order), the encoded
/// output rows, and in drop mode the encoded contaminated rows.
struct BatchOutput {
    rows: usize,
    rejects: Vec<verity_core::stream::Reject>,
    counts: HitCounts,
    reported: Vec<(String, Vec<Hit>)>,
    kept: Encoded,
    dropped: Option<Encoded>,
}

/// Hit counts, per batch (counted where the batch is checked, so the writer thread only adds
/// them up) and for the run.
#[derive(Default)]
struct HitCounts {
    contaminated: u64,
    hits: u64,
    per_benchmark: BTreeMap<String, u64>,
    per_method: BTreeMap<&'static str, u64>,
    per_field: BTreeMap<String, u64>,
}

impl HitCounts {
    /// Count one contaminated record's hits.
    fn add(&mut self, hits: &[Hit]) {
        self.contaminated += 1;
        self.hits += hits.len() as u64;
        for (i, h) in hits.iter().enumerate() {
            // Each benchmark once per record.
            if !hits[..i].iter().any(|e| e.benchmark == h.benchmark) {
                bump(&mut self.per_benchmark, &h.benchmark, 1);
            }
            *self.per_method.entry(method_name(h.method)).or_default() += 1;
            bump(&mut self.per_field, &h.field, 1);
        }
    }

    fn merge(&mut self, other: HitCounts) {
        self.contaminated += other.contaminated;
        self.hits += other.hits;
        for (k, v) in other.per_benchmark {
            bump(&mut self.per_benchmark, &k, v);
        }
        for (k, v) in other.per_method {
            *self.per_method.entry(k).or_default() += v;
        }
        for (k, v) in other.per_field {
            bump(&mut self.per_field, &k, v);
        }
    }
}

/// Add `n` to `map[key]` (allocating the key only the first time).
fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(count) => *count += n,
        None => {
            map.insert(key.to_string(), n);
        }
    }
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
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Benchmarks: `builtin:NAME[,NAME...]`, `builtin:all`, or files/directories of items
    /// (fields id/task_id/unique_id and problem/question/prompt/text/input).
    #[arg(long, value_name = "SPEC", num_args = 1.., required_unless_present = "list")]
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
    /// n-gram matcher: minimum fraction of a benchmark problem's words covered by the shared
    /// n-grams (0: any shared n-gram flags, as in GPT-3-style decontamination; that also flags
    /// phrasing many problems share, such as "... relatively prime positive integers. Find
    /// m+n").
    #[arg(long, value_name = "F", default_value_t = verity_dedup::decontam::DEFAULT_MIN_COVERAGE)]
    pub min_coverage: f64,
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
    object.insert("benchmark".into(), Value::String(hit.benchmark.to_string()));
    object.insert("item".into(), Value::String(hit.item.to_string()));
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
    if !(0.0..=1.0).contains(&args.min_coverage) {
        bail!("--min-coverage must be between 0 and 1");
    }
    let benchmarks = benchmarks::resolve(&args.against)
        .context("cannot load the benchmarks given to --against")?;
    let config = DecontamConfig {
        ngram: args.ngram,
        short_matcher: !args.no_short,
        fuzzy_threshold: args.fuzzy_threshold,
        min_coverage: args.min_coverage,
    };
    let mut index = DecontamIndex::build(&benchmarks, config.clone());
    // Spans are only written to the report.
    index.set_spans(args.report.is_some());
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
        "min_coverage": config.min_coverage,
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
    let mut counts = HitCounts::default();
    let short = !args.no_short;
    let reporting = report.is_some();
    source.for_each(
        |mut batch| {
            let mut batch_counts = HitCounts::default();
            let mut reported = Vec::new();
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
                    batch_counts.add(&hits);
                    if reporting {
                        reported.push((record.id.clone(), std::mem::take(&mut hits)));
                    }
                }
            }
            let contaminated = batch_counts.contaminated;
            let rows = batch.records.len() + batch.rejects.len();
            // The whole batch is encoded at once (one buffer per batch, not per record); in
            // drop mode the contaminated records are encoded apart.
            let (kept, dropped) = if drop_mode && contaminated > 0 {
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
                counts: batch_counts,
                reported,
                kept,
                dropped,
            }
        },
        |batch: BatchOutput| -> Result<()> {
            rows_in += batch.rows as u64;
            out.reject(&batch.rejects)?;
            counts.merge(batch.counts);
            if let Some(r) = report.as_mut() {
                for (id, hits) in &batch.reported {
                    for h in hits {
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
        None => {
            crate::output::remove_stale(&removed_path)?;
            None
        }
    };
    let report_path = match report {
        Some(r) => Some(r.finish()?),
        None => None,
    };
    let HitCounts {
        contaminated,
        hits: hits_total,
        per_benchmark,
        per_method,
        per_field,
    } = counts;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(field: &str, benchmark: &str, item: &str, method: Method) -> Hit {
        Hit {
            field: field.into(),
            benchmark: benchmark.into(),
            item: item.into(),
            method,
            span: String::new(),
            matched_words: 13,
            score: 1.0,
        }
    }

    #[test]
    fn batch_counts_add_up_to_the_run_counts() {
        let first = [
            hit("problem", "gsm8k", "1", Method::Ngram),
            hit("trace", "gsm8k", "2", Method::Ngram),
            hit("problem", "math500", "7", Method::Fuzzy),
        ];
        let second = [hit("trace", "math500", "7", Method::Contained)];
        let mut batch = HitCounts::default();
        batch.add(&first);
        let mut other = HitCounts::default();
        other.add(&second);
        let mut run = HitCounts::default();
        run.merge(batch);
        run.merge(other);
        assert_eq!((run.contaminated, run.hits), (2, 4));
        // A record counts once per benchmark, however many of its items it hit.
        let per_benchmark: Vec<(&str, u64)> = run
            .per_benchmark
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(per_benchmark, [("gsm8k", 1), ("math500", 2)]);
        let per_method: Vec<(&str, u64)> = run.per_method.into_iter().collect();
        assert_eq!(per_method, [("contained", 1), ("fuzzy", 1), ("ngram", 2)]);
        let per_field: Vec<(&str, u64)> = run
            .per_field
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(per_field, [("problem", 2), ("trace", 2)]);
    }
}
