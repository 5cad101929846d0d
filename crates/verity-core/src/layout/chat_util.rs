//! Shared helpers of the chat / preference / agent adapters (`sharegpt`, `messages`,
//! `prompt_completion`, `dpo`, `hh_rlhf`, `sharegpt_dpo`, `swe_agent`, `tau_bench`,
//! `toolbench`).
//!
//! What it does: converts chat messages between their published dialects (OpenAI/TRL
//! `{role, content}`, LLaMA-Factory v1 content parts `{type, value}`, ShareGPT `{from, value}`)
//! and [`Message`], splits a conversation into the task context and the attempt, rebuilds a
//! conversation from any record, and derives agent [`Event`]s from tool-call turns.
//!
//! Why: every chat-shaped layout needs the same exact-inverse message mapping. Parsing checks
//! that rendering the parsed message gives the input back (same JSON value); when it does not
//! (an unusual key set, multimodal content lists, several text parts), the original message is
//! kept verbatim under [`RAW_KEY`] in `Message::extra` and written back as is by the same
//! layout, so the round trip is always exact.
//!
//! Known failure modes: message key order is not preserved (the JSON value is, and maps compare
//! equal regardless of key order); tool-call "errors" are a heuristic on the observation text.

use super::split_think;
use crate::error::FieldError;
use crate::record::{Attempt, AttemptRole, Event, Feedback, Fields, Message, ObjectKind, Record};
use serde_json::{Map, Value};

/// Key of `Message::extra` holding the verbatim input message when the dialect mapping could
/// not reproduce it exactly.
pub const RAW_KEY: &str = "verity_raw";

/// Separate reasoning fields of chat messages, in detection order.
pub const REASONING_KEYS: [&str; 3] = ["reasoning_content", "reasoning", "thinking"];

/// Lineage marker: messages use LLaMA-Factory content parts.
pub const PARTS_MARKER: &str = "@parts";
/// Lineage marker: ShareGPT roles are spelled `user` / `assistant` (not `human` / `gpt`).
pub const USER_NAMES_MARKER: &str = "@names=user";
/// Lineage marker prefix: `@order:<role>=k1,k2,...`, the key order of that role's messages.
pub const ORDER_MARKER: &str = "@order:";
/// Lineage marker prefix: the separate reasoning field name.
pub const REASONING_MARKER: &str = "@reasoning=";

/// The message dialect of a layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `{role, content, reasoning_content?, tool_calls?, ...}` (OpenAI, TRL).
    OpenAi,
    /// `{role, content: [{type: text|reasoning|tool_call, value}], ...}` (LLaMA-Factory v1).
    Parts,
    /// `{from, value}` (ShareGPT, LLaMA-Factory sharegpt).
    ShareGpt,
}

/// How the messages of one row are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// Message dialect.
    pub dialect: Dialect,
    /// Separate reasoning field name (OpenAI dialect), when the data uses one.
    pub reasoning_key: Option<String>,
    /// ShareGPT only: roles spelled `user`/`assistant`/`tool` instead of `human`/`gpt`/`observation`.
    pub user_names: bool,
    /// Per role (as written: `assistant`, `gpt`, ...), the input key order of its messages
    /// when it differs from the default rendering order.
    pub orders: Vec<(String, Vec<String>)>,
    /// Roles already looked at by [`Style::sniff`].
    seen_roles: Vec<String>,
}

impl Style {
    /// The default style of a dialect.
    pub fn new(dialect: Dialect) -> Self {
        Style {
            dialect,
            reasoning_key: None,
            user_names: false,
            orders: Vec::new(),
            seen_roles: Vec::new(),
        }
    }

    /// True when reasoning has its own place (a field or a part) rather than `<think>` tags.
    pub fn separate_reasoning(&self) -> bool {
        self.dialect == Dialect::Parts || self.reasoning_key.is_some()
    }

    /// Lineage markers describing this style.
    pub fn markers(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.dialect == Dialect::Parts {
            out.push(PARTS_MARKER.to_string());
        }
        if self.user_names {
            out.push(USER_NAMES_MARKER.to_string());
        }
        if let Some(key) = &self.reasoning_key {
            out.push(format!("{REASONING_MARKER}{key}"));
        }
        for (role, keys) in &self.orders {
            out.push(format!("{ORDER_MARKER}{role}={}", keys.join(",")));
        }
        out
    }

