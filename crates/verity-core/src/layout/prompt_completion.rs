//! `prompt_completion`: TRL prompt/completion rows, standard (`{prompt: str, completion: str}`)
//! or conversational (`{prompt: [messages], completion: [messages]}`), optionally with a KTO
//! `label` (unpaired preference: desirable or not).
//!
//! Mapping: a string prompt goes to `task.prompt`, a message list to `task.messages`. The
//! completion is the attempt: a leading `<think>` block (or a reasoning field of the assistant
//! message) is the trace, the rest the response. Completions of several turns or with tool
//! calls stay whole in `attempt.messages` (a `tool_trajectory` with events when tools are
//! used). A boolean `label` becomes imported feedback `label` (judgment-required, answer
//! granularity), written back from that feedback.
//!
//! Borderline choices: writing a record from another layout uses the conversational form when
//! the record has chat context (`task.messages`), the standard form otherwise; with no attempt,
//! the reference solution (else answer) is the completion.

use super::chat_util::{
    attempt_from_message, attempt_turns, context_turns, events_from, main_attempt, mapped_order,
    parse_messages, put_label, render_messages, same_layout, take_label, uses_tools, Dialect,
    Style,
};
use super::{render_think, split_think, take_text, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Fields, ObjectKind, Record};
use serde_json::Value;

/// TRL prompt/completion rows.
pub struct PromptCompletion;

const NAME: &str = "prompt_completion";
const PROMPT_LIST: &str = "@prompt-list";
const COMPLETION_LIST: &str = "@completion-list";

fn is_text_or_messages(value: Option<&Value>) -> bool {
    match value {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|m| m.get("role").is_some_and(Value::is_string))
        }
        _ => false,
    }
}

impl Layout for PromptCompletion {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "TRL prompt/completion: {prompt, completion, label?} (strings or message lists; KTO label)"
    }

    fn detect(&self, row: &Fields) -> u8 {
        if !is_text_or_messages(row.get("prompt")) || !is_text_or_messages(row.get("completion")) {
            return 0;
        }
        // verl RL rows and rollout dumps have their own adapters.
        if ["reward_model", "data_source", "generations"]
            .iter()
            .any(|k| row.contains_key(*k))
        {
            return 20;
        }
        85
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let order = mapped_order(&row, &["prompt", "completion", "label"]);
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        let prompt = row
            .remove("prompt")
            .filter(|v| !v.is_null())
            .ok_or_else(|| FieldError::missing("prompt"))?;
        let completion = row
            .remove("completion")
            .filter(|v| !v.is_null())
            .ok_or_else(|| FieldError::missing("completion"))?;
        let mut markers: Vec<String> = Vec::new();
        if prompt.is_array() {
            markers.push(PROMPT_LIST.into());
        }
        if completion.is_array() {
            markers.push(COMPLETION_LIST.into());
        }
        let mut lists: Vec<Value> = Vec::new();
        for value in [&prompt, &completion] {
            if let Value::Array(items) = value {
                lists.extend(items.iter().cloned());
            }
        }
        let style = Style::sniff(&lists, Dialect::OpenAi);
        match prompt {
            Value::Array(_) => record.task.messages = parse_messages(prompt, &style, "prompt")?,
            other => {
                let mut one = Fields::new();
                one.insert("prompt".into(), other);
                record.task.prompt = take_text(&mut one, "prompt", &mut record.meta)?;
            }
        }
        let mut attempt = match completion {
            Value::Array(_) => {
                let mut turns = parse_messages(completion, &style, "completion")?;
                if turns.len() == 1 && !uses_tools(&turns) {
                    attempt_from_message(turns.remove(0), &style)
                } else {
                    let mut attempt = Attempt {
                        events: if uses_tools(&turns) {
                            events_from(&turns)
                        } else {
                            Vec::new()
                        },
                        ..Attempt::default()
                    };
                    if let Some(last) = turns.last().filter(|m| m.role == "assistant") {
                        attempt.response = last.content.clone();
                        attempt.trace = last.reasoning.clone();
                    }
                    attempt.messages = turns;
                    attempt
                }
            }
            other => {
                let mut one = Fields::new();
                one.insert("completion".into(), other);
                let text = take_text(&mut one, "completion", &mut record.meta)?.unwrap_or_default();
                let (trace, response) = split_think(&text);
                Attempt {
                    trace,
                    response: Some(response),
                    ..Attempt::default()
                }
            }
        };
        let labelled = take_label(&mut row, Some(&mut attempt));
        record.object = if !attempt.events.is_empty() {
            ObjectKind::ToolTrajectory
        } else if attempt.trace.is_some() {
            ObjectKind::PromptTraceAnswer
        } else {
            ObjectKind::PromptAnswer
        };
        record.attempts.push(attempt);
        let mut fields: Vec<String> = order
            .into_iter()
            .filter(|k| k != "label" || labelled)
            .collect();
        fields.extend(markers);
        fields.extend(style.markers());
        record.lineage.fields = fields;
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let same = same_layout(record, NAME);
        let style = Style::of_record(record, Dialect::OpenAi, same);
        let attempt = main_attempt(record);
        let (prompt_list, completion_list) = if same {
            (
                record.lineage.fields.iter().any(|f| f == PROMPT_LIST),
                record.lineage.fields.iter().any(|f| f == COMPLETION_LIST),
            )
        } else {
            let chat = !record.task.messages.is_empty();
            (chat, chat)
        };
        let mut row = Fields::new();
        if prompt_list {
            let context = context_turns(record)?;
            row.insert("prompt".into(), render_messages(&context, &style, same));
        } else {
            let prompt = record
                .problem_text()
                .ok_or_else(|| FieldError::missing("task.prompt"))?;
            row.insert("prompt".into(), Value::String(prompt.to_string()));
        }
        if completion_list {
            let turns = match attempt {
                Some(attempt) => attempt_turns(attempt, &style),
                None => reference_text(record)
                    .map(|t| vec![crate::record::Message::new("assistant", t)])
                    .ok_or_else(|| FieldError::missing("attempts"))?,
            };
            row.insert("completion".into(), render_messages(&turns, &style, same));
        } else {
            let completion = match attempt {
                Some(a) => render_think(a.trace.as_deref(), a.response.as_deref().unwrap_or("")),
                None => reference_text(record).ok_or_else(|| FieldError::missing("attempts"))?,
            };
            row.insert("completion".into(), Value::String(completion));
        }
        put_label(&mut row, attempt);
        Ok(row)
    }
}

fn reference_text(record: &Record) -> Option<String> {
    let reference = &record.task.reference;
    reference
        .solution
        .clone()
        .or_else(|| reference.answer.clone())
}
