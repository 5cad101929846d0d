//! The release card: what a release is, how it was built, how good it is and which of the six
//! attribution factors (verifier, base model, lineage, optimizer, scaffold, inference budget) it
//! involved.
//!
//! What it does: defines [`Card`] and its sections. Every leaf is a [`Fact`]: a value, `unknown`
//! or `not_applicable`, each with its provenance (`measured` from the ledger or the data,
//! `declared` by the user, `unknown`) and optional evidence (which ledger entry or file it came
//! from). The JSON Schema of the card is [`card_json_schema`].
//!
//! Why: a release that does not say where a fact came from cannot be audited; a missing fact and
//! a fact that does not apply are different things (a human-written prompt set has no generator).
//!
//! Known failure modes: the card records what the ledger and the declared-facts file say; a
//! declared fact is only as true as its author. Free-text values (a base model name) are compared
//! after trimming and case folding only, so `Qwen2.5-7B` and `Qwen 2.5 7B` count as different.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The schema identifier written into every card.
pub const CARD_SCHEMA: &str = "verity.card/1";

/// Where a fact came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Measured by verity: from a ledger entry or a scan of the released data.
    Measured,
    /// Declared by the release author (declared-facts file, hand-written card, atlas entry).
    Declared,
    /// Nobody said.
    #[default]
    Unknown,
}

/// One card field: a value, `unknown` or `not_applicable`, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Fact<T> {
    /// The field has a value.
    Value {
        /// The value.
        value: T,
        /// Where it came from.
        provenance: Provenance,
        /// Which ledger entry, file or source it was read from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<String>,
    },
    /// Nobody knows (or nobody said).
    Unknown {
        /// Usually `unknown`; `declared` when the author states the fact is not known.
        #[serde(default)]
        provenance: Provenance,
        /// Why it is unknown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The field does not apply to this release (no generator for human-written data).
    NotApplicable {
        /// Who decided it does not apply.
        provenance: Provenance,
        /// Why it does not apply.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<String>,
    },
}

impl<T> Default for Fact<T> {
    fn default() -> Self {
        Fact::Unknown {
            provenance: Provenance::Unknown,
            note: None,
        }
    }
}

impl<T> Fact<T> {
    /// A measured value with its evidence.
    pub fn measured(value: T, evidence: impl Into<String>) -> Self {
        Fact::Value {
            value,
            provenance: Provenance::Measured,
            evidence: Some(evidence.into()),
        }
    }

    /// A declared value with its evidence.
    pub fn declared(value: T, evidence: impl Into<String>) -> Self {
        Fact::Value {
            value,
            provenance: Provenance::Declared,
            evidence: Some(evidence.into()),
        }
    }

    /// The value, if there is one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Fact::Value { value, .. } => Some(value),
            _ => None,
        }
    }

    /// True unless the fact is `unknown`.
    pub fn is_known(&self) -> bool {
        !matches!(self, Fact::Unknown { .. })
    }
}

/// Links of a release.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Links {
    /// Paper (arXiv, venue).
    #[serde(default)]
    pub paper: Fact<String>,
    /// Code repository.
    #[serde(default)]
    pub code: Fact<String>,
    /// Where the data can be downloaded.
    #[serde(default)]
    pub data: Fact<String>,
    /// Project page.
    #[serde(default)]
    pub project: Fact<String>,
}

/// Basic metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Release {
    /// Release name.
    #[serde(default)]
    pub name: Fact<String>,
    /// Version (semver recommended: MAJOR = data changed).
    #[serde(default)]
    pub version: Fact<String>,
    /// One-paragraph description.
    #[serde(default)]
    pub description: Fact<String>,
    /// License of the released data (SPDX id recommended).
    #[serde(default)]
    pub license: Fact<String>,
    /// Who made it.
    #[serde(default)]
    pub creators: Fact<Vec<String>>,
    /// Links.
    #[serde(default)]
    pub links: Links,
    /// How to cite (BibTeX or a sentence).
    #[serde(default)]
    pub citation: Fact<String>,
    /// Language codes of the text (BCP-47).
    #[serde(default)]
    pub languages: Fact<Vec<String>>,
}

/// Record counts of the release.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    /// Records (rows).
    pub records: u64,
    /// Attempts (responses, rollouts, chosen/rejected) over all records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u64>,
    /// Records by object kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_kind: BTreeMap<String, u64>,
}

/// One released file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReleasedFile {
    /// Path (relative to the release root when possible).
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Rows in the file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

