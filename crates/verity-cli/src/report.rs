//! How an error or warning reaches the user: `error: ...` with each distinct cause and a
//! `hint:` (text), or one JSON object per line on stderr (`--json`), with control bytes escaped
//! in text so a snippet of bad input cannot drive the terminal.

use serde_json::{json, Value};
use std::io::Write;

/// The lines of an error: the message, then each cause that adds something (a cause whose text
/// the previous line already shows is left out).
pub fn error_lines(error: &anyhow::Error) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if lines.last().is_some_and(|last| last.contains(&text)) {
            continue;
        }
        lines.push(text);
    }
    lines
}

/// The row position of an error, when one of its causes names a row.
fn row_of(error: &anyhow::Error) -> Option<&verity_core::RowError> {
    error.chain().find_map(|cause| {
        cause.downcast_ref::<verity_core::RowError>().or_else(|| {
            match cause.downcast_ref::<verity_core::Error>() {
                Some(verity_core::Error::Row(row)) => Some(row),
                _ => None,
            }
        })
    })
}

/// The error as a JSON object: `error`, `causes`, `hint`, `exit_code`, and `file`, `line`,
/// `field` when it is about one row.
pub fn error_json(error: &anyhow::Error, hint: Option<&str>, exit_code: u8) -> Value {
    let lines = error_lines(error);
    let mut value = json!({
        "error": lines[0],
        "causes": &lines[1..],
        "hint": hint,
        "exit_code": exit_code,
    });
    if let Some(row) = row_of(error) {
        value["file"] = json!(row.file);
        value["line"] = json!(row.line);
        value["field"] = json!(row.field);
        value["reason"] = json!(row.reason);
    }
    value
}

/// Print an error on stderr (never panics, even on a closed stderr).
pub fn print_error(error: &anyhow::Error, hint: Option<&str>, exit_code: u8, as_json: bool) {
    let mut err = std::io::stderr().lock();
    if as_json {
        let _ = writeln!(err, "{}", error_json(error, hint, exit_code));
        return;
    }
    let lines = error_lines(error);
    let _ = writeln!(err, "error: {}", escape_controls(&lines[0]));
    for cause in &lines[1..] {
        let _ = writeln!(err, "  caused by: {}", escape_controls(cause));
    }
    if let Some(hint) = hint {
        let _ = writeln!(err, "\nhint: {}", escape_controls(hint));
    }
}

/// Print a warning on stderr (`warning: ...`, or `{"warning": ...}` with `--json`).
pub fn print_warning(message: &str, as_json: bool) {
    let mut err = std::io::stderr().lock();
    let _ = if as_json {
        writeln!(err, "{}", json!({ "warning": message }))
    } else {
        writeln!(err, "warning: {}", escape_controls(message))
    };
}

/// Control characters (NUL, ESC, DEL, C1, ...) as `\u{..}` escapes; newlines and tabs stay.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(is_unsafe) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_are_escaped_and_text_is_kept() {
        assert_eq!(escape_controls("a\u{1b}[31mb\0c"), "a\\u{1b}[31mb\\u{0}c");
        assert_eq!(escape_controls("line\n\ttab é"), "line\n\ttab é");
    }

    #[test]
    fn a_cause_repeated_by_the_message_is_printed_once() {
        let row = verity_core::RowError {
            file: "a.jsonl".into(),
            line: 3,
            field: Some("question".into()),
            reason: "bad".into(),
        };
        let error =
            anyhow::Error::new(verity_core::Error::Row(row)).context("cannot open the input");
        assert_eq!(
            error_lines(&error),
            ["cannot open the input", "a.jsonl:3: field `question`: bad"]
        );
        let value = error_json(&error, None, 2);
        assert_eq!(value["line"], 3);
        assert_eq!(value["field"], "question");
        assert_eq!(value["causes"].as_array().unwrap().len(), 1);
    }
}
