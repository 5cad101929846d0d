//! `qwen_eval`: evaluation dumps of the Qwen2.5-Math evaluation harness (also used by
//! SkyThought and simpleRL): `idx, question, gt_cot, gt, [level, solution, answer,] code[],
//! pred[], report[], score[]` plus, for the reward-model example, `system, query, response[],
//! history, pred_score[]`.
//!
//! What it does: each entry of `code` (the model outputs) becomes an attempt; `pred[i]` is its
//! extracted answer; `score[i]` (bool) becomes feedback from the imported verifier `score`
//! (answer level, programmatic) and `pred_score[i]` (a reward-model score, a one-element list)
//! feedback from the imported verifier `pred_score` (scalar, judgment). A Sky-T1 output
//! (`<|begin_of_thought|>…<|end_of_thought|>` then the solution) is split into trace and
//! response exactly; a leading `<think>` block likewise. `question` is the prompt, `gt` the
//! reference answer, `solution` (when present) the reference solution. `gt_cot`, `answer`,
//! `report`, `response`, `system`, `query`, `history` and `idx` stay in `meta`.
//!
//! Object kind: several outputs per row is a `rollout_set`; one output with a trace (Sky-T1)
//! `prompt_trace_answer`; one output without `prompt_answer` (an evaluated single sample).
//!
//! Known failure modes: a `pred`/`score`/`pred_score` list whose length differs from `code` is
//! not mapped (kept verbatim in `meta`).

use super::grades::{
    array_of, column_from, correctness_for, had, imported_grade, key_order, opt_text, output_text,
    req_text, same_layout, samples, strings_of,
};
use super::{split_think, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Contract, Fields, Granularity, ObjectKind, Record};
use serde_json::Value;

/// Qwen2.5-Math evaluation dumps.
pub struct QwenEval;

const SKY_OPEN: &str = "<|begin_of_thought|>";
const SKY_CLOSE: &str = "<|end_of_thought|>";

/// Split a Sky-T1 style output into `(trace, response)` exactly, else a `<think>` block.
fn split_output(text: &str) -> (Option<String>, String, bool) {
    if let Some(body) = text.strip_prefix(SKY_OPEN) {
        if let Some(close) = body.find(SKY_CLOSE) {
            return (
                Some(body[..close].to_string()),
                body[close + SKY_CLOSE.len()..].to_string(),
                true,
            );
        }
    }
    let (trace, response) = split_think(text);
    (trace, response, false)
}

