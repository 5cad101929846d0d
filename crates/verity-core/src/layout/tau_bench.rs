//! `tau_bench`: tau-bench runs. Two shapes: historical trajectories `{task_id, reward, info,
//! traj, trial}` (`traj` is an OpenAI message list with tool calls) and the few-shot files
//! `{messages_display}` (one conversation flattened to `role: content` lines).
//!
//! Mapping: `traj` is split like a `messages` conversation: the system policy and first user
//! turn are `task.messages`, every turn from the first assistant turn on is the attempt's
//! `messages`, summarised as events (one per tool call with its observation and an `error`
//! when the tool answered `Error: ...`; one per reply to the simulated user, whose next turn is
//! the observation). `reward` becomes imported feedback `reward` (environmental contract,
//! episode granularity; pass/fail for 0/1 with the score, else a score). `info` (the user
//! instruction, the gold actions and the reward breakdown), `task_id` and `trial` stay in
//! `meta`. The id is `<file>-<task_id>-<trial>` since each task is run several times.
//!
//! Object kind: `environment_episode` when a reward is present (tau-bench's reward is a
//! terminal predicate over the database state, recorded in `info.reward_info`), else
//! `tool_trajectory`. Few-shot rows are `tool_trajectory`: their `assistant: None` lines are
//! tool calls whose name was not kept, so those events have an observation but no tool.

use super::chat_util::{
    conversation_of, imported, is_list_of, main_attempt, number, parse_messages, render_messages,
    same_layout, split_conversation, take_number, Dialect, Style,
};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{
    Contract, Feedback, Fields, Granularity, Message, ObjectKind, Record, Verdict, VerifierId,
};
use serde_json::Value;

/// tau-bench trajectories and few-shot conversations.
pub struct TauBench;

const NAME: &str = "tau_bench";
const ROLES: [&str; 4] = ["user", "assistant", "tool", "system"];

/// Split a `messages_display` string into turns; `None` unless rendering them gives the text
/// back exactly.
fn parse_display(text: &str) -> Option<Vec<Message>> {
    let starts_turn = |at: &str| ROLES.iter().find(|r| at.starts_with(&format!("{r}: ")));
    let mut turns: Vec<Message> = Vec::new();
    let mut current: Option<(&str, usize)> = None;
    let mut offset = 0;
    for line in text.split('\n') {
        if let Some(role) = starts_turn(line) {
            if let Some((r, start)) = current.take() {
                turns.push(display_turn(r, &text[start..offset - 1]));
            }
            current = Some((role, offset + role.len() + 2));
        } else if current.is_none() {
            return None;
        }
        offset += line.len() + 1;
    }
    if let Some((r, start)) = current {
        turns.push(display_turn(r, &text[start.min(text.len())..]));
    }
    (render_display(&turns) == text).then_some(turns)
}

fn display_turn(role: &str, body: &str) -> Message {
    let mut message = Message::new(role, body);
    if role == "assistant" && body == "None" {
        message.content = None;
    }
    message
}

fn render_display(turns: &[Message]) -> String {
    turns
        .iter()
        .map(|m| format!("{}: {}", m.role, m.content.as_deref().unwrap_or("None")))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Layout for TauBench {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "tau-bench: {task_id, reward, info, traj, trial} runs and {messages_display} few-shot conversations"
    }

    fn detect(&self, row: &Fields) -> u8 {
        if is_list_of(row.get("traj"), "role") && row.contains_key("task_id") {
            return 95;
        }
        match row.get("messages_display").and_then(Value::as_str) {
            Some(text) if ROLES.iter().any(|r| text.starts_with(&format!("{r}: "))) => 90,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, ctx: &RowContext) -> Result<Record, FieldError> {
        if let Some(Value::String(text)) = row.get("messages_display") {
            let mut record = Record::new("", ObjectKind::ToolTrajectory);
            record.task.domain = Some("tool_use".into());
            if let Some(turns) = parse_display(text) {
                row.remove("messages_display");
                let split = split_conversation(turns, &Style::new(Dialect::OpenAi));
                record.task.messages = split.context;
                record.attempts.extend(split.attempt);
                record.lineage.fields = vec!["messages_display".into(), "@display".into()];
            }
            super::absorb_meta(&mut record.meta, row);
            return Ok(record);
        }
        // All keys are listed (task_id and trial make the id, info holds the terminal
        // predicate) so the row's key order survives the round trip.
        let fields: Vec<String> = row.keys().cloned().collect();
        let raw = row
            .remove("traj")
            .ok_or_else(|| FieldError::missing("traj"))?;
        let style = Style::sniff(
            raw.as_array().map(Vec::as_slice).unwrap_or(&[]),
            Dialect::OpenAi,
        );
        let turns = parse_messages(raw, &style, "traj")?;
        let split = split_conversation(turns, &style);
        let mut record = Record::new("", ObjectKind::ToolTrajectory);
        record.task.domain = Some("tool_use".into());
        record.task.messages = split.context;
        let reward = take_number(&mut row, "reward", &mut record.meta)?;
        let mut attempt = split.attempt.unwrap_or_default();
        if let Some(reward) = reward {
            let id = VerifierId::imported("reward", Contract::Environmental);
            let feedback = if reward == 0.0 || reward == 1.0 {
                Feedback::from_bool(id, Granularity::Episode, reward == 1.0).with_score(reward)
            } else {
                Feedback::new(id, Granularity::Episode, Verdict::Score).with_score(reward)
            };
            attempt.feedback.push(feedback);
            record.object = ObjectKind::EnvironmentEpisode;
        }
        record.attempts.push(attempt);
        let part = |key: &str| match row.get(key) {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        if let Some(task) = part("task_id") {
            record.id = match part("trial") {
                Some(trial) => format!("{}-{task}-{trial}", ctx.dataset),
                None => format!("{}-{task}", ctx.dataset),
            };
        }
        let mut fields = fields;
        fields.extend(style.markers());
        record.lineage.fields = fields;
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let same = same_layout(record, NAME);
        let mut row = Fields::new();
        let from_traj = record.lineage.fields.iter().any(|f| f == "traj");
        let from_display = record.lineage.fields.iter().any(|f| f == "@display");
        if same && !from_traj && !from_display {
            // A few-shot string that did not parse exactly: kept verbatim in meta.
            return Ok(row);
        }
        if same && record.lineage.fields.iter().any(|f| f == "@display") {
            let turns = conversation_of(record, &Style::new(Dialect::OpenAi))?;
            row.insert(
                "messages_display".into(),
                Value::String(render_display(&turns)),
            );
            return Ok(row);
        }
        let style = Style::of_record(record, Dialect::OpenAi, same);
        let turns = conversation_of(record, &style)?;
        if let Some(reward) = main_attempt(record)
            .and_then(|a| imported(a, "reward"))
            .and_then(|f| {
                f.score
                    .or_else(|| f.passed().map(|p| if p { 1.0 } else { 0.0 }))
            })
        {
            row.insert("reward".into(), number(reward));
        }
        row.insert("traj".into(), render_messages(&turns, &style, same));
        Ok(row)
    }
}
