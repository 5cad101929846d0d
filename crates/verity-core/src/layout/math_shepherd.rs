//! `math_shepherd`: Math-Shepherd process labels (`peiyi9979/Math-Shepherd`): `input` is the
//! problem followed by the steps (`Step 1: ... ки\nStep 2: ... ки`), `label` the same text with
//! `+` (good) or `-` (bad) in place of each `ки` tag, `task` the source (`GSM8K`, `MATH`).
//!
//! What it does: the text before `Step 1:` is the prompt, each tagged segment a step whose
//! label comes from the character that replaces its tag in `label` (`raw_label` keeps it). The
//! final answer is what follows `The answer is:` in the last step. A `step_labeled_trace`.
//!
//! The row is re-rendered from the parsed parts (`prompt + " " + steps joined by " ки\n"`) and
//! compared with the input; when that does not reproduce `input` and `label` exactly (an unusual
//! spacing, a missing `Step 1:`), both are kept verbatim in `meta` as well, so the row still
//! round-trips byte for byte.
//!
//! Writing from another layout: the steps of the first attempt with steps, up to the last
//! labeled one, each prefixed `Step i: ` when it does not start with `Step `.
//!
//! Known failure modes: a tag whose replacement in `label` is not one character (`+`/`-`), or a
//! `label` that does not match `input` outside the tags, is a `FieldError` on `label`.

use super::grades::{key_order, opt_text, req_text, same_layout};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Fields, ObjectKind, Record, Step, StepLabel};
use serde_json::Value;

/// Math-Shepherd rows.
pub struct MathShepherd;

const TAG: &str = "ки";

/// Parse `input`/`label` into (text before the first step, step texts, step marks).
fn parse(input: &str, label: &str) -> Result<(String, Vec<String>, Vec<String>), FieldError> {
    let segments: Vec<&str> = input.split(TAG).collect();
    let mut marks = Vec::new();
    let mut rest = label;
    for (i, segment) in segments.iter().enumerate() {
        rest = rest.strip_prefix(segment).ok_or_else(|| {
            FieldError::new(
                "label",
                format!("does not match `input` before tag {}", i + 1),
            )
        })?;
        if i + 1 < segments.len() {
            let mark = rest
                .chars()
                .next()
                .ok_or_else(|| FieldError::new("label", format!("ends before tag {}", i + 1)))?;
            marks.push(mark.to_string());
            rest = &rest[mark.len_utf8()..];
        }
    }
    if !rest.is_empty() {
        return Err(FieldError::new("label", "has text after the last tag"));
    }
    // Split the text before the first tag into the prompt and step 1.
    let head = segments.first().copied().unwrap_or("");
    let (prompt, first) = match head.find("Step 1:") {
        Some(pos) => (head[..pos].trim_end().to_string(), &head[pos..]),
        None => (String::new(), head),
    };
    let mut steps = Vec::new();
    if segments.len() > 1 {
        steps.push(first.trim().to_string());
        for segment in &segments[1..segments.len() - 1] {
            steps.push(segment.trim().to_string());
        }
    }
    Ok((prompt, steps, marks))
}

/// Render the Math-Shepherd text: prompt, then the steps each followed by ` <mark>`.
fn render(prompt: &str, steps: &[String], marks: &[String]) -> String {
    let body: Vec<String> = steps
        .iter()
        .zip(marks)
        .map(|(s, m)| format!("{s} {m}"))
        .collect();
    if prompt.is_empty() {
        body.join("\n")
    } else {
        format!("{prompt} {}", body.join("\n"))
    }
}

/// The answer after `The answer is:` in `text`.
fn stated_answer(text: &str) -> Option<String> {
    let pos = text.rfind("The answer is")?;
    let rest = text[pos + "The answer is".len()..]
        .trim_start_matches(':')
        .trim();
    (!rest.is_empty()).then(|| rest.to_string())
}

fn mark_label(mark: &str) -> Option<StepLabel> {
    match mark {
        "+" => Some(StepLabel::Good),
        "-" => Some(StepLabel::Bad),
        _ => None,
    }
}

