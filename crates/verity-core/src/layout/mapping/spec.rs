//! The declarative field mapping: which top-level field of a row holds which part of a record.
//!
//! Written on the command line as `--map prompt=question,answer=gt,response=code,grade=score`
//! or in a recipe as an `[input.map]` table (`prompt = "question"`, `grade = ["score"]`).
//! Targets that take several fields (`prompt`, `grade`) accept a list (`prompt=instruction+input`
//! on the command line, `grade=a,grade=b` or a TOML list).

use crate::error::FieldError;
use crate::record::Fields;
use serde::{Deserialize, Deserializer, Serialize};

/// Which row field feeds which record part. Every name is a top-level key of the row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    /// The record id (string or number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The task prompt; several fields are joined with a blank line, empty ones skipped.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub prompt: Vec<String>,
    /// The reference (gold) answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The reference solution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution: Option<String>,
    /// Test code (a string, or a list of assert statements joined by newlines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<String>,
    /// Tool or API definitions offered to the model (any JSON value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<String>,
    /// Attempt responses: a string (one attempt) or a list of strings (one attempt each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// Attempt traces, shaped like `response`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// The answers extracted from the attempts (by the data's own grader), shaped like `response`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pred: Option<String>,
    /// Grades or scores stored with the data, shaped like `response`; each becomes imported
    /// feedback named after its field.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub grade: Vec<String>,
    /// The model that wrote the attempts (a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The source dataset of the task (a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The targets a mapping can fill, for messages and `--map` parsing.
pub const TARGETS: &[&str] = &[
    "id", "prompt", "answer", "solution", "tests", "tools", "response", "trace", "pred", "grade",
    "model", "source",
];

fn one<'a>(target: &'static str, field: &'a Option<String>) -> Vec<(&'static str, &'a str)> {
    field.iter().map(|f| (target, f.as_str())).collect()
}

fn many<'a>(target: &'static str, fields: &'a [String]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|f| (target, f.as_str())).collect()
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