impl Layout for QwenEval {
    fn name(&self) -> &'static str {
        "qwen_eval"
    }

    fn description(&self) -> &'static str {
        "Qwen2.5-Math eval dumps: {idx, question, gt, code[], pred[], score[], ...} (also Sky-T1)"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let arrays = ["code", "pred", "score"]
            .iter()
            .all(|k| row.get(*k).is_some_and(Value::is_array));
        let question = row.get("question").is_some_and(Value::is_string);
        let gt = row.contains_key("gt");
        match (arrays, question, gt) {
            (true, true, true) => 95,
            (true, true, false) => 70,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::RolloutSet);
        record.lineage.fields = key_order(&row);
        record.task.prompt = Some(req_text(&mut row, "question", &mut record.meta)?);
        record.task.domain = Some("math".into());
        record.task.reference.answer = opt_text(&mut row, "gt", &mut record.meta)?;
        record.task.reference.solution = opt_text(&mut row, "solution", &mut record.meta)?;
        let outputs = match array_of(&row, "code")? {
            Some(items) => strings_of("code", items)?,
            None => return Err(FieldError::missing("code")),
        };
        row.remove("code");
        let n = outputs.len();
        // Split traces only when the row uses one marker style: a row mixing Sky-T1 markers and
        // `<think>` blocks keeps its outputs whole (the style is remembered per row).
        let splits: Vec<(Option<String>, String, bool)> =
            outputs.iter().map(|text| split_output(text)).collect();
        let sky = splits.iter().any(|(t, _, is_sky)| t.is_some() && *is_sky);
        let think = splits.iter().any(|(t, _, is_sky)| t.is_some() && !*is_sky);
        let mixed = sky && think;
        for (text, (trace, response, _)) in outputs.into_iter().zip(splits) {
            let attempt = if mixed {
                Attempt::with_response(text)
            } else {
                Attempt {
                    trace,
                    response: Some(response),
                    ..Attempt::default()
                }
            };
            record.attempts.push(attempt);
        }
        let sky = sky && !mixed;
        if array_of(&row, "pred")?.is_some_and(|p| p.len() == n && p.iter().all(Value::is_string)) {
            if let Some(Value::Array(preds)) = row.remove("pred") {
                for (attempt, pred) in record.attempts.iter_mut().zip(preds) {
                    attempt.answer = pred.as_str().map(str::to_string);
                }
            }
        }
        for (column, contract, granularity) in [
            ("score", Contract::Programmatic, Granularity::Answer),
            (
                "pred_score",
                Contract::JudgmentRequired,
                Granularity::Scalar,
            ),
        ] {
            if array_of(&row, column)?.is_none_or(|v| v.len() != n) {
                continue;
            }
            if let Some(Value::Array(values)) = row.remove(column) {
                for (attempt, value) in record.attempts.iter_mut().zip(values) {
                    let mut fb = imported_grade(column, contract, granularity, value.clone());
                    // pred_score is a one-element list of the reward-model score.
                    if let Some(first) = value.as_array().and_then(|a| a.first()) {
                        fb.verdict = crate::record::Verdict::Score;
                        fb.score = first.as_f64();
                    }
                    attempt.feedback.push(fb);
                }
            }
        }
        record.object = match (n, record.attempts.first()) {
            (1, Some(a)) if a.trace.is_some() => ObjectKind::PromptTraceAnswer,
            (1, _) => ObjectKind::PromptAnswer,
            _ => ObjectKind::RolloutSet,
        };
        if sky {
            // Remember the trace markers so the outputs are written back the same way.
            record.lineage.fields.push(SKY_OPEN.to_string());
        }
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let question = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let same = same_layout(record, self.name());
        let sky = same && had(record, SKY_OPEN);
        let attempts = samples(record);
        if attempts.is_empty() && !same {
            return Err(FieldError::missing("attempts"));
        }
        let reference = &record.task.reference;
        let mut row = Fields::new();
        if !same {
            if let Some(index) = super::grades::row_index(record) {
                row.insert("idx".into(), Value::from(index));
            }
        }
        row.insert("question".into(), Value::String(question.to_string()));
        if !same || reference.answer.is_some() {
            row.insert(
                "gt".into(),
                reference.answer.clone().map_or(Value::Null, Value::String),
            );
        }
        if let Some(solution) = &reference.solution {
            row.insert("solution".into(), Value::String(solution.clone()));
        }
        let code = attempts
            .iter()
            .map(|a| match (&a.trace, sky) {
                (Some(trace), true) => Value::String(format!(
                    "{SKY_OPEN}{trace}{SKY_CLOSE}{}",
                    a.response.as_deref().unwrap_or("")
                )),
                _ => Value::String(output_text(a)),
            })
            .collect();
        row.insert("code".into(), Value::Array(code));
        if !same || had(record, "pred") {
            let preds = attempts
                .iter()
                .map(|a| a.answer.clone().map_or(Value::Null, Value::String))
                .collect();
            row.insert("pred".into(), Value::Array(preds));
        }
        match column_from(attempts.iter().copied(), "score") {
            Some(values) => {
                row.insert("score".into(), Value::Array(values));
            }
            None if !same => {
                let values = attempts
                    .iter()
                    .map(|a| correctness_for(a, "score", "math").unwrap_or(Value::Null))
                    .collect();
                row.insert("score".into(), Value::Array(values));
            }
            None => {}
        }
        if let Some(values) = column_from(attempts.iter().copied(), "pred_score") {
            row.insert("pred_score".into(), Value::Array(values));
        }
        Ok(row)
    }
}
