//! Built-in layouts that are plain field mappings (see [`super::Mapping`] for how a mapping reads
//! and writes):
//!
//! - `alpaca`: `{instruction, input, output}` (Stanford Alpaca, LLaMA-Factory's alpaca format):
//!   the prompt is `instruction` and `input` joined by a blank line, `output` the response.
//! - `qa`: `{q, a}` rows: `q` is the prompt, `a` the reference answer.
//! - `grader_cases`: answer-equivalence cases `{id, gold, pred, expected, source}`: `gold` is the
//!   reference answer, `pred` the attempt, `expected` the upstream grader's verdict (imported
//!   feedback `expected`), so `verity agree --a math --b expected` measures agreement with it.
//! - `swe_bench_preds`: SWE-bench prediction files `{instance_id, model_patch,
//!   model_name_or_path}`: the patch is the attempt's response, the model its generator. The
//!   task statement is not in the file (the record has no prompt).
//! - `toolbench_query`: ToolBench instruction files `{query, api_list, relevant APIs,
//!   query_id}`: `query` is the prompt, `api_list` the tools; `relevant APIs` stays in `meta`.
//!
//! Fields absent from a row are read as null (the user's `--map` is stricter: there a mapped
//! field must be in every row).

use super::{FieldMap, Mapping};
use crate::layout::{Layout, RowContext};
use crate::record::{Fields, Record};
use crate::FieldError;
use serde_json::Value;
use std::sync::LazyLock;

fn is_string(row: &Fields, key: &str) -> bool {
    row.get(key).is_some_and(Value::is_string)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn name(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// A unit struct that is the built-in mapping layout held in a lazy static.
macro_rules! preset {
    ($(#[$doc:meta])* $ty:ident, $mapping:expr) => {
        $(#[$doc])*
        pub struct $ty;

        impl $ty {
            fn mapping() -> &'static Mapping {
                static MAPPING: LazyLock<Mapping> = LazyLock::new(|| $mapping);
                &MAPPING
            }
        }

        impl Layout for $ty {
            fn name(&self) -> &'static str {
                Self::mapping().name()
            }
            fn description(&self) -> &'static str {
                Self::mapping().description()
            }
            fn detect(&self, row: &Fields) -> u8 {
                Self::mapping().detect(row)
            }
            fn to_record(&self, row: Fields, ctx: &RowContext) -> Result<Record, FieldError> {
                Self::mapping().to_record(row, ctx)
            }
            fn from_record(&self, record: &Record) -> Result<Fields, FieldError> {
                Self::mapping().from_record(record)
            }
        }
    };
}

preset!(
    /// `{instruction, input, output}` rows.
    Alpaca,
    Mapping::preset(
        "alpaca",
        "alpaca rows: {instruction, input, output} (prompt = instruction + input)",
        FieldMap {
            prompt: names(&["instruction", "input"]),
            response: name("output"),
            ..FieldMap::default()
        },
        None,
        |row| {
            let chat = ["messages", "conversations", "chosen"]
                .iter()
                .any(|k| row.contains_key(*k));
            if is_string(row, "instruction") && row.contains_key("output") && !chat {
                80
            } else {
                0
            }
        },
    )
);

preset!(
    /// `{q, a}` rows.
    Qa,
    Mapping::preset(
        "qa",
        "question/answer rows: {q, a}",
        FieldMap {
            prompt: names(&["q"]),
            answer: name("a"),
            ..FieldMap::default()
        },
        None,
        |row| {
            let a = row
                .get("a")
                .is_some_and(|v| v.is_string() || v.is_number());
            if is_string(row, "q") && a {
                75
            } else {
                0
            }
        },
    )
);

preset!(
    /// Answer-equivalence grader cases.
    GraderCases,
    Mapping::preset(
        "grader_cases",
        "answer-equivalence cases: {id, gold, pred, expected, source}",
        FieldMap {
            id: name("id"),
            answer: name("gold"),
            response: name("pred"),
            grade: names(&["expected"]),
            source: name("source"),
            ..FieldMap::default()
        },
        Some("math"),
        |row| {
            let expected = row.get("expected").is_some_and(Value::is_boolean);
            if row.contains_key("gold") && row.contains_key("pred") && expected {
                90
            } else {
                0
            }
        },
    )
);

preset!(
    /// SWE-bench prediction files.
    SweBenchPreds,
    Mapping::preset(
        "swe_bench_preds",
        "SWE-bench predictions: {instance_id, model_patch, model_name_or_path}",
        FieldMap {
            id: name("instance_id"),
            response: name("model_patch"),
            model: name("model_name_or_path"),
            ..FieldMap::default()
        },
        Some("code"),
        |row| {
            if is_string(row, "instance_id") && row.contains_key("model_patch") {
                90
            } else {
                0
            }
        },
    )
);

preset!(
    /// ToolBench instruction (query) files.
    ToolBenchQuery,
    Mapping::preset(
        "toolbench_query",
        "ToolBench queries: {query, api_list, relevant APIs, query_id}",
        FieldMap {
            id: name("query_id"),
            prompt: names(&["query"]),
            tools: name("api_list"),
            ..FieldMap::default()
        },
        Some("tool_use"),
        |row| {
            if is_string(row, "query") && row.get("api_list").is_some_and(Value::is_array) {
                90
            } else {
                0
            }
        },
    )
);
