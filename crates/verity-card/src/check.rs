//! `verity card check`: the curation scale L0..L5, the level a card reaches, the missing fields
//! ordered by how much they block reuse, and the reuse class.
//!
//! What it does: every requirement names a card field, the level that needs it, a weight (how
//! much its absence blocks reuse) and one line on why it matters. A field counts as present when
//! it has a value or is `not_applicable`; `unknown` is missing. A card reaches level N when every
//! requirement of levels 0..=N is present (and, for L5, no value holds placeholder text).
//!
//! Why: the scale follows the companion atlas's curation levels (seeded -> audit-ready), adapted
//! from "is this paper described" to "can this release be reused and attributed".
//!
//! Known failure modes: presence is not truth; a declared value is graded like a measured one
//! (the provenance is reported next to it, not weighed).

use crate::model::{self, Card};
use serde::Serialize;
use serde_json::Value;

/// Level names, index = level.
pub const LEVEL_NAMES: [&str; 6] = [
    "identified",
    "described",
    "verifiable",
    "reproducible",
    "attributable",
    "audit_ready",
];

/// One field the scale requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// Dotted card path.
    pub path: &'static str,
    /// Level that needs it.
    pub level: u8,
    /// How much its absence blocks reuse (0..100).
    pub weight: u8,
    /// Why it matters, one line.
    pub why: &'static str,
}

const fn req(path: &'static str, level: u8, weight: u8, why: &'static str) -> Requirement {
    Requirement {
        path,
        level,
        weight,
        why,
    }
}

/// Every requirement of the scale (the table in `docs/card.md` is generated from the same list).
pub const REQUIREMENTS: &[Requirement] = &[
    req("release.name", 0, 100, "without a name the release cannot be cited, found or compared"),
    req("release.license", 1, 96, "without a license nobody may legally reuse the data"),
    req("released.object_kinds", 1, 80, "the object kind decides which training methods the data supports (SFT, RLVR, PRM, DPO)"),
    req("released.counts", 1, 60, "size and reuse claims cannot be checked without record counts"),
    req("release.version", 1, 40, "results cannot be tied to the exact data without a version"),
    req("factors.verifier", 2, 92, "correctness is relative to the verifier: without its name and version no pass rate can be reproduced"),
    req("verification.contract", 2, 90, "what decides correctness decides whether RLVR is possible and which evidence must be released"),
    req("construction.prompt_sources", 2, 76, "the source mixture sets the ceiling and the license chain; contamination cannot be traced without it"),
    req("verification.granularity", 2, 70, "answer-level labels do not license step-level or trajectory training"),
    req("released.files", 2, 50, "without file hashes nobody can tell whether they hold the same data"),
    req("construction.generators", 3, 74, "the teacher/generator and its decoding policy shape every trace; distillation claims need them"),
    req("factors.lineage", 3, 70, "sources and generators together are the data lineage factor of any gain"),
    req("construction.filters", 3, 66, "filters decide which behaviours survive; rejection counts show what the filter hid"),
    req("factors.inference_budget", 3, 62, "pass rates and trace lengths depend on samples per task and the token budget"),
    req("quality.dedup", 3, 56, "repeated and near-duplicate prompts inflate size and reuse"),
    req("released.fields", 3, 30, "a trainer needs to know which fields a record carries"),
    req("quality.decontamination", 4, 88, "without a benchmark overlap check, evaluation gains may be memorisation"),
    req("factors.base_model", 4, 86, "difficulty and pass-rate bands only mean something for a named base model"),
    req("factors.optimizer", 4, 68, "a gain credited to the data may come from the optimizer, and vice versa"),
    req("usage.training_use", 4, 64, "what the data was built and tested for; other uses are unvalidated"),
    req("factors.scaffold", 4, 58, "the same model scores differently under another prompt template or agent loop"),
    req("quality.pass_rate_bands", 4, 52, "without base-relative difficulty, too-easy and unsolvable tasks cannot be told apart"),
    req("scaling.unique_tasks", 4, 46, "row count is not coverage: unique tasks and reuse are"),
    req("quality.known_failure_modes", 5, 48, "users repeat failures nobody wrote down (reward hacking, leaked answers, truncation)"),
    req("verification.failure_modes", 5, 47, "false positives and negatives of the verifier become label noise"),
    req("quality.license_provenance", 5, 44, "upstream dataset licenses and generator terms may restrict reuse"),
    req("quality.split_policy", 5, 42, "train and evaluation surfaces mixed without a split note make results meaningless"),
    req("verification.results", 5, 40, "pass/fail counts show how much the verifier actually filtered"),
    req("construction.trace_writer", 5, 38, "human, teacher, self or search traces carry different biases"),
    req("release.links.data", 5, 35, "reproduction needs to know where the exact files live"),
    req("scaling.tokens", 5, 30, "compute and budget comparisons need token counts"),
    req("construction.search_substrate", 5, 25, "search (beam, MCTS, tools) changes which traces exist at all"),
    req("construction.self_play_anchor", 5, 22, "without external labels, what grounded truth decides what was learned"),
    req("release.citation", 5, 20, "credit and traceability of derived work"),
    req("release.description", 5, 15, "a reader needs one paragraph on what this is"),
];

