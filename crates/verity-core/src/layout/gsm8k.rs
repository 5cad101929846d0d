//! `gsm8k`: `{question, answer}` where `answer` is a worked solution ending in `#### N`
//! (openai/grade-school-math; also Qwen2.5-Math's copy with an extra `idx`).

use super::{after_hashes, require_text, str_of, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, ObjectKind, Record};
use serde_json::Value;

/// GSM8K question/answer rows.
pub struct Gsm8k;

impl Layout for Gsm8k {
    fn name(&self) -> &'static str {
        "gsm8k"
    }

    fn description(&self) -> &'static str {
        "GSM8K: {question, answer} with the final answer after `#### `"
    }

    fn detect(&self, row: &Fields) -> u8 {
        match (str_of(row, "question"), str_of(row, "answer")) {
            (Some(_), Some(answer)) if answer.contains("####") => 90,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        let question = require_text(&mut row, "question", &mut record.meta)?;
        let solution = require_text(&mut row, "answer", &mut record.meta)?;
        record.task.prompt = Some(question);
        record.task.domain = Some("math".into());
        record.task.reference.answer = after_hashes(&solution);
        record.task.reference.solution = Some(solution);
        record.lineage.fields = vec!["question".into(), "answer".into()];
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let question = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let reference = &record.task.reference;
        let answer = match (&reference.solution, &reference.answer) {
            (Some(solution), _) if solution.contains("####") => solution.clone(),
            (Some(solution), Some(answer)) => format!("{solution}\n#### {answer}"),
            (None, Some(answer)) => format!("#### {answer}"),
            (Some(solution), None) => solution.clone(),
            (None, None) => return Err(FieldError::missing("task.reference.answer")),
        };
        let mut row = Fields::new();
        row.insert("question".into(), Value::String(question.to_string()));
        row.insert("answer".into(), Value::String(answer));
        Ok(row)
    }
}
