//! `bbh`: BIG-Bench Hard rows `{input, target}` (the task files wrap them in
//! `{"canary", "examples": [...]}`; the reader unwraps them) and the released model outputs
//! `{input, prediction, target}` (`code-davinci-002-outputs/*`, wrapped in `"outputs"`).
//!
//! What it does: `input` is the prompt (for the model outputs it is the whole few-shot prompt
//! ending in `A: Let's think step by step.`), `target` the reference answer (`False`, `(D)`,
//! ...). A `prediction` becomes one attempt whose response is the model's chain of thought and
//! whose answer is the text after the last `So the answer is` (trailing period removed).
//!
//! Object kind: `prompt_answer` (the prediction is one evaluated sample: its chain of thought is
//! in the response text, not a separate trace).
//!
//! Known failure modes: detection needs `input` and `target` strings and no other keys than
//! `prediction`; a BBH-like file with extra columns must be read with `--from bbh`.

use super::grades::{key_order, output_text, req_text, same_layout, samples};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Fields, ObjectKind, Record};
use serde_json::Value;

/// BIG-Bench Hard rows and model outputs.
pub struct Bbh;

/// The answer after the last `So the answer is`, without the final period.
pub(crate) fn cot_answer(text: &str) -> Option<String> {
    let marker = "So the answer is";
    let pos = text.rfind(marker)?;
    let rest = text[pos + marker.len()..].trim();
    let rest = rest.lines().next().unwrap_or("").trim();
    let rest = rest.strip_suffix('.').unwrap_or(rest).trim();
    (!rest.is_empty()).then(|| rest.to_string())
}

impl Layout for Bbh {
    fn name(&self) -> &'static str {
        "bbh"
    }

    fn description(&self) -> &'static str {
        "BIG-Bench Hard: {input, target} and model outputs {input, prediction, target}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let base = row.get("input").is_some_and(Value::is_string)
            && row.get("target").is_some_and(Value::is_string);
        let only = row
            .keys()
            .all(|k| matches!(k.as_str(), "input" | "target" | "prediction"));
        match (
            base,
            only,
            row.get("prediction").is_some_and(Value::is_string),
        ) {
            (true, true, true) => 90,
            (true, true, false) => 60,
            (true, false, _) => 20,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        record.lineage.fields = key_order(&row);
        record.task.prompt = Some(req_text(&mut row, "input", &mut record.meta)?);
        record.task.reference.answer = Some(req_text(&mut row, "target", &mut record.meta)?);
        if let Some(prediction) = super::grades::opt_text(&mut row, "prediction", &mut record.meta)?
        {
            record.attempts.push(Attempt {
                answer: cot_answer(&prediction),
                response: Some(prediction),
                ..Attempt::default()
            });
        }
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let input = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let target = record
            .task
            .reference
            .answer
            .clone()
            .ok_or_else(|| FieldError::missing("task.reference.answer"))?;
        let mut row = Fields::new();
        row.insert("input".into(), Value::String(input.to_string()));
        let same = same_layout(record, self.name());
        if let Some(attempt) = samples(record).first() {
            if !same || record.lineage.fields.iter().any(|f| f == "prediction") {
                row.insert("prediction".into(), Value::String(output_text(attempt)));
            }
        }
        row.insert("target".into(), Value::String(target));
        Ok(row)
    }
}
