//! The `normalize` stage's text clean-up: Unicode NFC, whitespace, leftover chat-template
//! tokens, and empty-record rejection.
//!
//! What it does, on every text of a record (prompt, messages, reference, traces, responses,
//! answers, steps): NFC composition (`é` as one code point, not `e` + combining accent);
//! `\r\n` and `\r` to `\n`; trailing spaces removed from each line; runs of three or more
//! newlines collapsed to two; leading/trailing whitespace trimmed; and chat-template control
//! tokens that leaked into the text removed (`<|im_start|>assistant`, `<|im_end|>`,
//! `<|eot_id|>`, `<|start_header_id|>user<|end_header_id|>`, `<s>`, `</s>`, `[INST]`,
//! `[/INST]`, `<|endoftext|>`, `<|begin_of_text|>`, `<｜end▁of▁sentence｜>`, ...).
//!
//! Why: the same problem typed twice with different Unicode forms or template debris is the
//! same problem; trainers apply their own chat template and debris becomes training signal.
//!
//! Known failure modes: NFC (not NFKC) keeps compatibility characters (full-width digits,
//! ligatures) as they are, on purpose: NFKC changes mathematics (`²` -> `2`). Text inside code
//! blocks is normalized like any other (trailing spaces in code are removed). `<think>` tags are
//! kept: they are content, not template.

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
use verity_core::record::{Message, Record};

/// Template tokens removed by `strip_template` (matched literally).
pub const TEMPLATE_TOKENS: &[&str] = &[
    "<|im_start|>system",
    "<|im_start|>user",
    "<|im_start|>assistant",
    "<|im_start|>",
    "<|im_end|>",
    "<|eot_id|>",
    "<|start_header_id|>system<|end_header_id|>",
    "<|start_header_id|>user<|end_header_id|>",
    "<|start_header_id|>assistant<|end_header_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|endoftext|>",
    "<｜begin▁of▁sentence｜>",
    "<｜end▁of▁sentence｜>",
    "<｜User｜>",
    "<｜Assistant｜>",
    "[INST]",
    "[/INST]",
    "<s>",
    "</s>",
];

/// Which clean-ups run.
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    /// NFC.
    pub nfc: bool,
    /// Whitespace clean-up.
    pub whitespace: bool,
    /// Template token removal.
    pub strip_template: bool,
}

/// Clean one text; returns whether it changed.
pub fn clean(text: &mut String, options: TextOptions) -> bool {
    let mut out: Option<String> = None;
    if options.nfc && is_nfc_quick(text.chars()) != IsNormalized::Yes {
        let composed: String = text.nfc().collect();
        if composed != *text {
            out = Some(composed);
        }
    }
    if options.strip_template {
        let current = out.as_deref().unwrap_or(text);
        if current.contains("<|")
            || current.contains("<｜")
            || current.contains("[INST]")
            || current.contains("[/INST]")
            || current.contains("<s>")
            || current.contains("</s>")
        {
            let mut s = current.to_string();
            for token in TEMPLATE_TOKENS {
                if s.contains(token) {
                    s = s.replace(token, "");
                }
            }
            if s != current {
                out = Some(s);
            }
        }
    }
    if options.whitespace {
        let current = out.as_deref().unwrap_or(text);
        let cleaned = clean_whitespace(current);
        if cleaned != current {
            out = Some(cleaned);
        }
    }
    match out {
        Some(s) => {
            *text = s;
            true
        }
        None => false,
    }
}

fn clean_whitespace(text: &str) -> String {
    let unified;
    let text = if text.contains('\r') {
        unified = text.replace("\r\n", "\n").replace('\r', "\n");
        unified.as_str()
    } else {
        text
    };
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0usize;
    for line in text.split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

fn clean_opt(text: &mut Option<String>, options: TextOptions) -> bool {
    text.as_mut().is_some_and(|t| clean(t, options))
}

fn clean_messages(messages: &mut [Message], options: TextOptions) -> bool {
    let mut changed = false;
    for m in messages {
        changed |= clean_opt(&mut m.content, options);
        changed |= clean_opt(&mut m.reasoning, options);
    }
    changed
}

/// Clean every text of a record; returns whether anything changed.
pub fn normalize_record(record: &mut Record, options: TextOptions) -> bool {
    let mut changed = false;
    let task = &mut record.task;
    changed |= clean_opt(&mut task.prompt, options);
    changed |= clean_messages(&mut task.messages, options);
    changed |= clean_opt(&mut task.reference.answer, options);
    changed |= clean_opt(&mut task.reference.solution, options);
    for choice in &mut task.reference.choices {
        changed |= clean(choice, options);
    }
    for attempt in &mut record.attempts {
        changed |= clean_opt(&mut attempt.trace, options);
        changed |= clean_opt(&mut attempt.response, options);
        changed |= clean_opt(&mut attempt.answer, options);
        changed |= clean_messages(&mut attempt.messages, options);
        for step in &mut attempt.steps {
            changed |= clean(&mut step.text, options);
        }
    }
    changed
}

/// Whether the record has a non-empty problem (prompt or a user message with text).
pub fn has_problem(record: &Record) -> bool {
    record.problem_text().is_some_and(|t| !t.trim().is_empty())
        || record
            .task
            .messages
            .iter()
            .any(|m| m.content.as_deref().is_some_and(|c| !c.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: TextOptions = TextOptions {
        nfc: true,
        whitespace: true,
        strip_template: true,
    };

    #[test]
    fn nfc_composes_decomposed_accents() {
        let mut s = "cafe\u{301} = 2".to_string();
        assert!(clean(&mut s, ALL));
        assert_eq!(s, "caf\u{e9} = 2");
        // compatibility characters are kept (NFC, not NFKC)
        let mut t = "x² + ２".to_string();
        assert!(!clean(&mut t, ALL));
        assert_eq!(t, "x² + ２");
    }

    #[test]
    fn whitespace_and_template_debris() {
        let mut s =
            "<|im_start|>user\r\nWhat is 2+2?   \r\n\r\n\r\n\r\nThink.<|im_end|>\n".to_string();
        assert!(clean(&mut s, ALL));
        assert_eq!(s, "What is 2+2?\n\nThink.");
        let mut clean_text = "Already clean.\n\nTwo paragraphs.".to_string();
        assert!(!clean(&mut clean_text, ALL));
    }

    #[test]
    fn think_tags_are_content() {
        let mut s = "<think>\nok\n</think>\n\nAnswer: 4".to_string();
        assert!(!clean(&mut s, ALL));
    }
}
