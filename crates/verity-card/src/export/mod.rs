//! Card exports: a Hugging Face dataset card ([`hf`]) and MLCommons Croissant JSON-LD
//! ([`croissant`]).
//!
//! What it does: renders a [`crate::Card`] into the two standards; facts that are `unknown`
//! are written as "unknown" (never invented), `not_applicable` as "not applicable".
//!
//! Why: the Hub and Croissant consumers read these formats; neither has structured fields for
//! the verifier, generator and decoding, budget, optimizer or scaffold, so the HF card carries
//! them in a `verity` front-matter block and Croissant in the `verity:` extension namespace.
//!
//! Known failure modes: Hub metadata keys are chosen from the card's facts with fixed mappings
//! (license ids lower-cased SPDX; `task_categories` from object kinds); a license outside the
//! Hub's list is still written as given.

pub mod croissant;
pub mod hf;

use crate::model::Fact;
use serde::Serialize;
use serde_json::Value;

/// A fact rendered as plain text: the value, `unknown` or `not applicable`. Structured values
/// are written as prose (`key: value, ...`), never as JSON.
pub fn text<T: Serialize>(fact: &Fact<T>) -> String {
    match fact {
        Fact::Value { value, .. } => match serde_json::to_value(value) {
            Ok(v) => prose(&v),
            Err(_) => "unknown".into(),
        },
        Fact::Unknown { .. } => "unknown".into(),
        Fact::NotApplicable { .. } => "not applicable".into(),
    }
}

/// A JSON value as prose: strings as they are, lists joined with commas (`; ` between
/// structured items), objects as `key: value` pairs (nested ones in parentheses).
pub fn prose(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        Value::Array(items) => {
            let sep = if items.iter().any(|v| v.is_object() || v.is_array()) {
                "; "
            } else {
                ", "
            };
            items.iter().map(prose).collect::<Vec<_>>().join(sep)
        }
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                Value::Object(_) => format!("{}: ({})", k.replace('_', " "), prose(v)),
                _ => format!("{}: {}", k.replace('_', " "), prose(v)),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// `(value, provenance)` of a fact for tables.
pub fn with_provenance<T: Serialize>(fact: &Fact<T>) -> (String, &'static str) {
    let provenance = match fact {
        Fact::Value { provenance, .. }
        | Fact::NotApplicable { provenance, .. }
        | Fact::Unknown { provenance, .. } => match provenance {
            crate::Provenance::Measured => "measured",
            crate::Provenance::Declared => "declared",
            crate::Provenance::Unknown => "unknown",
        },
    };
    (text(fact), provenance)
}

/// How a released file is referred to from an exported card written in `base` (the directory of
/// the README / JSON-LD): a relative path without `..` is kept (the pipeline records paths
/// relative to its output directory); an absolute path under `base` is made relative to it;
/// anything else becomes the bare file name.
pub fn data_path(path: &str, base: Option<&std::path::Path>) -> String {
    use std::path::{Component, Path};
    let p = Path::new(path);
    if p.is_relative()
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return path.trim_start_matches("./").to_string();
    }
    if let Some(base) = base {
        let absolute = |q: &Path| std::fs::canonicalize(q).ok();
        if let (Some(file), Some(dir)) = (absolute(p), absolute(base)) {
            if let Ok(rel) = file.strip_prefix(&dir) {
                return rel.to_string_lossy().into_owned();
            }
        }
    }
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string())
}
