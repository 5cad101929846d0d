//! `gsm8k_solutions`: OpenAI's GSM8K example model solutions
//! (`grade_school_math/data/example_model_solutions.jsonl`): `question, ground_truth` and one
//! object per model, `{6b,175b}_{finetuning,verification}: {is_correct, solution}`.
//!
//! What it does: each model column becomes an attempt whose generator is the GPT-3 model
//! (`gpt3-6b`, `gpt3-175b`) with `params.method` = `finetuning` (one sample from the fine-tuned
//! model) or `verification` (best of 100 picked by the trained verifier); `is_correct` becomes
//! feedback from the imported verifier `is_correct` (answer level, programmatic). The final
//! answer of a solution and of the ground truth is the text after the last `A: ` line (this file
//! uses `A: 18` where the dataset proper uses `#### 18`). A `rollout_set`.
//!
//! Known failure modes: a model column with keys other than `is_correct` and `solution` is not
//! mapped (kept verbatim in `meta`).

use super::grades::{
    grade_value, imported_of, key_order, output_text, req_text, same_layout, samples,
};
use super::{after_hashes, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Contract, Fields, Generator, Granularity, ObjectKind, Record};
use serde_json::Value;

/// GSM8K example model solutions.
pub struct Gsm8kSolutions;

const METHODS: [&str; 2] = ["finetuning", "verification"];

/// `(model part, method)` of a model column name like `175b_verification`.
fn model_column(key: &str) -> Option<(&str, &str)> {
    let (name, method) = key.rsplit_once('_')?;
    (METHODS.contains(&method) && !name.is_empty()).then_some((name, method))
}

/// The generator model of a column's model part: GPT-3 sizes (`6b`, `175b`) are `gpt3-<size>`.
fn model_name(part: &str) -> String {
    let size = part.strip_suffix('b').unwrap_or("");
    if !size.is_empty() && size.chars().all(|c| c.is_ascii_digit() || c == '.') {
        format!("gpt3-{part}")
    } else {
        part.to_string()
    }
}

fn is_solution_object(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.get("solution").is_some_and(Value::is_string)
            && o.keys().all(|k| k == "solution" || k == "is_correct")
    })
}

/// The answer after the last `A: ` line, or after `####`.
fn final_answer(text: &str) -> Option<String> {
    if let Some(line) = text.lines().rev().find(|l| l.starts_with("A: ")) {
        let answer = line[3..].trim();
        if !answer.is_empty() {
            return Some(answer.to_string());
        }
    }
    after_hashes(text)
}

impl Layout for Gsm8kSolutions {
    fn name(&self) -> &'static str {
        "gsm8k_solutions"
    }

    fn description(&self) -> &'static str {
        "GSM8K example model solutions: {question, ground_truth, 6b_finetuning{solution, is_correct}, ...}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let base = row.get("question").is_some_and(Value::is_string)
            && row.get("ground_truth").is_some_and(Value::is_string);
        let models = row
            .iter()
            .filter(|(k, v)| model_column(k).is_some() && is_solution_object(v))
            .count();
        if base && models > 0 {
            95
        } else {
            0
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::RolloutSet);
        record.lineage.fields = key_order(&row);
        record.task.prompt = Some(req_text(&mut row, "question", &mut record.meta)?);
        record.task.domain = Some("math".into());
        let truth = req_text(&mut row, "ground_truth", &mut record.meta)?;
        record.task.reference.answer = final_answer(&truth);
        record.task.reference.solution = Some(truth);
        // In input order (removing fields reorders the map).
        let columns: Vec<String> = record
            .lineage
            .fields
            .iter()
            .filter(|k| model_column(k).is_some() && row.get(*k).is_some_and(is_solution_object))
            .cloned()
            .collect();
        for key in columns {
            let Some((part, method)) = model_column(&key) else {
                continue;
            };
            let mut generator = Generator {
                model: Some(model_name(part)),
                ..Generator::default()
            };
            generator
                .params
                .insert("method".into(), Value::String(method.to_string()));
            let Some(Value::Object(mut object)) = row.remove(&key) else {
                continue;
            };
            let solution = match object.remove("solution") {
                Some(Value::String(s)) => s,
                _ => return Err(FieldError::missing(format!("{key}.solution"))),
            };
            let mut attempt = Attempt {
                answer: final_answer(&solution),
                response: Some(solution),
                generator: Some(generator),
                ..Attempt::default()
            };
            if let Some(value) = object.remove("is_correct") {
                attempt.feedback.push(super::grades::imported_grade(
                    "is_correct",
                    Contract::Programmatic,
                    Granularity::Answer,
                    value,
                ));
            }
            record.attempts.push(attempt);
        }
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let question = record
            .problem_text()
            .ok_or_else(|| FieldError::missing("task.prompt"))?;
        let reference = &record.task.reference;
        let truth = match (&reference.solution, &reference.answer) {
            (Some(solution), _) => solution.clone(),
            (None, Some(answer)) => format!("A: {answer}"),
            (None, None) => return Err(FieldError::missing("task.reference.answer")),
        };
        let same = same_layout(record, self.name());
        if !same && samples(record).is_empty() {
            return Err(FieldError::missing("attempts"));
        }
        let mut row = Fields::new();
        row.insert("question".into(), Value::String(question.to_string()));
        row.insert("ground_truth".into(), Value::String(truth));
        for (index, attempt) in samples(record).into_iter().enumerate() {
            let generator = attempt.generator.as_ref();
            let part = generator
                .and_then(|g| g.model.as_deref())
                // Underscores are kept: the column name splits at its last `_` (found by fuzzing).
                .map(|m| m.strip_prefix("gpt3-").unwrap_or(m).to_string())
                .unwrap_or_else(|| format!("model{index}"));
            let method = generator
                .and_then(|g| g.params.get("method"))
                .and_then(Value::as_str)
                .filter(|m| METHODS.contains(m))
                .unwrap_or("finetuning");
            let key = format!("{part}_{method}");
            let mut object = Fields::new();
            let correct = imported_of(attempt, "is_correct")
                .map(grade_value)
                .or_else(|| {
                    (!same)
                        .then(|| attempt.verdict_of("math").and_then(|f| f.passed()))
                        .flatten()
                        .map(Value::Bool)
                });
            if let Some(correct) = correct {
                object.insert("is_correct".into(), correct);
            }
            object.insert("solution".into(), Value::String(output_text(attempt)));
            row.insert(key, Value::Object(object));
        }
        Ok(row)
    }
}
