//! Views of a record (what text is compared) and exact-duplicate keys.
//!
//! # What it does
//!
//! [`View`] chooses the text of a record that dedup compares:
//!
//! | view | text |
//! |---|---|
//! | `problem` | the problem (`task.prompt`, else the last user message) |
//! | `problem_answer` | problem, newline, reference answer (else the first attempt's answer) |
//! | `trace` (default) | problem, newline, every attempt's trace and response (newline-joined) |
//! | `record` | the record's JSON without `id` and `lineage` (task, attempts, signals, meta) |
//!
//! When a record has no attempt with a trace or response (a layout that left the trace in an
//! unmapped column), `trace` falls back to the first string among the unmapped fields
//! [`TRACE_FIELDS`]. [`exact_key`] is a 128-bit hash of the [`crate::normalize::normalize`]d
//! view text: two records are exact duplicates when their keys are equal.
//!
//! # Known failure modes
//!
//! - A record without a problem has an empty `problem` view: all such records are exact
//!   duplicates of each other under `--view problem` (use `trace` or `record`).

use crate::cluster::KeepKey;
use crate::normalize::{hash128, normalize};
use serde::{Deserialize, Serialize};
use verity_core::record::Verdict;
use verity_core::Record;

/// Unmapped input fields read as the trace when a record has no attempts.
pub const TRACE_FIELDS: &[&str] = &[
    "trace",
    "response",
    "output",
    "completion",
    "generation",
    "reasoning",
];

/// What part of a record is compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// The problem only.
    Problem,
    /// Problem and reference answer.
    ProblemAnswer,
    /// Problem and the attempts' traces/responses.
    #[default]
    Trace,
    /// The whole record except id and lineage.
    Record,
}

impl View {
    /// The view called `name`.
    pub fn from_name(name: &str) -> Option<View> {
        match name {
            "problem" => Some(View::Problem),
            "problem_answer" | "problem-answer" => Some(View::ProblemAnswer),
            "trace" => Some(View::Trace),
            "record" => Some(View::Record),
            _ => None,
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            View::Problem => "problem",
            View::ProblemAnswer => "problem_answer",
            View::Trace => "trace",
            View::Record => "record",
        }
    }

    /// The text of `record` under this view.
    pub fn text(self, record: &Record) -> String {
        let problem = record.problem_text().unwrap_or("");
        match self {
            View::Problem => problem.to_string(),
            View::ProblemAnswer => {
                let answer = record
                    .task
                    .reference
                    .answer
                    .as_deref()
                    .or_else(|| record.attempts.iter().find_map(|a| a.answer.as_deref()))
                    .unwrap_or("");
                format!("{problem}\n{answer}")
            }
            View::Trace => {
                let mut text = String::with_capacity(problem.len() + 4096);
                text.push_str(problem);
                let mut any = false;
                for attempt in &record.attempts {
                    for part in [&attempt.trace, &attempt.response].into_iter().flatten() {
                        text.push('\n');
                        text.push_str(part);
                        any = true;
                    }
                }
                if !any {
                    if let Some(trace) = TRACE_FIELDS
                        .iter()
                        .find_map(|k| record.meta.get(*k).and_then(|v| v.as_str()))
                    {
                        text.push('\n');
                        text.push_str(trace);
                    }
                }
                text
            }
            View::Record => {
                let value = serde_json::json!({
                    "object": record.object,
                    "task": record.task,
                    "attempts": record.attempts,
                    "signals": record.signals,
                    "meta": record.meta,
                });
                value.to_string()
            }
        }
    }
}

/// The exact-duplicate key of a view text.
pub fn exact_key(text: &str) -> u128 {
    hash128(normalize(text).as_bytes())
}

/// What the keep policy needs from a record (given its view text length in chars).
pub fn keep_key(record: &Record, view_chars: u64) -> KeepKey {
    let mut passing = false;
    let mut score: Option<f64> = None;
    for attempt in &record.attempts {
        if let Some(feedback) = attempt.feedback.iter().rev().find(|f| f.step.is_none()) {
            if feedback.verdict == Verdict::Pass {
                passing = true;
            }
        }
        for feedback in &attempt.feedback {
            if let Some(s) = feedback.score.filter(|s| s.is_finite()) {
                score = Some(score.map_or(s, |b: f64| b.max(s)));
            }
        }
    }
    if score.is_none() {
        score = record
            .signals
            .get("score")
            .and_then(serde_json::Value::as_f64)
            .filter(|s| s.is_finite());
    }
    KeepKey {
        length: view_chars,
        passing,
        score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_core::record::{Attempt, ObjectKind};

    fn record(problem: &str, trace: Option<&str>) -> Record {
        let mut r = Record::new("x", ObjectKind::PromptTraceAnswer);
        r.task.prompt = Some(problem.into());
        r.task.reference.answer = Some("4".into());
        if let Some(t) = trace {
            r.attempts.push(Attempt {
                trace: Some(t.into()),
                ..Attempt::default()
            });
        }
        r
    }

    #[test]
    fn views_pick_the_documented_text() {
        let r = record("2+2?", Some("two plus two"));
        assert_eq!(View::Problem.text(&r), "2+2?");
        assert_eq!(View::ProblemAnswer.text(&r), "2+2?\n4");
        assert_eq!(View::Trace.text(&r), "2+2?\ntwo plus two");
        assert!(View::Record.text(&r).contains("two plus two"));
        assert!(!View::Record.text(&r).contains("\"id\""));
    }

    #[test]
    fn trace_view_falls_back_to_unmapped_trace_field() {
        let mut r = record("2+2?", None);
        r.meta.insert("trace".into(), "so it is 4".into());
        assert_eq!(View::Trace.text(&r), "2+2?\nso it is 4");
    }

    #[test]
    fn exact_key_ignores_case_and_spacing_only() {
        assert_eq!(exact_key("What is 2+2?"), exact_key("what  is 2+2? "));
        assert_ne!(exact_key("What is 2+2?"), exact_key("What is 2+3?"));
    }
}
