//! Agent-trajectory signals: steps, tool calls, failed actions, retries, recoveries and the
//! terminal check.
//!
//! Read from `attempt.events` (action/observation turns) and, when there are none, from the
//! attempt's assistant/tool `messages` (OpenAI tool-call conversations). A failure is an event
//! with an `error`, or an observation / tool message that starts like an error report
//! (`Error`, `Traceback`, `Exception`, `failed`); a retry is an action identical to the previous
//! one; a recovery is a failed action followed by a successful one.

use serde_json::{json, Map, Value};
use verity_core::record::{Attempt, Contract, Granularity};

fn looks_failed(observation: &str) -> bool {
    let head: String = observation
        .trim_start()
        .chars()
        .take(40)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("error")
        || head.starts_with("traceback")
        || head.starts_with("exception")
        || head.starts_with("failed")
        || head.starts_with("unknown action")
        || head.starts_with("invalid")
}

/// Agent signals for `attempt`, or `None` when it has no events and no tool calls.
pub fn agent_signals(attempt: &Attempt) -> Option<Map<String, Value>> {
    // (action key, failed)
    let mut actions: Vec<(String, bool)> = Vec::new();
    let mut steps = 0u64;
    if !attempt.events.is_empty() {
        for event in &attempt.events {
            steps += 1;
            let key = match (&event.tool, &event.action) {
                (Some(tool), _) => Some(format!(
                    "{tool}({})",
                    event
                        .arguments
                        .as_ref()
                        .map(Value::to_string)
                        .unwrap_or_default()
                )),
                (None, Some(action)) => Some(action.clone()),
                (None, None) => None,
            };
            if let Some(key) = key {
                let failed =
                    event.error.is_some() || event.observation.as_deref().is_some_and(looks_failed);
                actions.push((key, failed));
            }
        }
    } else {
        let mut pending: Vec<String> = Vec::new();
        for message in &attempt.messages {
            match message.role.as_str() {
                "assistant" => {
                    steps += 1;
                    // Calls not followed by a tool message count as successful.
                    actions.extend(pending.drain(..).map(|k| (k, false)));
                    if let Some(Value::Array(calls)) = &message.tool_calls {
                        for call in calls {
                            let function = call.get("function").unwrap_or(call);
                            let name = function.get("name").and_then(Value::as_str).unwrap_or("?");
                            let args = function
                                .get("arguments")
                                .map(Value::to_string)
                                .unwrap_or_default();
                            pending.push(format!("{name}({args})"));
                        }
                    }
                }
                "tool" | "function" | "observation" | "ipython" => {
                    let failed = message.content.as_deref().is_some_and(looks_failed);
                    if !pending.is_empty() {
                        let key = pending.remove(0);
                        actions.push((key, failed));
                    }
                }
                _ => {}
            }
        }
        actions.extend(pending.drain(..).map(|k| (k, false)));
    }
    let terminal = attempt.feedback.iter().rev().find(|f| {
        f.granularity == Granularity::Episode || f.verifier.contract == Contract::Environmental
    });
    if actions.is_empty() && steps == 0 && terminal.is_none() {
        return None;
    }
    let failed = actions.iter().filter(|(_, f)| *f).count();
    let retries = actions.windows(2).filter(|w| w[0].0 == w[1].0).count();
    let recoveries = actions.windows(2).filter(|w| w[0].1 && !w[1].1).count();
    let mut out = Map::new();
    out.insert("steps".into(), json!(steps));
    out.insert("tool_calls".into(), json!(actions.len()));
    out.insert("failed_actions".into(), json!(failed));
    out.insert("retries".into(), json!(retries));
    out.insert("recoveries".into(), json!(recoveries));
    out.insert("terminal_check".into(), json!(terminal.is_some()));
    if let Some(f) = terminal {
        let result = match f.passed() {
            Some(true) => json!("pass"),
            Some(false) => json!("fail"),
            None => json!("unknown"),
        };
        out.insert("terminal_result".into(), result);
        if let Some(score) = f.score {
            out.insert("terminal_score".into(), json!(score));
        }
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use verity_core::record::{Event, Feedback, Message, VerifierId};

    fn event(tool: &str, args: Value, observation: &str) -> Event {
        Event {
            tool: Some(tool.into()),
            arguments: Some(args),
            observation: Some(observation.into()),
            ..Event::default()
        }
    }

    #[test]
    fn events_count_failures_retries_recoveries() {
        let mut a = Attempt::default();
        a.events = vec![
            event("search", json!({"q": "x"}), "Error: timeout"),
            event("search", json!({"q": "x"}), "3 results"),
            event("book", json!({"id": 1}), "ok"),
            Event {
                thought: Some("done".into()),
                ..Event::default()
            },
        ];
        a.feedback.push(Feedback::from_bool(
            VerifierId::imported("reward", Contract::Environmental),
            Granularity::Episode,
            true,
        ));
        let s = agent_signals(&a).unwrap();
        assert_eq!(s["steps"], json!(4));
        assert_eq!(s["tool_calls"], json!(3));
        assert_eq!(s["failed_actions"], json!(1));
        assert_eq!(s["retries"], json!(1));
        assert_eq!(s["recoveries"], json!(1));
        assert_eq!(s["terminal_result"], json!("pass"));
    }

    #[test]
    fn messages_with_tool_calls() {
        let mut a = Attempt::default();
        let mut call = Message::new("assistant", "");
        call.tool_calls = Some(json!([{"function": {"name": "f", "arguments": "{}"}}]));
        a.messages = vec![
            call,
            Message::new("tool", "Traceback: boom"),
            Message::new("assistant", "sorry"),
        ];
        let s = agent_signals(&a).unwrap();
        assert_eq!(s["tool_calls"], json!(1));
        assert_eq!(s["failed_actions"], json!(1));
        assert_eq!(s["terminal_check"], json!(false));
        assert!(agent_signals(&Attempt::with_response("plain")).is_none());
    }
}
