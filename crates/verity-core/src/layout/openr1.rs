//! `openr1`: OpenR1-Math-220k rollout rows: `problem, solution, answer, problem_type,
//! question_type, source, uuid, is_reasoning_complete[], generations[], correctness_math_verify[],
//! correctness_llama[], finish_reasons[], correctness_count, messages`.
//!
//! What it does: the parallel lists become one attempt per generation (a `rollout_set`): the
//! generation is split into trace and response at a leading closed `<think>` block (exactly, so
//! it is written back byte for byte), `finish_reasons[i]` becomes the attempt's finish reason,
//! and every boolean list (`correctness_math_verify`, `correctness_llama`,
//! `is_reasoning_complete`) becomes feedback from an imported verifier named after the column
//! (`null` entries give an `unknown` verdict). `problem`, `solution` and `answer` map to the task;
//! `messages` (a copy of the problem and one generation), `correctness_count`, `source`,
//! `problem_type`, `question_type` and `uuid` stay in `meta`.
//!
//! Why: OpenR1 keeps one column per verifier; keeping them as separate imported verifiers lets
//! `verity verify` compare its own verdict with each of them.
//!
//! Known failure modes: a parallel column whose length differs from `generations` (or that is
//! not a list) is not mapped: it is kept verbatim in `meta`.

use super::grades::{
    array_of, column_from, correctness_for, had, imported_grade, key_order, opt_text, output_text,
    req_text, same_layout, samples, strings_of,
};
use super::{split_think, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Contract, Fields, Granularity, ObjectKind, Record};
use serde_json::Value;

/// OpenR1-Math rollout rows.
pub struct OpenR1;

/// Boolean grade columns, with their contract and granularity.
const GRADE_COLUMNS: [(&str, Contract, Granularity); 3] = [
    (
        "correctness_math_verify",
        Contract::Programmatic,
        Granularity::Answer,
    ),
    (
        "correctness_llama",
        Contract::JudgmentRequired,
        Granularity::Answer,
    ),
    (
        "is_reasoning_complete",
        Contract::Programmatic,
        Granularity::Process,
    ),
];

impl Layout for OpenR1 {
    fn name(&self) -> &'static str {
        "openr1"
    }

    fn description(&self) -> &'static str {
        "OpenR1-Math: {problem, answer, generations[], correctness_math_verify[], finish_reasons[], ...}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let problem = row.get("problem").is_some_and(Value::is_string);
        let generations = row.get("generations").is_some_and(Value::is_array);
        let grades = [
            "correctness_math_verify",
            "finish_reasons",
            "is_reasoning_complete",
        ]
        .iter()
        .any(|k| row.get(*k).is_some_and(Value::is_array));
        match (problem, generations, grades) {
            (true, true, true) => 95,
            (true, true, false) => 70,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::RolloutSet);
        record.lineage.fields = key_order(&row);
        let problem = req_text(&mut row, "problem", &mut record.meta)?;
        record.task.prompt = Some(problem);
        record.task.domain = Some("math".into());
        record.task.reference.solution = opt_text(&mut row, "solution", &mut record.meta)?;
        record.task.reference.answer = opt_text(&mut row, "answer", &mut record.meta)?;

        let generations = match array_of(&row, "generations")? {
            Some(items) => strings_of("generations", items)?,
            None => return Err(FieldError::missing("generations")),
        };
        row.remove("generations");
        let n = generations.len();
        for text in generations {
            let (trace, response) = split_think(&text);
            record.attempts.push(Attempt {
                trace,
                response: Some(response),
                ..Attempt::default()
            });
        }
        // finish_reasons: strings (or nulls), parallel to generations.
        if let Some(items) = array_of(&row, "finish_reasons")? {
            let ok = items.len() == n && items.iter().all(|v| v.is_string());
            if ok {
                let reasons = strings_of("finish_reasons", items)?;
                for (attempt, reason) in record.attempts.iter_mut().zip(reasons) {
                    attempt.finish_reason = Some(reason);
                }
                row.remove("finish_reasons");
            }
        }
        for (column, contract, granularity) in GRADE_COLUMNS {
            let parallel = array_of(&row, column)?.is_some_and(|items| {
                items.len() == n && items.iter().all(|v| v.is_boolean() || v.is_null())
            });
            if !parallel {
                continue;
            }
            if let Some(Value::Array(items)) = row.remove(column) {
                for (attempt, value) in record.attempts.iter_mut().zip(items) {
                    attempt
                        .feedback
                        .push(imported_grade(column, contract, granularity, value));
                }
            }
        }
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let problem = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let same = same_layout(record, self.name());
        let attempts = samples(record);
        if attempts.is_empty() && !same {
            return Err(FieldError::missing("attempts"));
        }
        let reference = &record.task.reference;
        let mut row = Fields::new();
        row.insert("problem".into(), Value::String(problem.to_string()));
        if let Some(solution) = &reference.solution {
            row.insert("solution".into(), Value::String(solution.clone()));
        }
        if let Some(answer) = &reference.answer {
            row.insert("answer".into(), Value::String(answer.clone()));
        }
        let generations = attempts
            .iter()
            .map(|a| Value::String(output_text(a)))
            .collect();
        row.insert("generations".into(), Value::Array(generations));
        if !same || had(record, "finish_reasons") {
            let reasons: Vec<Value> = attempts
                .iter()
                .map(|a| a.finish_reason.clone().map_or(Value::Null, Value::String))
                .collect();
            if !same || reasons.iter().any(|r| !r.is_null()) {
                row.insert("finish_reasons".into(), Value::Array(reasons));
            }
        }
        for (column, _, _) in GRADE_COLUMNS {
            if let Some(values) = column_from(attempts.iter().copied(), column) {
                row.insert(column.into(), Value::Array(values));
            } else if !same && column == "correctness_math_verify" {
                // From another layout: verity's own math verdicts fill the column when present.
                let values: Vec<Value> = attempts
                    .iter()
                    .map(|a| correctness_for(a, column, "math").unwrap_or(Value::Null))
                    .collect();
                if values.iter().any(|v| !v.is_null()) {
                    row.insert(column.into(), Value::Array(values));
                }
            }
        }
        Ok(row)
    }
}