/// A top-level column of the released rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// JSON type seen: `string`, `integer`, `number`, `boolean`, `object`, `array`.
    pub dtype: String,
}

/// What is released.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Released {
    /// Object kinds (`prompt_answer`, `rollout_set`, ...).
    #[serde(default)]
    pub object_kinds: Fact<Vec<String>>,
    /// Record fields present (`task.prompt`, `attempts.trace`, `attempts.feedback`, ...).
    #[serde(default)]
    pub fields: Fact<Vec<String>>,
    /// Top-level columns of a row in the released files, with a JSON type.
    #[serde(default)]
    pub columns: Fact<Vec<Column>>,
    /// Counts.
    #[serde(default)]
    pub counts: Fact<Counts>,
    /// The files with their hashes.
    #[serde(default)]
    pub files: Fact<Vec<ReleasedFile>>,
    /// Domains (math, code, science, ...).
    #[serde(default)]
    pub domains: Fact<Vec<String>>,
}

/// Pass/fail counts of one verifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerifierResult {
    /// `name@version`.
    pub verifier: String,
    /// Attempts checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u64>,
    /// Passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<u64>,
    /// Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<u64>,
    /// No verdict (unparseable answer, timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<u64>,
}

/// The verification contract.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Verification {
    /// `programmatic`, `environmental`, `judgment_required`, `mixed`.
    #[serde(default)]
    pub contract: Fact<String>,
    /// Supervision granularity (`answer`, `step`, `pairwise`, ...).
    #[serde(default)]
    pub granularity: Fact<Vec<String>>,
    /// What each verifier decided.
    #[serde(default)]
    pub results: Fact<Vec<VerifierResult>>,
    /// Known false-positive / false-negative behaviour of the verifier.
    #[serde(default)]
    pub failure_modes: Fact<Vec<String>>,
    /// Measured agreement of pairs of verifiers on the same attempts (`verity agree`).
    #[serde(default)]
    pub agreement: Fact<Vec<VerifierAgreement>>,
}

/// How often two verifiers gave the same verdict on the same attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerifierAgreement {
    /// First verifier.
    pub a: String,
    /// Second verifier.
    pub b: String,
    /// Attempts with a pass/fail verdict from both.
    pub compared: u64,
    /// Both pass.
    pub both_pass: u64,
    /// `a` passes, `b` fails.
    pub a_pass_b_fail: u64,
    /// `a` fails, `b` passes.
    pub a_fail_b_pass: u64,
    /// Both fail.
    pub both_fail: u64,
    /// Share of compared attempts with the same verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_rate: Option<f64>,
    /// Cohen's kappa (none when undefined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kappa: Option<f64>,
}

/// One prompt source and its share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceShare {
    /// Dataset (name, hub id or file stem).
    pub source: String,
    /// Records from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// Share of the release (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// Its license, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// A model that wrote traces or responses, with its decoding parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GeneratorUse {
    /// Model name (and revision).
    pub model: String,
    /// Decoding parameters (temperature, top_p, max_tokens, n, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "BTreeMap<String, Value>")]
    pub params: Map<String, Value>,
    /// Attempts it wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u64>,
}

/// One filtering step with its rejections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FilterStep {
    /// Stage name (`verify`, `dedup`, `decontam`, `select`, ...).
    pub stage: String,
    /// Parameters as resolved.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub params: Value,
    /// Rows in.
    pub rows_in: u64,
    /// Rows out.
    pub rows_out: u64,
    /// Rejections by reason.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rejections: BTreeMap<String, u64>,
}

/// Construction recipe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Construction {
    /// Prompt sources and their mixture.
    #[serde(default)]
    pub prompt_sources: Fact<Vec<SourceShare>>,
    /// Who wrote the traces: `human`, `teacher`, `self` (policy model), `search`, `environment`.
    #[serde(default)]
    pub trace_writer: Fact<String>,
    /// Generator / teacher models with decoding parameters.
    #[serde(default)]
    pub generators: Fact<Vec<GeneratorUse>>,
    /// Search substrate (beam, MCTS, tool execution, none).
    #[serde(default)]
    pub search_substrate: Fact<String>,
    /// Filtering steps with rejection counts, in order.
    #[serde(default)]
    pub filters: Fact<Vec<FilterStep>>,
    /// What grounds truth without external labels (majority vote, interpreter, archive).
    #[serde(default)]
    pub self_play_anchor: Fact<String>,
}

