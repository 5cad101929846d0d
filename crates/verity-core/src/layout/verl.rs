//! `verl`: verl's RL dataset rows (Parquet, as written by `examples/data_preprocess/*.py`):
//! `data_source, prompt: [{role, content}], ability, reward_model: {style, ground_truth},
//! extra_info: {split, index, ...}`.
//!
//! What it does: `prompt` becomes the task's chat context (`task.messages`; keys other than
//! role/content kept per message), `data_source` the source dataset, `ability` the domain,
//! `reward_model.ground_truth` the reference answer when it is a string (verl's math sets), and
//! `extra_info.split`/`index` the source split and row; `extra_info.question` (the raw question
//! verl's GSM8K/MATH scripts keep) becomes `task.prompt`.
//!
//! Why `reward_model` and `extra_info` also stay in `meta`, verbatim: their other keys and value
//! types are dataset-specific (ground truth as a list of answers, a JSON string of tests for
//! code, `extra_info.answer` ...). Writing a row read by this layout restores both exactly (the
//! ground truth keeps its type: string, list or object); the mapped values are a view.
//!
//! Writing from another layout: `data_source` = the source dataset (else the input file stem, or
//! its directory when the file is named after a split: `gsm8k/test.jsonl` → `gsm8k`),
//! `prompt` = the task messages (else the problem as one user message), `ability` = the domain
//! (`math` when unknown), `reward_model` = `{style: "rule", ground_truth: reference answer}`,
//! `extra_info` = `{split, index}` (split from the source, else the file name when it is a split
//! name, else `train`; index 0-based). A record without a reference answer is a `FieldError`.
//!
//! Known failure modes: a non-string `ground_truth` (list, object) gives no `reference.answer`
//! (verity's answer verifiers need a string); it is still kept and written back.

use super::grades::{dataset_name, had, key_order, opt_text, row_index, same_layout, split_name};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, Message, ObjectKind, Record};
use serde_json::{json, Value};

/// verl RL Parquet rows.
pub struct Verl;

fn message(value: &Value, i: usize) -> Result<Message, FieldError> {
    let object = value
        .as_object()
        .ok_or_else(|| FieldError::wrong_type(format!("prompt[{i}]"), "an object", value))?;
    let role = match object.get("role") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(FieldError::wrong_type(
                format!("prompt[{i}].role"),
                "a string",
                other,
            ))
        }
        None => return Err(FieldError::missing(format!("prompt[{i}].role"))),
    };
    // verl's messages always carry `content` (null for a message without text): a message
    // without the key is refused rather than read as one with `content: null`, which would
    // write back differently.
    let content = match object.get("content") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) => None,
        None => return Err(FieldError::missing(format!("prompt[{i}].content"))),
        Some(other) => {
            return Err(FieldError::wrong_type(
                format!("prompt[{i}].content"),
                "a string",
                other,
            ))
        }
    };
    let extra = object
        .iter()
        .filter(|(k, _)| k.as_str() != "role" && k.as_str() != "content")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Message {
        role,
        content,
        extra,
        ..Message::default()
    })
}

fn message_value(message: &Message) -> Value {
    let mut object = Fields::new();
    object.insert("role".into(), Value::String(message.role.clone()));
    object.insert(
        "content".into(),
        message.content.clone().map_or(Value::Null, Value::String),
    );
    for (k, v) in &message.extra {
        object.insert(k.clone(), v.clone());
    }
    Value::Object(object)
}

impl Layout for Verl {
    fn name(&self) -> &'static str {
        "verl"
    }

    fn description(&self) -> &'static str {
        "verl RL rows: {data_source, prompt[{role, content}], ability, reward_model{style, ground_truth}, extra_info}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let prompt = row
            .get("prompt")
            .and_then(Value::as_array)
            .is_some_and(|m| m.iter().all(|x| x.get("role").is_some()));
        let reward = row
            .get("reward_model")
            .is_some_and(|r| r.get("ground_truth").is_some());
        match (row.contains_key("data_source"), prompt, reward) {
            (true, true, true) => 100,
            (true, true, false) | (false, true, true) => 60,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        record.lineage.fields = key_order(&row);
        record.task.source.dataset = opt_text(&mut row, "data_source", &mut record.meta)?;
        record.task.domain = opt_text(&mut row, "ability", &mut record.meta)?;
        match row.get("prompt") {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    record.task.messages.push(message(item, i)?);
                }
                row.remove("prompt");
            }
            // A plain-text prompt (some custom sets): kept verbatim in meta.
            Some(Value::String(text)) => record.task.prompt = Some(text.clone()),
            Some(other) => return Err(FieldError::wrong_type("prompt", "a message list", other)),
            None => return Err(FieldError::missing("prompt")),
        }
        match row.get("reward_model") {
            Some(Value::Object(reward)) => {
                if let Some(Value::String(truth)) = reward.get("ground_truth") {
                    record.task.reference.answer = Some(truth.clone());
                }
            }
            None | Some(Value::Null) => {}
            Some(other) => return Err(FieldError::wrong_type("reward_model", "an object", other)),
        }
        if let Some(Value::Object(extra)) = row.get("extra_info") {
            record.task.source.split = extra
                .get("split")
                .and_then(Value::as_str)
                .map(str::to_string);
            record.task.source.row = match extra.get("index") {
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            };
            if record.task.prompt.is_none() {
                record.task.prompt = extra
                    .get("question")
                    .or_else(|| extra.get("problem"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
        }
        // `reward_model` and `extra_info` stay verbatim (see the module doc).
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let same = same_layout(record, self.name());
        let mut row = Fields::new();
        if !same || had(record, "data_source") {
            row.insert(
                "data_source".into(),
                Value::String(dataset_name(record).unwrap_or_else(|| "unknown".into())),
            );
        }
        let listed = same && had(record, "prompt") && !record.meta.contains_key("prompt");
        if listed || !record.task.messages.is_empty() {
            let prompt = record.task.messages.iter().map(message_value).collect();
            row.insert("prompt".into(), Value::Array(prompt));
        } else if !same {
            let problem = record
                .problem_text()
                .ok_or_else(|| FieldError::missing("task.prompt"))?;
            row.insert(
                "prompt".into(),
                json!([{"role": "user", "content": problem}]),
            );
        }
        if !same || had(record, "ability") {
            row.insert(
                "ability".into(),
                Value::String(record.task.domain.clone().unwrap_or_else(|| "math".into())),
            );
        }
        if same {
            // `reward_model` and `extra_info` (when the row had them) come back from meta.
            return Ok(row);
        }
        let answer = record
            .task
            .reference
            .answer
            .clone()
            .ok_or_else(|| FieldError::missing("task.reference.answer"))?;
        row.insert(
            "reward_model".into(),
            json!({"style": "rule", "ground_truth": answer}),
        );
        let split = split_name(record).unwrap_or_else(|| "train".into());
        let index = record
            .task
            .source
            .row
            .as_deref()
            .and_then(|r| r.parse::<u64>().ok())
            .or_else(|| row_index(record))
            .map_or(Value::Null, Value::from);
        row.insert("extra_info".into(), json!({"split": split, "index": index}));
        Ok(row)
    }
}
