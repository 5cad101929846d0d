//! `dpo`: preference rows `{prompt?, chosen, rejected}` (TRL preference, standard strings or
//! conversational message lists, explicit or implicit prompt) and LLaMA-Factory v1
//! `{chosen_messages, rejected_messages}` (content parts with `loss_weight`).
//!
//! Mapping: a `preference_pair` with a `chosen` and a `rejected` attempt. An explicit prompt
//! goes to `task.prompt` (string) or `task.messages` (list). With an implicit prompt (chosen and
//! rejected are whole conversations), the longest common prefix of turns is the context and the
//! remaining turns are the attempts. A single plain assistant turn becomes `trace`/`response`
//! (think tags or reasoning field split exactly); anything richer stays in `attempt.messages`.
//! Other columns (`score_chosen`, ...) stay in `meta`.
//!
//! Borderline choices: implicit string pairs are handled by `hh_rlhf` when they are
//! `\n\nHuman:` transcripts; other implicit strings keep the whole text as the response.
//! Writing from another layout uses message lists when the record has chat context.

use super::chat_util::{
    attempt_from_message, attempt_turns, attempt_with, context_turns, events_from, had_field,
    mapped_order, parse_messages, render_messages, same_layout, uses_tools, Dialect, Style,
};
use super::{render_think, split_think, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, AttemptRole, Fields, Message, ObjectKind, Record};
use serde_json::Value;

/// TRL / LLaMA-Factory v1 preference rows.
pub struct Dpo;

const NAME: &str = "dpo";
const LISTS_MARKER: &str = "@lists";

fn keys_of(row: &Fields) -> Option<(&'static str, &'static str)> {
    if row.contains_key("chosen") && row.contains_key("rejected") {
        Some(("chosen", "rejected"))
    } else if row.contains_key("chosen_messages") && row.contains_key("rejected_messages") {
        Some(("chosen_messages", "rejected_messages"))
    } else {
        None
    }
}

fn text_or_list(value: Option<&Value>) -> bool {
    match value {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => items
            .iter()
            .all(|m| m.get("role").is_some_and(Value::is_string)),
        _ => false,
    }
}

/// An attempt from the turns after the context.
pub(crate) fn attempt_from_turns(
    mut turns: Vec<Message>,
    style: &Style,
    role: AttemptRole,
) -> Attempt {
    let mut attempt = if turns.len() == 1 && !uses_tools(&turns) {
        attempt_from_message(turns.remove(0), style)
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
    };
    attempt.role = role;
    attempt
}

fn text_attempt(value: Value, field: &str, role: AttemptRole) -> Result<Attempt, FieldError> {
    match value {
        Value::String(text) => {
            let (trace, response) = split_think(&text);
            Ok(Attempt {
                role,
                trace,
                response: Some(response),
                ..Attempt::default()
            })
        }
        other => Err(FieldError::wrong_type(
            field,
            "a string or a list of messages",
            &other,
        )),
    }
}

/// The chosen and rejected attempts of a record, or an error naming the missing one.
pub(crate) fn pair(record: &Record) -> Result<(&Attempt, &Attempt), FieldError> {
    let chosen = attempt_with(record, AttemptRole::Chosen)
        .ok_or_else(|| FieldError::missing("attempts[role=chosen]"))?;
    let rejected = attempt_with(record, AttemptRole::Rejected)
        .ok_or_else(|| FieldError::missing("attempts[role=rejected]"))?;
    Ok((chosen, rejected))
}

