//! `code_contests`: competitive-programming / LeetCode rows `{problem, solutions?, tests}` as
//! shipped by rllm / DeepCoder (`rllm/data/{train,test}/code/*.json`) and the APPS/TACO style.
//! `tests` comes in several shapes, all mapped to `reference.tests`:
//! - `{"functional": "def check(candidate): ... check(Solution().f)"}` (LeetCode) →
//!   `{kind: assert, code}` (the code calls `check` itself);
//! - `[{"input": "...", "output": "..."}]` (Codeforces) → `{kind: stdio, cases}`;
//! - `{"inputs": [...], "outputs": [...]}` (CodeContests) → `{kind: stdio, cases}`;
//! - `{"fn_name": "f", "inputs": [[args]], "outputs": [ret]}` (APPS/TACO call-based) →
//!   `{kind: function_call, entry_point: f, cases}`;
//! - any of these as a JSON *string* (DeepCoder, TACO): parsed, and the string is also kept
//!   verbatim in `meta` so it is written back byte for byte.
//!
//! `problem` is the task, `solutions` (a string: LeetCode's reference) the reference solution;
//! a list of solutions gives its first as the reference and stays verbatim in `meta`. Domain
//! `code`, object `prompt_answer`.
//!
//! The shape of `tests` is remembered in `lineage.fields` as the nested field paths it used
//! (`tests.functional`, `tests.inputs`, `tests[].input`, `tests.fn_name`), so the row is
//! written back in the same shape. Tests with keys outside these shapes (time limits,
//! `testtype`) are mapped as far as they go and ALSO kept verbatim in `meta`.
//!
//! Writing from another layout: assert tests → `functional` (HumanEval's `check` gets its call
//! on the entry point appended), stdio → `[{input, output}]`, function-call → `fn_name` shape.
//!
//! Known failure modes: LeetCode tests assume LeetCode's implicit imports (`List`, `Optional`,
//! `collections`, ...); this adapter does not add them to `tests.setup` (the input has no such
//! field): the code verifier must supply the prelude for LeetCode-style tasks.

use super::grades::{key_order, opt_text, req_text, runnable_test_code, same_layout};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, ObjectKind, Record, TestCase, TestKind, Tests};
use serde_json::{json, Value};

/// rllm / DeepCoder / APPS-style code rows.
pub struct CodeContests;

const PAIRS: &str = "tests[].input";
const COLUMNS: &str = "tests.inputs";
const FUNCTIONAL: &str = "tests.functional";
const FN_NAME: &str = "tests.fn_name";

fn tests_value(kind: TestKind) -> Tests {
    Tests {
        kind,
        language: "python".into(),
        code: None,
        entry_point: None,
        setup: None,
        cases: Vec::new(),
    }
}

/// Parse a `tests` value. Returns the tests, the shape marker and whether the mapping is exact
/// (no keys outside the shape).
fn parse_tests(value: &Value) -> Result<(Tests, &'static str, bool), FieldError> {
    match value {
        Value::Object(map) if map.get("functional").is_some_and(Value::is_string) => {
            let mut tests = tests_value(TestKind::Assert);
            tests.code = map
                .get("functional")
                .and_then(Value::as_str)
                .map(str::to_string);
            Ok((tests, FUNCTIONAL, map.len() == 1))
        }
        Value::Object(map) if map.contains_key("inputs") && map.contains_key("outputs") => {
            let inputs = map.get("inputs").and_then(Value::as_array).ok_or_else(|| {
                FieldError::wrong_type("tests.inputs", "an array", &map["inputs"])
            })?;
            let outputs = map
                .get("outputs")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    FieldError::wrong_type("tests.outputs", "an array", &map["outputs"])
                })?;
            if inputs.len() != outputs.len() {
                return Err(FieldError::new(
                    "tests.outputs",
                    format!("has {} entries for {} inputs", outputs.len(), inputs.len()),
                ));
            }
            let fn_name = map.get("fn_name").and_then(Value::as_str);
            let mut tests = tests_value(if fn_name.is_some() {
                TestKind::FunctionCall
            } else {
                TestKind::Stdio
            });
            tests.entry_point = fn_name.map(str::to_string);
            tests.cases = inputs
                .iter()
                .zip(outputs)
                .map(|(i, o)| TestCase {
                    input: i.clone(),
                    output: o.clone(),
                })
                .collect();
            let (marker, known) = if fn_name.is_some() {
                (FN_NAME, 3)
            } else {
                (COLUMNS, 2)
            };
            Ok((tests, marker, map.len() == known))
        }
        Value::Array(items) => {
            let mut tests = tests_value(TestKind::Stdio);
            let mut exact = true;
            for (i, item) in items.iter().enumerate() {
                let case = item.as_object().ok_or_else(|| {
                    FieldError::wrong_type(format!("tests[{i}]"), "an object", item)
                })?;
                let input = case
                    .get("input")
                    .ok_or_else(|| FieldError::missing(format!("tests[{i}].input")))?;
                let output = case
                    .get("output")
                    .ok_or_else(|| FieldError::missing(format!("tests[{i}].output")))?;
                exact &= case.len() == 2;
                tests.cases.push(TestCase {
                    input: input.clone(),
                    output: output.clone(),
                });
            }
            Ok((tests, PAIRS, exact))
        }
        other => Err(FieldError::wrong_type(
            "tests",
            "{functional}, {inputs, outputs}, [{input, output}] or a JSON string of one",
            other,
        )),
    }
}