/// A missing field in a check report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// Dotted card path.
    pub path: String,
    /// Level that needs it.
    pub level: String,
    /// Weight (how much it blocks reuse).
    pub weight: u8,
    /// Why it matters.
    pub why: String,
}

/// How the release may be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReuseClass {
    /// License and verifier known, recipe attributable, decontamination reported.
    Training,
    /// Verifiable, but not attributable enough for training claims (or declared eval-only).
    EvaluationOnly,
    /// Described, not verifiable: read it, do not build on it.
    ReferenceOnly,
    /// License or verifier unknown: do not use until they are.
    BlockedPendingVerification,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// Level reached (`None`: not even identified).
    pub level: Option<u8>,
    /// `L3 reproducible`, or `below L0`.
    pub level_label: String,
    /// Missing fields, most blocking first.
    pub missing: Vec<Missing>,
    /// Fields needed for the next level.
    pub next_level: Vec<String>,
    /// Values holding placeholder text (block L5).
    pub placeholders: Vec<String>,
    /// Reuse class.
    pub reuse: ReuseClass,
    /// Why this reuse class.
    pub reuse_reason: String,
    /// Present fields by provenance: measured, declared.
    pub measured: usize,
    /// Declared fields.
    pub declared: usize,
}

/// `L<n> <name>`.
pub fn level_label(level: Option<u8>) -> String {
    match level {
        Some(n) => format!("L{n} {}", LEVEL_NAMES[n as usize]),
        None => "below L0".into(),
    }
}

/// `L3` -> 3.
fn level_of(label: &str) -> u8 {
    label.trim_start_matches('L').parse().unwrap_or(u8::MAX)
}

/// Parse a level as every output writes it (`L2`, `l2`, `L2 verifiable`) or as a number (`2`).
pub fn parse_level(text: &str) -> Result<u8, String> {
    let t = text.trim();
    let number = t
        .strip_prefix(['L', 'l'])
        .unwrap_or(t)
        .split_whitespace()
        .next()
        .unwrap_or("");
    match number.parse::<u8>() {
        Ok(n) if n <= 5 => Ok(n),
        _ => Err(format!("`{text}` is not a level: use L0..L5 (or 0..5)")),
    }
}

const PLACEHOLDERS: &[&str] = &["todo", "tbd", "fixme", "lorem ipsum", "???", "<fill", "xxx"];

fn placeholder_paths(card: &Value) -> Vec<String> {
    fn has_placeholder(value: &Value) -> bool {
        match value {
            Value::String(s) => {
                let lower = s.to_lowercase();
                PLACEHOLDERS.iter().any(|p| lower.contains(p))
            }
            Value::Array(items) => items.iter().any(has_placeholder),
            Value::Object(map) => map.values().any(has_placeholder),
            _ => false,
        }
    }
    model::facts(card)
        .into_iter()
        .filter(|f| f.value.is_some_and(has_placeholder))
        .map(|f| f.path)
        .collect()
}

