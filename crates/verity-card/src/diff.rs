//! `verity card diff A B`: which attribution factors and data facts differ between two releases,
//! and whether a gain between them can be attributed.
//!
//! What it does: compares every field of two cards; groups the differences by the six factors
//! (verifier, base model, lineage, optimizer, scaffold, inference budget), by data facts (size,
//! sources, filters, dedup, decontamination, difficulty) and "other"; then gives a verdict:
//!
//! - `attributable`: exactly one factor differs and the other five are known and equal;
//! - `confounded`: two or more factors differ (named);
//! - `undetermined`: fewer than two differ but some factor is `unknown` on either side (named);
//! - `identical`: no factor differs and no data fact differs.
//!
//! Data facts are part of the lineage factor: when the declared lineage (sources, generators) is
//! equal but a measured data fact differs (size, filters, decontamination), lineage counts as
//! differing, because the data substrate changed.
//!
//! Why: a gain between two releases is evidence about the data only when one thing changed.
//!
//! Known failure modes: values are compared after normalisation (case, order of scalar lists);
//! two spellings of one model name count as different.

use crate::build::same_value;
use crate::model::{self, Card};
use serde::Serialize;
use serde_json::Value;

/// The six attribution factors, in display order, with their card paths.
pub const FACTORS: [(&str, &str); 6] = [
    ("verifier", "factors.verifier"),
    ("base_model", "factors.base_model"),
    ("lineage", "factors.lineage"),
    ("optimizer", "factors.optimizer"),
    ("scaffold", "factors.scaffold"),
    ("inference_budget", "factors.inference_budget"),
];

/// Card paths that are data facts.
pub const DATA_FACTS: [&str; 10] = [
    "released.counts",
    "released.object_kinds",
    "construction.prompt_sources",
    "construction.generators",
    "construction.filters",
    "quality.dedup",
    "quality.decontamination",
    "quality.pass_rate_bands",
    "quality.split_policy",
    "scaling.unique_tasks",
];

/// How one field compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// Both known and the same.
    Equal,
    /// Both known and different.
    Differs,
    /// Unknown on one or both sides.
    Undisclosed,
}

/// One field compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    /// Dotted path.
    pub path: String,
    /// `factor:<name>`, `data` or `other`.
    pub group: String,
    /// Outcome.
    pub comparison: Comparison,
    /// A's value, rendered.
    pub a: String,
    /// B's value, rendered.
    pub b: String,
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Exactly one factor differs; the others are known and equal.
    Attributable,
    /// Several factors differ.
    Confounded,
    /// Undisclosed factors prevent attribution.
    Undetermined,
    /// Nothing differs.
    Identical,
}

/// The diff report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// Verdict.
    pub verdict: Verdict,
    /// One sentence explaining it.
    pub explanation: String,
    /// Factors that differ.
    pub differing: Vec<String>,
    /// Factors unknown on either side (with the side: `optimizer (B)`).
    pub undisclosed: Vec<String>,
    /// Each factor's comparison, in [`FACTORS`] order.
    pub factors: Vec<FieldDiff>,
    /// Data facts that are not equal.
    pub data: Vec<FieldDiff>,
    /// Other fields that are not equal.
    pub other: Vec<FieldDiff>,
}

fn render(fact: Option<&Value>) -> String {
    match fact {
        None => "unknown".into(),
        Some(f) => match f.get("state").and_then(Value::as_str) {
            Some("value") => {
                let v = f.get("value").cloned().unwrap_or(Value::Null);
                let text = match &v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if text.chars().count() > 160 {
                    let cut: String = text.chars().take(157).collect();
                    format!("{cut}...")
                } else {
                    text
                }
            }
            Some(state) => state.to_string(),
            None => "unknown".into(),
        },
    }
}

