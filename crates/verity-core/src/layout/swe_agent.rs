//! `swe_agent`: SWE-agent trajectory files (`*.traj`: one JSON object `{environment,
//! trajectory: [{action, observation, response, thought, state, ...}], history: [chat turns],
//! info: {exit_status, submission, model_stats, ...}, replay_config?}`).
//!
//! Mapping: every field stays verbatim in `meta` (the step objects carry `response`, `state` and
//! `execution_time` that an [`Event`] has no place for, and `history` repeats the steps as chat
//! turns), so the file round-trips exactly; the record is *derived* from it: one event per
//! trajectory step (`thought`, `action`, `tool` = the command name, `observation`, `error` when
//! the observation reports a failure: a traceback, `command not found`, a rejected edit, ...),
//! `state_diff` = the submitted patch on the final `submit` step, `response` = the submission,
//! `finish_reason` = `exit_status`, `task.prompt` = the issue text from the first non-demo user
//! turn of `history`.
//!
//! Object kind: `environment_episode` when the run has a submission or an exit status (the
//! patch is the state change; the exit status the terminal predicate), else `tool_trajectory`.
//! `exit_status` is not a grade: no feedback is imported. Writing a record from another layout
//! produces a minimal `.traj` object (steps from the events, `info` from the attempt). Edits of
//! the derived fields are not written back for records read from a `.traj` (meta wins).

use super::chat_util::{first_line, observation_error, same_layout};
use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, Event, Fields, ObjectKind, Record};
use serde_json::{Map, Value};

/// SWE-agent `.traj` files.
pub struct SweAgent;

const NAME: &str = "swe_agent";

/// A failure reported in an SWE-agent observation.
fn swe_error(observation: &str) -> Option<String> {
    if let Some(error) = observation_error(observation) {
        return Some(error);
    }
    const PATTERNS: [&str; 7] = [
        "Your proposed edit has introduced new syntax error",
        "command not found",
        "No such file or directory",
        "SyntaxError:",
        "is not a valid",
        "Usage: ",
        "File not found",
    ];
    PATTERNS.iter().find_map(|p| {
        observation.find(p).map(|pos| {
            let start = observation[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0);
            first_line(&observation[start..])
        })
    })
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_string)
}

/// The issue text of the first non-demo user turn of `history`.
fn issue_text(history: Option<&Value>) -> Option<String> {
    let turn = history?.as_array()?.iter().find(|t| {
        t.get("role").and_then(Value::as_str) == Some("user")
            && !t.get("is_demo").and_then(Value::as_bool).unwrap_or(false)
    })?;
    let content = match turn.get("content")? {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .concat(),
        _ => return None,
    };
    let body = match content.find("ISSUE:\n") {
        Some(pos) => {
            let rest = &content[pos + "ISSUE:\n".len()..];
            rest.find("\n\nINSTRUCTIONS:")
                .map_or(rest, |end| &rest[..end])
        }
        None => content.as_str(),
    };
    Some(body.to_string())
}

impl Layout for SweAgent {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "SWE-agent .traj: {environment, trajectory: [{action, observation, thought, ...}], history, info: {exit_status, submission}}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        let steps = row
            .get("trajectory")
            .and_then(Value::as_array)
            .is_some_and(|steps| {
                steps
                    .iter()
                    .all(|s| s.get("action").is_some() && s.get("observation").is_some())
            });
        if steps && row.get("info").is_some_and(Value::is_object) {
            95
        } else {
            0
        }
    }

    fn to_record(&self, row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let steps = match row.get("trajectory") {
            Some(Value::Array(steps)) => steps,
            Some(other) => {
                return Err(FieldError::wrong_type(
                    "trajectory",
                    "a list of steps",
                    other,
                ))
            }
            None => return Err(FieldError::missing("trajectory")),
        };
        let info = row.get("info").and_then(Value::as_object);
        let submission = info.and_then(|i| text(i.get("submission")));
        let exit_status = info.and_then(|i| text(i.get("exit_status")));
        let mut events = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let Value::Object(step) = step else {
                return Err(FieldError::wrong_type(
                    format!("trajectory[{i}]"),
                    "a step object",
                    step,
                ));
            };
            let action = text(step.get("action"));
            let observation = text(step.get("observation"));
            let tool = action
                .as_deref()
                .and_then(|a| a.split_whitespace().next())
                .map(str::to_string);
            events.push(Event {
                thought: text(step.get("thought")).filter(|t| !t.trim().is_empty()),
                error: observation.as_deref().and_then(swe_error),
                action,
                tool,
                observation,
                ..Event::default()
            });
        }
        if let (Some(last), Some(patch)) = (events.last_mut(), &submission) {
            if last.tool.as_deref() == Some("submit") {
                last.state_diff = Some(patch.clone());
            }
        }
        let kind = if submission.is_some() || exit_status.is_some() {
            ObjectKind::EnvironmentEpisode
        } else {
            ObjectKind::ToolTrajectory
        };
        let mut record = Record::new("", kind);
        record.task.prompt = issue_text(row.get("history"));
        record.task.domain = Some("code".into());
        record.attempts.push(Attempt {
            events,
            response: submission,
            finish_reason: exit_status,
            ..Attempt::default()
        });
        record.lineage.fields =
            super::chat_util::mapped_order(&row, &["environment", "trajectory", "history", "info"]);
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let mut row = Fields::new();
        if same_layout(record, NAME) && record.meta.contains_key("trajectory") {
            // Everything is in `meta`, verbatim.
            return Ok(row);
        }
        let attempt = super::chat_util::main_attempt(record)
            .ok_or_else(|| FieldError::missing("attempts"))?;
        let steps: Vec<Value> = attempt
            .events
            .iter()
            .map(|e| {
                let mut step = Map::new();
                let opt = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
                step.insert("action".into(), opt(&e.action));
                step.insert("observation".into(), opt(&e.observation));
                step.insert("thought".into(), opt(&e.thought));
                Value::Object(step)
            })
            .collect();
        let mut history = Vec::new();
        if let Some(prompt) = record.problem_text() {
            let mut turn = Map::new();
            turn.insert("role".into(), Value::String("user".into()));
            turn.insert("content".into(), Value::String(prompt.to_string()));
            history.push(Value::Object(turn));
        }
        let mut info = Map::new();
        if let Some(status) = &attempt.finish_reason {
            info.insert("exit_status".into(), Value::String(status.clone()));
        }
        if let Some(submission) = &attempt.response {
            info.insert("submission".into(), Value::String(submission.clone()));
        }
        row.insert("environment".into(), Value::String("verity".into()));
        row.insert("trajectory".into(), Value::Array(steps));
        row.insert("history".into(), Value::Array(history));
        row.insert("info".into(), Value::Object(info));
        Ok(row)
    }
}