    /// The style a record was read with (from its lineage markers), for `dialect`.
    pub fn of_record(record: &Record, dialect: Dialect, same: bool) -> Style {
        let mut style = Style::new(dialect);
        if !same {
            return style;
        }
        for field in &record.lineage.fields {
            if field == PARTS_MARKER && dialect == Dialect::OpenAi {
                style.dialect = Dialect::Parts;
            } else if field == USER_NAMES_MARKER {
                style.user_names = true;
            } else if let Some((role, keys)) = field
                .strip_prefix(ORDER_MARKER)
                .and_then(|rest| rest.split_once('='))
            {
                style.orders.push((
                    role.to_string(),
                    keys.split(',').map(str::to_string).collect(),
                ));
            } else if let Some(key) = field.strip_prefix(REASONING_MARKER) {
                style.reasoning_key = Some(key.to_string());
            }
        }
        style
    }

    /// Remember the key order of the first message of each role when it is not the default.
    fn note_order(&mut self, message: &Fields, dialect: Dialect) {
        let role_key = if dialect == Dialect::ShareGpt {
            "from"
        } else {
            "role"
        };
        let Some(role) = message.get(role_key).and_then(Value::as_str) else {
            return;
        };
        if self.seen_roles.iter().any(|r| r == role) {
            return;
        }
        self.seen_roles.push(role.to_string());
        let rank = |key: &str| match key {
            "role" | "from" => 0,
            "content" | "value" => 1,
            k if REASONING_KEYS.contains(&k) => 2,
            "tool_calls" => 3,
            _ => 4,
        };
        let keys: Vec<&String> = message.keys().collect();
        let sorted = keys.windows(2).all(|w| rank(w[0]) <= rank(w[1]));
        let plain =
            keys.iter().all(|k| !k.contains(',') && !k.contains('=')) && !role.contains('=');
        if !sorted && plain {
            self.orders
                .push((role.to_string(), keys.into_iter().cloned().collect()));
        }
    }

    /// Reorder a rendered message's keys to the input order of its role, if known.
    fn apply_order(&self, out: Fields) -> Fields {
        if self.orders.is_empty() {
            return out;
        }
        let role = out
            .get("role")
            .or_else(|| out.get("from"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some((_, keys)) = self.orders.iter().find(|(r, _)| r == role) else {
            return out;
        };
        let mut out = out;
        let mut ordered = Fields::new();
        for key in keys {
            if let Some(value) = out.remove(key) {
                ordered.insert(key.clone(), value);
            }
        }
        ordered.extend(out);
        ordered
    }

    /// Guess the style of a list of raw messages (OpenAI vs parts, reasoning field name,
    /// ShareGPT role spelling).
    pub fn sniff(messages: &[Value], dialect: Dialect) -> Style {
        let mut style = Style::new(dialect);
        for message in messages.iter().filter_map(Value::as_object) {
            style.note_order(message, dialect);
            match dialect {
                Dialect::ShareGpt => {
                    if matches!(
                        message.get("from").and_then(Value::as_str),
                        Some("user" | "assistant")
                    ) {
                        style.user_names = true;
                    }
                }
                Dialect::OpenAi | Dialect::Parts => {
                    if message.get("content").is_some_and(Value::is_array)
                        && is_parts(message.get("content"))
                    {
                        style.dialect = Dialect::Parts;
                    }
                    if style.reasoning_key.is_none() {
                        style.reasoning_key = REASONING_KEYS
                            .iter()
                            .find(|k| message.get(**k).is_some_and(Value::is_string))
                            .map(|k| k.to_string());
                    }
                }
            }
        }
        style
    }
}

fn is_parts(content: Option<&Value>) -> bool {
    content.and_then(Value::as_array).is_some_and(|parts| {
        !parts.is_empty()
            && parts.iter().all(|p| {
                p.get("type").is_some_and(Value::is_string)
                    && p.get("value").is_some_and(Value::is_string)
            })
    })
}

/// Map a ShareGPT `from` value to a chat role.
pub fn sharegpt_role(from: &str) -> &str {
    match from {
        "human" | "user" => "user",
        "gpt" | "assistant" | "model" | "chatgpt" | "bing" | "bard" => "assistant",
        "function_call" => "assistant",
        "observation" | "tool" | "function" => "tool",
        other => other,
    }
}

fn sharegpt_from<'a>(message: &'a Message, style: &Style) -> &'a str {
    let function_call = message.content.is_none() && message.tool_calls.is_some();
    match (message.role.as_str(), style.user_names) {
        ("assistant", _) if function_call => "function_call",
        ("user", false) => "human",
        ("assistant", false) => "gpt",
        ("tool", false) => "observation",
        (role, _) => role,
    }
}

