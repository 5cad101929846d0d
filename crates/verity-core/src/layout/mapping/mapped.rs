//! A [`FieldMap`] as a layout: rows read through the mapping, records written back under the
//! same field names.
//!
//! Reading: every mapped field must be present in the row (`null` counts as present and empty);
//! an absent one is an error naming it, its target and the fields the row has. The attempt
//! fields (`response`, `trace`, `pred`, `grade`) are either single values (one attempt) or lists
//! of the same length (one attempt per entry); the number of attempts comes from the first of
//! them that is mapped. Grades become feedback from an imported verifier named after the field
//! (contract `unknown`: the data does not say how they were made). Unmapped fields stay in
//! `meta`.
//!
//! Writing: the mapped fields are rebuilt from the record; list-shaped fields stay lists. A
//! prompt joined from several fields cannot be split again: for a record read with the same
//! mapping the original fields come back from `meta`, otherwise the whole prompt goes into the
//! first field.

use super::spec::{missing_field, FieldMap};
use crate::error::FieldError;
use crate::layout::grades::{grade_value, had, imported_grade, imported_of, key_order};
use crate::layout::{Layout, RowContext};
use crate::record::{
    Attempt, Contract, Fields, Generator, Granularity, ObjectKind, Record, TestKind, Tests,
};
use serde_json::Value;
use std::collections::HashMap;

/// A layout defined by a field mapping (the user's `--map`, or a built-in preset).
pub struct Mapping {
    name: &'static str,
    description: &'static str,
    map: FieldMap,
    domain: Option<&'static str>,
    detect: fn(&Fields) -> u8,
    /// Every mapped field must be in every row (user mappings); presets read absent as null.
    strict: bool,
}

fn never(_: &Fields) -> u8 {
    0
}

impl Mapping {
    /// The layout of a user mapping (`--map`, `[input.map]`): named `map`, never detected.
    pub fn user(map: FieldMap) -> Mapping {
        Mapping {
            name: "map",
            description: "a user field mapping (--map TARGET=FIELD,...)",
            map,
            domain: None,
            detect: never,
            strict: true,
        }
    }

    /// A built-in layout defined by a mapping and a detection score.
    pub(crate) fn preset(
        name: &'static str,
        description: &'static str,
        map: FieldMap,
        domain: Option<&'static str>,
        detect: fn(&Fields) -> u8,
    ) -> Mapping {
        Mapping {
            name,
            description,
            map,
            domain,
            detect,
            strict: false,
        }
    }

    /// The field mapping.
    pub fn field_map(&self) -> &FieldMap {
        &self.map
    }

    /// This mapping as a layout that lives as long as the process (layouts are `'static`; a
    /// command builds one mapping per run).
    pub fn leak(self) -> &'static dyn Layout {
        Box::leak(Box::new(self))
    }
}

/// A mapped value shaped per attempt: one value, or one per attempt.
enum Shape {
    One(Value),
    Many(Vec<Value>),
}

impl Shape {
    fn of(value: Value) -> Shape {
        match value {
            Value::Array(items) => Shape::Many(items),
            other => Shape::One(other),
        }
    }

    fn len(&self) -> usize {
        match self {
            Shape::One(_) => 1,
            Shape::Many(items) => items.len(),
        }
    }

    /// The values for `n` attempts, or an error naming `field` when the count differs.
    fn spread(self, field: &str, n: usize, by: &str) -> Result<Vec<Value>, FieldError> {
        match self {
            Shape::One(v) if n == 1 => Ok(vec![v]),
            Shape::Many(items) if items.len() == n => Ok(items),
            other => Err(FieldError::new(
                field,
                format!(
                    "has {} entr{} but `{by}` gives {n} attempt{}",
                    other.len(),
                    if other.len() == 1 { "y" } else { "ies" },
                    if n == 1 { "" } else { "s" }
                ),
            )),
        }
    }
}

/// The mapped fields taken out of a row; a field mapped to several targets is cloned.
struct Taken {
    values: HashMap<String, (Value, usize)>,
}

impl Taken {
    fn take(&mut self, field: &str) -> Value {
        if let Some((value, uses)) = self.values.get_mut(field) {
            if *uses > 1 {
                *uses -= 1;
                return value.clone();
            }
        }
        self.values
            .remove(field)
            .map_or(Value::Null, |(value, _)| value)
    }
}

/// Text of a mapped scalar: strings as they are; numbers and booleans rendered, with the raw
/// value kept in `meta` so the row is written back with its type; `null` is none (and kept).
fn text(field: &str, value: Value, meta: &mut Fields) -> Result<Option<String>, FieldError> {
    match value {
        Value::String(s) => Ok(Some(s)),
        Value::Null => {
            meta.insert(field.to_string(), Value::Null);
            Ok(None)
        }
        Value::Number(ref n) => {
            let s = n.to_string();
            meta.insert(field.to_string(), value);
            Ok(Some(s))
        }
        Value::Bool(b) => {
            meta.insert(field.to_string(), value);
            Ok(Some(b.to_string()))
        }
        other => Err(FieldError::wrong_type(field, "a string", &other)),
    }
}

