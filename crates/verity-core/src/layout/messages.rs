//! `messages`: chat rows `{messages: [{role, content}], tools?, label?}` (TRL conversational,
//! OpenAI chat, LLaMA-Factory `messages` with KTO `label`, LLaMA-Factory v1 content parts
//! `[{type: text|reasoning|tool_call, value}]`).
//!
//! Mapping: turns before the answer go to `task.messages`; the final assistant turn becomes
//! the attempt (`trace` from a `<think>` block, a `reasoning_content`/`reasoning`/`thinking`
//! field or a `reasoning` part; `response` the rest). Conversations with tool calls or tool
//! turns are `tool_trajectory` records: every turn from the first assistant turn on stays in
//! `attempt.messages` and is summarised as events (one per tool call with its observation,
//! one per plain reply). A boolean `label` column (KTO) becomes imported feedback `label`.
//! `tools` goes to `task.tools` verbatim (a JSON string stays a string).
//!
//! Borderline choices: a conversation ending with a user turn has no attempt
//! (`prompt_answer` with context only). Multi-turn chats without tools keep earlier assistant
//! turns in the context. Rows that also carry rollout columns (`generations`) are left to the
//! rollout adapters (detection returns 0).

use super::chat_util::{
    conversation_of, had_field, is_list_of, main_attempt, mapped_order, parse_messages, put_label,
    render_messages, same_layout, split_conversation, take_label, Dialect, Style,
};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, Record};
use serde_json::Value;

/// Chat-message rows.
pub struct Messages;

const NAME: &str = "messages";

impl Layout for Messages {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "chat: {messages: [{role, content}], tools?, label?} (TRL conversational, OpenAI, LLaMA-Factory)"
    }

    fn detect(&self, row: &Fields) -> u8 {
        if !is_list_of(row.get("messages"), "role") {
            return 0;
        }
        // Rollout dumps and preference rows that also carry `messages` belong elsewhere.
        if ["generations", "chosen", "rejected", "completion", "traj"]
            .iter()
            .any(|k| row.contains_key(*k))
        {
            return 10;
        }
        85
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let order = mapped_order(&row, &["messages", "tools", "label"]);
        let raw = row
            .remove("messages")
            .ok_or_else(|| FieldError::missing("messages"))?;
        let style = Style::sniff(
            raw.as_array().map(Vec::as_slice).unwrap_or(&[]),
            Dialect::OpenAi,
        );
        let messages = parse_messages(raw, &style, "messages")?;
        let mut split = split_conversation(messages, &style);
        let mut record = Record::new("", split.kind);
        let mut fields: Vec<String> = vec![];
        let labelled = take_label(&mut row, split.attempt.as_mut());
        for key in order {
            match key.as_str() {
                "tools" => match row.remove("tools") {
                    Some(Value::Null) => {
                        row.insert("tools".into(), Value::Null);
                    }
                    Some(tools) => {
                        record.task.tools = Some(tools);
                        fields.push(key);
                    }
                    None => {}
                },
                "label" if !labelled => {}
                _ => fields.push(key),
            }
        }
        fields.extend(style.markers());
        record.task.messages = split.context;
        if record.object == crate::record::ObjectKind::ToolTrajectory {
            record.task.domain = Some("tool_use".into());
        }
        record.attempts.extend(split.attempt);
        record.lineage.fields = fields;
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let same = same_layout(record, NAME);
        let style = Style::of_record(record, Dialect::OpenAi, same);
        let turns = conversation_of(record, &style)?;
        let mut row = Fields::new();
        row.insert("messages".into(), render_messages(&turns, &style, same));
        if let Some(tools) = &record.task.tools {
            if !same || had_field(record, "tools") {
                row.insert("tools".into(), tools.clone());
            }
        }
        put_label(&mut row, main_attempt(record));
        Ok(row)
    }
}