impl FieldMap {
    /// Parse `--map` values: each is `TARGET=FIELD` pairs separated by commas; `prompt` and
    /// `grade` may repeat, and `prompt=a+b` joins fields.
    pub fn parse(specs: &[String]) -> Result<FieldMap, String> {
        let mut map = FieldMap::default();
        for spec in specs {
            for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((target, field)) = pair.split_once('=') else {
                    return Err(format!(
                        "--map `{pair}`: expected TARGET=FIELD (targets: {})",
                        TARGETS.join(", ")
                    ));
                };
                let (target, field) = (target.trim(), field.trim());
                if field.is_empty() {
                    return Err(format!("--map `{pair}`: no field named after `=`"));
                }
                map.set(target, field)?;
            }
        }
        if map.is_empty() {
            return Err("--map is empty: give TARGET=FIELD pairs".into());
        }
        Ok(map)
    }

    fn set(&mut self, target: &str, field: &str) -> Result<(), String> {
        let single = |slot: &mut Option<String>| match slot {
            Some(old) => Err(format!(
                "--map names `{target}` twice (`{old}` and `{field}`)"
            )),
            None => {
                *slot = Some(field.to_string());
                Ok(())
            }
        };
        match target {
            "id" => single(&mut self.id),
            "answer" => single(&mut self.answer),
            "solution" => single(&mut self.solution),
            "tests" => single(&mut self.tests),
            "tools" => single(&mut self.tools),
            "response" => single(&mut self.response),
            "trace" => single(&mut self.trace),
            "pred" => single(&mut self.pred),
            "model" => single(&mut self.model),
            "source" => single(&mut self.source),
            "prompt" => {
                self.prompt
                    .extend(field.split('+').map(|f| f.trim().to_string()));
                Ok(())
            }
            "grade" => {
                self.grade.push(field.to_string());
                Ok(())
            }
            other => Err(format!(
                "--map: unknown target `{other}` (targets: {})",
                TARGETS.join(", ")
            )),
        }
    }

    /// True when nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.named().is_empty()
    }

    /// Every `(target, field)` pair, in [`TARGETS`] order.
    pub fn named(&self) -> Vec<(&'static str, &str)> {
        [
            one("id", &self.id),
            many("prompt", &self.prompt),
            one("answer", &self.answer),
            one("solution", &self.solution),
            one("tests", &self.tests),
            one("tools", &self.tools),
            one("response", &self.response),
            one("trace", &self.trace),
            one("pred", &self.pred),
            many("grade", &self.grade),
            one("model", &self.model),
            one("source", &self.source),
        ]
        .concat()
    }

    /// The mapping written back as one `--map` value.
    pub fn to_arg(&self) -> String {
        self.named()
            .iter()
            .map(|(t, f)| format!("{t}={f}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Check that every mapped field occurs in at least one of `rows` (the first rows of a
    /// file): a field that occurs in none is a typo or the wrong file. The error names the
    /// field, its target and the fields the rows do have.
    pub fn check_rows(&self, rows: &[Fields]) -> Result<(), FieldError> {
        for (target, field) in self.named() {
            if !rows.is_empty() && !rows.iter().any(|row| row.contains_key(field)) {
                return Err(missing_field(target, field, rows.first()));
            }
        }
        Ok(())
    }
}

/// The error for a mapped field that a row does not have: names the field, its target and the
/// fields that exist.
pub fn missing_field(target: &str, field: &str, row: Option<&Fields>) -> FieldError {
    let fields = row
        .map(|r| {
            r.keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    FieldError::new(
        field,
        format!("mapped to `{target}` but not in the row (fields: {fields})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_joins_and_repeats() {
        let map = FieldMap::parse(&[
            "prompt=instruction+input, answer=gt".into(),
            "grade=score,grade=report".into(),
        ])
        .unwrap();
        assert_eq!(map.prompt, vec!["instruction", "input"]);
        assert_eq!(map.answer.as_deref(), Some("gt"));
        assert_eq!(map.grade, vec!["score", "report"]);
        assert_eq!(
            map.to_arg(),
            "prompt=instruction,prompt=input,answer=gt,grade=score,grade=report"
        );
    }

    #[test]
    fn rejects_unknown_targets_duplicates_and_empty() {
        let err = FieldMap::parse(&["question=q".into()]).unwrap_err();
        assert!(err.contains("unknown target `question`"), "{err}");
        assert!(err.contains("prompt"), "{err}");
        let err = FieldMap::parse(&["answer=a,answer=b".into()]).unwrap_err();
        assert!(err.contains("twice"), "{err}");
        assert!(FieldMap::parse(&["prompt".into()]).is_err());
        assert!(FieldMap::parse(&["prompt=".into()]).is_err());
        assert!(FieldMap::parse(&[String::new()]).is_err());
    }

    #[test]
    fn toml_style_values_deserialize() {
        let map: FieldMap = serde_json::from_value(serde_json::json!({
            "prompt": "question", "grade": ["score"], "response": "code"
        }))
        .unwrap();
        assert_eq!(map.prompt, vec!["question"]);
        assert_eq!(map.grade, vec!["score"]);
        let err = serde_json::from_value::<FieldMap>(serde_json::json!({"promt": "q"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("promt"), "{err}");
    }

    #[test]
    fn check_names_the_field_and_the_fields_that_exist() {
        let map = FieldMap::parse(&["prompt=question,answer=gtx".into()]).unwrap();
        let row: Fields =
            serde_json::from_value(serde_json::json!({"question": "q", "gt": "1"})).unwrap();
        let err = map.check_rows(&[row]).unwrap_err().to_string();
        assert!(err.contains("`gtx`"), "{err}");
        assert!(err.contains("answer"), "{err}");
        assert!(err.contains("`question`, `gt`"), "{err}");
    }
}
