//! The stage registry: every stage's name, what it does, its parameters (with types, defaults
//! and docs) and its constructor, in one table.
//!
//! What it does: [`REGISTRY`] lists the stages in pipeline order. [`params`] reads a stage's
//! parameter docs from the JSON Schema of its config struct (the struct in [`crate::recipe`] or
//! [`crate::export`]: its doc comments are the docs, its serde defaults the defaults, so they
//! are written once). [`config`] turns (name, JSON parameters) into a [`StageConfig`] with the
//! same strict parsing as a recipe; [`build`] makes the runnable [`Stage`]; [`run_batch`] runs a
//! stage over one in-memory batch (first pass included) and returns what it kept, rejected and
//! measured. Recipes, the single-stage commands, `verity stages` and the Python API use these.
//!
//! Why in verity-pipeline: the constructors need every stage crate (verity-math,
//! verity-sandbox, verity-score, verity-dedup); verity-core, which defines [`Stage`], depends on
//! none of them.
//!
//! Known failure modes: parameters typed `Option` have their default applied by the stage's
//! constructor; the registry shows those defaults in the doc text (`(default 0.7)`), not in the
//! `default` column.

use crate::error::{Error, Result};
use crate::recipe::StageConfig;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;
use verity_core::stage::{Processed, Stage};
use verity_core::summary::StageSummary;
use verity_core::Record;

/// One registered stage.
pub struct StageInfo {
    /// Name, as in recipes (`stage = "dedup"`) and the ledger.
    pub name: &'static str,
    /// One line on what it does.
    pub about: &'static str,
    /// When it needs a first pass over all its input.
    pub first_pass: &'static str,
    /// The JSON Schema of its parameters.
    pub schema: fn() -> schemars::Schema,
}

macro_rules! schema {
    ($t:ty) => {
        || schemars::schema_for!($t)
    };
}

/// Every stage, in pipeline order.
pub const REGISTRY: &[StageInfo] = &[
    StageInfo {
        name: "normalize",
        about: "Unicode NFC, whitespace, chat-template debris, empty-record rejection.",
        first_pass: "never",
        schema: schema!(crate::recipe::NormalizeConfig),
    },
    StageInfo {
        name: "verify",
        about: "Verifier feedback on every attempt (math, exact, choice, regex, code, command).",
        first_pass: "never",
        schema: schema!(crate::recipe::VerifyConfig),
    },
    StageInfo {
        name: "score",
        about: "Utility signals: tokens, truncation, repetition, pass rate, pass@k, band.",
        first_pass: "never",
        schema: schema!(crate::recipe::ScoreConfig),
    },
    StageInfo {
        name: "dedup",
        about: "Exact and MinHash-LSH near-duplicate removal.",
        first_pass: "always",
        schema: schema!(crate::recipe::DedupStageConfig),
    },
    StageInfo {
        name: "decontam",
        about: "Benchmark decontamination (n-gram, short-problem and fuzzy matchers).",
        first_pass: "never",
        schema: schema!(crate::recipe::DecontamStageConfig),
    },
    StageInfo {
        name: "select",
        about: "Filters, pass-rate bands, quotas, top-k, diversity, s1K-style selection.",
        first_pass: "with quota, top_k, diversity or s1k",
        schema: schema!(crate::recipe::SelectConfig),
    },
    StageInfo {
        name: "pairs",
        about: "Preference pairs (chosen = passing, rejected = failing attempt) from rollouts.",
        first_pass: "never",
        schema: schema!(crate::recipe::PairsConfig),
    },
    StageInfo {
        name: "split",
        about: "Grouped deterministic train/validation/test splits.",
        first_pass: "always",
        schema: schema!(crate::recipe::SplitConfig),
    },
    StageInfo {
        name: "export",
        about: "The trainer format of the data files (last stage of a recipe).",
        first_pass: "never",
        schema: schema!(crate::export::ExportConfig),
    },
];

/// The registered stage called `name` (`decontaminate` is an alias of `decontam`).
pub fn info(name: &str) -> Option<&'static StageInfo> {
    let name = if name == "decontaminate" {
        "decontam"
    } else {
        name
    };
    REGISTRY.iter().find(|s| s.name == name)
}

/// Names of every stage.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|s| s.name).collect()
}

/// One parameter of a stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamDoc {
    /// Name, as in recipes.
    pub name: String,
    /// Type (`string`, `boolean`, `integer`, `number`, `array`, `object`, or an enum's values).
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether a recipe must give it.
    pub required: bool,
    /// The default when it is left out (`null`: none, or applied by the stage, see `doc`).
    pub default: Value,
    /// What it does.
    pub doc: String,
}

fn kind_of(node: &Value, root: &Value) -> String {
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let def = r.rsplit('/').next().unwrap_or(r);
        let target = root.get("$defs").and_then(|d| d.get(def));
        return match target {
            Some(t) => kind_of(t, root),
            None => def.to_string(),
        };
    }
    if let Some(Value::Array(values)) = node.get("enum") {
        return values
            .iter()
            .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string()))
            .collect::<Vec<_>>()
            .join(" | ");
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alts)) = node.get(key) {
            let parts: Vec<String> = alts
                .iter()
                .map(|a| {
                    a.get("const")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| kind_of(a, root))
                })
                .filter(|k| k != "null")
                .collect();
            return parts.join(" | ");
        }
    }
    match node.get("type") {
        Some(Value::String(t)) if t == "array" => match node.get("items") {
            Some(items) => format!("array of {}", kind_of(items, root)),
            None => "array".into(),
        },
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => {
            let non_null: Vec<&Value> = ts.iter().filter(|t| *t != "null").collect();
            match non_null.as_slice() {
                [one] if *one == "array" => match node.get("items") {
                    Some(items) => format!("array of {}", kind_of(items, root)),
                    None => "array".into(),
                },
                _ => non_null
                    .iter()
                    .filter_map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" | "),
            }
        }
        _ => "any".into(),
    }
}