/// Parse one message of `dialect`; `field` names it in errors (`messages[3]`).
pub fn parse_message(value: Value, style: &Style, field: &str) -> Result<Message, FieldError> {
    let Value::Object(map) = value else {
        return Err(FieldError::wrong_type(field, "a message object", &value));
    };
    let original = map.clone();
    let message = match style.dialect {
        Dialect::ShareGpt => parse_sharegpt(map, field)?,
        Dialect::OpenAi | Dialect::Parts => parse_openai(map, field)?,
    };
    let mut message = message;
    let rendered = render_message(&message, style, true);
    if rendered != Value::Object(original.clone()) {
        message
            .extra
            .insert(RAW_KEY.into(), Value::Object(original));
    }
    Ok(message)
}

/// Parse a list of messages.
pub fn parse_messages(
    value: Value,
    style: &Style,
    field: &str,
) -> Result<Vec<Message>, FieldError> {
    let Value::Array(items) = value else {
        return Err(FieldError::wrong_type(field, "a list of messages", &value));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, m)| parse_message(m, style, &format!("{field}[{i}]")))
        .collect()
}

fn parse_sharegpt(mut map: Fields, field: &str) -> Result<Message, FieldError> {
    let from = match map.remove("from") {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(FieldError::wrong_type(
                format!("{field}.from"),
                "a string",
                &other,
            ))
        }
        None => return Err(FieldError::missing(format!("{field}.from"))),
    };
    let value = match map.remove("value") {
        Some(Value::String(s)) => Some(s),
        None | Some(Value::Null) => None,
        Some(other) => {
            return Err(FieldError::wrong_type(
                format!("{field}.value"),
                "a string",
                &other,
            ))
        }
    };
    let mut message = Message {
        role: sharegpt_role(&from).to_string(),
        ..Message::default()
    };
    if from == "function_call" {
        message.tool_calls = Some(Value::Array(vec![Value::String(value.unwrap_or_default())]));
    } else {
        message.content = value;
    }
    message.extra = map;
    Ok(message)
}

fn parse_openai(mut map: Fields, field: &str) -> Result<Message, FieldError> {
    let role = match map.remove("role") {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(FieldError::wrong_type(
                format!("{field}.role"),
                "a string",
                &other,
            ))
        }
        None => return Err(FieldError::missing(format!("{field}.role"))),
    };
    let mut message = Message {
        role,
        ..Message::default()
    };
    match map.remove("content") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => message.content = Some(s),
        Some(Value::Array(parts)) => {
            // Content parts: LLaMA-Factory `{type, value}` or OpenAI `{type: text, text}`.
            let mut text = Vec::new();
            let mut reasoning = Vec::new();
            let mut calls = Vec::new();
            for part in &parts {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
                let value = part
                    .get("value")
                    .or_else(|| part.get("text"))
                    .and_then(Value::as_str);
                match (kind, value) {
                    ("reasoning" | "thinking", Some(v)) => reasoning.push(v.to_string()),
                    ("tool_call", Some(v)) => calls.push(Value::String(v.to_string())),
                    (_, Some(v)) => text.push(v.to_string()),
                    (_, None) => {}
                }
            }
            if !text.is_empty() {
                message.content = Some(text.concat());
            }
            if !reasoning.is_empty() {
                message.reasoning = Some(reasoning.concat());
            }
            if !calls.is_empty() {
                message.tool_calls = Some(Value::Array(calls));
            }
        }
        Some(other) => {
            return Err(FieldError::wrong_type(
                format!("{field}.content"),
                "a string or a list of parts",
                &other,
            ))
        }
    }
    for key in REASONING_KEYS {
        if let Some(Value::String(_)) = map.get(key) {
            if let Some(Value::String(s)) = map.remove(key) {
                message.reasoning = Some(s);
            }
            break;
        }
    }
    if let Some(calls) = map.remove("tool_calls") {
        if !calls.is_null() {
            message.tool_calls = Some(calls);
        }
    }
    message.extra = map;
    Ok(message)
}

