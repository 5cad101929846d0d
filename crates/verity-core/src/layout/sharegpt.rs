//! `sharegpt`: `{conversations: [{from, value}], system?, tools?}` (ShareGPT, OpenThoughts,
//! LLaMA-Factory sharegpt with `system` and `tools` columns; `from` in human/user, gpt/assistant,
//! system, observation/tool, function_call).
//!
//! Mapping: `from` values become chat roles (human -> user, gpt -> assistant, observation ->
//! tool, function_call -> an assistant turn whose `tool_calls` holds the call JSON verbatim).
//! The `system` column becomes a leading system turn of `task.messages` (written back to the
//! column). The split into context and attempt, the think handling and the tool-trajectory
//! events are the same as for `messages` (see `chat_util`). Which spelling of the roles the
//! row used (`human`/`gpt` or `user`/`assistant`) is remembered in the lineage.
//!
//! Borderline choices: a record from another layout is written with `human`/`gpt` roles
//! (LLaMA-Factory's default) and a leading system turn goes to the `system` column.

use super::chat_util::{
    conversation_of, had_field, is_list_of, mapped_order, parse_messages, pop_system,
    render_messages, same_layout, split_conversation, Dialect, Style,
};
use super::{take_text, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, Message, ObjectKind, Record};
use serde_json::Value;

/// ShareGPT conversation rows.
pub struct ShareGpt;

const NAME: &str = "sharegpt";

impl Layout for ShareGpt {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "ShareGPT/OpenThoughts: {conversations: [{from, value}], system?, tools?}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        if !is_list_of(row.get("conversations"), "from") {
            return 0;
        }
        // ShareGPT preference rows (`chosen`/`rejected` turns) belong to `sharegpt_dpo`.
        if row.contains_key("chosen") || row.contains_key("rejected") {
            return 10;
        }
        90
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let order = mapped_order(&row, &["conversations", "system", "tools"]);
        let raw = row
            .remove("conversations")
            .ok_or_else(|| FieldError::missing("conversations"))?;
        let style = Style::sniff(
            raw.as_array().map(Vec::as_slice).unwrap_or(&[]),
            Dialect::ShareGpt,
        );
        let mut messages = parse_messages(raw, &style, "conversations")?;
        let mut keep = Fields::new();
        let mut fields = Vec::new();
        for key in order {
            match key.as_str() {
                "system" => {
                    if row.get("system").is_some_and(Value::is_null) {
                        continue;
                    }
                    if let Some(system) = take_text(&mut row, "system", &mut keep)? {
                        messages.insert(0, Message::new("system", system));
                        fields.push(key);
                    }
                }
                "tools" => match row.remove("tools") {
                    None => {}
                    Some(Value::Null) => {
                        keep.insert("tools".into(), Value::Null);
                    }
                    Some(tools) => {
                        keep.insert("__tools".into(), tools);
                        fields.push(key);
                    }
                },
                _ => fields.push(key),
            }
        }
        let split = split_conversation(messages, &style);
        let mut record = Record::new("", split.kind);
        record.task.tools = keep.remove("__tools");
        if record.object == ObjectKind::ToolTrajectory {
            record.task.domain = Some("tool_use".into());
        }
        record.task.messages = split.context;
        record.attempts.extend(split.attempt);
        fields.extend(style.markers());
        record.lineage.fields = fields;
        record.meta.extend(keep);
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let same = same_layout(record, NAME);
        let style = Style::of_record(record, Dialect::ShareGpt, same);
        let mut turns = conversation_of(record, &style)?;
        let mut row = Fields::new();
        if !same || had_field(record, "system") {
            if let Some(system) = pop_system(&mut turns) {
                row.insert("system".into(), Value::String(system));
            }
        }
        row.insert(
            "conversations".into(),
            render_messages(&turns, &style, same),
        );
        if let Some(tools) = &record.task.tools {
            if !same || had_field(record, "tools") {
                row.insert("tools".into(), tools.clone());
            }
        }
        Ok(row)
    }
}
