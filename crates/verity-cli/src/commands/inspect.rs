//! `verity inspect FILE...`: what is in a dataset.
//!
//! Per input file: the detected layout, object kinds, row count, the input field inventory with
//! fill rates and JSON types, whether references, traces, think tags, step labels and multiple
//! attempts are present, length statistics in characters (all rows) and tokens (a real BPE
//! tokenizer, on the first `--token-rows` rows of each file by default), and a sample record.
//!
//! A file no layout recognises is still inspected, as generic rows: the field inventory (fill
//! rates, JSON types, string lengths, list sizes), a sample row, and a proposed `--map` built
//! from the field names and values (see docs/field-mapping.md). `--map` reads the rows through a
//! mapping instead of a layout.

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::Progress;
use anyhow::Result;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use verity_core::io::{ReadOptions, RowReader};
use verity_core::layout::{self, Layout, RowContext};
use verity_core::record::{Fields, Record};
use verity_core::stream::detect_layouts;
use verity_core::tokens::{Tokenizer, DEFAULT_TOKENIZER};

/// Arguments of `verity inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Tokenizer for token counts (cl100k_base, o200k_base, whitespace).
    #[arg(long, default_value = DEFAULT_TOKENIZER)]
    pub tokenizer: String,
    /// Count tokens on the first N rows of each file (0 = every row).
    #[arg(long, default_value_t = 5000)]
    pub token_rows: u64,
    /// Characters of each string shown in the sample record.
    #[arg(long, default_value_t = 300)]
    pub sample_chars: usize,
}

#[derive(Default)]
struct FieldStat {
    present: u64,
    filled: u64,
    types: BTreeMap<&'static str, u64>,
    /// Characters of the string values.
    chars: Vec<u64>,
    /// Entries of the list values.
    items: Vec<u64>,
}

/// Rows kept per file with no layout, for the sample and the proposed mapping.
const GENERIC_SAMPLE_ROWS: usize = 64;

#[derive(Default)]
struct Lengths {
    chars: Vec<u64>,
    tokens: Vec<u64>,
}

impl Lengths {
    fn merge(&mut self, other: Lengths) {
        self.chars.extend(other.chars);
        self.tokens.extend(other.tokens);
    }
}

#[derive(Default)]
struct Stats {
    rows: u64,
    bad_rows: u64,
    first_errors: Vec<String>,
    fields: BTreeMap<String, FieldStat>,
    kinds: BTreeMap<String, u64>,
    with_reference_answer: u64,
    with_tests: u64,
    with_trace: u64,
    with_think_tags: u64,
    with_step_labels: u64,
    with_events: u64,
    multi_attempt: u64,
    attempts: u64,
    with_feedback: u64,
    imported_verifiers: BTreeMap<String, u64>,
    prompt: Lengths,
    trace: Lengths,
    response: Lengths,
    sample: Option<Record>,
    /// The first rows, for files no layout recognises.
    raw_rows: Vec<Fields>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.rows += other.rows;
        self.bad_rows += other.bad_rows;
        for e in other.first_errors {
            if self.first_errors.len() < 5 {
                self.first_errors.push(e);
            }
        }
        for (k, v) in other.fields {
            let f = self.fields.entry(k).or_default();
            f.present += v.present;
            f.filled += v.filled;
            for (t, n) in v.types {
                *f.types.entry(t).or_default() += n;
            }
            f.chars.extend(v.chars);
            f.items.extend(v.items);
        }
        for (k, v) in other.kinds {
            *self.kinds.entry(k).or_default() += v;
        }
        self.with_reference_answer += other.with_reference_answer;
        self.with_tests += other.with_tests;
        self.with_trace += other.with_trace;
        self.with_think_tags += other.with_think_tags;
        self.with_step_labels += other.with_step_labels;
        self.with_events += other.with_events;
        self.multi_attempt += other.multi_attempt;
        self.attempts += other.attempts;
        self.with_feedback += other.with_feedback;
        for (k, v) in other.imported_verifiers {
            *self.imported_verifiers.entry(k).or_default() += v;
        }
        self.prompt.merge(other.prompt);
        self.trace.merge(other.trace);
        self.response.merge(other.response);
        if self.sample.is_none() {
            self.sample = other.sample;
        }
        let room = GENERIC_SAMPLE_ROWS.saturating_sub(self.raw_rows.len());
        self.raw_rows.extend(other.raw_rows.into_iter().take(room));
    }
}