/// Render a message in `style`. With `same = false` (writing a record read by another
/// layout) the verbatim raw message is ignored and, for ShareGPT, extra keys are dropped.
pub fn render_message(message: &Message, style: &Style, same: bool) -> Value {
    if let Some(raw) = message.extra.get(RAW_KEY) {
        if same {
            return raw.clone();
        }
    }
    let mut out = Map::new();
    match style.dialect {
        Dialect::ShareGpt => {
            out.insert(
                "from".into(),
                Value::String(sharegpt_from(message, style).to_string()),
            );
            let value = match (&message.content, &message.tool_calls) {
                (Some(content), _) => render_think_if(message.reasoning.as_deref(), content, false),
                (None, Some(Value::Array(calls))) => calls
                    .iter()
                    .map(|c| match c {
                        Value::String(s) => s.clone(),
                        other => call_json(other),
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                (None, _) => message.reasoning.clone().unwrap_or_default(),
            };
            out.insert("value".into(), Value::String(value));
            if same {
                extend_extra(&mut out, message);
            }
        }
        Dialect::Parts => {
            out.insert("role".into(), Value::String(message.role.clone()));
            let mut parts = Vec::new();
            let part = |kind: &str, value: &str| {
                let mut p = Map::new();
                p.insert("type".into(), Value::String(kind.into()));
                p.insert("value".into(), Value::String(value.into()));
                Value::Object(p)
            };
            if let Some(reasoning) = &message.reasoning {
                parts.push(part("reasoning", reasoning));
            }
            if let Some(content) = &message.content {
                parts.push(part("text", content));
            }
            if let Some(Value::Array(calls)) = &message.tool_calls {
                for call in calls {
                    let text = match call {
                        Value::String(s) => s.clone(),
                        other => call_json(other),
                    };
                    parts.push(part("tool_call", &text));
                }
            }
            out.insert("content".into(), Value::Array(parts));
            extend_extra(&mut out, message);
        }
        Dialect::OpenAi => {
            out.insert("role".into(), Value::String(message.role.clone()));
            let inline = style.reasoning_key.is_none();
            let content = message
                .content
                .as_deref()
                .map(|c| render_think_if(message.reasoning.as_deref(), c, !inline));
            out.insert(
                "content".into(),
                content.map(Value::String).unwrap_or(Value::Null),
            );
            if let (Some(key), Some(reasoning)) = (&style.reasoning_key, &message.reasoning) {
                out.insert(key.clone(), Value::String(reasoning.clone()));
            }
            if let Some(calls) = &message.tool_calls {
                out.insert("tool_calls".into(), openai_tool_calls(calls));
            }
            extend_extra(&mut out, message);
        }
    }
    Value::Object(style.apply_order(out))
}

fn extend_extra(out: &mut Fields, message: &Message) {
    for (key, value) in &message.extra {
        if key != RAW_KEY {
            out.insert(key.clone(), value.clone());
        }
    }
}

/// `<think>reasoning</think>content` unless `separate` says the reasoning has its own field.
fn render_think_if(reasoning: Option<&str>, content: &str, separate: bool) -> String {
    match reasoning {
        Some(r) if !separate => super::render_think(Some(r), content),
        _ => content.to_string(),
    }
}

/// Tool calls as OpenAI objects (strings holding `{"name", "arguments"}` JSON are converted).
fn openai_tool_calls(calls: &Value) -> Value {
    let Value::Array(items) = calls else {
        return calls.clone();
    };
    Value::Array(
        items
            .iter()
            .map(|call| match call {
                Value::String(_) => {
                    let (name, arguments, _) = call_parts(call);
                    let mut function = Map::new();
                    function.insert(
                        "name".into(),
                        name.map(Value::String).unwrap_or(Value::Null),
                    );
                    let arguments = match arguments {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    function.insert("arguments".into(), Value::String(arguments));
                    let mut out = Map::new();
                    out.insert("type".into(), Value::String("function".into()));
                    out.insert("function".into(), Value::Object(function));
                    Value::Object(out)
                }
                other => other.clone(),
            })
            .collect(),
    )
}

/// A tool call as compact `{"name", "arguments"}` JSON text (ShareGPT `function_call` value).
fn call_json(call: &Value) -> String {
    let (name, arguments, _) = call_parts(call);
    let mut out = Map::new();
    out.insert(
        "name".into(),
        name.map(Value::String).unwrap_or(Value::Null),
    );
    out.insert("arguments".into(), arguments);
    Value::Object(out).to_string()
}

/// `(name, arguments, id)` of a tool call in any of the published shapes: OpenAI
/// `{id, type, function: {name, arguments}}`, a bare `{name, arguments}` object, or a string
/// holding such JSON. String arguments holding JSON are parsed.
pub fn call_parts(call: &Value) -> (Option<String>, Value, Option<String>) {
    match call {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(parsed @ Value::Object(_)) => {
                let (name, args, id) = call_parts(&parsed);
                (name, args, id)
            }
            _ => (None, Value::String(text.clone()), None),
        },
        Value::Object(map) => {
            let id = map.get("id").and_then(Value::as_str).map(str::to_string);
            let inner = map
                .get("function")
                .and_then(Value::as_object)
                .unwrap_or(map);
            let name = inner
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string);
            let args = inner
                .get("arguments")
                .or_else(|| inner.get("parameters"))
                .or_else(|| inner.get("args"))
                .cloned()
                .unwrap_or(Value::Null);
            let args = match args {
                Value::String(s) => serde_json::from_str::<Value>(&s)
                    .ok()
                    .filter(|v| v.is_object() || v.is_array())
                    .unwrap_or(Value::String(s)),
                other => other,
            };
            (name, args, id)
        }
        other => (None, other.clone(), None),
    }
}

/// The tool calls of a message: `tool_calls` items and a legacy `function_call` object.
fn calls_of(message: &Message) -> Vec<(Option<String>, Value, Option<String>)> {
    let mut out = Vec::new();
    match &message.tool_calls {
        Some(Value::Array(items)) => out.extend(items.iter().map(call_parts)),
        Some(other) => out.push(call_parts(other)),
        None => {}
    }
    if let Some(call) = message.extra.get("function_call").filter(|v| v.is_object()) {
        out.push(call_parts(call));
    }
    out
}

/// True when the message is a tool result.
fn is_tool_result(message: &Message) -> bool {
    matches!(
        message.role.as_str(),
        "tool" | "function" | "observation" | "ipython"
    )
}

/// True when the conversation uses tools (calls or results).
pub fn uses_tools(messages: &[Message]) -> bool {
    messages
        .iter()
        .any(|m| is_tool_result(m) || !calls_of(m).is_empty())
}

/// An error reported by a tool observation, if it looks like one: a JSON object with a
/// non-empty `error`, or text starting with `Error` / `Exception`, or a Python traceback.
pub fn observation_error(text: &str) -> Option<String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed) {
            return match map.get("error") {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                Some(Value::Object(o)) if !o.is_empty() => {
                    Some(Value::Object(o.clone()).to_string())
                }
                _ => None,
            };
        }
    }
    let lower_start: String = trimmed.chars().take(12).collect::<String>().to_lowercase();
    if lower_start.starts_with("error") || lower_start.starts_with("exception") {
        return Some(first_line(trimmed));
    }
    if let Some(pos) = text.find("Traceback (most recent call last)") {
        let tail = &text[pos..];
        let last = tail
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("Traceback");
        return Some(last.trim().to_string());
    }
    None
}