/// Deduplication applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Dedup {
    /// Method (`exact`, `minhash`, ...).
    pub method: String,
    /// Parameters (threshold, n-gram, permutations, ...).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub params: Value,
    /// Duplicate clusters found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<u64>,
    /// Records removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<u64>,
}

/// Decontamination against benchmarks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Decontamination {
    /// Benchmarks checked against.
    pub benchmarks: Vec<String>,
    /// Method (`ngram`, `exact`, ...).
    pub method: String,
    /// Parameters (n, threshold, ...).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub params: Value,
    /// Hits per benchmark.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hits: BTreeMap<String, u64>,
    /// Records removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<u64>,
}

/// Pass-rate bands: tasks per band, for a named model and sampling protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PassRateBands {
    /// Tasks per band (`0`, `(0,0.25]`, ..., `1`, or the stage's own band names).
    pub bands: BTreeMap<String, u64>,
    /// Model that produced the rollouts the bands were measured on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Rollouts per task used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollouts_per_task: Option<f64>,
}

/// Quality and audit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Quality {
    /// Pass-rate bands.
    #[serde(default)]
    pub pass_rate_bands: Fact<PassRateBands>,
    /// Deduplication.
    #[serde(default)]
    pub dedup: Fact<Dedup>,
    /// Decontamination.
    #[serde(default)]
    pub decontamination: Fact<Decontamination>,
    /// Split policy (what goes in train/test and how splits were cut).
    #[serde(default)]
    pub split_policy: Fact<String>,
    /// Known failure modes of the data.
    #[serde(default)]
    pub known_failure_modes: Fact<Vec<String>>,
    /// License and provenance note (upstream licenses, terms of the generator).
    #[serde(default)]
    pub license_provenance: Fact<String>,
}

/// Use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Usage {
    /// Training uses (`sft`, `distillation`, `preference_learning`, `reward_modeling`,
    /// `process_supervision`, `rlvr`, `agent_training`, `evaluation`).
    #[serde(default)]
    pub training_use: Fact<Vec<String>>,
    /// Uses to avoid.
    #[serde(default)]
    pub out_of_scope: Fact<String>,
}

/// Token statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TokenStats {
    /// Total tokens.
    pub total: u64,
    /// Mean per record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Tokenizer used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
}

/// One step of the funnel (rows in -> rows out per stage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunnelStep {
    /// Stage.
    pub stage: String,
    /// Rows in.
    pub rows_in: u64,
    /// Rows out.
    pub rows_out: u64,
}

/// The scaling ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Scaling {
    /// Unique tasks.
    #[serde(default)]
    pub unique_tasks: Fact<u64>,
    /// Duplicate rows per unique task: (rows - unique tasks) / unique tasks (0 = no reuse).
    #[serde(default)]
    pub reuse_rate: Fact<f64>,
    /// Rollouts (attempts) per task.
    #[serde(default)]
    pub rollouts_per_task: Fact<f64>,
    /// pass@k by k.
    #[serde(default)]
    pub pass_at_k: Fact<BTreeMap<String, f64>>,
    /// Tokens.
    #[serde(default)]
    pub tokens: Fact<TokenStats>,
    /// Rows through each stage.
    #[serde(default)]
    pub funnel: Fact<Vec<FunnelStep>>,
}

/// A verifier identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct VerifierFact {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Contract.
    pub contract: String,
    /// The grade arrived with the data (not computed by verity).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
}

/// Data lineage as an attribution factor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LineageFact {
    /// Source datasets (with revision when known).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Teacher / generator models.
    #[serde(default)]
    pub generators: Vec<String>,
}

/// The inference budget.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Budget {
    /// Attempts sampled per task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollouts_per_task: Option<f64>,
    /// Max new tokens per attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Free-text note (search, budget forcing, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The six attribution factors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Factors {
    /// Verifiers whose verdicts shaped the data.
    #[serde(default)]
    pub verifier: Fact<Vec<VerifierFact>>,
    /// Base model the data was built for / measured with / trained in the release.
    #[serde(default)]
    pub base_model: Fact<String>,
    /// Sources and generators.
    #[serde(default)]
    pub lineage: Fact<LineageFact>,
    /// Optimizer / training recipe (SFT, DPO, GRPO, PPO ...).
    #[serde(default)]
    pub optimizer: Fact<String>,
    /// Scaffold (agent loop, prompt template, tool wrapper).
    #[serde(default)]
    pub scaffold: Fact<String>,
    /// Inference budget of the generation.
    #[serde(default)]
    pub inference_budget: Fact<Budget>,
}

