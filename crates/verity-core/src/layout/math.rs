//! `math`: competition-math rows `{problem, solution?, answer?}` (MATH / MATH-500, DeepScaleR,
//! AIME/AMC sets, NuminaMath). The reference answer is the `answer` field when present, else the
//! last `\boxed{}` of the solution.

use super::{last_boxed, take_text, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, ObjectKind, Record};
use serde_json::Value;

/// Competition-math problem rows.
pub struct Math;

const TEXT_FIELDS: [&str; 3] = ["problem", "solution", "answer"];

impl Layout for Math {
    fn name(&self) -> &'static str {
        "math"
    }

    fn description(&self) -> &'static str {
        "MATH-style: {problem, solution?, answer?} (answer = field or last \\boxed{} of solution)"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let problem = row.get("problem").is_some_and(Value::is_string);
        let solution = row.get("solution").and_then(Value::as_str);
        let answer = row
            .get("answer")
            .is_some_and(|v| v.is_string() || v.is_number());
        // Rows with generations, messages or tests belong to richer layouts.
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
        match (problem, solution, answer) {
            (true, Some(s), _) if s.contains("\\boxed") => 80,
            (true, _, true) => 70,
            (true, Some(_), false) => 40,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        let mut fields = Vec::new();
        for key in row.keys() {
            if TEXT_FIELDS.contains(&key.as_str()) {
                fields.push(key.clone());
            }
        }
        let problem = take_text(&mut row, "problem", &mut record.meta)?
            .ok_or_else(|| FieldError::missing("problem"))?;
        let solution = take_text(&mut row, "solution", &mut record.meta)?;
        let answer = take_text(&mut row, "answer", &mut record.meta)?;
        record.task.prompt = Some(problem);
        record.task.domain = Some("math".into());
        record.task.reference.answer = answer.or_else(|| solution.as_deref().and_then(last_boxed));
        record.task.reference.solution = solution;
        record.lineage.fields = fields;
        record.meta.extend(row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let problem = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let reference = &record.task.reference;
        let same = record.lineage.layout.as_deref() == Some(self.name());
        let mut row = Fields::new();
        row.insert("problem".into(), Value::String(problem.to_string()));
        if let Some(solution) = &reference.solution {
            row.insert("solution".into(), Value::String(solution.clone()));
        }
        // Write `answer` unless it was only derived from the solution's \boxed{} on input.
        let derived_only = same && !record.lineage.fields.iter().any(|f| f == "answer");
        if let (Some(answer), false) = (&reference.answer, derived_only) {
            row.insert("answer".into(), Value::String(answer.clone()));
        }
        Ok(row)
    }
}