/// Text of one entry of a list-shaped attempt field (no raw copy: the whole list is kept when
/// an entry is not a string).
fn entry_text(field: &str, i: usize, value: &Value) -> Result<Option<String>, FieldError> {
    match value {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(FieldError::wrong_type(
            format!("{field}[{i}]"),
            "a string",
            other,
        )),
    }
}

fn list_marker(field: &str) -> String {
    format!("{field}[]")
}

impl Layout for Mapping {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn detect(&self, row: &Fields) -> u8 {
        (self.detect)(row)
    }

    fn to_record(&self, mut row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        let map = &self.map;
        let named = map.named();
        if self.strict {
            for (target, field) in &named {
                if !row.contains_key(*field) {
                    return Err(missing_field(target, field, Some(&row)));
                }
            }
        }
        let mut record = Record::new("", ObjectKind::PromptAnswer);
        record.lineage.fields = key_order(&row);
        record.task.domain = self.domain.map(str::to_string);
        let mut uses: HashMap<&str, usize> = HashMap::new();
        for (_, field) in &named {
            *uses.entry(*field).or_default() += 1;
        }
        // A prompt joined from several fields keeps its parts in `meta` (it cannot be split).
        let joined = map.prompt.len() > 1;
        let mut taken = Taken {
            values: HashMap::new(),
        };
        for (field, n) in uses {
            let value = if joined && map.prompt.iter().any(|p| p == field) {
                row.get(field).cloned().unwrap_or(Value::Null)
            } else {
                row.remove(field).unwrap_or(Value::Null)
            };
            taken.values.insert(field.to_string(), (value, n));
        }
        let meta = &mut record.meta;
        if let Some(field) = &map.id {
            if let Some(id) = text(field, taken.take(field), meta)? {
                record.id = id;
            }
        }
        let mut parts = Vec::new();
        for field in &map.prompt {
            let value = taken.take(field);
            let part = if joined {
                text(field, value, &mut Fields::new())?
            } else {
                text(field, value, meta)?
            };
            parts.extend(part.filter(|p| !p.trim().is_empty()));
        }
        if !parts.is_empty() {
            record.task.prompt = Some(parts.join("\n\n"));
        }
        if let Some(field) = &map.answer {
            record.task.reference.answer = text(field, taken.take(field), meta)?;
        }
        if let Some(field) = &map.solution {
            record.task.reference.solution = text(field, taken.take(field), meta)?;
        }
        if let Some(field) = &map.source {
            record.task.source.dataset = text(field, taken.take(field), meta)?;
        }
        if let Some(field) = &map.tools {
            record.task.tools = Some(taken.take(field)).filter(|v| !v.is_null());
        }
        if let Some(field) = &map.tests {
            record.task.reference.tests = tests_of(field, taken.take(field), meta)?;
        }
        self.read_attempts(&mut record, &mut taken)?;
        record.object = match record.attempts.as_slice() {
            [] => ObjectKind::PromptAnswer,
            [one] if one.trace.is_some() => ObjectKind::PromptTraceAnswer,
            [_] => ObjectKind::PromptAnswer,
            _ => ObjectKind::RolloutSet,
        };
        // Raw values of fields the row did not have (presets read them as null) are not kept.
        let fields = &record.lineage.fields;
        record.meta.retain(|key, _| fields.contains(key));
        crate::layout::absorb_meta(&mut record.meta, row);
        Ok(record)
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        let mut row = self.build_row(record);
        // A record read with this layout gets back only the fields its row had.
        if record.lineage.layout.as_deref() == Some(self.name) {
            row.retain(|key, _| had(record, key));
        }
        Ok(row)
    }
}

impl Mapping {
    fn build_row(&self, record: &Record) -> Fields {
        let map = &self.map;
        let mut row = Fields::new();
        let text_value = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
        if let Some(field) = &map.id {
            row.insert(field.clone(), Value::String(record.id.clone()));
        }
        if let Some(first) = map.prompt.first() {
            let prompt = record.problem_text().map(str::to_string);
            row.insert(first.clone(), text_value(&prompt));
            for other in &map.prompt[1..] {
                row.insert(other.clone(), Value::String(String::new()));
            }
        }
        let reference = &record.task.reference;
        for (field, value) in [
            (&map.answer, &reference.answer),
            (&map.solution, &reference.solution),
            (&map.source, &record.task.source.dataset),
        ] {
            if let Some(field) = field {
                row.insert(field.clone(), text_value(value));
            }
        }
        if let Some(field) = &map.tools {
            row.insert(
                field.clone(),
                record.task.tools.clone().unwrap_or(Value::Null),
            );
        }
        if let Some(field) = &map.tests {
            let code = reference.tests.as_ref().and_then(|t| t.code.clone());
            row.insert(field.clone(), text_value(&code));
        }
        self.write_attempts(record, &mut row);
        row
    }
}

