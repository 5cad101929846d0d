//! Helpers shared by the reasoning-data adapters (rollout dumps, step labels, code tasks):
//! imported grade columns as [`Feedback`], typed field access that leaves `null`s in place, and
//! the "was this field in the input" checks used to write rows back exactly.
//!
//! Why: every rollout dump carries its grades in its own columns (`correctness_math_verify`,
//! `score`, `is_correct`, ...). They become feedback from an *imported* verifier named after the
//! column; the exact input value is kept in `detail.raw` whenever a boolean verdict would not
//! reproduce it, so the column is restored byte for byte.
//!
//! Known failure modes: a grade value that is neither a boolean, a number, a string nor null
//! (an object) is kept verbatim in `detail.raw` with an `unknown` verdict.

use crate::error::FieldError;
use crate::layout::take_text;
use crate::record::{
    Attempt, Contract, Feedback, Fields, Granularity, Record, Verdict, VerifierId,
};
use serde_json::{json, Value};

/// The input keys of `row`, in order (stored in `lineage.fields` so the row is written back
/// with the same key order, including keys kept in `meta`).
pub(crate) fn key_order(row: &Fields) -> Vec<String> {
    row.keys().cloned().collect()
}

/// True when `record` was read by the layout called `name`.
pub(crate) fn same_layout(record: &Record, name: &str) -> bool {
    record.lineage.layout.as_deref() == Some(name)
}

/// True when the input row of `record` had the field `key` (per `lineage.fields`).
pub(crate) fn had(record: &Record, key: &str) -> bool {
    record.lineage.fields.iter().any(|f| f == key)
}

/// Like [`take_text`], but a `null` value is left in the row (so it lands in `meta` and is
/// written back as `null`).
pub(crate) fn opt_text(
    row: &mut Fields,
    key: &str,
    keep: &mut Fields,
) -> Result<Option<String>, FieldError> {
    if matches!(row.get(key), Some(Value::Null)) {
        return Ok(None);
    }
    take_text(row, key, keep)
}

/// [`opt_text`] for a required field.
pub(crate) fn req_text(
    row: &mut Fields,
    key: &str,
    keep: &mut Fields,
) -> Result<String, FieldError> {
    opt_text(row, key, keep)?.ok_or_else(|| FieldError::missing(key))
}

/// The array under `key` (not removed), or an error naming the field when it has another type.
/// `Ok(None)` when absent or null.
pub(crate) fn array_of<'a>(
    row: &'a Fields,
    key: &str,
) -> Result<Option<&'a Vec<Value>>, FieldError> {
    match row.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(FieldError::wrong_type(key, "an array", other)),
    }
}

/// The strings of an array field, or an error naming the element that is not a string.
pub(crate) fn strings_of(key: &str, items: &[Value]) -> Result<Vec<String>, FieldError> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(FieldError::wrong_type(
                format!("{key}[{i}]"),
                "a string",
                other,
            )),
        })
        .collect()
}

/// Feedback from an imported grade column. Booleans become pass/fail; numbers a score;
/// strings a label (pass/fail for the usual words: correct/wrong, yes/no, true/false); `null`
/// an unknown verdict. The raw value is kept in `detail.raw` unless the verdict alone restores it.
pub(crate) fn imported_grade(
    column: &str,
    contract: Contract,
    granularity: Granularity,
    value: Value,
) -> Feedback {
    let id = VerifierId::imported(column, contract);
    match value {
        Value::Bool(b) => Feedback::from_bool(id, granularity, b),
        Value::Number(ref n) => {
            let mut fb = Feedback::new(id, granularity, Verdict::Score);
            fb.score = n.as_f64();
            fb.detail = Some(json!({ "raw": value }));
            fb
        }
        Value::String(ref s) => {
            let verdict = match s.trim().to_ascii_lowercase().as_str() {
                "correct" | "yes" | "true" | "pass" | "passed" => Verdict::Pass,
                "wrong" | "incorrect" | "no" | "false" | "fail" | "failed" => Verdict::Fail,
                _ => Verdict::Label,
            };
            let mut fb = Feedback::new(id, granularity, verdict);
            fb.label = Some(s.clone());
            fb
        }
        other => {
            let mut fb = Feedback::new(id, granularity, Verdict::Unknown);
            fb.detail = Some(json!({ "raw": other }));
            fb
        }
    }
}

/// The column value an imported grade came from (inverse of [`imported_grade`]); for verity's
/// own feedback, `true`/`false` from the verdict, or the score.
pub(crate) fn grade_value(feedback: &Feedback) -> Value {
    if let Some(raw) = feedback.detail.as_ref().and_then(|d| d.get("raw")) {
        return raw.clone();
    }
    if let Some(label) = &feedback.label {
        return Value::String(label.clone());
    }
    match feedback.verdict {
        Verdict::Pass => Value::Bool(true),
        Verdict::Fail => Value::Bool(false),
        Verdict::Score => feedback
            .score
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Verdict::Label | Verdict::Unknown => Value::Null,
    }
}

/// The imported feedback of `attempt` that came from `column` (whole-attempt, not per step).
pub(crate) fn imported_of<'a>(attempt: &'a Attempt, column: &str) -> Option<&'a Feedback> {
    attempt
        .feedback
        .iter()
        .find(|f| f.verifier.imported && f.verifier.name == column && f.step.is_none())
}

