//! Prompt templates: a task of any layout -> the messages (or raw prompt) sent to the model.
//!
//! What it does: renders a system message, few-shot messages and a user message whose
//! `{field}`s are filled from the record: `{problem}` (the task's problem text), `{answer}`
//! (reference answer), `{solution}` (reference solution), `{domain}`, `{id}`, and
//! `{meta.NAME}` (an input field the layout did not map). `{{` and `}}` are literal braces.
//! Without a user template, a task that carries chat messages is sent as-is (after the
//! system and few-shot messages), and any other task as `{problem}`.
//!
//! The template's SHA-256 ([`Template::hash`]) goes into every attempt's generator parameters
//! and into the ledger, so a card can tell two prompt versions apart.
//!
//! Known failure modes: a field that is empty for a record (no reference answer) makes that
//! record fail to render; the stage rejects it with `generate:template` and the field name.

use crate::config::{Api, TemplateConfig};
use crate::error::{Error, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use verity_core::record::{Message, Record};

/// A parsed piece of a template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Field(String),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq)]
struct Text {
    pieces: Vec<Piece>,
}

const FIELDS: &[&str] = &["problem", "answer", "solution", "domain", "id"];

impl Text {
    fn parse(source: &str, field: &str, extra: &[&str]) -> Result<Text> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    let name = name.trim().to_string();
                    if !closed {
                        return Err(Error::Config {
                            field: field.into(),
                            message: format!(
                                "unclosed `{{{name}`: write `{{{{` for a literal brace"
                            ),
                        });
                    }
                    if !FIELDS.contains(&name.as_str())
                        && !extra.contains(&name.as_str())
                        && !name.starts_with("meta.")
                    {
                        return Err(Error::Config {
                            field: field.into(),
                            message: format!(
                                "unknown field `{{{name}}}` (known: {}, meta.NAME; `{{{{` for a literal brace)",
                                FIELDS.iter().chain(extra).map(|f| format!("{{{f}}}")).collect::<Vec<_>>().join(", ")
                            ),
                        });
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Field(name));
                }
                '}' => {
                    return Err(Error::Config {
                        field: field.into(),
                        message: "a lone `}`: write `}}` for a literal brace".into(),
                    })
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Text { pieces })
    }

    fn render(
        &self,
        record: &Record,
        extra: &[(&str, String)],
    ) -> std::result::Result<String, String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(name) => match extra.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&field_value(record, name)?),
                },
            }
        }
        Ok(out)
    }
}

fn field_value(record: &Record, name: &str) -> std::result::Result<String, String> {
    let task = &record.task;
    let value = match name {
        "problem" => record.problem_text().map(str::to_string),
        "answer" => task.reference.answer.clone(),
        "solution" => task.reference.solution.clone(),
        "domain" => task.domain.clone(),
        "id" => Some(record.id.clone()),
        _ => {
            let key = name.trim_start_matches("meta.");
            record.meta.get(key).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        }
    };
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("field `{{{name}}}` is empty for this record")),
    }
}

/// What is sent for one task.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// Chat messages (`/chat/completions`).
    Messages(Vec<Message>),
    /// A raw prompt (`/completions`).
    Text(String),
}

impl Prompt {
    /// The JSON fields of the request body (`messages` or `prompt`).
    pub fn to_json(&self) -> (&'static str, Value) {
        match self {
            Prompt::Messages(messages) => (
                "messages",
                Value::Array(
                    messages
                        .iter()
                        .map(|m| json!({"role": m.role, "content": m.content.clone().unwrap_or_default()}))
                        .collect(),
                ),
            ),
            Prompt::Text(text) => ("prompt", Value::String(text.clone())),
        }
    }

    /// A rough token count (4 characters per token) for the tokens-per-minute limit.
    pub fn estimated_tokens(&self) -> u64 {
        let chars: usize = match self {
            Prompt::Messages(m) => m
                .iter()
                .map(|m| m.content.as_deref().map_or(0, str::len) + 4)
                .sum(),
            Prompt::Text(t) => t.len(),
        };
        (chars as u64).div_ceil(4)
    }
}

/// A compiled template.
#[derive(Debug, Clone)]
pub struct Template {
    system: Option<Text>,
    user: Option<Text>,
    few_shot: Vec<Message>,
    api: Api,
    hash: String,
}

impl Template {
    /// Parse and check the template (unknown fields and stray braces are errors).
    pub fn new(config: &TemplateConfig, api: Api) -> Result<Template> {
        Template::with_fields(config, api, &[])
    }

    /// [`Template::new`] accepting the extra field names `extra` (values given at rendering,
    /// [`Template::render_with`]).
    pub fn with_fields(config: &TemplateConfig, api: Api, extra: &[&str]) -> Result<Template> {
        for (i, m) in config.few_shot.iter().enumerate() {
            if m.role != "user" && m.role != "assistant" {
                return Err(Error::Config {
                    field: format!("few_shot[{i}].role"),
                    message: format!("`{}`: expected user or assistant", m.role),
                });
            }
        }
        let hash = {
            let canonical = json!({
                "system": config.system,
                "user": config.user,
                "few_shot": config.few_shot.iter().map(|m| json!([m.role, m.content])).collect::<Vec<_>>(),
                "api": api.path(),
            });
            hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
        };
        Ok(Template {
            system: config
                .system
                .as_deref()
                .map(|s| Text::parse(s, "system", extra))
                .transpose()?,
            user: config
                .user
                .as_deref()
                .map(|s| Text::parse(s, "user", extra))
                .transpose()?,
            few_shot: config
                .few_shot
                .iter()
                .map(|m| Message::new(m.role.clone(), m.content.clone()))
                .collect(),
            api,
            hash,
        })
    }

