//! `humaneval`: OpenAI HumanEval rows `{task_id, prompt, entry_point, canonical_solution, test}`
//! (also the many HumanEval-shaped sets: HumanEval+, MultiPL-E's Python split).
//!
//! What it does: `prompt` (signature + docstring) is the task, `canonical_solution` the
//! reference solution EXACTLY as given (only the function body: a candidate for HumanEval is
//! `prompt + completion`, and so is the canonical program), `test` assert-style tests
//! (`reference.tests = {kind: assert, code: test, entry_point}`; the test code defines
//! `check(candidate)`, which the code verifier calls with the entry point). Domain `code`,
//! object `prompt_answer`.
//!
//! Writing from another layout needs assert tests with an entry point; `canonical_solution` is
//! the reference solution (empty when there is none).
//!
//! Known failure modes: none known on the 164 original rows (all round-trip exactly).

use super::grades::{key_order, req_text};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, ObjectKind, Record, TestKind, Tests};
use serde_json::Value;

/// HumanEval rows.
pub struct HumanEval;

impl Layout for HumanEval {
    fn name(&self) -> &'static str {
        "humaneval"
    }

    fn description(&self) -> &'static str {
        "HumanEval: {task_id, prompt, entry_point, canonical_solution, test}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let keys = ["prompt", "entry_point", "canonical_solution", "test"];
        if keys
            .iter()
            .all(|k| row.get(*k).is_some_and(Value::is_string))
        {
            100
        } else if ["prompt", "entry_point", "test"]
            .iter()
            .all(|k| row.get(*k).is_some_and(Value::is_string))
        {
            70
        } else {
            0
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        record.lineage.fields = key_order(&row);
        record.task.prompt = Some(req_text(&mut row, "prompt", &mut record.meta)?);
        record.task.domain = Some("code".into());
        let entry_point = req_text(&mut row, "entry_point", &mut record.meta)?;
        record.task.reference.solution =
            super::grades::opt_text(&mut row, "canonical_solution", &mut record.meta)?;
        let test = req_text(&mut row, "test", &mut record.meta)?;
        record.task.reference.tests = Some(Tests {
            kind: TestKind::Assert,
            language: "python".into(),
            code: Some(test),
            entry_point: Some(entry_point),
            setup: None,
            cases: Vec::new(),
        });
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let prompt = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let tests = record
            .task
            .reference
            .tests
            .as_ref()
            .filter(|t| t.kind == TestKind::Assert)
            .ok_or_else(|| FieldError::missing("task.reference.tests (assert)"))?;
        let code = tests
            .code
            .clone()
            .ok_or_else(|| FieldError::missing("task.reference.tests.code"))?;
        let entry_point = tests
            .entry_point
            .clone()
            .ok_or_else(|| FieldError::missing("task.reference.tests.entry_point"))?;
        let mut row = Fields::new();
        if !super::grades::same_layout(record, self.name()) {
            row.insert("task_id".into(), Value::String(record.id.clone()));
        }
        row.insert("prompt".into(), Value::String(prompt.to_string()));
        row.insert("entry_point".into(), Value::String(entry_point));
        let same = super::grades::same_layout(record, self.name());
        if !same || record.task.reference.solution.is_some() {
            row.insert(
                "canonical_solution".into(),
                Value::String(record.task.reference.solution.clone().unwrap_or_default()),
            );
        }
        // Setup code (imports) goes before the tests so the row stays self-contained.
        let test = match &tests.setup {
            Some(setup) if !setup.is_empty() => format!("{setup}\n{code}"),
            _ => code,
        };
        row.insert("test".into(), Value::String(test));
        Ok(row)
    }
}