/// The first line of `text`, at most 200 characters.
pub fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// `name(arguments)` for an event action.
pub fn action_text(name: Option<&str>, arguments: &Value) -> String {
    let args = match arguments {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("{}({args})", name.unwrap_or("?"))
}

/// Agent events of a conversation: one per tool call (with its observation matched by
/// `tool_call_id` or in order), and one per plain assistant reply (action = the reply text,
/// observation = the next user turn).
pub fn events_from(messages: &[Message]) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    let mut ids: Vec<Option<String>> = Vec::new();
    let mut reply_open: Option<usize> = None;
    for message in messages {
        if is_tool_result(message) {
            let text = message.content.clone().unwrap_or_default();
            let id = message
                .extra
                .get("tool_call_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            let slot = id
                .as_ref()
                .and_then(|id| {
                    ids.iter()
                        .position(|x| x.as_deref() == Some(id.as_str()))
                        .filter(|&i| events[i].observation.is_none())
                })
                .or_else(|| {
                    (0..events.len())
                        .find(|&i| events[i].tool.is_some() && events[i].observation.is_none())
                });
            let error = observation_error(&text);
            // A tool result after an assistant turn whose call is not spelled out (tau-bench
            // few-shot `assistant: None`) belongs to that turn.
            let slot = slot.or_else(|| {
                reply_open
                    .filter(|&i| events[i].action.is_none() && events[i].observation.is_none())
            });
            reply_open = None;
            match slot {
                Some(i) => {
                    events[i].observation = Some(text);
                    events[i].error = error;
                }
                None => {
                    events.push(Event {
                        observation: Some(text),
                        error,
                        ..Event::default()
                    });
                    ids.push(None);
                }
            }
            continue;
        }
        if message.role == "user" {
            if let Some(i) = reply_open.take() {
                events[i].observation = message.content.clone();
            }
            continue;
        }
        if message.role != "assistant" {
            continue;
        }
        reply_open = None;
        let calls = calls_of(message);
        let thought = message
            .reasoning
            .clone()
            .or_else(|| {
                (!calls.is_empty())
                    .then(|| message.content.clone())
                    .flatten()
            })
            .filter(|t| !t.trim().is_empty());
        if calls.is_empty() {
            events.push(Event {
                thought,
                action: message.content.clone(),
                ..Event::default()
            });
            ids.push(None);
            reply_open = Some(events.len() - 1);
            continue;
        }
        for (k, (name, arguments, id)) in calls.into_iter().enumerate() {
            events.push(Event {
                thought: if k == 0 { thought.clone() } else { None },
                action: Some(action_text(name.as_deref(), &arguments)),
                tool: name,
                arguments: Some(arguments).filter(|a| !a.is_null()),
                ..Event::default()
            });
            ids.push(id);
        }
    }
    events
}

/// A conversation split into the task context and the attempt.
pub struct Split {
    /// Turns given to the model.
    pub context: Vec<Message>,
    /// The attempt, when the conversation has assistant turns.
    pub attempt: Option<Attempt>,
    /// The object kind the conversation is.
    pub kind: ObjectKind,
}

/// Split a conversation: tool conversations keep every turn from the first assistant turn
/// on in `attempt.messages` (with events); otherwise the final assistant turn becomes the
/// attempt's `trace`/`response` (kept whole in `attempt.messages` too when it carries more than
/// text, so it is written back verbatim).
pub fn split_conversation(mut messages: Vec<Message>, style: &Style) -> Split {
    if uses_tools(&messages) {
        let Some(first) = messages.iter().position(|m| m.role == "assistant") else {
            return Split {
                context: messages,
                attempt: None,
                kind: ObjectKind::ToolTrajectory,
            };
        };
        let turns = messages.split_off(first);
        let mut attempt = Attempt {
            events: events_from(&turns),
            ..Attempt::default()
        };
        if let Some(last) = turns.last().filter(|m| m.role == "assistant") {
            if calls_of(last).is_empty() {
                attempt.response = last.content.clone();
                attempt.trace = last.reasoning.clone();
            }
        }
        attempt.messages = turns;
        return Split {
            context: messages,
            attempt: Some(attempt),
            kind: ObjectKind::ToolTrajectory,
        };
    }
    if messages.last().is_none_or(|m| m.role != "assistant") {
        return Split {
            context: messages,
            attempt: None,
            kind: ObjectKind::PromptAnswer,
        };
    }
    let Some(last) = messages.pop() else {
        return Split {
            context: messages,
            attempt: None,
            kind: ObjectKind::PromptAnswer,
        };
    };
    let attempt = attempt_from_message(last, style);
    let kind = if attempt.trace.is_some() {
        ObjectKind::PromptTraceAnswer
    } else {
        ObjectKind::PromptAnswer
    };
    Split {
        context: messages,
        attempt: Some(attempt),
        kind,
    }
}

/// An attempt from one final assistant message: `trace` from the reasoning field/part or a
/// leading `<think>` block, `response` the rest. A message with extra keys or tool calls is
/// also kept whole in `attempt.messages`.
pub fn attempt_from_message(message: Message, style: &Style) -> Attempt {
    let mut attempt = Attempt::default();
    let plain = message.role == "assistant"
        && message.extra.is_empty()
        && message.tool_calls.is_none()
        && (message.content.is_some() || message.reasoning.is_some());
    if message.reasoning.is_some() {
        attempt.trace = message.reasoning.clone();
        attempt.response = message.content.clone();
    } else if let (Some(content), false) = (&message.content, style.separate_reasoning()) {
        let (trace, response) = split_think(content);
        attempt.trace = trace;
        attempt.response = Some(response);
    } else {
        attempt.response = message.content.clone();
    }
    if !plain {
        attempt.messages.push(message);
    }
    attempt
}

/// The assistant turns of an attempt: its messages, or one message built from trace/response
/// (reasoning in the style's place: a field/part, or `<think>` tags).
pub fn attempt_turns(attempt: &Attempt, style: &Style) -> Vec<Message> {
    if !attempt.messages.is_empty() {
        return attempt.messages.clone();
    }
    let mut turns = event_turns(&attempt.events);
    if attempt.trace.is_none() && attempt.response.is_none() {
        return turns;
    }
    let mut message = Message {
        role: "assistant".into(),
        ..Message::default()
    };
    if style.separate_reasoning() {
        message.reasoning = attempt.trace.clone();
        message.content = attempt.response.clone();
    } else {
        message.content = Some(super::render_think(
            attempt.trace.as_deref(),
            attempt.response.as_deref().unwrap_or(""),
        ));
    }
    turns.push(message);
    turns
}

/// Chat turns for agent events that have no messages of their own (SWE-agent steps): per
/// event, an assistant turn with the thought and the action as an OpenAI tool call (the
/// command name as the function, the arguments or the whole command as its arguments), then a
/// tool turn with the observation. Events without an action contribute their observation only.
fn event_turns(events: &[Event]) -> Vec<Message> {
    let mut turns = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let id = format!("call_{i}");
        if let Some(action) = &event.action {
            let arguments = match &event.arguments {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => serde_json::json!({ "command": action }).to_string(),
            };
            let call = serde_json::json!({
                "id": id,
                "type": "function",
                "function": {
                    "name": event.tool.clone().unwrap_or_else(|| "action".into()),
                    "arguments": arguments,
                },
            });
            turns.push(Message {
                role: "assistant".into(),
                content: event.thought.clone(),
                tool_calls: Some(Value::Array(vec![call])),
                ..Message::default()
            });
        }
        if let Some(observation) = &event.observation {
            let mut message = Message::new("tool", observation.clone());
            if event.action.is_some() {
                message
                    .extra
                    .insert("tool_call_id".into(), Value::String(id));
            }
            turns.push(message);
        }
    }
    turns
}

