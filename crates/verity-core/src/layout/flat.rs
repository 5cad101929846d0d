//! `flat`: generic flat rows `{problem|question|prompt, trace?, response?, answer?, reference?,
//! correct?}` — the shape of most ad-hoc distillation dumps and of the benchmark corpus.
//!
//! Field roles (first present name wins; the names found are remembered so the row is written
//! back with the same names):
//! - problem: `problem`, `question`, `prompt` (a string), `query`
//! - trace: `trace`, `reasoning`, `thinking`, `cot`, `rationale`, `chain_of_thought`
//! - response: `response`, `output`, `generation`, `model_output`
//! - reference (gold): `reference`, `gold`, `ground_truth`, `gold_answer`, `target`
//! - answer: `answer`, `final_answer`, `pred` — the attempt's answer when a reference field
//!   exists, otherwise the gold answer
//! - grade: `correct`, `is_correct` (boolean) — imported feedback named after the column
//!
//! Known failure modes: a dataset whose `answer` is the model's answer but that has no
//! reference column is read as if `answer` were the gold; pass `--from` with a specific layout
//! when one exists.

use super::{take_text, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{
    Attempt, Contract, Feedback, Fields, Granularity, ObjectKind, Record, VerifierId,
};
use serde_json::Value;

/// Generic flat prompt/trace/answer rows.
pub struct Flat;

const PROBLEM: &[&str] = &["problem", "question", "prompt", "query"];
const TRACE: &[&str] = &[
    "trace",
    "reasoning",
    "thinking",
    "cot",
    "rationale",
    "chain_of_thought",
];
const RESPONSE: &[&str] = &["response", "output", "generation", "model_output"];
const REFERENCE: &[&str] = &["reference", "gold", "ground_truth", "gold_answer", "target"];
const ANSWER: &[&str] = &["answer", "final_answer", "pred"];
const GRADE: &[&str] = &["correct", "is_correct"];

fn first_string<'a>(row: &Fields, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .copied()
        .find(|n| row.get(*n).is_some_and(Value::is_string))
}

fn first_text<'a>(row: &Fields, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .copied()
        .find(|n| row.get(*n).is_some_and(|v| v.is_string() || v.is_number()))
}

impl Layout for Flat {
    fn name(&self) -> &'static str {
        "flat"
    }

    fn description(&self) -> &'static str {
        "generic flat rows: {problem|question|prompt, trace?, response?, answer?, reference?, correct?}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        if first_string(row, PROBLEM).is_none() {
            return 0;
        }
        // Richer layouts own these shapes.
        if [
            "messages",
            "conversations",
            "chosen",
            "completion",
            "generations",
            "code",
            "tests",
            "label",
        ]
        .iter()
        .any(|k| row.contains_key(*k))
        {
            return 0;
        }
        let trace = first_string(row, TRACE).is_some();
        let response = first_string(row, RESPONSE).is_some();
        let reference = first_text(row, REFERENCE).is_some();
        match (trace || response, reference) {
            (true, _) => 75,
            (false, true) => 35,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        let problem_key =
            first_string(&row, PROBLEM).ok_or_else(|| FieldError::missing("problem"))?;
        let trace_key = first_string(&row, TRACE);
        let response_key = first_string(&row, RESPONSE);
        let reference_key = first_text(&row, REFERENCE);
        let answer_key = first_text(&row, ANSWER);
        let grade_key = GRADE
            .iter()
            .copied()
            .find(|k| row.get(*k).is_some_and(Value::is_boolean));
        let mapped: Vec<&str> = [
            Some(problem_key),
            trace_key,
            response_key,
            reference_key,
            answer_key,
            grade_key,
        ]
        .into_iter()
        .flatten()
        .collect();
        record.lineage.fields = row
            .keys()
            .filter(|k| mapped.contains(&k.as_str()))
            .cloned()
            .collect();
        record.task.prompt = take_text(&mut row, problem_key, &mut record.meta)?;
        let trace = match trace_key {
            Some(k) => take_text(&mut row, k, &mut record.meta)?,
            None => None,
        };
        let response = match response_key {
            Some(k) => take_text(&mut row, k, &mut record.meta)?,
            None => None,
        };
        let reference = match reference_key {
            Some(k) => take_text(&mut row, k, &mut record.meta)?,
            None => None,
        };
        let answer = match answer_key {
            Some(k) => take_text(&mut row, k, &mut record.meta)?,
            None => None,
        };
        let has_attempt = trace.is_some() || response.is_some();
        let (gold, attempt_answer) = if reference.is_some() || has_attempt {
            (reference, answer)
        } else {
            (answer, None)
        };
        record.task.reference.answer = gold;
        if has_attempt || attempt_answer.is_some() {
            let mut attempt = Attempt {
                trace,
                response,
                answer: attempt_answer,
                ..Attempt::default()
            };
            if let Some(key) = grade_key {
                if let Some(Value::Bool(passed)) = row.remove(key) {
                    attempt.feedback.push(Feedback::from_bool(
                        VerifierId::imported(key, Contract::Unknown),
                        Granularity::Answer,
                        passed,
                    ));
                }
            }
            record.object = if attempt.trace.is_some() {
                ObjectKind::PromptTraceAnswer
            } else {
                ObjectKind::PromptAnswer
            };
            record.attempts.push(attempt);
        }
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let attempt = record.attempts.first();
        let texts = Texts {
            problem: record
                .problem_text()
                .ok_or_else(|| FieldError::missing("task.prompt"))?
                .to_string(),
            trace: attempt.and_then(|a| a.trace.clone()),
            response: attempt.and_then(|a| a.response.clone()),
            answer: attempt.and_then(|a| a.answer.clone()),
            gold: record.task.reference.answer.clone(),
        };
        assemble(record, texts)
    }

    fn take_row(&self, record: &mut Record) -> Result<Fields, FieldError> {
        let problem = match record.task.prompt.take() {
            Some(prompt) => prompt,
            None => record
                .problem_text()
                .ok_or_else(|| FieldError::missing("task.prompt"))?
                .to_string(),
        };
        let attempt = record.attempts.first_mut();
        let texts = Texts {
            problem,
            trace: None,
            response: None,
            answer: None,
            gold: record.task.reference.answer.take(),
        };
        let texts = match attempt {
            Some(a) => Texts {
                trace: a.trace.take(),
                response: a.response.take(),
                answer: a.answer.take(),
                ..texts
            },
            None => texts,
        };
        assemble(record, texts)
    }
}

