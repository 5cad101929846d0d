//! `s1k`: s1K distillation rows (`simplescaling/s1K`): `solution, question, cot_type,
//! source_type, metadata (a JSON string), cot (null), thinking_trajectories (list[str]),
//! attempt`; s1K-1.1 replaces/extends the trace columns with named generators:
//! `gemini_thinking_trajectory, gemini_attempt, deepseek_thinking_trajectory,
//! deepseek_attempt` (and, when present, `<generator>_grade` Yes/No).
//!
//! What it does: each generator's trace + attempt is one attempt (`trace` = the thinking
//! trajectory, `response` = the attempt, `generator.model` = the column prefix: `gemini`,
//! `deepseek`; the unprefixed s1K columns have no generator name). One attempt gives a
//! `prompt_trace_answer`, several a `rollout_set`. `question` is the prompt, `solution` the
//! reference solution (its last `\boxed{}` the reference answer, when there is one), `cot_type`
//! the domain (`math`, `science`, `crossword`), `source_type` the source dataset. A
//! `<generator>_grade` column becomes feedback from the imported verifier of that name
//! (judgment; `Yes` → pass, `No` → fail). `metadata`, `cot` and anything else stay in `meta`.
//!
//! Exactness: `thinking_trajectories` is a list (always one element in s1K); a list of another
//! length is not mapped to a trace (kept verbatim in `meta`, the attempt then has only the
//! response).
//!
//! Known failure modes: no real s1K file was available offline; the adapter follows the
//! documented schema and was tested on a hand-written sample (see tests/data/README.md).

use super::grades::{
    grade_value, had, imported_grade, imported_of, key_order, opt_text, req_text, same_layout,
    samples,
};
use super::{last_boxed, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Contract, Fields, Generator, Granularity, ObjectKind, Record};
use serde_json::Value;

/// s1K / s1K-1.1 rows.
pub struct S1k;

/// Named generators of s1K-1.1, in column order.
const GENERATORS: [&str; 2] = ["gemini", "deepseek"];

impl Layout for S1k {
    fn name(&self) -> &'static str {
        "s1k"
    }

    fn description(&self) -> &'static str {
        "s1K: {question, solution, cot_type, source_type, metadata, thinking_trajectories[], attempt} (+ s1K-1.1 gemini_*/deepseek_*)"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let question = row.get("question").is_some_and(Value::is_string);
        let s1k = row.contains_key("thinking_trajectories")
            || GENERATORS
                .iter()
                .any(|g| row.contains_key(&format!("{g}_thinking_trajectory")));
        let typed = row.contains_key("cot_type") || row.contains_key("source_type");
        match (question, s1k, typed) {
            (true, true, true) => 95,
            (true, true, false) => 70,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptTraceAnswer);
        record.lineage.fields = key_order(&row);
        record.task.prompt = Some(req_text(&mut row, "question", &mut record.meta)?);
        let solution = opt_text(&mut row, "solution", &mut record.meta)?;
        record.task.reference.answer = solution.as_deref().and_then(last_boxed);
        record.task.reference.solution = solution;
        record.task.domain = opt_text(&mut row, "cot_type", &mut record.meta)?;
        record.task.source.dataset = opt_text(&mut row, "source_type", &mut record.meta)?;

        // s1K: thinking_trajectories (one-element list) + attempt.
        let single_trace = match row.get("thinking_trajectories") {
            Some(Value::Array(items)) if items.len() == 1 && items[0].is_string() => {
                items[0].as_str().map(str::to_string)
            }
            _ => None,
        };
        if single_trace.is_some() {
            row.remove("thinking_trajectories");
        }
        let attempt_text = opt_text(&mut row, "attempt", &mut record.meta)?;
        if single_trace.is_some() || attempt_text.is_some() {
            record.attempts.push(Attempt {
                trace: single_trace,
                response: attempt_text,
                ..Attempt::default()
            });
        }
        // s1K-1.1: named generators.
        for generator in GENERATORS {
            let trace_key = format!("{generator}_thinking_trajectory");
            let attempt_key = format!("{generator}_attempt");
            let trace = opt_text(&mut row, &trace_key, &mut record.meta)?;
            let response = opt_text(&mut row, &attempt_key, &mut record.meta)?;
            if trace.is_none() && response.is_none() {
                continue;
            }
            let mut attempt = Attempt {
                trace,
                response,
                generator: Some(Generator {
                    model: Some(generator.to_string()),
                    ..Generator::default()
                }),
                ..Attempt::default()
            };
            let grade_key = format!("{generator}_grade");
            if let Some(value) = row.remove(&grade_key) {
                attempt.feedback.push(imported_grade(
                    &grade_key,
                    Contract::JudgmentRequired,
                    Granularity::Answer,
                    value,
                ));
            }
            record.attempts.push(attempt);
        }
        if record.attempts.len() > 1 {
            record.object = ObjectKind::RolloutSet;
        }
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let question = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let same = same_layout(record, self.name());
        let reference = &record.task.reference;
        let mut row = Fields::new();
        let solution = reference
            .solution
            .clone()
            .or_else(|| reference.answer.clone());
        if let Some(solution) = solution {
            row.insert("solution".into(), Value::String(solution));
        }
        row.insert("question".into(), Value::String(question.to_string()));
        if !same || had(record, "cot_type") {
            let domain = record.task.domain.clone().unwrap_or_else(|| "math".into());
            row.insert("cot_type".into(), Value::String(domain));
        }
        if let Some(dataset) = &record.task.source.dataset {
            row.insert("source_type".into(), Value::String(dataset.clone()));
        }
        if !same {
            row.insert("metadata".into(), Value::String("{}".into()));
            row.insert("cot".into(), Value::Null);
        }
        let mut attempts = samples(record);
        if !same {
            // s1K rows are distillation targets: the first attempt that has a trace.
            let traced = attempts
                .into_iter()
                .find(|a| a.trace.is_some())
                .ok_or_else(|| FieldError::missing("attempts[].trace"))?;
            attempts = vec![traced];
        }
        let mut unnamed_written = false;
        for attempt in attempts {
            let named = attempt
                .generator
                .as_ref()
                .and_then(|g| g.model.as_deref())
                .filter(|m| same && GENERATORS.contains(m));
            match named {
                Some(generator) => {
                    if let Some(trace) = &attempt.trace {
                        row.insert(
                            format!("{generator}_thinking_trajectory"),
                            Value::String(trace.clone()),
                        );
                    }
                    if let Some(response) = &attempt.response {
                        row.insert(
                            format!("{generator}_attempt"),
                            Value::String(response.clone()),
                        );
                    }
                    let grade_key = format!("{generator}_grade");
                    if let Some(fb) = imported_of(attempt, &grade_key) {
                        row.insert(grade_key, grade_value(fb));
                    }
                }
                None if !unnamed_written => {
                    unnamed_written = true;
                    if let Some(trace) = &attempt.trace {
                        row.insert(
                            "thinking_trajectories".into(),
                            Value::Array(vec![Value::String(trace.clone())]),
                        );
                    }
                    if let Some(response) = &attempt.response {
                        row.insert("attempt".into(), Value::String(response.clone()));
                    }
                }
                None => {}
            }
        }
        Ok(row)
    }
}
