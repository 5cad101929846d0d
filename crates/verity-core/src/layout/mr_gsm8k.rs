//! `mr_gsm8k`: MR-GSM8K meta-reasoning rows (`dvlab-research/MR-GSM8K`, `eval_results/*.json`):
//! `uuid, question, ground_truth_solution, ground_truth_answer, model_output_steps[],
//! model_output_answer_correctness, model_output_solution_correctness,
//! model_output_solution_first_error_step, model_output_solution_first_error_reason,
//! question_type, <evaluator>_eval_output, error_reason_correctness, ...`.
//!
//! What it does: the graded model solution (`model_output_steps`) is one attempt of a
//! `step_labeled_trace`. The human annotation becomes imported feedback and step labels:
//! - `model_output_answer_correctness` (`correct`/`wrong`) → feedback (answer level, judgment);
//! - `model_output_solution_correctness` → feedback (process level, judgment);
//! - `model_output_solution_first_error_step` (1-based) → step labels: steps before it good, the
//!   step itself bad, later steps unlabeled; plus step-level feedback `fail` on that step whose
//!   `detail` keeps the raw value and `model_output_solution_first_error_reason`.
//!   A correct solution (no first error: `null`, `"N/A"`, ...) labels every step good.
//!
//! `question` is the prompt, `ground_truth_solution`/`ground_truth_answer` (a number or a
//! string, type kept) the reference. The evaluator model's output (`claude2_eval_output`,
//! `gpt3_5_eval_output`, ...), `error_reason_correctness`, the GPT-4 analysis and
//! `question_type` (`original`, `POT`, `reversed`) stay in `meta`.
//!
//! Known failure modes: a first-error step beyond the number of steps labels nothing (the raw
//! value is still restored); MR-GSM8K's `POT` rows hold Python code as steps and are labeled the
//! same way.

use super::grades::{
    array_of, grade_value, had, imported_grade, key_order, opt_text, req_text, same_layout,
    strings_of,
};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{
    Attempt, Contract, Feedback, Fields, Granularity, ObjectKind, Record, Step, StepLabel,
    VerifierId,
};
use serde_json::{json, Value};

/// MR-GSM8K graded solutions.
pub struct MrGsm8k;

const ANSWER: &str = "model_output_answer_correctness";
const SOLUTION: &str = "model_output_solution_correctness";
const FIRST_ERROR: &str = "model_output_solution_first_error_step";
const REASON: &str = "model_output_solution_first_error_reason";

/// The 1-based first error step, when the value is a positive integer (or its text).
fn first_error(value: &Value) -> Option<usize> {
    match value {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| *n > 0)
}

impl Layout for MrGsm8k {
    fn name(&self) -> &'static str {
        "mr_gsm8k"
    }

    fn description(&self) -> &'static str {
        "MR-GSM8K: {question, ground_truth_answer, model_output_steps[], model_output_solution_first_error_step, ...}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let steps = row.get("model_output_steps").is_some_and(Value::is_array);
        let question = row.get("question").is_some_and(Value::is_string);
        let graded = row.contains_key(SOLUTION) || row.contains_key(FIRST_ERROR);
        match (question, steps, graded) {
            (true, true, true) => 95,
            (true, true, false) => 60,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::StepLabeledTrace);
        record.lineage.fields = key_order(&row);
        record.task.prompt = Some(req_text(&mut row, "question", &mut record.meta)?);
        record.task.domain = Some("math".into());
        record.task.reference.solution =
            opt_text(&mut row, "ground_truth_solution", &mut record.meta)?;
        record.task.reference.answer = opt_text(&mut row, "ground_truth_answer", &mut record.meta)?;
        let texts = match array_of(&row, "model_output_steps")? {
            Some(items) => strings_of("model_output_steps", items)?,
            None => return Err(FieldError::missing("model_output_steps")),
        };
        row.remove("model_output_steps");
        let mut attempt = Attempt::default();
        let error_step = row.get(FIRST_ERROR).and_then(first_error);
        let solution_correct = row
            .get(SOLUTION)
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("correct"));
        for (i, text) in texts.into_iter().enumerate() {
            let label = match error_step {
                Some(e) if i + 1 < e => Some(StepLabel::Good),
                Some(e) if i + 1 == e => Some(StepLabel::Bad),
                Some(_) => None,
                None if solution_correct => Some(StepLabel::Good),
                None => None,
            };
            attempt.steps.push(Step {
                text,
                label,
                score: None,
                raw_label: None,
            });
        }
        for (column, granularity) in [
            (ANSWER, Granularity::Answer),
            (SOLUTION, Granularity::Process),
        ] {
            if let Some(value) = row.remove(column) {
                attempt.feedback.push(imported_grade(
                    column,
                    Contract::JudgmentRequired,
                    granularity,
                    value,
                ));
            }
        }
        if let Some(e) = error_step.filter(|e| *e <= attempt.steps.len()) {
            let raw = row.remove(FIRST_ERROR).unwrap_or(Value::Null);
            let mut detail = json!({ "raw": raw });
            if let Some(reason) = row.remove(REASON) {
                detail["reason"] = reason;
            }
            let mut fb = Feedback::from_bool(
                VerifierId::imported(FIRST_ERROR, Contract::JudgmentRequired),
                Granularity::Step,
                false,
            );
            fb.step = Some(e - 1);
            fb.detail = Some(detail);
            attempt.feedback.push(fb);
        }
        record.attempts.push(attempt);
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let question = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let same = same_layout(record, self.name());
        let attempt = record
            .attempts
            .iter()
            .find(|a| !a.steps.is_empty())
            .or_else(|| record.attempts.first().filter(|_| same))
            .ok_or_else(|| FieldError::missing("attempts[].steps"))?;
        let reference = &record.task.reference;
        let mut row = Fields::new();
        row.insert("question".into(), Value::String(question.to_string()));
        if let Some(solution) = &reference.solution {
            row.insert(
                "ground_truth_solution".into(),
                Value::String(solution.clone()),
            );
        }
        if let Some(answer) = &reference.answer {
            row.insert("ground_truth_answer".into(), Value::String(answer.clone()));
        }
        let steps = attempt
            .steps
            .iter()
            .map(|s| Value::String(s.text.clone()))
            .collect();
        row.insert("model_output_steps".into(), Value::Array(steps));
        let find = |name: &str| {
            attempt
                .feedback
                .iter()
                .find(|f| f.verifier.imported && f.verifier.name == name)
        };
        let first_bad = attempt
            .steps
            .iter()
            .position(|s| s.label == Some(StepLabel::Bad));
        for column in [ANSWER, SOLUTION] {
            if let Some(fb) = find(column) {
                row.insert(column.into(), grade_value(fb));
            } else if !same && column == SOLUTION {
                let verdict = if first_bad.is_some() {
                    "wrong"
                } else {
                    "correct"
                };
                row.insert(column.into(), Value::String(verdict.into()));
            }
        }
        if let Some(fb) = find(FIRST_ERROR) {
            let detail = fb.detail.clone().unwrap_or(Value::Null);
            row.insert(
                FIRST_ERROR.into(),
                detail.get("raw").cloned().unwrap_or(Value::Null),
            );
            if let Some(reason) = detail.get("reason") {
                row.insert(REASON.into(), reason.clone());
            }
        } else if !same || had(record, FIRST_ERROR) && !record.meta.contains_key(FIRST_ERROR) {
            row.insert(
                FIRST_ERROR.into(),
                first_bad.map_or(Value::Null, |i| Value::from(i + 1)),
            );
        }
        Ok(row)
    }
}
