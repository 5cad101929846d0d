//! The scaling ledger: how a dataset scales, in numbers, with the traps stated.
//!
//! What it does: a [`StatsAccumulator`] streams records and counts rows, unique tasks (by the
//! task key of [`crate::group`]), reuse (rows beyond one per task), attempts and passes per task,
//! token and length distributions, the pass-rate band histogram over tasks, and the source,
//! domain and object-kind mixture. [`StatsAccumulator::finish`] adds the funnel read from
//! ledger entries (rows in/out and rejection reasons per stage) and returns JSON;
//! [`render_text`] prints it for people, with what each number does not mean.
//!
//! Why: "1M rows" says little. Unique tasks, attempts per task, the pass-rate mix and the
//! funnel say how a release was built and how it would scale.
//!
//! Known failure modes: tokens are read from `attempt.signals.tokens` (written by
//! `verity score`) unless a tokenizer is given here; attempts without counts are reported as
//! such, never estimated. Pass rates use the chosen verifier's verdicts only. Task keys are
//! 64-bit hashes of normalized problem text (near-duplicates are distinct tasks here; `split`
//! and `dedup` join them).

use crate::group::GroupKey;
use crate::signals::fasttok::TokenCounter;
use crate::signals::rollout::{band, is_rollout, verifier_label, BANDS};
use crate::signals::VerifierChoice;
use crate::util::quantile;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use verity_core::ledger::LedgerEntry;
use verity_core::record::Record;
use verity_core::tokens::Tokenizer;

#[derive(Debug, Clone, Copy, Default)]
struct TaskAgg {
    rows: u64,
    attempts: u64,
    graded: u64,
    passes: u64,
}

/// Streaming accumulator of the scaling ledger.
#[derive(Debug, Default)]
pub struct StatsAccumulator {
    key: Option<GroupKey>,
    choice: VerifierChoice,
    tokenizer: Option<TokenCounter>,
    rows: u64,
    unkeyed: u64,
    tasks: HashMap<u64, TaskAgg>,
    attempt_tokens: Vec<u64>,
    attempt_chars: Vec<u64>,
    attempts_without_tokens: u64,
    tokenizers: BTreeMap<String, u64>,
    sources: BTreeMap<String, u64>,
    domains: BTreeMap<String, u64>,
    objects: BTreeMap<String, u64>,
    verifiers: BTreeMap<String, u64>,
    attempts: u64,
}

impl StatsAccumulator {
    /// A new accumulator: tasks keyed by `key`, verdicts by `choice`, tokens counted with
    /// `tokenizer` when given (else read from signals).
    pub fn new(key: GroupKey, choice: VerifierChoice, tokenizer: Option<Tokenizer>) -> Self {
        StatsAccumulator {
            key: Some(key),
            choice,
            tokenizer: tokenizer.map(TokenCounter::new),
            ..StatsAccumulator::default()
        }
    }

    /// An empty accumulator with the same settings (for per-thread partials).
    pub fn empty_like(&self) -> Self {
        StatsAccumulator {
            key: self.key.clone(),
            choice: self.choice.clone(),
            tokenizer: self.tokenizer.clone(),
            ..StatsAccumulator::default()
        }
    }

    /// Add one record.
    pub fn add(&mut self, record: &Record) {
        self.rows += 1;
        *self
            .objects
            .entry(record.object.as_str().to_string())
            .or_insert(0) += 1;
        *self
            .sources
            .entry(
                record
                    .task
                    .source
                    .dataset
                    .clone()
                    .unwrap_or_else(|| "(none)".into()),
            )
            .or_insert(0) += 1;
        *self
            .domains
            .entry(
                record
                    .task
                    .domain
                    .clone()
                    .unwrap_or_else(|| "(none)".into()),
            )
            .or_insert(0) += 1;
        let mut agg = TaskAgg {
            rows: 1,
            ..TaskAgg::default()
        };
        for attempt in record.attempts.iter().filter(|a| is_rollout(a)) {
            agg.attempts += 1;
            if let Some((passed, f)) = self.choice.verdict(attempt) {
                agg.graded += 1;
                agg.passes += u64::from(passed);
                *self
                    .verifiers
                    .entry(verifier_label(&f.verifier))
                    .or_insert(0) += 1;
            }
            let chars = attempt.trace.as_deref().map_or(0, |t| t.chars().count())
                + attempt.response.as_deref().map_or(0, |r| r.chars().count());
            self.attempt_chars.push(chars as u64);
            let tokens = match &self.tokenizer {
                Some(tok) => {
                    *self.tokenizers.entry(tok.name().to_string()).or_insert(0) += 1;
                    Some(
                        attempt.trace.as_deref().map_or(0, |t| tok.count(t))
                            + attempt.response.as_deref().map_or(0, |r| tok.count(r)),
                    )
                    .map(|t| t as u64)
                }
                None => {
                    let t = attempt.signals.get("tokens").and_then(Value::as_u64);
                    if t.is_some() {
                        let name = record
                            .signals
                            .get("tokenizer")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown");
                        *self.tokenizers.entry(name.to_string()).or_insert(0) += 1;
                    }
                    t
                }
            };
            match tokens {
                Some(t) => self.attempt_tokens.push(t),
                None => self.attempts_without_tokens += 1,
            }
        }
        self.attempts += agg.attempts;
        let key = self.key.clone().unwrap_or(GroupKey::Problem);
        match key.key(record) {
            Ok(k) => {
                let t = self.tasks.entry(k).or_default();
                t.rows += agg.rows;
                t.attempts += agg.attempts;
                t.graded += agg.graded;
                t.passes += agg.passes;
            }
            Err(_) => self.unkeyed += 1,
        }
    }