fn tests_of(field: &str, value: Value, meta: &mut Fields) -> Result<Option<Tests>, FieldError> {
    let code = match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Array(items) => {
            let lines = crate::layout::grades::strings_of(field, &items)?;
            meta.insert(field.to_string(), Value::Array(items));
            Some(lines.join("\n"))
        }
        other => return Err(FieldError::wrong_type(field, "a string or a list", &other)),
    };
    Ok(code.map(|code| Tests {
        kind: TestKind::Assert,
        language: "python".into(),
        code: Some(code),
        entry_point: None,
        setup: None,
        cases: Vec::new(),
    }))
}

impl Mapping {
    fn read_attempts(&self, record: &mut Record, taken: &mut Taken) -> Result<(), FieldError> {
        let map = &self.map;
        let mut shaped: Vec<(&'static str, &str, Shape)> = Vec::new();
        for (target, field) in [
            ("response", &map.response),
            ("trace", &map.trace),
            ("pred", &map.pred),
        ] {
            if let Some(field) = field {
                shaped.push((target, field.as_str(), Shape::of(taken.take(field))));
            }
        }
        for field in &map.grade {
            shaped.push(("grade", field.as_str(), Shape::of(taken.take(field))));
        }
        let Some((_, by, first)) = shaped.first() else {
            return Ok(());
        };
        let (n, by) = (first.len(), by.to_string());
        let mut attempts: Vec<Attempt> = (0..n).map(|_| Attempt::default()).collect();
        for (target, field, shape) in shaped {
            if let Shape::Many(items) = &shape {
                record.lineage.fields.push(list_marker(field));
                // Entries that are not strings are rendered as text: keep the raw list so the
                // row is written back with its types.
                if target != "grade" && items.iter().any(|v| !(v.is_string() || v.is_null())) {
                    record
                        .meta
                        .insert(field.to_string(), Value::Array(items.clone()));
                }
            }
            let values = shape.spread(field, n, &by)?;
            if target == "grade" {
                for (attempt, value) in attempts.iter_mut().zip(values) {
                    attempt.feedback.push(imported_grade(
                        field,
                        Contract::Unknown,
                        Granularity::Answer,
                        value,
                    ));
                }
                continue;
            }
            let single = n == 1 && !had(record, &list_marker(field));
            for (i, (attempt, value)) in attempts.iter_mut().zip(values).enumerate() {
                let text = if single {
                    text(field, value, &mut record.meta)?
                } else {
                    entry_text(field, i, &value)?
                };
                match target {
                    "response" => attempt.response = text,
                    "trace" => attempt.trace = text,
                    _ => attempt.answer = text,
                }
            }
        }
        if let Some(field) = &map.model {
            let model = text(field, taken.take(field), &mut record.meta)?;
            if let Some(model) = model {
                for attempt in &mut attempts {
                    attempt.generator = Some(Generator {
                        model: Some(model.clone()),
                        ..Generator::default()
                    });
                }
            }
        }
        record.attempts = attempts;
        Ok(())
    }

    fn write_attempts(&self, record: &Record, row: &mut Fields) {
        let map = &self.map;
        let attempts = &record.attempts;
        let listy = |field: &str| had(record, &list_marker(field)) || attempts.len() != 1;
        let shaped = |field: &str, values: Vec<Value>| {
            if listy(field) {
                Value::Array(values)
            } else {
                values.into_iter().next().unwrap_or(Value::Null)
            }
        };
        let text_value = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
        if let Some(field) = &map.response {
            let values = attempts
                .iter()
                .map(|a| {
                    if map.trace.is_some() {
                        text_value(&a.response)
                    } else {
                        Value::String(crate::layout::grades::output_text(a))
                    }
                })
                .collect();
            row.insert(field.clone(), shaped(field, values));
        }
        if let Some(field) = &map.trace {
            let values = attempts.iter().map(|a| text_value(&a.trace)).collect();
            row.insert(field.clone(), shaped(field, values));
        }
        if let Some(field) = &map.pred {
            let values = attempts.iter().map(|a| text_value(&a.answer)).collect();
            row.insert(field.clone(), shaped(field, values));
        }
        for field in &map.grade {
            let values = attempts
                .iter()
                .map(|a| imported_of(a, field).map_or(Value::Null, grade_value))
                .collect();
            row.insert(field.clone(), shaped(field, values));
        }
        if let Some(field) = &map.model {
            let model = attempts
                .iter()
                .find_map(|a| a.generator.as_ref()?.model.clone());
            row.insert(field.clone(), text_value(&model));
        }
    }
}