/// The `+`/`-` mark of a step (raw label when it is a string, else from the label: neutral
/// counts as `+`, as in Math-Shepherd's "can still reach the answer" sense; a step with only a
/// Monte-Carlo score is `+` when the score is > 0).
fn step_mark(step: &Step) -> String {
    if let Some(Value::String(s)) = &step.raw_label {
        if s == "+" || s == "-" {
            return s.clone();
        }
    }
    match super::prm_stepwise::step_bool(step) {
        Some(false) => "-".into(),
        _ => "+".into(),
    }
}

impl Layout for MathShepherd {
    fn name(&self) -> &'static str {
        "math_shepherd"
    }

    fn description(&self) -> &'static str {
        "Math-Shepherd: {input (steps tagged `ки`), label (tags replaced by +/-), task}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        match (
            row.get("input").and_then(Value::as_str),
            row.get("label").and_then(Value::as_str),
        ) {
            (Some(input), Some(_)) if input.contains(TAG) => 95,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::StepLabeledTrace);
        record.lineage.fields = key_order(&row);
        let input = req_text(&mut row, "input", &mut record.meta)?;
        let label = req_text(&mut row, "label", &mut record.meta)?;
        let (prompt, steps, marks) = parse(&input, &label)?;
        let exact = render(&prompt, &steps, &vec![TAG.to_string(); steps.len()]) == input
            && render(&prompt, &steps, &marks) == label
            // Only `+`/`-` marks are written back from the steps (found by fuzzing).
            && marks.iter().all(|m| m == "+" || m == "-")
            && !prompt.is_empty();
        if !exact {
            record
                .meta
                .insert("input".into(), Value::String(input.clone()));
            record
                .meta
                .insert("label".into(), Value::String(label.clone()));
        }
        record.task.prompt = Some(if prompt.is_empty() {
            input.clone()
        } else {
            prompt
        });
        record.task.domain = Some("math".into());
        let answer = steps.last().and_then(|s| stated_answer(s));
        let steps = steps
            .into_iter()
            .zip(marks)
            .map(|(text, mark)| Step {
                text,
                label: mark_label(&mark),
                score: None,
                raw_label: Some(Value::String(mark)),
            })
            .collect();
        record.attempts.push(Attempt {
            steps,
            answer,
            ..Attempt::default()
        });
        // `task` (GSM8K / MATH) names the source dataset.
        if let Some(task) = opt_text(&mut row, "task", &mut record.meta)? {
            record.task.source.dataset = Some(task);
        }
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let prompt = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let same = same_layout(record, self.name());
        let attempt = record
            .attempts
            .iter()
            .find(|a| !a.steps.is_empty())
            .or_else(|| record.attempts.first().filter(|_| same))
            .ok_or_else(|| FieldError::missing("attempts[].steps"))?;
        // Only the labeled prefix (steps after the first error are often unlabeled).
        let labeled = attempt
            .steps
            .iter()
            .rposition(|s| super::prm_stepwise::step_bool(s).is_some())
            .map(|i| i + 1);
        let labeled = match labeled {
            Some(n) => n,
            None if same => attempt.steps.len(),
            None => return Err(FieldError::missing("attempts[].steps (labeled)")),
        };
        let steps = &attempt.steps[..labeled];
        // Math-Shepherd steps read `Step i: ...`; steps from other layouts get the prefix.
        let texts: Vec<String> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if same || s.text.starts_with("Step ") {
                    s.text.clone()
                } else {
                    format!("Step {}: {}", i + 1, s.text.trim())
                }
            })
            .collect();
        let marks: Vec<String> = steps.iter().map(step_mark).collect();
        let mut row = Fields::new();
        row.insert(
            "input".into(),
            Value::String(render(prompt, &texts, &vec![TAG.to_string(); texts.len()])),
        );
        row.insert(
            "label".into(),
            Value::String(render(prompt, &texts, &marks)),
        );
        if let Some(dataset) = &record.task.source.dataset {
            if !same || record.lineage.fields.iter().any(|f| f == "task") {
                row.insert("task".into(), Value::String(dataset.clone()));
            }
        }
        Ok(row)
    }
}