fn state(fact: Option<&Value>) -> &str {
    fact.and_then(|f| f.get("state"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Comparison {
    let (sa, sb) = (state(a), state(b));
    if sa == "unknown" || sb == "unknown" {
        return Comparison::Undisclosed;
    }
    if sa != sb {
        return Comparison::Differs;
    }
    if sa == "not_applicable" {
        return Comparison::Equal;
    }
    let va = a.and_then(|f| f.get("value")).unwrap_or(&Value::Null);
    let vb = b.and_then(|f| f.get("value")).unwrap_or(&Value::Null);
    if same_value(va, vb) && same_value(vb, va) {
        Comparison::Equal
    } else {
        Comparison::Differs
    }
}

fn field(path: &str, group: &str, a: &Value, b: &Value) -> FieldDiff {
    let fa = model::fact_at(a, path);
    let fb = model::fact_at(b, path);
    FieldDiff {
        path: path.to_string(),
        group: group.to_string(),
        comparison: compare(fa, fb),
        a: render(fa),
        b: render(fb),
    }
}

/// Compare two cards.
pub fn diff(a: &Card, b: &Card) -> DiffReport {
    let ta = a.to_value();
    let tb = b.to_value();
    let mut factors: Vec<FieldDiff> = FACTORS
        .iter()
        .map(|(name, path)| field(path, &format!("factor:{name}"), &ta, &tb))
        .collect();
    let data: Vec<FieldDiff> = DATA_FACTS
        .iter()
        .map(|path| field(path, "data", &ta, &tb))
        .filter(|d| d.comparison != Comparison::Equal)
        .collect();
    let mut paths: Vec<String> = model::facts(&ta).into_iter().map(|f| f.path).collect();
    for f in model::facts(&tb) {
        if !paths.contains(&f.path) {
            paths.push(f.path);
        }
    }
    let other: Vec<FieldDiff> = paths
        .iter()
        .filter(|p| !p.starts_with("factors.") && !DATA_FACTS.contains(&p.as_str()))
        .map(|p| field(p, "other", &ta, &tb))
        .filter(|d| d.comparison != Comparison::Equal)
        .collect();

    let data_differs: Vec<&str> = data
        .iter()
        .filter(|d| d.comparison == Comparison::Differs)
        .map(|d| d.path.as_str())
        .collect();
    let mut differing = Vec::new();
    let mut undisclosed = Vec::new();
    for (fd, (name, _)) in factors.iter_mut().zip(FACTORS) {
        match fd.comparison {
            Comparison::Differs => differing.push(name.to_string()),
            Comparison::Undisclosed => {
                let side = match (fd.a == "unknown", fd.b == "unknown") {
                    (true, true) => "A and B",
                    (true, false) => "A",
                    _ => "B",
                };
                undisclosed.push(format!("{name} ({side})"));
            }
            Comparison::Equal => {
                if name == "lineage" && !data_differs.is_empty() {
                    differing.push(format!("lineage (data facts: {})", data_differs.join(", ")));
                }
            }
        }
    }
    let (verdict, explanation) = if differing.len() >= 2 {
        let mut text = format!(
            "{} factors differ ({}): a gain between A and B cannot be attributed to any one of them",
            differing.len(),
            differing.join("; ")
        );
        if !undisclosed.is_empty() {
            text.push_str(&format!("; also undisclosed: {}", undisclosed.join(", ")));
        }
        (Verdict::Confounded, text)
    } else if !undisclosed.is_empty() {
        let mut text = format!(
            "undisclosed factors: {}; a gain cannot be attributed until they are stated",
            undisclosed.join(", ")
        );
        if let Some(one) = differing.first() {
            text.push_str(&format!(" (known to differ: {one})"));
        }
        (Verdict::Undetermined, text)
    } else if let Some(one) = differing.first() {
        (
            Verdict::Attributable,
            format!("only {one} differs and the other five factors are known and equal: a gain is attributable to it"),
        )
    } else {
        (
            Verdict::Identical,
            "no factor and no data fact differs: a gain between A and B comes from evaluation protocol or noise".into(),
        )
    };
    DiffReport {
        verdict,
        explanation,
        differing,
        undisclosed,
        factors,
        data,
        other,
    }
}
