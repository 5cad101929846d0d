//! `hh_rlhf`: Anthropic HH-RLHF preference rows `{chosen, rejected}` where both are whole
//! `"\n\nHuman: ...\n\nAssistant: ..."` transcripts sharing the conversation so far.
//!
//! Mapping: the longest common prefix ending with the last shared `\n\nAssistant:` tag is the
//! prompt; what follows it in each transcript is the chosen / rejected response (the single
//! space after the tag is not part of the response). The prompt transcript is parsed into
//! `task.messages` (Human -> user, Assistant -> assistant); when rendering those turns does not
//! give the transcript back byte for byte, the raw transcript is also kept in `task.prompt`.
//!
//! Borderline choices: a pair without a shared `Assistant:` tag keeps an empty prompt and the
//! whole transcripts as responses. Writing a record from another layout renders its context
//! turns as a transcript (system and tool turns as `Human:` turns).

use super::chat_util::{context_turns, had_field, same_layout};
use super::dpo::pair;
use super::{render_think, require_text, Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Attempt, AttemptRole, Fields, Message, ObjectKind, Record};
use serde_json::Value;

/// HH-RLHF transcript pairs.
pub struct HhRlhf;

const NAME: &str = "hh_rlhf";
const HUMAN: &str = "\n\nHuman:";
const ASSISTANT: &str = "\n\nAssistant:";
const RAW_CHOSEN: &str = "@unspaced=chosen";
const RAW_REJECTED: &str = "@unspaced=rejected";

/// Parse a transcript into turns; `None` when it does not start with a `Human:` tag.
fn parse_transcript(text: &str) -> Option<Vec<Message>> {
    if !text.starts_with(HUMAN) {
        return None;
    }
    let mut marks: Vec<(usize, &str, &str)> = Vec::new();
    let mut from = 0;
    while from < text.len() {
        let next_h = text[from..].find(HUMAN).map(|p| (p + from, HUMAN, "user"));
        let next_a = text[from..]
            .find(ASSISTANT)
            .map(|p| (p + from, ASSISTANT, "assistant"));
        let next = match (next_h, next_a) {
            (Some(h), Some(a)) => Some(if h.0 <= a.0 { h } else { a }),
            (h, a) => h.or(a),
        };
        let Some(mark) = next else { break };
        from = mark.0 + mark.1.len();
        marks.push(mark);
    }
    let mut turns = Vec::new();
    for (i, (pos, tag, role)) in marks.iter().enumerate() {
        let end = marks.get(i + 1).map(|m| m.0).unwrap_or(text.len());
        let body = &text[pos + tag.len()..end];
        let body = body.strip_prefix(' ').unwrap_or(body);
        turns.push(Message::new(*role, body));
    }
    Some(turns)
}

/// Render turns as a transcript.
fn render_transcript(turns: &[Message]) -> String {
    let mut out = String::new();
    for turn in turns {
        out.push_str(if turn.role == "assistant" {
            ASSISTANT
        } else {
            HUMAN
        });
        out.push(' ');
        out.push_str(turn.content.as_deref().unwrap_or(""));
    }
    out
}

impl Layout for HhRlhf {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "HH-RLHF: {chosen, rejected} whole \"\\n\\nHuman: ... \\n\\nAssistant: ...\" transcripts"
    }

    fn detect(&self, row: &Fields) -> u8 {
        if row.contains_key("prompt") {
            return 0;
        }
        match (row.get("chosen"), row.get("rejected")) {
            (Some(Value::String(c)), Some(Value::String(r)))
                if c.starts_with(HUMAN) && r.starts_with(HUMAN) =>
            {
                95
            }
            _ => 0,
        }
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let mut record = Record::new("", ObjectKind::PreferencePair);
        let fields = super::chat_util::mapped_order(&row, &["chosen", "rejected"]);
        let chosen = require_text(&mut row, "chosen", &mut record.meta)?;
        let rejected = require_text(&mut row, "rejected", &mut record.meta)?;
        let common = chosen
            .bytes()
            .zip(rejected.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let mut common = common;
        while !chosen.is_char_boundary(common) {
            common -= 1;
        }
        let cut = chosen[..common]
            .rfind(ASSISTANT)
            .map(|p| p + ASSISTANT.len())
            .unwrap_or(0);
        let prompt = &chosen[..cut];
        let mut markers = Vec::new();
        for (text, role, marker) in [
            (&chosen, AttemptRole::Chosen, RAW_CHOSEN),
            (&rejected, AttemptRole::Rejected, RAW_REJECTED),
        ] {
            let rest = &text[cut..];
            let response = match rest.strip_prefix(' ') {
                Some(r) if cut > 0 => r,
                _ => {
                    markers.push(marker.to_string());
                    rest
                }
            };
            record.attempts.push(Attempt {
                role,
                response: Some(response.to_string()),
                ..Attempt::default()
            });
        }
        if let Some(body) = prompt.strip_suffix(ASSISTANT) {
            if let Some(turns) = parse_transcript(body) {
                if render_transcript(&turns) != body {
                    record.task.prompt = Some(prompt.to_string());
                }
                record.task.messages = turns;
            } else {
                record.task.prompt = Some(prompt.to_string());
            }
        } else if !prompt.is_empty() {
            record.task.prompt = Some(prompt.to_string());
        }
        let mut fields = fields;
        fields.extend(markers);
        record.lineage.fields = fields;
        super::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let same = same_layout(record, NAME);
        let (chosen, rejected) = pair(record)?;
        let prompt = match (&record.task.prompt, same) {
            (Some(raw), true) => raw.clone(),
            (None, true) if record.task.messages.is_empty() => String::new(),
            _ => format!("{}{ASSISTANT}", render_transcript(&context_turns(record)?)),
        };
        let mut row = Fields::new();
        for (key, attempt, marker) in [
            ("chosen", chosen, RAW_CHOSEN),
            ("rejected", rejected, RAW_REJECTED),
        ] {
            let response = render_think(
                attempt.trace.as_deref(),
                attempt.response.as_deref().unwrap_or(""),
            );
            let spaced = !(same && had_field(record, marker));
            let text = if spaced {
                format!("{prompt} {response}")
            } else {
                format!("{prompt}{response}")
            };
            row.insert(key.into(), Value::String(text));
        }
        Ok(row)
    }
}