/// A release card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Card {
    /// Always [`CARD_SCHEMA`].
    pub schema: String,
    /// Tool that built the card.
    #[serde(default)]
    pub generated_by: String,
    /// When (RFC 3339 UTC).
    #[serde(default)]
    pub generated_at: String,
    /// Basic metadata.
    #[serde(default)]
    pub release: Release,
    /// What is released.
    #[serde(default)]
    pub released: Released,
    /// Verification contract and granularity.
    #[serde(default)]
    pub verification: Verification,
    /// Construction recipe.
    #[serde(default)]
    pub construction: Construction,
    /// Quality and audit.
    #[serde(default)]
    pub quality: Quality,
    /// Training use.
    #[serde(default)]
    pub usage: Usage,
    /// Scaling ledger.
    #[serde(default)]
    pub scaling: Scaling,
    /// The six attribution factors.
    #[serde(default)]
    pub factors: Factors,
}

impl Default for Card {
    fn default() -> Self {
        Card {
            schema: CARD_SCHEMA.to_string(),
            generated_by: verity_core::ledger::TOOL_VERSION.to_string(),
            generated_at: String::new(),
            release: Release::default(),
            released: Released::default(),
            verification: Verification::default(),
            construction: Construction::default(),
            quality: Quality::default(),
            usage: Usage::default(),
            scaling: Scaling::default(),
            factors: Factors::default(),
        }
    }
}

impl Card {
    /// The card as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Parse a card from JSON text; `origin` names the file in errors.
    pub fn from_json_str(text: &str, origin: &str) -> crate::Result<Card> {
        let card: Card = serde_json::from_str(text).map_err(|e| crate::Error::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        if card.schema != CARD_SCHEMA {
            return Err(crate::Error::Parse {
                path: origin.to_string(),
                message: format!(
                    "field `schema` is `{}`, expected `{CARD_SCHEMA}`",
                    card.schema
                ),
            });
        }
        Ok(card)
    }

    /// Read a card file.
    pub fn read(path: &std::path::Path) -> crate::Result<Card> {
        let text = std::fs::read_to_string(path).map_err(|e| crate::Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Card::from_json_str(&text, &path.display().to_string())
    }

    /// Write the card as pretty JSON, atomically.
    pub fn write(&self, path: &std::path::Path) -> crate::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| crate::Error::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        text.push('\n');
        crate::write_atomic(path, text.as_bytes())
    }
}

/// A fact found in a card's JSON by [`facts`].
#[derive(Debug, Clone, PartialEq)]
pub struct FactRef<'a> {
    /// Dotted path (`factors.base_model`).
    pub path: String,
    /// `value`, `unknown` or `not_applicable`.
    pub state: &'a str,
    /// The value, when `state` is `value`.
    pub value: Option<&'a Value>,
    /// `measured`, `declared` or `unknown`.
    pub provenance: &'a str,
}

/// True when a JSON node is a serialised [`Fact`].
pub fn is_fact(node: &Value) -> bool {
    node.get("state")
        .and_then(Value::as_str)
        .is_some_and(|s| matches!(s, "value" | "unknown" | "not_applicable"))
}

/// Every fact of a card's JSON, in document order, with its dotted path.
pub fn facts(card: &Value) -> Vec<FactRef<'_>> {
    let mut out = Vec::new();
    walk(card, String::new(), &mut out);
    out
}

fn walk<'a>(node: &'a Value, path: String, out: &mut Vec<FactRef<'a>>) {
    if is_fact(node) {
        out.push(FactRef {
            path,
            state: node
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or("unknown"),
            value: node.get("value"),
            provenance: node
                .get("provenance")
                .and_then(Value::as_str)
                .unwrap_or("unknown"),
        });
        return;
    }
    if let Value::Object(map) = node {
        for (key, child) in map {
            let child_path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            walk(child, child_path, out);
        }
    }
}

/// The fact at a dotted path of a card's JSON.
pub fn fact_at<'a>(card: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = card;
    for part in path.split('.') {
        node = node.get(part)?;
    }
    is_fact(node).then_some(node)
}

/// The JSON Schema of the release card (what `verity schema card` prints).
pub fn card_json_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Card)).unwrap_or(Value::Null)
}