/// Grade a card.
pub fn check(card: &Card) -> CheckReport {
    let tree = card.to_value();
    let present = |path: &str| {
        model::fact_at(&tree, path)
            .and_then(|f| f.get("state"))
            .and_then(Value::as_str)
            .is_some_and(|s| s != "unknown")
    };
    let mut level: Option<u8> = None;
    for n in 0..=5u8 {
        let complete = REQUIREMENTS
            .iter()
            .filter(|r| r.level == n)
            .all(|r| present(r.path));
        if !complete {
            break;
        }
        level = Some(n);
    }
    let placeholders = placeholder_paths(&tree);
    if level == Some(5) && !placeholders.is_empty() {
        level = Some(4);
    }
    let mut missing: Vec<Missing> = REQUIREMENTS
        .iter()
        .filter(|r| !present(r.path))
        .map(|r| Missing {
            path: r.path.to_string(),
            level: format!("L{}", r.level),
            weight: r.weight,
            why: r.why.to_string(),
        })
        .collect();
    // Most blocking first: the lowest level a field holds back, then the heaviest within it.
    missing.sort_by(|a, b| {
        level_of(&a.level)
            .cmp(&level_of(&b.level))
            .then(b.weight.cmp(&a.weight))
            .then(a.path.cmp(&b.path))
    });
    let next = level.map_or(0, |l| l + 1);
    let mut next_level: Vec<String> = REQUIREMENTS
        .iter()
        .filter(|r| r.level == next && !present(r.path))
        .map(|r| r.path.to_string())
        .collect();
    if next == 5 && next_level.is_empty() {
        next_level = placeholders
            .iter()
            .map(|p| format!("{p} (placeholder text)"))
            .collect();
    }
    let facts = model::facts(&tree);
    let measured = facts
        .iter()
        .filter(|f| f.state != "unknown" && f.provenance == "measured")
        .count();
    let declared = facts
        .iter()
        .filter(|f| f.state != "unknown" && f.provenance == "declared")
        .count();
    let (reuse, reuse_reason) = reuse_class(card, level, &present);
    CheckReport {
        level,
        level_label: level_label(level),
        missing,
        next_level,
        placeholders,
        reuse,
        reuse_reason,
        measured,
        declared,
    }
}

fn reuse_class(
    card: &Card,
    level: Option<u8>,
    present: &dyn Fn(&str) -> bool,
) -> (ReuseClass, String) {
    if !present("release.license") {
        return (
            ReuseClass::BlockedPendingVerification,
            "the license is unknown".into(),
        );
    }
    if !present("factors.verifier") && !present("verification.contract") {
        return (
            ReuseClass::BlockedPendingVerification,
            "neither the verifier nor the verification contract is known".into(),
        );
    }
    let level = level.unwrap_or(0);
    if level < 2 {
        return (
            ReuseClass::ReferenceOnly,
            format!("level L{level} is below L2 verifiable"),
        );
    }
    let eval_only = card
        .usage
        .training_use
        .value()
        .is_some_and(|uses| !uses.is_empty() && uses.iter().all(|u| u == "evaluation"));
    if eval_only {
        return (
            ReuseClass::EvaluationOnly,
            "the declared training use is evaluation only".into(),
        );
    }
    if let Some(d) = card.quality.decontamination.value() {
        let hits: u64 = d.hits.values().sum();
        let removed = d.removed.unwrap_or(0);
        if hits > removed {
            let named = d
                .hits
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(b, n)| format!("{b} ({n})"))
                .collect::<Vec<_>>()
                .join(", ");
            return (
                ReuseClass::EvaluationOnly,
                format!("records overlap benchmarks that were not removed: {named}; training on them contaminates those evaluations"),
            );
        }
    }
    if level < 4 {
        return (
            ReuseClass::EvaluationOnly,
            format!("level L{level} is below L4 attributable: gains from training on it could not be attributed"),
        );
    }
    (
        ReuseClass::Training,
        "license, verifier, recipe, decontamination and attribution factors are stated".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_as_outputs_print_them() {
        assert_eq!(parse_level("L1"), Ok(1));
        assert_eq!(parse_level("l4"), Ok(4));
        assert_eq!(parse_level("3"), Ok(3));
        assert_eq!(parse_level("L2 verifiable"), Ok(2));
        assert!(parse_level("L6").is_err());
        assert!(parse_level("high").is_err());
    }

    #[test]
    fn missing_fields_come_lowest_level_first() {
        let card = crate::build::build(None, None, None).unwrap();
        let report = check(&card);
        let levels: Vec<u8> = report.missing.iter().map(|m| level_of(&m.level)).collect();
        let mut sorted = levels.clone();
        sorted.sort();
        assert_eq!(levels, sorted);
        // Within a level, the heaviest first.
        let l1: Vec<u8> = report
            .missing
            .iter()
            .filter(|m| m.level == "L1")
            .map(|m| m.weight)
            .collect();
        assert!(l1.windows(2).all(|w| w[0] >= w[1]), "{l1:?}");
    }
}
