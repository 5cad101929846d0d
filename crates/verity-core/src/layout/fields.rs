//! Field access helpers shared by the adapters: take a field out of a row with a type check
//! and a message that names the field.

use crate::error::FieldError;
use crate::layout::RowContext;
use crate::record::Fields;
use serde_json::Value;

/// Keep the fields an adapter did not map: move `row` into `meta` (no re-hashing when `meta` is
/// still empty, the usual case), otherwise append its entries in order.
pub fn absorb_meta(meta: &mut Fields, row: Fields) {
    if meta.is_empty() {
        *meta = row;
    } else {
        meta.extend(row);
    }
}

/// Remove `key` from `row`; `Ok(None)` when absent or null; an error when it is not a string.
/// Numbers and booleans are accepted and rendered as text, and the original value is kept in
/// `keep` (the record's meta) so the row round-trips with its original type.
pub fn take_text(
    row: &mut Fields,
    key: &str,
    keep: &mut Fields,
) -> Result<Option<String>, FieldError> {
    match row.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(value @ (Value::Number(_) | Value::Bool(_))) => {
            let text = match &value {
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => unreachable_text(),
            };
            keep.insert(key.to_string(), value);
            Ok(Some(text))
        }
        Some(other) => Err(FieldError::wrong_type(key, "a string", &other)),
    }
}

fn unreachable_text() -> String {
    String::new()
}

/// Like [`take_text`] but the field must be present.
pub fn require_text(row: &mut Fields, key: &str, keep: &mut Fields) -> Result<String, FieldError> {
    take_text(row, key, keep)?.ok_or_else(|| FieldError::missing(key))
}

/// True when `row` has a string (or number) field `key`.
pub fn has_text(row: &Fields, key: &str) -> bool {
    matches!(
        row.get(key),
        Some(Value::String(_)) | Some(Value::Number(_))
    )
}

/// The string value of `key`, if it is a string.
pub fn str_of<'a>(row: &'a Fields, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str)
}

/// True when `row` has all `keys`.
pub fn has_all(row: &Fields, keys: &[&str]) -> bool {
    keys.iter().all(|k| row.contains_key(*k))
}

/// Fields that commonly carry a row id, in preference order.
pub const ID_FIELDS: &[&str] = &[
    "id",
    "uuid",
    "task_id",
    "unique_id",
    "problem_id",
    "question_id",
    "instance_id",
    "query_id",
    "idx",
];

/// The record id for a row: the first id-like field (copied, not moved), else `dataset-row`.
pub fn pick_id(row: &Fields, ctx: &RowContext) -> String {
    for key in ID_FIELDS {
        match row.get(*key) {
            Some(Value::String(s)) if !s.is_empty() => return s.clone(),
            Some(Value::Number(n)) => return format!("{}-{}", ctx.dataset, n),
            _ => {}
        }
    }
    format!("{}-{}", ctx.dataset, ctx.row)
}

/// The content of the last `\boxed{...}` (or `\fbox{...}`) in `text`, with nested braces.
pub fn last_boxed(text: &str) -> Option<String> {
    let mut found = None;
    for marker in ["\\boxed", "\\fbox"] {
        let mut from = 0;
        while let Some(pos) = text[from..].find(marker) {
            let start = from + pos;
            from = start + marker.len();
            let rest = &text[from..];
            let trimmed = rest.trim_start();
            if let Some(inner) = trimmed.strip_prefix('{') {
                let mut depth = 1usize;
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                if found.as_ref().is_none_or(|(p, _)| start > *p) {
                                    found = Some((start, inner[..i].to_string()));
                                }
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    found.map(|(_, s)| s)
}

/// The answer after the last `####` marker (GSM8K style), trimmed.
pub fn after_hashes(text: &str) -> Option<String> {
    let pos = text.rfind("####")?;
    let answer = text[pos + 4..].trim();
    (!answer.is_empty()).then(|| answer.to_string())
}

/// Split a response that starts with a closed `<think>...</think>` block into
/// `(Some(trace), response)`, exactly: `render_think(trace, response)` gives the input back byte
/// for byte. Anything else (no block, text before `<think>`, an unclosed block from truncation)
/// is returned whole as the response with no trace, so nothing is ever lost or reshaped.
pub fn split_think(text: &str) -> (Option<String>, String) {
    const OPEN: &str = "<think>";
    const CLOSE: &str = "</think>";
    if let Some(body) = text.strip_prefix(OPEN) {
        if let Some(close) = body.find(CLOSE) {
            return (
                Some(body[..close].to_string()),
                body[close + CLOSE.len()..].to_string(),
            );
        }
    }
    (None, text.to_string())
}

/// Inverse of [`split_think`].
pub fn render_think(trace: Option<&str>, response: &str) -> String {
    match trace {
        Some(trace) => format!("<think>{trace}</think>{response}"),
        None => response.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxed_handles_nesting_and_picks_last() {
        assert_eq!(
            last_boxed("a \\boxed{1} b \\boxed{\\frac{1}{2}}").as_deref(),
            Some("\\frac{1}{2}")
        );
        assert_eq!(
            last_boxed("\\fbox{3} then \\boxed{4}").as_deref(),
            Some("4")
        );
        assert_eq!(last_boxed("\\boxed{unclosed"), None);
        assert_eq!(last_boxed("no box"), None);
    }

    #[test]
    fn hashes_answer() {
        assert_eq!(after_hashes("so 3+4=7\n#### 7").as_deref(), Some("7"));
        assert_eq!(after_hashes("#### "), None);
    }

    #[test]
    fn think_split_is_exact() {
        for text in [
            "<think>\nx\n</think>\n\ny",
            "x</think>y",
            "<think>cut off",
            "plain",
            " <think>a</think>b",
        ] {
            let (trace, response) = split_think(text);
            assert_eq!(render_think(trace.as_deref(), &response), text);
        }
        assert_eq!(
            split_think("<think>a</think>b"),
            (Some("a".into()), "b".into())
        );
        assert_eq!(split_think("<think>cut off").0, None);
    }
}
