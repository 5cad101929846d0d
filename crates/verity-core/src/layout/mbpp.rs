//! `mbpp`: MBPP rows `{text, code, task_id, test_setup_code, test_list[], challenge_test_list[]}`
//! (google-research MBPP, as shipped by DeepSeek-Coder's and other evaluation harnesses).
//!
//! What it does: `text` is the task, `code` the reference solution, `test_list` assert-style
//! tests joined one per line (`reference.tests = {kind: assert, code, setup: test_setup_code}`:
//! the code verifier counts one test per top-level assert; `entry_point` is the first function
//! the solution defines that the tests call, derived, not written back). Domain `code`, object
//! `prompt_answer`. `task_id` and `challenge_test_list` stay in `meta`.
//!
//! Exactness: the test list is rebuilt by splitting the code on newlines; when an assert itself
//! spans several lines (or the list is empty) that would not reproduce it, so `test_list` is also
//! kept verbatim in `meta` and written back from there.
//!
//! Known failure modes: MBPP's `challenge_test_list` is not part of the tests (it is the
//! original paper's harder held-out set); use `meta` for it.

use super::grades::{array_of, key_order, opt_text, req_text, same_layout, strings_of};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, ObjectKind, Record, TestKind, Tests};
use serde_json::Value;

/// MBPP rows.
pub struct Mbpp;

/// The function under test: the first top-level `def NAME(` of the solution that the tests
/// call as `NAME(`.
fn entry_point(solution: &str, tests: &str) -> Option<String> {
    solution.lines().find_map(|line| {
        let name = line.strip_prefix("def ")?.split('(').next()?.trim();
        let valid = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        (valid && tests.contains(&format!("{name}("))).then(|| name.to_string())
    })
}

impl Layout for Mbpp {
    fn name(&self) -> &'static str {
        "mbpp"
    }

    fn description(&self) -> &'static str {
        "MBPP: {text, code, task_id, test_setup_code, test_list[], challenge_test_list[]}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let text = row.get("text").is_some_and(Value::is_string);
        let tests = row
            .get("test_list")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().all(Value::is_string));
        match (text, tests, row.get("code").is_some_and(Value::is_string)) {
            (true, true, true) => 95,
            (true, true, false) => 70,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        record.lineage.fields = key_order(&row);
        record.task.prompt = Some(req_text(&mut row, "text", &mut record.meta)?);
        record.task.domain = Some("code".into());
        record.task.reference.solution = opt_text(&mut row, "code", &mut record.meta)?;
        let tests = match array_of(&row, "test_list")? {
            Some(items) => strings_of("test_list", items)?,
            None => return Err(FieldError::missing("test_list")),
        };
        let code = tests.join("\n");
        let exact = !tests.is_empty() && code.split('\n').count() == tests.len();
        if exact {
            row.remove("test_list");
        }
        let setup = opt_text(&mut row, "test_setup_code", &mut record.meta)?;
        let entry_point = record
            .task
            .reference
            .solution
            .as_deref()
            .and_then(|solution| entry_point(solution, &code));
        record.task.reference.tests = Some(Tests {
            kind: TestKind::Assert,
            language: "python".into(),
            code: Some(code),
            entry_point,
            setup,
            cases: Vec::new(),
        });
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let text = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let tests = record
            .task
            .reference
            .tests
            .as_ref()
            .filter(|t| t.kind == TestKind::Assert)
            .ok_or_else(|| FieldError::missing("task.reference.tests (assert)"))?;
        let same = same_layout(record, self.name());
        let mut row = Fields::new();
        row.insert("text".into(), Value::String(text.to_string()));
        if !same || record.task.reference.solution.is_some() {
            row.insert(
                "code".into(),
                Value::String(record.task.reference.solution.clone().unwrap_or_default()),
            );
        }
        if !same {
            row.insert("task_id".into(), Value::String(record.id.clone()));
        }
        if !same || tests.setup.is_some() {
            row.insert(
                "test_setup_code".into(),
                Value::String(tests.setup.clone().unwrap_or_default()),
            );
        }
        let code = tests.code.as_deref().unwrap_or("");
        let one_assert_per_line = code.lines().all(|l| l.starts_with("assert"));
        let list: Vec<Value> = if same || one_assert_per_line {
            code.split('\n')
                .map(|l| Value::String(l.to_string()))
                .collect()
        } else {
            // Multi-line test code (HumanEval's `check`): one self-contained entry.
            vec![Value::String(super::grades::runnable_test_code(tests))]
        };
        row.insert("test_list".into(), Value::Array(list));
        if !same {
            row.insert("challenge_test_list".into(), Value::Array(Vec::new()));
        }
        Ok(row)
    }
}
