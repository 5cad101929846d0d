//! `toolbench`: ToolBench DFSDT answer files (`{win, tree, forward_args, compare_candidates,
//! answer_generation: {valid_data, query, function, chain, train_messages, final_answer,
//! finish_type, query_count, total_tokens}}`).
//!
//! Mapping: `win` becomes imported feedback `win` (contract `unknown`: it is the search's own
//! report that a `give_answer` leaf was reached, not an external check; episode granularity)
//! and is written back from it. Everything else stays verbatim in `meta` (the search tree has
//! no place in a record) and the record is derived from it: `task.prompt` = `query`,
//! `task.tools` = `function`, the conversation = the last (longest) `train_messages` list,
//! split like a `messages` conversation into context and attempt turns with one event per
//! function call (observations `{"error": "...", "response": ...}` with a non-empty error are
//! failed actions), `response` = the `final_answer` text of the `Finish` call, `finish_reason` =
//! `finish_type`.
//!
//! Object kind: `tool_trajectory` (no environment state). Edits of the derived fields are not
//! written back for records read from ToolBench (meta wins).

use super::chat_util::{
    conversation_of, imported, main_attempt, parse_messages, render_messages, same_layout,
    split_conversation, Dialect, Style,
};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Contract, Feedback, Fields, Granularity, ObjectKind, Record, VerifierId};
use serde_json::{Map, Value};

/// ToolBench answer trees.
pub struct ToolBench;

const NAME: &str = "toolbench";

impl Layout for ToolBench {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "ToolBench DFSDT answers: {win, tree, answer_generation: {query, function, train_messages, final_answer, finish_type}}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        match row.get("answer_generation").and_then(Value::as_object) {
            Some(ag) if ag.contains_key("train_messages") || ag.contains_key("final_answer") => 95,
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::ToolTrajectory);
        record.task.domain = Some("tool_use".into());
        let mut fields = Vec::new();
        let win = match row.get("win") {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        };
        // Every key is listed (the unmapped ones are derived from) so the key order survives.
        for key in row.keys() {
            if key != "win" || win.is_some() {
                fields.push(key.clone());
            }
        }
        let ag = match row.get("answer_generation") {
            Some(Value::Object(ag)) => ag,
            Some(other) => {
                return Err(FieldError::wrong_type(
                    "answer_generation",
                    "an object",
                    other,
                ))
            }
            None => return Err(FieldError::missing("answer_generation")),
        };
        record.task.prompt = ag.get("query").and_then(Value::as_str).map(str::to_string);
        record.task.tools = ag.get("function").filter(|v| !v.is_null()).cloned();
        let style = Style::new(Dialect::OpenAi);
        let conversation = match ag.get("train_messages") {
            Some(Value::Array(lists)) => lists.last().cloned(),
            _ => None,
        };
        let mut attempt = None;
        if let Some(list) = conversation {
            let turns = parse_messages(list, &style, "answer_generation.train_messages[-1]")?;
            let split = split_conversation(turns, &style);
            record.task.messages = split.context;
            attempt = split.attempt;
        }
        let mut attempt = attempt.unwrap_or_default();
        attempt.finish_reason = ag
            .get("finish_type")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(Value::String(answer)) = ag.get("final_answer") {
            attempt.response = match serde_json::from_str::<Value>(answer) {
                Ok(Value::Object(map)) => map
                    .get("final_answer")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| Some(answer.clone())),
                _ => Some(answer.clone()).filter(|a| !a.is_empty()),
            };
        }
        if let Some(win) = win {
            row.remove("win");
            attempt.feedback.push(Feedback::from_bool(
                VerifierId::imported("win", Contract::Unknown),
                Granularity::Episode,
                win,
            ));
        }
        record.attempts.push(attempt);
        record.lineage.fields = fields;
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let mut row = Fields::new();
        let attempt = main_attempt(record);
        if let Some(win) = attempt
            .and_then(|a| imported(a, "win"))
            .and_then(Feedback::passed)
        {
            row.insert("win".into(), Value::Bool(win));
        }
        if same_layout(record, NAME) && record.meta.contains_key("answer_generation") {
            return Ok(row);
        }
        let style = Style::new(Dialect::OpenAi);
        let turns = conversation_of(record, &style)?;
        let mut ag = Map::new();
        if let Some(query) = record.problem_text() {
            ag.insert("query".into(), Value::String(query.to_string()));
        }
        if let Some(tools) = &record.task.tools {
            ag.insert("function".into(), tools.clone());
        }
        ag.insert(
            "train_messages".into(),
            Value::Array(vec![render_messages(&turns, &style, false)]),
        );
        if let Some(answer) = attempt.and_then(|a| a.response.clone()) {
            ag.insert("final_answer".into(), Value::String(answer));
        }
        if let Some(finish) = attempt.and_then(|a| a.finish_reason.clone()) {
            ag.insert("finish_type".into(), Value::String(finish));
        }
        row.insert("answer_generation".into(), Value::Object(ag));
        Ok(row)
    }
}
