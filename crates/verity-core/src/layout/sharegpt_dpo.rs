//! `sharegpt_dpo`: LLaMA-Factory ShareGPT preference rows `{conversations: [{from, value}],
//! chosen: {from, value}, rejected: {from, value}, system?, tools?}`.
//!
//! Mapping: `conversations` (plus the `system` column as a leading system turn) is the context
//! in `task.messages`; `chosen` / `rejected` are one assistant turn each, read like the final
//! turn of a `sharegpt` conversation (think tags split into `trace`). The record is a
//! `preference_pair`.
//!
//! Borderline choices: when a record from another layout has several chosen turns, only the
//! last one can be written (the layout holds one turn per side).

use super::chat_util::{
    attempt_from_message, attempt_turns, context_turns, had_field, mapped_order, parse_message,
    parse_messages, pop_system, render_message, render_messages, same_layout, Dialect, Style,
};
use super::dpo::pair;
use super::{take_text, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{AttemptRole, Fields, Message, ObjectKind, Record};
use serde_json::Value;

/// ShareGPT preference rows.
pub struct ShareGptDpo;

const NAME: &str = "sharegpt_dpo";

impl Layout for ShareGptDpo {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "ShareGPT preference: {conversations: [{from, value}], chosen: {from, value}, rejected: {from, value}}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let turn = |k: &str| {
            row.get(k)
                .and_then(|v| v.get("from"))
                .is_some_and(Value::is_string)
        };
        if super::chat_util::is_list_of(row.get("conversations"), "from")
            && turn("chosen")
            && turn("rejected")
        {
            95
        } else {
            0
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut fields = mapped_order(
            &row,
            &["conversations", "chosen", "rejected", "system", "tools"],
        );
        let conversations = row
            .remove("conversations")
            .ok_or_else(|| FieldError::missing("conversations"))?;
        let chosen = row
            .remove("chosen")
            .ok_or_else(|| FieldError::missing("chosen"))?;
        let rejected = row
            .remove("rejected")
            .ok_or_else(|| FieldError::missing("rejected"))?;
        let mut all: Vec<Value> = conversations.as_array().cloned().unwrap_or_default();
        all.push(chosen.clone());
        all.push(rejected.clone());
        let style = Style::sniff(&all, Dialect::ShareGpt);
        let mut record = Record::new("", ObjectKind::PreferencePair);
        let mut context = parse_messages(conversations, &style, "conversations")?;
        if row.get("system").is_some_and(Value::is_null) {
            fields.retain(|f| f != "system");
        } else if let Some(system) = take_text(&mut row, "system", &mut record.meta)? {
            context.insert(0, Message::new("system", system));
        } else {
            fields.retain(|f| f != "system");
        }
        match row.remove("tools") {
            None => fields.retain(|f| f != "tools"),
            Some(Value::Null) => {
                fields.retain(|f| f != "tools");
                record.meta.insert("tools".into(), Value::Null);
            }
            Some(tools) => record.task.tools = Some(tools),
        }
        record.task.messages = context;
        for (value, key, role) in [
            (chosen, "chosen", AttemptRole::Chosen),
            (rejected, "rejected", AttemptRole::Rejected),
        ] {
            let message = parse_message(value, &style, key)?;
            let mut attempt = attempt_from_message(message, &style);
            attempt.role = role;
            record.attempts.push(attempt);
        }
        fields.extend(style.markers());
        record.lineage.fields = fields;
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let same = same_layout(record, NAME);
        let style = Style::of_record(record, Dialect::ShareGpt, same);
        let (chosen, rejected) = pair(record)?;
        let mut context = context_turns(record)?;
        let mut row = Fields::new();
        if !same || had_field(record, "system") {
            if let Some(system) = pop_system(&mut context) {
                row.insert("system".into(), Value::String(system));
            }
        }
        row.insert(
            "conversations".into(),
            render_messages(&context, &style, same),
        );
        for (key, attempt) in [("chosen", chosen), ("rejected", rejected)] {
            let turn = attempt_turns(attempt, &style)
                .pop()
                .ok_or_else(|| FieldError::missing(format!("attempts[role={key}].response")))?;
            row.insert(key.into(), render_message(&turn, &style, same));
        }
        if let Some(tools) = &record.task.tools {
            if !same || had_field(record, "tools") {
                row.insert("tools".into(), tools.clone());
            }
        }
        Ok(row)
    }
}