/// The context turns of a record: `task.messages`, else one user turn with the problem text.
pub fn context_turns(record: &Record) -> Result<Vec<Message>, FieldError> {
    if !record.task.messages.is_empty() {
        return Ok(record.task.messages.clone());
    }
    match record.problem_text() {
        Some(prompt) => Ok(vec![Message::new("user", prompt)]),
        // A chat row with no context turns (empty, or starting with the assistant).
        None if record
            .lineage
            .layout
            .as_deref()
            .is_some_and(|l| CHAT_LAYOUTS.contains(&l)) =>
        {
            Ok(Vec::new())
        }
        None => Err(FieldError::missing("task.prompt")),
    }
}

/// The attempt to write as "the" answer of a single-conversation layout: the first sample,
/// chosen or reference attempt; for records without attempts, `None`.
pub fn main_attempt(record: &Record) -> Option<&Attempt> {
    record
        .attempts
        .iter()
        .find(|a| {
            matches!(
                a.role,
                AttemptRole::Sample | AttemptRole::Reference | AttemptRole::Chosen
            )
        })
        .or_else(|| record.attempts.first())
}

/// Layouts whose records keep the whole conversation in `task.messages` + attempt turns.
const CHAT_LAYOUTS: [&str; 9] = [
    "messages",
    "sharegpt",
    "sharegpt_dpo",
    "dpo",
    "prompt_completion",
    "hh_rlhf",
    "tau_bench",
    "toolbench",
    "swe_agent",
];