fn known_shape(value: &Value) -> bool {
    match value {
        Value::String(s) => serde_json::from_str::<Value>(s).is_ok_and(|v| parse_tests(&v).is_ok()),
        other => parse_tests(other).is_ok(),
    }
}

impl Layout for CodeContests {
    fn name(&self) -> &'static str {
        "code_contests"
    }

    fn description(&self) -> &'static str {
        "Code problems (rllm/DeepCoder/APPS): {problem, solutions?, tests: functional | stdin/stdout | fn_name cases}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let problem = row.get("problem").is_some_and(Value::is_string);
        match (problem, row.get("tests")) {
            (true, Some(tests)) if known_shape(tests) => 90,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        record.lineage.fields = key_order(&row);
        record.task.prompt = Some(req_text(&mut row, "problem", &mut record.meta)?);
        record.task.domain = Some("code".into());
        match row.get("solutions") {
            Some(Value::Array(items)) => {
                record.task.reference.solution =
                    items.first().and_then(Value::as_str).map(str::to_string);
            }
            _ => {
                record.task.reference.solution = opt_text(&mut row, "solutions", &mut record.meta)?;
            }
        }
        let raw = row
            .get("tests")
            .cloned()
            .ok_or_else(|| FieldError::missing("tests"))?;
        let (parsed, from_string) = match &raw {
            Value::String(s) => (
                serde_json::from_str::<Value>(s)
                    .map_err(|e| FieldError::new("tests", format!("not valid JSON: {e}")))?,
                true,
            ),
            other => (other.clone(), false),
        };
        let (tests, marker, exact) = parse_tests(&parsed)?;
        if exact && !from_string {
            row.remove("tests");
        }
        record.lineage.fields.push(marker.to_string());
        record.task.reference.tests = Some(tests);
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let problem = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let tests = record
            .task
            .reference
            .tests
            .as_ref()
            .ok_or_else(|| FieldError::missing("task.reference.tests"))?;
        let same = same_layout(record, self.name());
        let mut row = Fields::new();
        row.insert("problem".into(), Value::String(problem.to_string()));
        if let Some(solution) = &record.task.reference.solution {
            row.insert("solutions".into(), Value::String(solution.clone()));
        }
        let shape = |marker: &str| same && record.lineage.fields.iter().any(|f| f == marker);
        let cases = || -> (Vec<Value>, Vec<Value>) {
            tests
                .cases
                .iter()
                .map(|c| (c.input.clone(), c.output.clone()))
                .unzip()
        };
        let value = match tests.kind {
            TestKind::Assert => json!({ "functional": runnable_test_code(tests) }),
            TestKind::Stdio if shape(COLUMNS) => {
                let (inputs, outputs) = cases();
                json!({"inputs": inputs, "outputs": outputs})
            }
            TestKind::Stdio => Value::Array(
                tests
                    .cases
                    .iter()
                    .map(|c| json!({"input": c.input, "output": c.output}))
                    .collect(),
            ),
            TestKind::FunctionCall => {
                let (inputs, outputs) = cases();
                let name = tests
                    .entry_point
                    .clone()
                    .ok_or_else(|| FieldError::missing("task.reference.tests.entry_point"))?;
                json!({"fn_name": name, "inputs": inputs, "outputs": outputs})
            }
        };
        row.insert("tests".into(), value);
        Ok(row)
    }
}