/// The column `column` rebuilt from the attempts' imported feedback: `None` when no attempt has
/// it; attempts without it give `null`.
pub(crate) fn column_from<'a>(
    attempts: impl IntoIterator<Item = &'a Attempt>,
    column: &str,
) -> Option<Vec<Value>> {
    let values: Vec<Option<Value>> = attempts
        .into_iter()
        .map(|a| imported_of(a, column).map(grade_value))
        .collect();
    if values.iter().all(Option::is_none) {
        return None;
    }
    Some(
        values
            .into_iter()
            .map(|v| v.unwrap_or(Value::Null))
            .collect(),
    )
}

/// A pass/fail value for `attempt` to write into a correctness column of another layout: the
/// imported column itself, else the latest answer-level verdict of verity's verifier `own`.
pub(crate) fn correctness_for(attempt: &Attempt, column: &str, own: &str) -> Option<Value> {
    if let Some(fb) = imported_of(attempt, column) {
        return Some(grade_value(fb));
    }
    attempt
        .verdict_of(own)
        .and_then(Feedback::passed)
        .map(Value::Bool)
}

/// The attempts of a record that are samples (or all attempts when none is marked as one).
pub(crate) fn samples(record: &Record) -> Vec<&Attempt> {
    use crate::record::AttemptRole;
    let samples: Vec<&Attempt> = record
        .attempts
        .iter()
        .filter(|a| matches!(a.role, AttemptRole::Sample | AttemptRole::Chosen))
        .collect();
    if samples.is_empty() {
        record.attempts.iter().collect()
    } else {
        samples
    }
}

/// The text of an attempt as a single model output: `<think>` block (when there is a trace)
/// followed by the response.
pub(crate) fn output_text(attempt: &Attempt) -> String {
    crate::layout::render_think(
        attempt.trace.as_deref(),
        attempt.response.as_deref().unwrap_or(""),
    )
}

/// Split names that files are commonly called after.
const SPLIT_NAMES: [&str; 6] = ["train", "test", "validation", "valid", "val", "dev"];

/// The stem (name without extensions) and parent directory name of the record's input file.
fn file_parts(record: &Record) -> Option<(String, Option<String>)> {
    let path = std::path::Path::new(record.lineage.file.as_deref()?);
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next().unwrap_or(name).to_string();
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|p| p.to_str())
        .map(str::to_string);
    (!stem.is_empty()).then_some((stem, parent))
}

/// The dataset name to write for `record`: `task.source.dataset`, else the input file stem
/// (the parent directory when the file is named after a split: `gsm8k/test.jsonl` → `gsm8k`).
pub(crate) fn dataset_name(record: &Record) -> Option<String> {
    if let Some(d) = &record.task.source.dataset {
        return Some(d.clone());
    }
    let (stem, parent) = file_parts(record)?;
    let split_named = SPLIT_NAMES.iter().any(|s| stem.eq_ignore_ascii_case(s));
    match parent {
        Some(parent) if split_named && !parent.is_empty() => Some(parent),
        _ => Some(stem),
    }
}

/// The split of `record`: `task.source.split`, else the input file stem when it is a split
/// name (`test.jsonl` → `test`).
pub(crate) fn split_name(record: &Record) -> Option<String> {
    if let Some(split) = &record.task.source.split {
        return Some(split.clone());
    }
    let (stem, _) = file_parts(record)?;
    SPLIT_NAMES
        .iter()
        .find(|s| stem.eq_ignore_ascii_case(s))
        .map(|s| s.to_string())
}

/// The 0-based index of the record's row in its input file (`lineage.row` is 1-based for JSON
/// Lines).
pub(crate) fn row_index(record: &Record) -> Option<u64> {
    let row = record.lineage.row?;
    let file = record.lineage.file.as_deref().unwrap_or("");
    let jsonl = [".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson"]
        .iter()
        .any(|e| file.ends_with(e));
    Some(if jsonl { row.saturating_sub(1) } else { row })
}

/// Assert-style test code that runs on its own: HumanEval's tests define `check(candidate)`
/// without calling it, so the call on the entry point is appended.
pub(crate) fn runnable_test_code(tests: &crate::record::Tests) -> String {
    let code = tests.code.clone().unwrap_or_default();
    match &tests.entry_point {
        Some(entry) if code.contains("def check(") && !code.contains("\ncheck(") => {
            format!("{}\n\ncheck({entry})\n", code.trim_end())
        }
        _ => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_restore_their_raw_values() {
        for value in [
            json!(true),
            json!(false),
            json!(null),
            json!(1),
            json!(3.546875),
            json!([3.5]),
            json!("correct"),
            json!("wrong"),
            json!("Yes"),
            json!("maybe"),
        ] {
            let fb = imported_grade("c", Contract::Unknown, Granularity::Answer, value.clone());
            assert!(fb.verifier.imported);
            assert_eq!(grade_value(&fb), value);
        }
        let fb = imported_grade(
            "c",
            Contract::Unknown,
            Granularity::Answer,
            json!("correct"),
        );
        assert_eq!(fb.passed(), Some(true));
        let fb = imported_grade("c", Contract::Unknown, Granularity::Answer, json!(false));
        assert_eq!(fb.passed(), Some(false));
    }
}