    /// Hex SHA-256 of the template (system, user, few-shot, API).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The prompt for `record`, or why it cannot be rendered.
    pub fn render(&self, record: &Record) -> std::result::Result<Prompt, String> {
        self.render_with(record, &[])
    }

    /// The prompt for `record` with values for the extra fields.
    pub fn render_with(
        &self,
        record: &Record,
        extra: &[(&str, String)],
    ) -> std::result::Result<Prompt, String> {
        let mut messages = Vec::new();
        if let Some(system) = &self.system {
            messages.push(Message::new("system", system.render(record, extra)?));
        }
        messages.extend(self.few_shot.iter().cloned());
        match &self.user {
            Some(user) => messages.push(Message::new("user", user.render(record, extra)?)),
            None => {
                let own: Vec<&Message> = record
                    .task
                    .messages
                    .iter()
                    .filter(|m| m.role != "assistant" || m.content.is_some())
                    .collect();
                if own.iter().any(|m| m.role == "user") {
                    let has_system = self.system.is_some();
                    for m in own {
                        if has_system && m.role == "system" {
                            continue;
                        }
                        messages.push(Message::new(
                            m.role.clone(),
                            m.content.clone().unwrap_or_default(),
                        ));
                    }
                } else {
                    messages.push(Message::new("user", field_value(record, "problem")?));
                }
            }
        }
        Ok(match self.api {
            Api::Chat => Prompt::Messages(messages),
            Api::Completions => Prompt::Text(
                messages
                    .iter()
                    .filter_map(|m| m.content.as_deref())
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_core::record::ObjectKind;

    fn record() -> Record {
        let mut r = Record::new("r1", ObjectKind::PromptAnswer);
        r.task.prompt = Some("What is 2+2?".into());
        r.task.reference.answer = Some("4".into());
        r.meta.insert("level".into(), json!(3));
        r
    }

    fn config(user: &str) -> TemplateConfig {
        TemplateConfig {
            system: Some("Be brief.".into()),
            user: Some(user.into()),
            few_shot: Vec::new(),
        }
    }

    #[test]
    fn fields_and_literal_braces_render() {
        let t = Template::new(
            &config("Q: {problem} (level {meta.level}) \\boxed{{}} {answer}"),
            Api::Chat,
        )
        .unwrap();
        let Prompt::Messages(m) = t.render(&record()).unwrap() else {
            panic!("chat template gave a raw prompt")
        };
        assert_eq!(m[0].content.as_deref(), Some("Be brief."));
        assert_eq!(
            m[1].content.as_deref(),
            Some("Q: What is 2+2? (level 3) \\boxed{} 4")
        );
    }

    #[test]
    fn unknown_field_and_stray_brace_are_config_errors() {
        let e = Template::new(&config("{question}"), Api::Chat).unwrap_err();
        assert!(e.to_string().contains("unknown field `{question}`"), "{e}");
        let e = Template::new(&config("a } b"), Api::Chat).unwrap_err();
        assert!(e.to_string().contains("lone `}`"), "{e}");
        let e = Template::new(&config("a {problem"), Api::Chat).unwrap_err();
        assert!(e.to_string().contains("unclosed"), "{e}");
    }

    #[test]
    fn empty_field_is_a_per_record_failure() {
        let t = Template::new(&config("{solution}"), Api::Chat).unwrap();
        let e = t.render(&record()).unwrap_err();
        assert!(e.contains("{solution}"), "{e}");
    }

    #[test]
    fn hash_changes_with_the_template_only() {
        let a = Template::new(&config("{problem}"), Api::Chat).unwrap();
        let b = Template::new(&config("{problem}"), Api::Chat).unwrap();
        let c = Template::new(&config("Solve: {problem}"), Api::Chat).unwrap();
        let d = Template::new(&config("{problem}"), Api::Completions).unwrap();
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        assert_ne!(a.hash(), d.hash());
    }

    #[test]
    fn task_messages_are_used_without_a_user_template() {
        let mut r = Record::new("r2", ObjectKind::PromptAnswer);
        r.task.messages = vec![
            Message::new("system", "own system"),
            Message::new("user", "hi"),
        ];
        let t = Template::new(&TemplateConfig::default(), Api::Chat).unwrap();
        let Prompt::Messages(m) = t.render(&r).unwrap() else {
            panic!()
        };
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].content.as_deref(), Some("hi"));
        let t = Template::new(&TemplateConfig::default(), Api::Completions).unwrap();
        assert_eq!(
            t.render(&record()).unwrap(),
            Prompt::Text("What is 2+2?".into())
        );
    }
}