/// The whole conversation of a record: context plus the main attempt's turns, or the
/// reference solution (else answer) as the assistant turn when there are no attempts.
pub fn conversation_of(record: &Record, style: &Style) -> Result<Vec<Message>, FieldError> {
    let mut turns = context_turns(record)?;
    match main_attempt(record) {
        Some(attempt) => turns.extend(attempt_turns(attempt, style)),
        None => {
            let reference = &record.task.reference;
            if let Some(text) = reference.solution.as_ref().or(reference.answer.as_ref()) {
                turns.push(Message::new("assistant", text.clone()));
            }
        }
    }
    Ok(turns)
}

/// Render messages as a JSON array.
pub fn render_messages(messages: &[Message], style: &Style, same: bool) -> Value {
    Value::Array(
        messages
            .iter()
            .map(|m| render_message(m, style, same))
            .collect(),
    )
}

/// The first attempt with `role`.
pub fn attempt_with(record: &Record, role: AttemptRole) -> Option<&Attempt> {
    record.attempts.iter().find(|a| a.role == role)
}

/// The imported feedback named `column` on `attempt`.
pub fn imported<'a>(attempt: &'a Attempt, column: &str) -> Option<&'a Feedback> {
    attempt
        .feedback
        .iter()
        .find(|f| f.verifier.imported && f.verifier.name == column)
}

