//! `prm_stepwise`: TRL's stepwise-supervision layout `{prompt, completions: [str], labels:
//! [bool]}` (`trl-lib/math_shepherd`, `trl-lib/prm800k`), read by TRL's `PRMTrainer`. This is
//! also verity's export layout for process-reward-model training.
//!
//! What it does: `prompt` is the task, each completion a step, each label good (`true`) or bad
//! (`false`), kept as `raw_label`. A `step_labeled_trace`.
//!
//! Writing from another layout: the steps of the first attempt that has steps, up to the last
//! labeled one (steps after the first error are usually unlabeled: MR-GSM8K, PRM800K's
//! `found_error`). Good and neutral steps are `true` (PRM800K's rating 0 is "not wrong"), bad
//! steps `false`; a step with only a score (Monte-Carlo value) is `true` when the score is > 0.
//!
//! Known failure modes: the conversational TRL variant (`prompt` as a message list) is not
//! read by this adapter (a `FieldError` on `prompt` with `--from prm_stepwise`).

use super::grades::{array_of, key_order, req_text, strings_of};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Fields, ObjectKind, Record, Step, StepLabel};
use serde_json::Value;

/// TRL stepwise rows.
pub struct PrmStepwise;

/// The boolean label of a step for stepwise export (`None` when the step is unlabeled).
pub(crate) fn step_bool(step: &Step) -> Option<bool> {
    if let Some(Value::Bool(b)) = step.raw_label {
        return Some(b);
    }
    match step.label {
        Some(StepLabel::Good | StepLabel::Neutral) => Some(true),
        Some(StepLabel::Bad) => Some(false),
        None => step.score.map(|s| s > 0.0),
    }
}

impl Layout for PrmStepwise {
    fn name(&self) -> &'static str {
        "prm_stepwise"
    }

    fn description(&self) -> &'static str {
        "TRL stepwise supervision: {prompt, completions[str], labels[bool]} (PRM export)"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let prompt = row.get("prompt").is_some_and(Value::is_string);
        let completions = row
            .get("completions")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().all(Value::is_string));
        let labels = row
            .get("labels")
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().all(Value::is_boolean));
        if prompt && completions && labels {
            95
        } else {
            0
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::StepLabeledTrace);
        record.lineage.fields = key_order(&row);
        record.task.prompt = Some(req_text(&mut row, "prompt", &mut record.meta)?);
        let completions = match array_of(&row, "completions")? {
            Some(items) => strings_of("completions", items)?,
            None => return Err(FieldError::missing("completions")),
        };
        let labels = match array_of(&row, "labels")? {
            Some(items) => items.clone(),
            None => return Err(FieldError::missing("labels")),
        };
        if labels.len() != completions.len() {
            return Err(FieldError::new(
                "labels",
                format!(
                    "has {} entries for {} completions",
                    labels.len(),
                    completions.len()
                ),
            ));
        }
        row.remove("completions");
        row.remove("labels");
        let mut steps = Vec::new();
        for (i, (text, label)) in completions.into_iter().zip(labels).enumerate() {
            let good = label.as_bool().ok_or_else(|| {
                FieldError::wrong_type(format!("labels[{i}]"), "a boolean", &label)
            })?;
            steps.push(Step {
                text,
                label: Some(if good {
                    StepLabel::Good
                } else {
                    StepLabel::Bad
                }),
                score: None,
                raw_label: Some(label),
            });
        }
        record.attempts.push(Attempt {
            steps,
            ..Attempt::default()
        });
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let prompt = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let same = super::grades::same_layout(record, self.name());
        let attempt = record
            .attempts
            .iter()
            .find(|a| a.steps.iter().any(|s| step_bool(s).is_some()))
            .or_else(|| record.attempts.first().filter(|_| same))
            .ok_or_else(|| FieldError::missing("attempts[].steps (labeled)"))?;
        let labeled = attempt
            .steps
            .iter()
            .rposition(|s| step_bool(s).is_some())
            .map_or(0, |i| i + 1);
        let mut completions = Vec::new();
        let mut labels = Vec::new();
        for (i, step) in attempt.steps[..labeled].iter().enumerate() {
            let label = step_bool(step)
                .ok_or_else(|| FieldError::new(format!("attempts[].steps[{i}]"), "has no label"))?;
            completions.push(Value::String(step.text.clone()));
            labels.push(Value::Bool(label));
        }
        let mut row = Fields::new();
        row.insert("prompt".into(), Value::String(prompt.to_string()));
        row.insert("completions".into(), Value::Array(completions));
        row.insert("labels".into(), Value::Array(labels));
        Ok(row)
    }
}