    /// Merge a partial accumulator.
    pub fn merge(&mut self, other: StatsAccumulator) {
        self.rows += other.rows;
        self.unkeyed += other.unkeyed;
        self.attempts += other.attempts;
        self.attempts_without_tokens += other.attempts_without_tokens;
        for (k, a) in other.tasks {
            let t = self.tasks.entry(k).or_default();
            t.rows += a.rows;
            t.attempts += a.attempts;
            t.graded += a.graded;
            t.passes += a.passes;
        }
        self.attempt_tokens.extend(other.attempt_tokens);
        self.attempt_chars.extend(other.attempt_chars);
        for (map, o) in [
            (&mut self.tokenizers, other.tokenizers),
            (&mut self.sources, other.sources),
            (&mut self.domains, other.domains),
            (&mut self.objects, other.objects),
            (&mut self.verifiers, other.verifiers),
        ] {
            for (k, v) in o {
                *map.entry(k).or_insert(0) += v;
            }
        }
    }

    /// The scaling ledger as JSON, with the funnel from `ledger`.
    pub fn finish(self, ledger: &[LedgerEntry]) -> Value {
        let unique = self.tasks.len() as u64;
        let keyed_rows = self.rows - self.unkeyed;
        let mut attempts_per: Vec<f64> = self.tasks.values().map(|t| t.attempts as f64).collect();
        let mut passes_per: Vec<f64> = self
            .tasks
            .values()
            .filter(|t| t.graded > 0)
            .map(|t| t.passes as f64)
            .collect();
        let mut rows_per: Vec<f64> = self.tasks.values().map(|t| t.rows as f64).collect();
        let mut bands: BTreeMap<&str, u64> = BANDS.iter().map(|b| (*b, 0)).collect();
        let mut graded_tasks = 0u64;
        for t in self.tasks.values().filter(|t| t.graded > 0) {
            graded_tasks += 1;
            *bands
                .entry(band(t.passes as f64 / t.graded as f64))
                .or_insert(0) += 1;
        }
        let graded: u64 = self.tasks.values().map(|t| t.graded).sum();
        let passes: u64 = self.tasks.values().map(|t| t.passes).sum();
        let mut tokens: Vec<f64> = self.attempt_tokens.iter().map(|&t| t as f64).collect();
        let mut chars: Vec<f64> = self.attempt_chars.iter().map(|&t| t as f64).collect();
        let tokens_total: u64 = self.attempt_tokens.iter().sum();
        let chars_total: u64 = self.attempt_chars.iter().sum();
        let funnel: Vec<Value> = ledger
            .iter()
            .map(|e| {
                json!({
                    "stage": e.stage,
                    "finished_at": e.finished_at,
                    "rows_in": e.rows_in,
                    "rows_out": e.rows_out,
                    "rejected": e.rejections.values().sum::<u64>(),
                    "rejections": e.rejections,
                    "verifiers": e.verifiers.iter().map(|v| v.label()).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "rows": self.rows,
            "unique_tasks": unique,
            "rows_without_task_key": self.unkeyed,
            "task_key": match &self.key { Some(GroupKey::Field(f)) => format!("field:{f}"), _ => "problem".to_string() },
            "reuse": {
                "duplicate_rows": keyed_rows.saturating_sub(unique),
                "reuse_rate": ratio(keyed_rows.saturating_sub(unique), unique),
                "rows_per_task": distribution(&mut rows_per),
            },
            "attempts": {
                "total": self.attempts,
                "graded": graded,
                "per_task": distribution(&mut attempts_per),
            },
            "passes": {
                "total": passes,
                "pass_rate_over_attempts": ratio(passes, graded),
                "tasks_with_verdicts": graded_tasks,
                "per_task": distribution(&mut passes_per),
                "verifiers": self.verifiers,
            },
            "pass_rate_bands": bands,
            "tokens": {
                "tokenizer": self.tokenizers,
                "total": tokens_total,
                "attempts_counted": self.attempt_tokens.len(),
                "attempts_without_counts": self.attempts_without_tokens,
                "per_attempt": distribution(&mut tokens),
            },
            "chars": {
                "total": chars_total,
                "per_attempt": distribution(&mut chars),
            },
            "mixture": {
                "source": self.sources,
                "domain": self.domains,
                "object": self.objects,
            },
            "funnel": funnel,
            "traps": TRAPS.iter().map(|(k, v)| json!({"number": k, "does_not_mean": v})).collect::<Vec<_>>(),
        })
    }
}

fn ratio(a: u64, b: u64) -> Value {
    if b == 0 {
        Value::Null
    } else {
        json!(crate::signals::rollout::round6(a as f64 / b as f64))
    }
}

fn distribution(values: &mut [f64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    values.sort_by(f64::total_cmp);
    let sum: f64 = values.iter().sum();
    let r = |x: Option<f64>| x.map_or(Value::Null, |v| json!(crate::signals::rollout::round6(v)));
    json!({
        "count": values.len(),
        "min": r(values.first().copied()),
        "p50": r(quantile(values, 0.5)),
        "mean": r(Some(sum / values.len() as f64)),
        "p90": r(quantile(values, 0.9)),
        "p99": r(quantile(values, 0.99)),
        "max": r(values.last().copied()),
    })
}

/// What each number does not mean (printed with the stats and written to the JSON).
pub const TRAPS: &[(&str, &str)] = &[
    ("rows", "rows are not coverage: count unique tasks, and near-duplicates are not new tasks either"),
    ("reuse_rate", "reuse is not redundancy by itself: several verified attempts per task are how RLVR and rejection sampling work; it is redundancy when the rows are copies"),
    ("tokens", "length is not quality: long traces can be loops, padding or a model that cannot stop; token counts depend on the tokenizer named next to them"),
    ("pass_rate_bands", "bands are relative to the model that produced the rollouts and to the verifier: harder is not always better (band 0 holds unsolvable and mislabelled tasks too)"),
    ("passes", "a pass is the verifier's verdict, not correctness: verifiers have false positives and false negatives"),
    ("funnel", "a filter's rejection count says what it removed, not that the removal helped"),
];

/// Render the stats JSON for people.
pub fn render_text(stats: &Value) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let g = |path: &str| -> String {
        let mut v = stats;
        for part in path.split('.') {
            v = v.get(part).unwrap_or(&Value::Null);
        }
        match v {
            Value::Null => "-".into(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    };
    let dist = |path: &str| -> String {
        let base = path.to_string();
        format!(
            "min {} / p50 {} / mean {} / p90 {} / p99 {} / max {}",
            g(&format!("{base}.min")),
            g(&format!("{base}.p50")),
            g(&format!("{base}.mean")),
            g(&format!("{base}.p90")),
            g(&format!("{base}.p99")),
            g(&format!("{base}.max"))
        )
    };
    let _ = writeln!(out, "scaling ledger");
    let _ = writeln!(out, "  rows                 {}", g("rows"));
    let _ = writeln!(
        out,
        "  unique tasks         {}  (key: {}; rows without a key: {})",
        g("unique_tasks"),
        g("task_key"),
        g("rows_without_task_key")
    );
    let _ = writeln!(
        out,
        "  duplicate rows       {}  (reuse rate {} extra rows per task)",
        g("reuse.duplicate_rows"),
        g("reuse.reuse_rate")
    );
    let _ = writeln!(
        out,
        "  rows per task        {}",
        dist("reuse.rows_per_task")
    );
    let _ = writeln!(
        out,
        "  attempts             {} ({} graded)",
        g("attempts.total"),
        g("attempts.graded")
    );
    let _ = writeln!(out, "  attempts per task    {}", dist("attempts.per_task"));
    let _ = writeln!(
        out,
        "  passes               {} (pass rate over graded attempts {})",
        g("passes.total"),
        g("passes.pass_rate_over_attempts")
    );
    let _ = writeln!(out, "  passes per task      {}", dist("passes.per_task"));
    let _ = writeln!(out, "  verifiers used       {}", g("passes.verifiers"));
    let _ = writeln!(
        out,
        "  pass-rate bands ({} tasks with verdicts):",
        g("passes.tasks_with_verdicts")
    );
    if let Some(Value::Object(b)) = stats.get("pass_rate_bands") {
        for (k, v) in b {
            let _ = writeln!(out, "    {k:<12} {v}");
        }
    }
    let _ = writeln!(
        out,
        "  tokens               {} total, tokenizer {} ({} attempts counted, {} without counts)",
        g("tokens.total"),
        g("tokens.tokenizer"),
        g("tokens.attempts_counted"),
        g("tokens.attempts_without_counts")
    );
    let _ = writeln!(out, "  tokens per attempt   {}", dist("tokens.per_attempt"));
    let _ = writeln!(out, "  chars per attempt    {}", dist("chars.per_attempt"));
    for what in ["source", "domain", "object"] {
        if let Some(Value::Object(m)) = stats.get("mixture").and_then(|m| m.get(what)) {
            let mut items: Vec<(&String, u64)> = m
                .iter()
                .map(|(k, v)| (k, v.as_u64().unwrap_or(0)))
                .collect();
            items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let shown: Vec<String> = items
                .iter()
                .take(8)
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let more = if items.len() > 8 {
                format!(", ... ({} more)", items.len() - 8)
            } else {
                String::new()
            };
            let _ = writeln!(out, "  {what:<20} {}{more}", shown.join(", "));
        }
    }
    if let Some(Value::Array(funnel)) = stats.get("funnel") {
        if funnel.is_empty() {
            let _ = writeln!(out, "  funnel               (no ledger given)");
        } else {
            let _ = writeln!(out, "  funnel:");
            for e in funnel {
                let _ = writeln!(
                    out,
                    "    {:<10} {} -> {}",
                    e.get("stage").and_then(Value::as_str).unwrap_or("?"),
                    e.get("rows_in").unwrap_or(&Value::Null),
                    e.get("rows_out").unwrap_or(&Value::Null)
                );
                if let Some(Value::Object(r)) = e.get("rejections") {
                    for (reason, n) in r {
                        let _ = writeln!(out, "               - {n} {reason}");
                    }
                }
            }
        }
    }
    let _ = writeln!(out, "\nwhat these numbers do not mean:");
    for (k, v) in TRAPS {
        let _ = writeln!(out, "  - {k}: {v}");
    }
    out
}

/// Extra helper: the JSON object of one map (used by the CLI for compact tables).
pub fn as_object(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_core::record::{Attempt, Contract, Feedback, Granularity, ObjectKind, VerifierId};

    fn row(problem: &str, passed: bool, tokens: u64) -> Record {
        let mut r = Record::new("x", ObjectKind::PromptTraceAnswer);
        r.task.prompt = Some(problem.into());
        r.task.source.dataset = Some("s".into());
        let mut a = Attempt::with_response("resp");
        a.signals.insert("tokens".into(), json!(tokens));
        a.feedback.push(Feedback::from_bool(
            VerifierId::imported("score", Contract::Programmatic),
            Granularity::Answer,
            passed,
        ));
        r.attempts.push(a);
        r.signals.insert("tokenizer".into(), json!("cl100k_base"));
        r
    }

    #[test]
    fn counts_tasks_reuse_bands_and_funnel() {
        let mut acc = StatsAccumulator::new(GroupKey::Problem, VerifierChoice::Auto, None);
        let mut part = acc.empty_like();
        for (p, pass, t) in [
            ("What is 1+1?", true, 10),
            ("what is 1 + 1", false, 20),
            ("What is 2+2?", true, 30),
            ("What is 3+3?", false, 40),
        ] {
            part.add(&row(p, pass, t));
        }
        let mut empty = Record::new("e", ObjectKind::PromptAnswer);
        empty.task.prompt = None;
        part.add(&empty);
        acc.merge(part);
        let mut entry = LedgerEntry::start("select", json!({}));
        entry.rows_in = 5;
        entry.rows_out = 3;
        entry.reject("where: not truncated", 2);
        let s = acc.finish(&[entry]);
        assert_eq!(s["rows"], json!(5));
        assert_eq!(s["unique_tasks"], json!(3));
        assert_eq!(s["rows_without_task_key"], json!(1));
        assert_eq!(s["reuse"]["duplicate_rows"], json!(1));
        assert_eq!(s["attempts"]["total"], json!(4));
        assert_eq!(s["passes"]["total"], json!(2));
        assert_eq!(s["pass_rate_bands"]["(0.25,0.5]"], json!(1));
        assert_eq!(s["pass_rate_bands"]["1"], json!(1));
        assert_eq!(s["pass_rate_bands"]["0"], json!(1));
        assert_eq!(s["tokens"]["total"], json!(100));
        assert_eq!(s["tokens"]["tokenizer"]["cl100k_base"], json!(4));
        assert_eq!(s["funnel"][0]["rejected"], json!(2));
        let text = render_text(&s);
        assert!(text.contains("rows are not coverage"));
        assert!(text.contains("length is not quality"));
        assert!(text.contains("harder is not always better"));
        assert!(text.contains("where: not truncated"));
    }
}