/// Remove a numeric field (a reward or score). Returns its value as `f64`; when the number
/// would not come back identical from that `f64` (an integer, a large value), the original is
/// kept in `keep` so the row round-trips.
pub fn take_number(
    row: &mut Fields,
    key: &str,
    keep: &mut Fields,
) -> Result<Option<f64>, FieldError> {
    match row.remove(key) {
        None => Ok(None),
        Some(Value::Null) => {
            keep.insert(key.to_string(), Value::Null);
            Ok(None)
        }
        Some(Value::Number(n)) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            let back = serde_json::Number::from_f64(x);
            if back.as_ref() != Some(&n) {
                keep.insert(key.to_string(), Value::Number(n));
            }
            Ok(Some(x))
        }
        Some(other) => Err(FieldError::wrong_type(key, "a number", &other)),
    }
}

/// A JSON number from an `f64` (null when not finite).
pub fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The same-layout flag: was `record` read by the layout called `name`?
pub fn same_layout(record: &Record, name: &str) -> bool {
    record.lineage.layout.as_deref() == Some(name)
}

/// True when `value` is a non-empty list of objects that all have string `key`.
pub fn is_list_of(value: Option<&Value>, key: &str) -> bool {
    value.and_then(Value::as_array).is_some_and(|items| {
        !items.is_empty()
            && items
                .iter()
                .all(|m| m.get(key).is_some_and(Value::is_string))
    })
}

/// The keys of `row` that are in `keys`, in row order (for `lineage.fields`).
pub fn mapped_order(row: &Fields, keys: &[&str]) -> Vec<String> {
    row.keys()
        .filter(|k| keys.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// True when `record.lineage.fields` contains `name`.
pub fn had_field(record: &Record, name: &str) -> bool {
    record.lineage.fields.iter().any(|f| f == name)
}

/// Move a KTO-style boolean `label` column onto the attempt as imported feedback.
pub fn take_label(row: &mut Fields, attempt: Option<&mut Attempt>) -> bool {
    let Some(attempt) = attempt else {
        return false;
    };
    let Some(Value::Bool(label)) = row.get("label").cloned() else {
        return false;
    };
    row.remove("label");
    attempt.feedback.push(Feedback::from_bool(
        crate::record::VerifierId::imported("label", crate::record::Contract::JudgmentRequired),
        crate::record::Granularity::Answer,
        label,
    ));
    true
}

/// Write back a KTO `label` column from the attempt's imported `label` feedback.
pub fn put_label(row: &mut Fields, attempt: Option<&Attempt>) {
    if let Some(passed) = attempt
        .and_then(|a| imported(a, "label"))
        .and_then(Feedback::passed)
    {
        row.insert("label".into(), Value::Bool(passed));
    }
}

/// Pop a leading plain system turn (for layouts with a `system` column).
pub fn pop_system(turns: &mut Vec<Message>) -> Option<String> {
    let first = turns.first()?;
    if first.role != "system" || !first.extra.is_empty() || first.tool_calls.is_some() {
        return None;
    }
    let content = first.content.clone()?;
    turns.remove(0);
    Some(content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openai_messages_round_trip_and_fall_back_to_raw() {
        let style = Style::new(Dialect::OpenAi);
        for raw in [
            json!({"role": "user", "content": "hi"}),
            json!({"content": null, "role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
            json!({"role": "tool", "tool_call_id": "a", "name": "f", "content": "ok"}),
            json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}),
            json!({"role": "assistant"}),
        ] {
            let message = parse_message(raw.clone(), &style, "m").unwrap();
            assert_eq!(render_message(&message, &style, true), raw);
        }
    }

    #[test]
    fn sharegpt_function_calls_map_to_tool_calls() {
        let style = Style::new(Dialect::ShareGpt);
        let raw = json!({"from": "function_call", "value": "{\"name\": \"f\", \"arguments\": {\"x\": 1}}"});
        let message = parse_message(raw.clone(), &style, "m").unwrap();
        assert_eq!(message.role, "assistant");
        assert!(message.extra.is_empty());
        assert_eq!(render_message(&message, &style, true), raw);
        let (name, args, _) = call_parts(&message.tool_calls.unwrap()[0]);
        assert_eq!(name.as_deref(), Some("f"));
        assert_eq!(args, json!({"x": 1}));
    }

    #[test]
    fn errors_are_detected_in_observations() {
        assert!(observation_error("{\"error\": \"\", \"response\": \"x\"}").is_none());
        assert_eq!(
            observation_error("{\"error\": \"timeout\"}").as_deref(),
            Some("timeout")
        );
        assert!(observation_error("Error: user not found").is_some());
        assert!(observation_error("all good").is_none());
        assert!(parse_message(json!("text"), &Style::new(Dialect::OpenAi), "m").is_err());
        assert!(parse_message(json!({"content": "x"}), &Style::new(Dialect::OpenAi), "m").is_err());
    }
}
