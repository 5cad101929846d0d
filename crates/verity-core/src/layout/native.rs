//! `verity`: verity's own record JSON (the output of every stage).

use super::{Layout, RowContext};
use crate::error::FieldError;
use crate::record::{Fields, Record};
use serde_json::Value;

/// verity's canonical record layout.
pub struct Native;

impl Layout for Native {
    fn name(&self) -> &'static str {
        "verity"
    }

    fn description(&self) -> &'static str {
        "verity records: {id, object, task, attempts, lineage, signals, meta}"
    }

    fn detect(&self, row: &Fields) -> u8 {
        if row.contains_key("object") && row.get("task").is_some_and(Value::is_object) {
            100
        } else {
            0
        }
    }

    fn to_record(&self, row: Fields, _ctx: &RowContext) -> Result<Record, FieldError> {
        serde_json::from_value(Value::Object(row))
            .map_err(|e| FieldError::new("record", e.to_string()))
    }

    fn merges_meta(&self) -> bool {
        false
    }

    fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
        match serde_json::to_value(record) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(FieldError::new("record", "did not serialize to an object")),
            Err(e) => Err(FieldError::new("record", e.to_string())),
        }
    }
}