impl Layout for Dpo {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "DPO: {prompt?, chosen, rejected} (strings or message lists; implicit prompt) and LLaMA-Factory v1 {chosen_messages, rejected_messages}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let Some((c, r)) = keys_of(row) else {
            return 0;
        };
        if !text_or_list(row.get(c)) || !text_or_list(row.get(r)) {
            return 0;
        }
        if row.contains_key("prompt") && !text_or_list(row.get("prompt")) {
            return 0;
        }
        80
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let (ck, rk) = keys_of(&row).ok_or_else(|| FieldError::missing("chosen"))?;
        let mut fields = mapped_order(&row, &["prompt", ck, rk]);
        if row.get("prompt").is_some_and(Value::is_null) {
            // A null prompt stays in meta; the pair is read with an implicit prompt.
            fields.retain(|f| f != "prompt");
            if let Some(null) = row.remove("prompt") {
                row.insert("prompt".into(), null);
            }
        }
        let prompt = match row.get("prompt") {
            Some(Value::Null) => None,
            _ => row.remove("prompt"),
        };
        let chosen = row.remove(ck).ok_or_else(|| FieldError::missing(ck))?;
        let rejected = row.remove(rk).ok_or_else(|| FieldError::missing(rk))?;
        let mut record = Record::new("", ObjectKind::PreferencePair);
        let lists = chosen.is_array() && rejected.is_array();
        if lists {
            let mut all: Vec<Value> = Vec::new();
            for value in [prompt.as_ref(), Some(&chosen), Some(&rejected)]
                .into_iter()
                .flatten()
            {
                if let Value::Array(items) = value {
                    all.extend(items.iter().cloned());
                }
            }
            let style = Style::sniff(&all, Dialect::OpenAi);
            let mut chosen = parse_messages(chosen, &style, ck)?;
            let mut rejected = parse_messages(rejected, &style, rk)?;
            match prompt {
                Some(Value::Array(_)) => {
                    record.task.messages =
                        parse_messages(prompt.unwrap_or(Value::Null), &style, "prompt")?
                }
                Some(Value::String(p)) => record.task.prompt = Some(p),
                Some(other) => {
                    return Err(FieldError::wrong_type(
                        "prompt",
                        "a string or a list of messages",
                        &other,
                    ))
                }
                None => {
                    // Implicit prompt: the longest common prefix of turns.
                    let mut common = chosen
                        .iter()
                        .zip(&rejected)
                        .take_while(|(a, b)| a == b)
                        .count();
                    // Leave at least one turn in each attempt.
                    common = common
                        .min(chosen.len().saturating_sub(1))
                        .min(rejected.len().saturating_sub(1));
                    let rest = chosen.split_off(common);
                    record.task.messages = chosen;
                    chosen = rest;
                    rejected = rejected.split_off(common);
                }
            }
            record
                .attempts
                .push(attempt_from_turns(chosen, &style, AttemptRole::Chosen));
            record
                .attempts
                .push(attempt_from_turns(rejected, &style, AttemptRole::Rejected));
            fields.push(LISTS_MARKER.into());
            fields.extend(style.markers());
        } else {
            match prompt {
                Some(Value::String(p)) => record.task.prompt = Some(p),
                Some(other) => return Err(FieldError::wrong_type("prompt", "a string", &other)),
                None => {}
            }
            record
                .attempts
                .push(text_attempt(chosen, ck, AttemptRole::Chosen)?);
            record
                .attempts
                .push(text_attempt(rejected, rk, AttemptRole::Rejected)?);
        }
        record.lineage.fields = fields;
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let same = same_layout(record, NAME);
        let (chosen, rejected) = pair(record)?;
        let (ck, rk) = if same && had_field(record, "chosen_messages") {
            ("chosen_messages", "rejected_messages")
        } else {
            ("chosen", "rejected")
        };
        let explicit_prompt = !same || had_field(record, "prompt");
        let lists = if same {
            had_field(record, LISTS_MARKER)
        } else {
            !record.task.messages.is_empty()
        };
        let mut row = Fields::new();
        if lists {
            let style = Style::of_record(record, Dialect::OpenAi, same);
            if explicit_prompt {
                match (&record.task.prompt, record.task.messages.is_empty()) {
                    (Some(p), true) if same => {
                        row.insert("prompt".into(), Value::String(p.clone()));
                    }
                    _ => {
                        row.insert(
                            "prompt".into(),
                            render_messages(&context_turns(record)?, &style, same),
                        );
                    }
                }
                row.insert(
                    ck.into(),
                    render_messages(&attempt_turns(chosen, &style), &style, same),
                );
                row.insert(
                    rk.into(),
                    render_messages(&attempt_turns(rejected, &style), &style, same),
                );
            } else {
                for (key, attempt) in [(ck, chosen), (rk, rejected)] {
                    let mut turns = record.task.messages.clone();
                    turns.extend(attempt_turns(attempt, &style));
                    row.insert(key.into(), render_messages(&turns, &style, same));
                }
            }
        } else {
            if explicit_prompt {
                let prompt = record
                    .problem_text()
                    .ok_or_else(|| FieldError::missing("task.prompt"))?;
                row.insert("prompt".into(), Value::String(prompt.to_string()));
            }
            for (key, attempt) in [(ck, chosen), (rk, rejected)] {
                let text = render_think(
                    attempt.trace.as_deref(),
                    attempt.response.as_deref().unwrap_or(""),
                );
                row.insert(key.into(), Value::String(text));
            }
        }
        Ok(row)
    }
}
