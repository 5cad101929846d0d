//! `prm800k`: OpenAI PRM800K step ratings (`openai/prm800k`, JSONL): `labeler, timestamp,
//! generation, is_quality_control_question, is_initial_screening_question,
//! question{problem, ground_truth_solution?, ground_truth_answer, pre_generated_steps?,
//! pre_generated_answer?, pre_generated_verifier_score?}, label{steps[{completions[{text, rating,
//! flagged}], human_completion, chosen_completion}], total_time, finish_reason}`.
//!
//! What it does: the *chosen path* becomes one attempt of a `step_labeled_trace`: at each step
//! the completion `chosen_completion` points to; when it is null, the labeler's
//! `human_completion` (a human-written step, rating usually null); when both are null (the last
//! step of a `found_error` run) the first completion rated -1, which ends the path. Ratings map
//! to labels 1 → good, 0 → neutral, -1 → bad (`raw_label` and `score` keep the rating).
//! `label.finish_reason` becomes feedback from the imported verifier `label.finish_reason`
//! (process level, judgment; `solution` → pass, `found_error` → fail, others a label).
//! `question.problem` is the prompt, `ground_truth_answer`/`ground_truth_solution` the
//! reference.
//!
//! Why `question` and `label` also stay in `meta`, verbatim: the alternatives a labeler rated
//! but did not choose, the `flagged` bits and the phase-2 generator's pre-generated solution have
//! no place in the record model, and PRM800K's value is exactly this annotation tree. Writing a
//! row read by this layout restores both objects from `meta`, so the file round-trips byte for
//! byte; the attempt is a derived, flat view for verity's stages and for export to other
//! layouts (`prm_stepwise`, `math_shepherd`). Editing the derived steps does not change the
//! PRM800K output of such a record. A record from another layout is written with one
//! completion per step (rating from the step label, null when unlabeled) and
//! `chosen_completion: 0`, up to and including its first bad step (`finish_reason:
//! found_error`; else `solution`).
//!
//! Known failure modes: phase-1 rows have `generation: null` and steps written by the labeler;
//! the attempt then mixes model and human steps exactly as the labeler chose them.

use super::grades::{imported_grade, key_order};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{
    Attempt, Contract, Fields, Granularity, ObjectKind, Record, Step, StepLabel, Verdict,
};
use serde_json::{json, Value};

/// PRM800K step-rating rows.
pub struct Prm800k;

/// The label of a PRM800K rating.
pub(crate) fn rating_label(rating: &Value) -> Option<StepLabel> {
    match rating.as_i64() {
        Some(1) => Some(StepLabel::Good),
        Some(0) => Some(StepLabel::Neutral),
        Some(-1) => Some(StepLabel::Bad),
        _ => None,
    }
}

/// The PRM800K rating of a step: its raw label when that is a number, else from the label.
pub(crate) fn step_rating(step: &Step) -> Value {
    if let Some(raw @ Value::Number(_)) = &step.raw_label {
        return raw.clone();
    }
    match step.label {
        Some(StepLabel::Good) => json!(1),
        Some(StepLabel::Neutral) => json!(0),
        Some(StepLabel::Bad) => json!(-1),
        None => Value::Null,
    }
}

fn completion_step(completion: &Value, field: &str) -> Result<Step, FieldError> {
    let object = completion
        .as_object()
        .ok_or_else(|| FieldError::wrong_type(field, "an object", completion))?;
    let text = match object.get("text") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(FieldError::wrong_type(
                format!("{field}.text"),
                "a string",
                other,
            ))
        }
        None => return Err(FieldError::missing(format!("{field}.text"))),
    };
    let rating = object.get("rating").cloned().unwrap_or(Value::Null);
    Ok(Step {
        text,
        label: rating_label(&rating),
        score: rating.as_f64(),
        // A null rating (human-written step) stays unlabeled: `Some(null)` would not survive
        // the record's own JSON form.
        raw_label: (!rating.is_null()).then_some(rating),
    })
}

/// The chosen path through `label.steps`.
fn chosen_path(steps: &[Value]) -> Result<Vec<Step>, FieldError> {
    let mut path = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let field = format!("label.steps[{i}]");
        let object = step
            .as_object()
            .ok_or_else(|| FieldError::wrong_type(&field, "an object", step))?;
        let completions = match object.get("completions") {
            Some(Value::Array(items)) => items.as_slice(),
            None | Some(Value::Null) => &[],
            Some(other) => {
                return Err(FieldError::wrong_type(
                    format!("{field}.completions"),
                    "an array",
                    other,
                ))
            }
        };
        let chosen = object.get("chosen_completion").and_then(Value::as_u64);
        let human = object.get("human_completion").filter(|v| v.is_object());
        if let Some(index) = chosen {
            let completion = completions.get(index as usize).ok_or_else(|| {
                FieldError::new(
                    format!("{field}.chosen_completion"),
                    format!("points at completion {index} of {}", completions.len()),
                )
            })?;
            path.push(completion_step(
                completion,
                &format!("{field}.completions[{index}]"),
            )?);
        } else if let Some(human) = human {
            path.push(completion_step(
                human,
                &format!("{field}.human_completion"),
            )?);
        } else {
            // The labeler stopped here: the step that was found wrong ends the path.
            if let Some((j, bad)) = completions
                .iter()
                .enumerate()
                .find(|(_, c)| c.get("rating").and_then(Value::as_i64) == Some(-1))
            {
                path.push(completion_step(bad, &format!("{field}.completions[{j}]"))?);
            }
            break;
        }
    }
    Ok(path)
}