/// The texts a flat row carries, copied ([`Layout::from_record`]) or moved
/// ([`Layout::take_row`]) out of the record.
struct Texts {
    problem: String,
    trace: Option<String>,
    response: Option<String>,
    answer: Option<String>,
    gold: Option<String>,
}

/// Build the row from the texts; names and the grade come from the record's lineage and feedback.
fn assemble(record: &Record, texts: Texts) -> Result<Fields, FieldError> {
    let same = record.lineage.layout.as_deref() == Some(Flat.name());
    let name = |names: &[&'static str], default: &'static str| -> String {
        if same {
            if let Some(found) = record
                .lineage
                .fields
                .iter()
                .find(|f| names.contains(&f.as_str()))
            {
                return found.clone();
            }
        }
        default.to_string()
    };
    let mut row = Fields::new();
    row.insert(name(PROBLEM, "problem"), Value::String(texts.problem));
    let has_attempt = texts.trace.is_some() || texts.response.is_some();
    if let Some(trace) = texts.trace {
        row.insert(name(TRACE, "trace"), Value::String(trace));
    }
    if let Some(response) = texts.response {
        row.insert(name(RESPONSE, "response"), Value::String(response));
    }
    let reference_written = same
        && record
            .lineage
            .fields
            .iter()
            .any(|f| REFERENCE.contains(&f.as_str()));
    if let Some(answer) = texts.answer {
        row.insert(name(ANSWER, "answer"), Value::String(answer));
        if let Some(gold) = texts.gold {
            row.insert(name(REFERENCE, "reference"), Value::String(gold));
        }
    } else if let Some(gold) = texts.gold {
        if has_attempt || reference_written || !same {
            row.insert(name(REFERENCE, "reference"), Value::String(gold));
        } else {
            row.insert(name(ANSWER, "answer"), Value::String(gold));
        }
    }
    if let Some(attempt) = record.attempts.first() {
        if let Some(feedback) = attempt
            .feedback
            .iter()
            .find(|f| f.verifier.imported && GRADE.contains(&f.verifier.name.as_str()))
        {
            if let Some(passed) = feedback.passed() {
                row.insert(feedback.verifier.name.clone(), Value::Bool(passed));
            }
        }
    }
    Ok(row)
}