/// The parameters of a stage, in declaration order.
pub fn params(info: &StageInfo) -> Vec<ParamDoc> {
    let schema = (info.schema)();
    let root = schema.as_value();
    let required: Vec<&str> = root
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(Value::Object(props)) = root.get("properties") else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, node)| ParamDoc {
            name: name.clone(),
            kind: kind_of(node, root),
            required: required.contains(&name.as_str()),
            default: node.get("default").cloned().unwrap_or(Value::Null),
            doc: node
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect()
}

/// A stage config from its name and parameters (a JSON object without the `stage` key), parsed
/// as strictly as a recipe `[[stage]]` (unknown parameters are errors).
pub fn config(name: &str, params: Value) -> Result<StageConfig> {
    let info = info(name).ok_or_else(|| {
        Error::Other(format!(
            "unknown stage `{name}` (known: {})",
            names().join(", ")
        ))
    })?;
    let mut object = match params {
        Value::Object(m) => m,
        Value::Null => serde_json::Map::new(),
        other => {
            return Err(Error::Other(format!(
                "stage `{name}`: parameters must be an object, not {other}"
            )))
        }
    };
    object.insert("stage".into(), Value::String(info.name.into()));
    serde_json::from_value(Value::Object(object))
        .map_err(|e| Error::Other(format!("stage `{name}`: {e}")))
}

/// The runnable stage for `config` (file paths resolved against `base_dir`). `export` has no
/// processing stage: it is an error here.
pub fn build(config: &StageConfig, base_dir: &Path) -> Result<Box<dyn Stage>> {
    crate::stages::build(1, config, base_dir)?.ok_or_else(|| {
        Error::Other(format!(
            "stage `{}` writes files and cannot run on a batch",
            config.name()
        ))
    })
}

/// Run `stage` over one in-memory batch: the first pass (when the stage needs one), then
/// `process`. Returns what it kept and rejected, and its typed summary.
pub fn run_batch(stage: &mut dyn Stage, records: Vec<Record>) -> Result<(Processed, StageSummary)> {
    if stage.needs_first_pass() {
        stage.observe(0, &records)?;
        stage.seal()?;
    }
    let processed = stage.process(0, records)?;
    Ok((processed, stage.summary()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use verity_core::io::expand_inputs;
    use verity_core::stream::{RecordSource, SourceOptions};

    fn sample() -> Vec<Record> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../recipes/data/gsm8k_model_solutions.head200.jsonl.gz");
        let source =
            RecordSource::open(expand_inputs(&[path]).unwrap(), SourceOptions::default()).unwrap();
        let mut records = Vec::new();
        source
            .for_each(
                |b| b.records,
                |r| {
                    records.extend(r);
                    Ok::<(), verity_core::Error>(())
                },
            )
            .unwrap();
        records
    }

    #[test]
    fn every_stage_of_a_recipe_is_registered_once() {
        let mut names = names();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
        for name in names {
            let info = info(name).unwrap();
            assert!(!params(info).is_empty(), "{name} lists no parameters");
        }
        assert_eq!(info("decontaminate").unwrap().name, "decontam");
    }

    #[test]
    fn parameters_parse_as_strictly_as_a_recipe() {
        let c = config("dedup", json!({"threshold": 0.8, "view": "problem"})).unwrap();
        assert_eq!(c.name(), "dedup");
        let e = config("dedup", json!({"treshold": 0.8})).unwrap_err();
        assert!(e.to_string().contains("treshold"), "{e}");
        let e = config("dedupe", json!({})).unwrap_err();
        assert!(e.to_string().contains("known: normalize"), "{e}");
        let e = build(&config("export", json!({})).unwrap(), Path::new(".")).err();
        assert!(e.is_some());
    }

    #[test]
    fn a_batch_runs_with_its_first_pass_and_a_typed_summary() {
        let records = sample();
        let n = records.len();
        let c = config("dedup", json!({"view": "problem", "mode": "exact"})).unwrap();
        let mut stage = build(&c, Path::new(".")).unwrap();
        let (out, summary) = run_batch(stage.as_mut(), records).unwrap();
        assert_eq!(out.kept.len() + out.rejected.len(), n);
        let StageSummary::Dedup(d) = summary else {
            panic!("not a dedup summary: {summary:?}")
        };
        assert_eq!(d.records, n as u64);
        assert_eq!(d.removed(), out.rejected.len() as u64);
        assert!(out.rejected.iter().all(|r| r.reason == "duplicate"));
        let kept: std::collections::BTreeSet<&str> = out
            .kept
            .iter()
            .filter_map(|r| r.problem_text().map(str::trim))
            .collect();
        assert_eq!(kept.len(), out.kept.len(), "an exact duplicate was kept");
    }
}