impl Layout for Prm800k {
    fn name(&self) -> &'static str {
        "prm800k"
    }

    fn description(&self) -> &'static str {
        "PRM800K: {question{problem, ...}, label{steps[{completions[{text, rating}], chosen_completion}], finish_reason}}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let question = row
            .get("question")
            .and_then(Value::as_object)
            .is_some_and(|q| q.get("problem").is_some_and(Value::is_string));
        let label = row
            .get("label")
            .and_then(Value::as_object)
            .is_some_and(|l| l.get("steps").is_some_and(Value::is_array));
        if question && label {
            100
        } else {
            0
        }
    }

    fn to_record(&self, row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::StepLabeledTrace);
        record.lineage.fields = key_order(&row);
        let question = match row.get("question") {
            Some(Value::Object(q)) => q,
            Some(other) => return Err(FieldError::wrong_type("question", "an object", other)),
            None => return Err(FieldError::missing("question")),
        };
        let text = |key: &str| -> Result<Option<String>, FieldError> {
            match question.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(other) => Err(FieldError::wrong_type(
                    format!("question.{key}"),
                    "a string",
                    other,
                )),
            }
        };
        record.task.prompt =
            Some(text("problem")?.ok_or_else(|| FieldError::missing("question.problem"))?);
        record.task.domain = Some("math".into());
        record.task.reference.answer = text("ground_truth_answer")?;
        record.task.reference.solution = text("ground_truth_solution")?;
        let label = match row.get("label") {
            Some(Value::Object(l)) => l,
            Some(other) => return Err(FieldError::wrong_type("label", "an object", other)),
            None => return Err(FieldError::missing("label")),
        };
        let steps = match label.get("steps") {
            Some(Value::Array(steps)) => steps.as_slice(),
            Some(other) => return Err(FieldError::wrong_type("label.steps", "an array", other)),
            None => return Err(FieldError::missing("label.steps")),
        };
        let mut attempt = Attempt {
            steps: chosen_path(steps)?,
            ..Attempt::default()
        };
        if let Some(reason) = label.get("finish_reason").filter(|v| !v.is_null()) {
            let mut fb = imported_grade(
                "label.finish_reason",
                Contract::JudgmentRequired,
                Granularity::Process,
                reason.clone(),
            );
            fb.verdict = match reason.as_str() {
                Some("solution") => Verdict::Pass,
                Some("found_error") => Verdict::Fail,
                _ => Verdict::Label,
            };
            attempt.feedback.push(fb);
        }
        record.attempts.push(attempt);
        // `question` and `label` stay verbatim (see the module doc).
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let problem = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        if super::grades::same_layout(record, self.name())
            && record.meta.contains_key("question")
            && record.meta.contains_key("label")
        {
            // Read by this layout: `question` and `label` come back verbatim from `meta`.
            return Ok(Fields::new());
        }
        let attempt = record
            .attempts
            .iter()
            .find(|a| !a.steps.is_empty())
            .ok_or_else(|| FieldError::missing("attempts[].steps"))?;
        let reference = &record.task.reference;
        let mut question = Fields::new();
        question.insert("problem".into(), Value::String(problem.to_string()));
        if let Some(solution) = &reference.solution {
            question.insert(
                "ground_truth_solution".into(),
                Value::String(solution.clone()),
            );
        }
        question.insert(
            "ground_truth_answer".into(),
            reference.answer.clone().map_or(Value::Null, Value::String),
        );
        // PRM800K paths end at the first step rated -1 (`found_error`).
        let end = attempt
            .steps
            .iter()
            .position(|s| s.label == Some(StepLabel::Bad))
            .map_or(attempt.steps.len(), |i| i + 1);
        let steps: Vec<Value> = attempt.steps[..end]
            .iter()
            .map(|step| {
                json!({
                    "completions": [{"text": step.text, "rating": step_rating(step), "flagged": null}],
                    "human_completion": null,
                    "chosen_completion": 0,
                })
            })
            .collect();
        let finish_reason = attempt
            .feedback
            .iter()
            .find(|f| f.verifier.imported && f.verifier.name == "label.finish_reason")
            .and_then(|f| f.label.clone())
            .unwrap_or_else(|| {
                if end < attempt.steps.len()
                    || attempt
                        .steps
                        .last()
                        .is_some_and(|s| s.label == Some(StepLabel::Bad))
                {
                    "found_error".into()
                } else {
                    "solution".into()
                }
            });
        let mut row = Fields::new();
        row.insert("labeler".into(), Value::Null);
        row.insert("timestamp".into(), Value::Null);
        row.insert("generation".into(), Value::Null);
        row.insert("is_quality_control_question".into(), Value::Bool(false));
        row.insert("is_initial_screening_question".into(), Value::Bool(false));
        row.insert("question".into(), Value::Object(question));
        row.insert(
            "label".into(),
            json!({"steps": steps, "total_time": null, "finish_reason": finish_reason}),
        );
        Ok(row)
    }
}