fn json_type(value: &Value) -> &'static str {
    verity_core::error::json_type_name(value)
}

fn is_filled(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn observe_fields(stats: &mut Stats, row: &Fields) {
    for (key, value) in row {
        let f = stats.fields.entry(key.clone()).or_default();
        f.present += 1;
        if is_filled(value) {
            f.filled += 1;
        }
        *f.types.entry(json_type(value)).or_default() += 1;
        match value {
            Value::String(s) => f.chars.push(s.chars().count() as u64),
            Value::Array(a) => f.items.push(a.len() as u64),
            _ => {}
        }
    }
}

fn observe_record(stats: &mut Stats, record: &Record, tokenizer: Option<&Tokenizer>) {
    *stats
        .kinds
        .entry(record.object.as_str().to_string())
        .or_default() += 1;
    let reference = &record.task.reference;
    if reference.answer.is_some() {
        stats.with_reference_answer += 1;
    }
    if reference.tests.is_some() {
        stats.with_tests += 1;
    }
    let count = |text: &str| tokenizer.map(|t| t.count(text) as u64);
    if let Some(prompt) = record.problem_text() {
        stats.prompt.chars.push(prompt.chars().count() as u64);
        if let Some(n) = count(prompt) {
            stats.prompt.tokens.push(n);
        }
    }
    stats.attempts += record.attempts.len() as u64;
    if record.attempts.len() > 1 {
        stats.multi_attempt += 1;
    }
    let mut trace = false;
    let mut think = false;
    let mut steps = false;
    let mut events = false;
    let mut feedback = false;
    for attempt in &record.attempts {
        if let Some(t) = &attempt.trace {
            trace = true;
            stats.trace.chars.push(t.chars().count() as u64);
            if let Some(n) = count(t) {
                stats.trace.tokens.push(n);
            }
        }
        if let Some(r) = &attempt.response {
            if r.contains("<think>") || r.contains("</think>") || r.contains("<|begin_of_thought|>")
            {
                think = true;
            }
            stats.response.chars.push(r.chars().count() as u64);
            if let Some(n) = count(r) {
                stats.response.tokens.push(n);
            }
        }
        if attempt
            .steps
            .iter()
            .any(|s| s.label.is_some() || s.score.is_some())
        {
            steps = true;
        }
        if !attempt.events.is_empty() {
            events = true;
        }
        for f in &attempt.feedback {
            feedback = true;
            if f.verifier.imported {
                *stats
                    .imported_verifiers
                    .entry(f.verifier.name.clone())
                    .or_default() += 1;
            }
        }
    }
    if trace {
        stats.with_trace += 1;
    }
    if think {
        stats.with_think_tags += 1;
    }
    if steps {
        stats.with_step_labels += 1;
    }
    if events {
        stats.with_events += 1;
    }
    if feedback {
        stats.with_feedback += 1;
    }
}

fn distribution(values: &mut [u64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    values.sort_unstable();
    let n = values.len();
    let pct = |p: f64| values[((p * (n - 1) as f64).round() as usize).min(n - 1)];
    let sum: u64 = values.iter().sum();
    json!({
        "count": n,
        "mean": (sum as f64 / n as f64 * 10.0).round() / 10.0,
        "min": values[0],
        "p50": pct(0.5),
        "p90": pct(0.9),
        "p99": pct(0.99),
        "max": values[n - 1],
        "total": sum,
    })
}

fn truncate_strings(value: &mut Value, max: usize) {
    match value {
        Value::String(s) if s.chars().count() > max => {
            let cut: String = s.chars().take(max).collect();
            *s = format!("{cut}… [{} chars]", s.chars().count());
        }
        Value::Array(items) => {
            let len = items.len();
            items.truncate(8);
            for item in items.iter_mut() {
                truncate_strings(item, max);
            }
            if len > 8 {
                items.push(Value::String(format!("… {} more items", len - 8)));
            }
        }
        Value::Object(map) => {
            for (_, v) in map.iter_mut() {
                truncate_strings(v, max);
            }
        }
        _ => {}
    }
}

/// Run `verity inspect`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let inputs = args.input.files()?;
    let forced = args.input.forced_layout(&inputs)?;
    let layouts = layouts_or_generic(&inputs, forced)?;
    let tokenizer = Tokenizer::by_name(&args.tokenizer)?;
    let names: Vec<String> = inputs.iter().map(|i| i.dataset_name()).collect();
    let total: u64 = inputs
        .iter()
        .filter_map(|i| std::fs::metadata(&i.path).ok())
        .map(|m| m.len())
        .sum();
    let progress = Progress::bytes(ctx, total, "inspect");
    let options = ReadOptions {
        max_line_bytes: args.input.max_line_bytes,
        progress: Some(progress.counter()),
        ..ReadOptions::default()
    };
    let reader = RowReader::open(inputs.clone(), options);
    let mut per_file: Vec<Stats> = inputs.iter().map(|_| Stats::default()).collect();
    let token_rows = args.token_rows;
    let mut rows_seen = 0u64;
    reader.for_each_ordered(
        |batch| {
            let mut stats = Stats::default();
            let layout = layouts[batch.input];
            for row in batch.rows {
                let Some(layout) = layout else {
                    match row.value {
                        Err(e) => {
                            stats.bad_rows += 1;
                            if stats.first_errors.len() < 5 {
                                stats.first_errors.push(e.to_string());
                            }
                        }
                        Ok(fields) => {
                            stats.rows += 1;
                            observe_fields(&mut stats, &fields);
                            if stats.raw_rows.len() < GENERIC_SAMPLE_ROWS {
                                stats.raw_rows.push(fields);
                            }
                        }
                    }
                    continue;
                };
                match row.value {
                    Err(e) => {
                        stats.bad_rows += 1;
                        if stats.first_errors.len() < 5 {
                            stats.first_errors.push(e.to_string());
                        }
                    }
                    Ok(fields) => {
                        stats.rows += 1;
                        observe_fields(&mut stats, &fields);
                        let ctx = RowContext {
                            file: &batch.file,
                            dataset: &names[batch.input],
                            row: row.index,
                        };
                        match layout::read_row(layout, fields, &ctx) {
                            Ok(record) => {
                                let tok = (token_rows == 0 || row.index <= token_rows)
                                    .then_some(&tokenizer);
                                observe_record(&mut stats, &record, tok);
                                if stats.sample.is_none() {
                                    stats.sample = Some(record);
                                }
                            }
                            Err(e) => {
                                stats.bad_rows += 1;
                                if stats.first_errors.len() < 5 {
                                    stats
                                        .first_errors
                                        .push(format!("{}:{}: {e}", batch.file, row.index));
                                }
                            }
                        }
                    }
                }
            }
            (batch.input, stats)
        },
        |(input, stats)| {
            rows_seen += stats.rows;
            per_file[input].merge(stats);
            progress.tick(rows_seen);
            Ok::<(), anyhow::Error>(())
        },
    )?;
    progress.finish();

    let mut reports = Vec::new();
    for ((input, layout), mut stats) in inputs.iter().zip(&layouts).zip(per_file) {
        let rows = stats.rows.max(1) as f64;
        let fields: Vec<Value> = stats
            .fields
            .iter()
            .map(|(name, f)| {
                let mut chars = f.chars.clone();
                let mut items = f.items.clone();
                json!({
                    "field": name,
                    "present": f.present,
                    "fill_rate": (f.filled as f64 / rows * 1000.0).round() / 1000.0,
                    "types": f.types,
                    "chars": distribution(&mut chars),
                    "items": distribution(&mut items),
                })
            })
            .collect();
        let mut sample = match layout {
            Some(_) => stats
                .sample
                .as_ref()
                .and_then(|r| serde_json::to_value(r).ok())
                .unwrap_or(Value::Null),
            None => stats
                .raw_rows
                .first()
                .map(|r| Value::Object(r.clone()))
                .unwrap_or(Value::Null),
        };
        let proposed = match layout {
            Some(_) => None,
            None => layout::mapping::propose(&stats.raw_rows).map(|m| m.to_arg()),
        };
        truncate_strings(&mut sample, args.sample_chars);
        let mut lengths = Map::new();
        for (name, l) in [
            ("prompt", &mut stats.prompt),
            ("trace", &mut stats.trace),
            ("response", &mut stats.response),
        ] {
            lengths.insert(
                name.into(),
                json!({"chars": distribution(&mut l.chars), "tokens": distribution(&mut l.tokens)}),
            );
        }
        reports.push(json!({
            "file": input.path.display().to_string(),
            "bytes": std::fs::metadata(&input.path).map(|m| m.len()).unwrap_or(0),
            "layout": layout.map(|l| l.name()),
            "mapping": layout.filter(|l| l.name() == "map").map(|_| args.input.map.join(",")),
            "generic_rows": layout.is_none(),
            "proposed_map": proposed,
            "rows": stats.rows,
            "bad_rows": stats.bad_rows,
            "first_errors": stats.first_errors,
            "object_kinds": stats.kinds,
            "fields": fields,
            "present": {
                "reference_answer": stats.with_reference_answer,
                "tests": stats.with_tests,
                "trace": stats.with_trace,
                "think_tags": stats.with_think_tags,
                "step_labels": stats.with_step_labels,
                "events": stats.with_events,
                "multiple_attempts": stats.multi_attempt,
                "feedback": stats.with_feedback,
            },
            "attempts": stats.attempts,
            "imported_verifiers": stats.imported_verifiers,
            "lengths": lengths,
            "tokenizer": tokenizer.name(),
            "token_rows": if token_rows == 0 { Value::String("all".into()) } else { json!(token_rows) },
            "sample": sample,
        }));
    }
    let bad: u64 = reports.iter().filter_map(|r| r["bad_rows"].as_u64()).sum();
    if ctx.json {
        print_json(&json!({"files": reports}))?;
    } else if !ctx.quiet {
        for report in &reports {
            print_human(report);
        }
    }
    Ok(if bad > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

fn pct(n: u64, rows: u64) -> String {
    if rows == 0 {
        return "-".into();
    }
    format!("{:.1}%", n as f64 * 100.0 / rows as f64)
}

/// The layout of each input: forced (`--from`, `--map`), detected, or `None` for a file no
/// layout recognises (inspected as generic rows).
fn layouts_or_generic(
    inputs: &[verity_core::io::InputFile],
    forced: Option<&'static dyn Layout>,
) -> Result<Vec<Option<&'static dyn Layout>>> {
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        match detect_layouts(std::slice::from_ref(input), forced) {
            Ok(found) => out.push(found.first().copied()),
            Err(verity_core::Error::UnknownLayout { .. }) => out.push(None),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

fn print_human(r: &Value) {
    let rows = r["rows"].as_u64().unwrap_or(0);
    println!("{}", r["file"].as_str().unwrap_or(""));
    match (r["layout"].as_str(), r["mapping"].as_str()) {
        (Some(_), Some(map)) => println!("  layout       map ({map})"),
        (Some(layout), None) => println!("  layout       {layout}"),
        _ => println!("  layout       none detected: inspected as generic rows"),
    }
    println!("  rows         {rows}   (bad rows: {})", r["bad_rows"]);
    if let Some(errors) = r["first_errors"].as_array() {
        for e in errors {
            println!("    ! {}", e.as_str().unwrap_or(""));
        }
    }
    let generic = r["generic_rows"].as_bool().unwrap_or(false);
    if !generic {
        print_record_stats(r, rows);
    }
    print_fields(r);
    if !generic {
        print_lengths(r);
    }
    println!(
        "  {}",
        if generic {
            "sample row"
        } else {
            "sample record"
        }
    );
    let text = serde_json::to_string_pretty(&r["sample"]).unwrap_or_default();
    for line in text.lines().take(60) {
        println!("    {line}");
    }
    if generic {
        match r["proposed_map"].as_str() {
            Some(map) => {
                println!("  proposed mapping (check it against the fields above)");
                println!("    --map '{map}'");
                println!(
                    "    e.g. verity convert {} --map '{map}' -o records.jsonl",
                    r["file"].as_str().unwrap_or("FILE")
                );
            }
            None => println!(
                "  no mapping proposed: name the fields with --map TARGET=FIELD,... (docs/field-mapping.md)"
            ),
        }
    }
    println!();
}

fn print_record_stats(r: &Value, rows: u64) {
    if let Some(kinds) = r["object_kinds"].as_object() {
        let list: Vec<String> = kinds.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  objects      {}", list.join(", "));
    }
    println!("  attempts     {} total", r["attempts"]);
    let present = &r["present"];
    println!("  present      (share of rows)");
    for key in [
        "reference_answer",
        "tests",
        "trace",
        "think_tags",
        "step_labels",
        "events",
        "multiple_attempts",
        "feedback",
    ] {
        let n = present[key].as_u64().unwrap_or(0);
        println!("    {key:<18} {:>8}  {}", pct(n, rows), n);
    }
    if let Some(imported) = r["imported_verifiers"].as_object() {
        if !imported.is_empty() {
            let list: Vec<String> = imported.iter().map(|(k, v)| format!("{k} ({v})")).collect();
            println!("  imported grades  {}", list.join(", "));
        }
    }
}

fn print_fields(r: &Value) {
    println!("  fields       (fill rate, types)");
    if let Some(fields) = r["fields"].as_array() {
        for f in fields {
            let types: Vec<String> = f["types"]
                .as_object()
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default();
            let size = |d: &Value, unit: &str| {
                if d.is_object() {
                    format!("  {unit} p50 {} max {}", d["p50"], d["max"])
                } else {
                    Default::default()
                }
            };
            println!(
                "    {:<28} {:>6.1}%  {}{}{}",
                f["field"].as_str().unwrap_or(""),
                f["fill_rate"].as_f64().unwrap_or(0.0) * 100.0,
                types.join("|"),
                size(&f["chars"], "chars"),
                size(&f["items"], "items")
            );
        }
    }
}

fn print_lengths(r: &Value) {
    println!(
        "  lengths      chars over all rows; tokens ({}) over {} rows per file",
        r["tokenizer"].as_str().unwrap_or(""),
        r["token_rows"]
    );
    println!(
        "    {:<10} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "", "p50", "p90", "p99", "max", "mean"
    );
    for part in ["prompt", "trace", "response"] {
        for unit in ["chars", "tokens"] {
            let d = &r["lengths"][part][unit];
            if d.is_null() {
                continue;
            }
            println!(
                "    {:<10} {:>8} {:>8} {:>8} {:>8} {:>9}",
                format!("{part} {}", if unit == "chars" { "ch" } else { "tok" }),
                d["p50"].to_string(),
                d["p90"].to_string(),
                d["p99"].to_string(),
                d["max"].to_string(),
                d["mean"].to_string()
            );
        }
    }
}
