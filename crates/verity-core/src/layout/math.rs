//! `math`: competition-math rows `{problem, solution?, answer?}` (MATH / MATH-500, DeepScaleR,
//! AIME/AMC sets, NuminaMath, OlympiadBench). The reference answer is the `answer` (or
//! `final_answer`) field when present, else the last `\boxed{}` of the solution.
//!
//! OlympiadBench stores `answer`/`final_answer` and `solution` as lists of strings: the answer
//! list is joined with `, ` (several answers of one problem), the solution list with blank
//! lines, and the original lists are kept verbatim in `meta` so the row round-trips. Its
//! Qwen2.5-Math copy names the problem `question` (recognised when `final_answer` is present).

use super::{last_boxed, take_text, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, ObjectKind, Record};
use serde_json::Value;

/// Competition-math problem rows.
pub struct Math;

const ANSWER_KEYS: [&str; 2] = ["answer", "final_answer"];

fn is_text_or_list(value: Option<&Value>) -> bool {
    match value {
        Some(Value::String(_)) | Some(Value::Number(_)) => true,
        Some(Value::Array(items)) => !items.is_empty() && items.iter().all(Value::is_string),
        _ => false,
    }
}

/// The problem field: `problem`, or `question` when the row carries `final_answer`.
fn problem_key(row: &Fields) -> Option<&'static str> {
    if row.get("problem").is_some_and(Value::is_string) {
        Some("problem")
    } else if row.get("question").is_some_and(Value::is_string) && row.contains_key("final_answer")
    {
        Some("question")
    } else {
        None
    }
}

/// Take a text field that may also be a list of strings (joined with `sep`; the list is kept in
/// `keep` so it round-trips).
fn take_text_or_list(
    row: &mut Fields,
    key: &str,
    sep: &str,
    keep: &mut Fields,
) -> Result<Option<String>, FieldError> {
    if let Some(Value::Array(items)) = row.get(key) {
        if items.iter().all(Value::is_string) {
            let joined = items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(sep);
            if let Some(original) = row.remove(key) {
                keep.insert(key.to_string(), original);
            }
            return Ok(Some(joined));
        }
        return Err(FieldError::new(
            key,
            "expected a string or a list of strings",
        ));
    }
    take_text(row, key, keep)
}

impl Layout for Math {
    fn name(&self) -> &'static str {
        "math"
    }

    fn description(&self) -> &'static str {
        "MATH-style: {problem, solution?, answer?} (answer = field or last \\boxed{} of solution; OlympiadBench lists)"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let problem = problem_key(row).is_some();
        let solution = row.get("solution");
        let boxed = solution
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("\\boxed"));
        let answer = ANSWER_KEYS.iter().any(|k| is_text_or_list(row.get(*k)));
        // Rows with generations, messages, traces or tests belong to richer layouts.
        if [
            "generations",
            "messages",
            "conversations",
            "tests",
            "code",
            "trace",
            "reasoning",
            "response",
            "reference",
            "gold",
        ]
        .iter()
        .any(|k| row.contains_key(*k))
        {
            return 0;
        }
        match (problem, boxed, answer, is_text_or_list(solution)) {
            (true, true, _, _) => 80,
            (true, _, true, _) => 70,
            (true, false, false, true) => 40,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        let problem_key = problem_key(&row).ok_or_else(|| FieldError::missing("problem"))?;
        let answer_key = ANSWER_KEYS.iter().copied().find(|k| row.contains_key(*k));
        let mapped = [Some(problem_key), Some("solution"), answer_key];
        record.lineage.fields = row
            .keys()
            .filter(|k| mapped.contains(&Some(k.as_str())))
            .cloned()
            .collect();
        let problem = take_text(&mut row, problem_key, &mut record.meta)?
            .ok_or_else(|| FieldError::missing(problem_key))?;
        let solution = take_text_or_list(&mut row, "solution", "\n\n", &mut record.meta)?;
        let answer = match answer_key {
            Some(key) => take_text_or_list(&mut row, key, ", ", &mut record.meta)?,
            None => None,
        };
        record.task.prompt = Some(problem);
        record.task.domain = Some("math".into());
        record.task.reference.answer = answer.or_else(|| solution.as_deref().and_then(last_boxed));
        record.task.reference.solution = solution;
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let problem = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let reference = &record.task.reference;
        let same = record.lineage.layout.as_deref() == Some(self.name());
        let field = |name: &'static str, alternatives: &[&'static str]| -> String {
            if same {
                if let Some(found) = record
                    .lineage
                    .fields
                    .iter()
                    .find(|f| f.as_str() == name || alternatives.contains(&f.as_str()))
                {
                    return found.clone();
                }
            }
            name.to_string()
        };
        let mut row = Fields::new();
        row.insert(
            field("problem", &["question"]),
            Value::String(problem.to_string()),
        );
        if let Some(solution) = &reference.solution {
            row.insert("solution".into(), Value::String(solution.clone()));
        }
        // Write the answer unless it was only derived from the solution's \boxed{} on input.
        let derived_only = same
            && !record
                .lineage
                .fields
                .iter()
                .any(|f| ANSWER_KEYS.contains(&f.as_str()));
        if let (Some(answer), false) = (&reference.answer, derived_only) {
            row.insert(
                field("answer", &["final_answer"]),
                Value::String(answer.clone()),
            );
        }
        Ok(row)
    }
}
