//! `verity card build`: a card from a run's ledger, an optional scan of the released data, and a
//! declared-facts TOML file.
//!
//! What it does: maps ledger entries (their typed summaries, see [`crate::from_ledger`] and
//! `docs/card.md`) to measured card fields; scans records (object kinds, fields, generators and
//! decoding parameters, sources, verifier feedback, unique tasks, pass@k) when a data file is
//! given; then merges the declared facts, refusing any declared value that contradicts a
//! measured one.
//!
//! Why: the measured half of a card must come from what actually ran; the declared half is what
//! no ledger can know (base model, optimizer, intended use).
//!
//! Known failure modes: a ledger summary that does not fit its stage's type is an error naming
//! the line. Numbers are compared with a relative tolerance of 1e-9; strings after trimming and
//! case folding.

use crate::model::*;
use crate::{Error, Result};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use verity_core::ledger::LedgerEntry;
use verity_core::Record;

/// A ledger with the name it is cited by in evidence strings.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// File name (for evidence: `ledger.jsonl:3 (verify)`).
    pub name: String,
    /// The entries, in file order.
    pub entries: Vec<LedgerEntry>,
}

impl Ledger {
    /// Add the JSON printed by `verity stats --json` as a `stats` entry (stats does not write
    /// a ledger entry of its own).
    pub fn push_stats(&mut self, stats: Value, origin: &str) {
        let rows = stats.get("rows").and_then(Value::as_u64).unwrap_or(0);
        let mut entry = LedgerEntry::start("stats", json!({"source": origin}));
        entry.rows_in = rows;
        entry.rows_out = rows;
        entry.summary = stats;
        self.entries.push(entry);
    }

    /// Read a ledger file.
    pub fn read(path: &std::path::Path) -> Result<Ledger> {
        Ok(Ledger {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
            entries: verity_core::ledger::read_ledger(path)?,
        })
    }

    pub(crate) fn evidence(&self, index: usize) -> String {
        if let Some(entry) = self.entries.get(index).filter(|e| e.stage == "stats") {
            if let Some(source) = entry.params.get("source").and_then(Value::as_str) {
                return format!("{source} (verity stats)");
            }
        }
        format!(
            "{}:{} ({})",
            self.name,
            index + 1,
            self.entries
                .get(index)
                .map(|e| e.stage.as_str())
                .unwrap_or("?")
        )
    }
}

/// Declared facts: the parsed TOML and the file it came from.
#[derive(Debug, Clone)]
pub struct Declared {
    /// File name for evidence and errors.
    pub origin: String,
    /// The facts as a JSON tree mirroring the card's sections.
    pub tree: Map<String, Value>,
}

impl Declared {
    /// Parse declared facts from TOML text.
    pub fn from_toml(text: &str, origin: &str) -> Result<Declared> {
        let table: toml::Table = toml::from_str(text).map_err(|e| Error::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        let tree = serde_json::to_value(table).map_err(|e| Error::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        match tree {
            Value::Object(tree) => Ok(Declared {
                origin: origin.to_string(),
                tree,
            }),
            _ => Err(Error::Parse {
                path: origin.to_string(),
                message: "expected a TOML table".into(),
            }),
        }
    }

    /// Read a declared-facts file.
    pub fn read(path: &std::path::Path) -> Result<Declared> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Declared::from_toml(&text, &path.display().to_string())
    }
}

/// What a scan of the released records measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataScan {
    /// Name used in evidence (`scan:data.jsonl`).
    pub origin: String,
    /// Records.
    pub records: u64,
    /// Attempts.
    pub attempts: u64,
    /// Records per object kind.
    pub kinds: BTreeMap<String, u64>,
    /// Record fields present (dotted, e.g. `attempts.trace`).
    pub fields: BTreeSet<String>,
    /// Records per source dataset, with the first license seen.
    pub sources: BTreeMap<String, (u64, Option<String>)>,
    /// Domains seen.
    pub domains: BTreeSet<String>,
    /// Attempts per generator model, with the first decoding parameters seen.
    pub generators: BTreeMap<String, (u64, Map<String, Value>)>,
    /// Attempts that carry a generator.
    pub attempts_with_generator: u64,
    /// Verifiers seen in feedback.
    pub verifiers: BTreeSet<(String, String, String, bool)>,
    /// Pass / fail / other verdict counts per verifier label.
    pub verdicts: BTreeMap<String, [u64; 3]>,
    /// Granularities seen in feedback.
    pub granularity: BTreeSet<String>,
    /// Teachers declared in record lineage.
    pub teachers: BTreeSet<String>,
    /// Distinct task texts (hashes).
    pub task_hashes: BTreeSet<u64>,
    /// k -> (sum of the records' pass@k signals, records with one), for the mean pass@k.
    pub pass_at_k: BTreeMap<String, (f64, u64)>,
    /// Records per pass-rate band (`signals.band`, written by `score`).
    pub bands: BTreeMap<String, u64>,
    /// Files scanned.
    pub files: Vec<ReleasedFile>,
    /// Top-level columns of the first rows (name, JSON type), in first-seen order.
    pub columns: Vec<Column>,
}

fn json_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => "unknown".into(),
    }
}

impl DataScan {
    /// Add one record.
    pub fn add(&mut self, record: &Record) {
        use std::hash::{Hash, Hasher};
        self.records += 1;
        *self
            .kinds
            .entry(record.object.as_str().to_string())
            .or_insert(0) += 1;
        let task = &record.task;
        let mut field = |name: &str, present: bool| {
            if present {
                self.fields.insert(name.to_string());
            }
        };
        field("task.prompt", task.prompt.is_some());
        field("task.messages", !task.messages.is_empty());
        field("task.reference.answer", task.reference.answer.is_some());
        field("task.reference.solution", task.reference.solution.is_some());
        field("task.reference.tests", task.reference.tests.is_some());
        field("task.reference.choices", !task.reference.choices.is_empty());
        field("task.reference.rubric", task.reference.rubric.is_some());
        field("task.tools", task.tools.is_some());
        field("signals", !record.signals.is_empty());
        for attempt in &record.attempts {
            let mut field = |name: &str, present: bool| {
                if present {
                    self.fields.insert(name.to_string());
                }
            };
            field("attempts.trace", attempt.trace.is_some());
            field("attempts.response", attempt.response.is_some());
            field("attempts.answer", attempt.answer.is_some());
            field("attempts.messages", !attempt.messages.is_empty());
            field("attempts.steps", !attempt.steps.is_empty());
            field("attempts.events", !attempt.events.is_empty());
            field("attempts.feedback", !attempt.feedback.is_empty());
            field("attempts.generator", attempt.generator.is_some());
        }
        let dataset = task.source.dataset.clone().or_else(|| {
            record.lineage.file.as_ref().map(|f| {
                std::path::Path::new(f)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| f.clone())
            })
        });
        if let Some(dataset) = dataset {
            let slot = self.sources.entry(dataset).or_insert((0, None));
            slot.0 += 1;
            if slot.1.is_none() {
                slot.1 = task.source.license.clone();
            }
        }
        if let Some(domain) = &task.domain {
            self.domains.insert(domain.clone());
        }
        if let Some(teacher) = &record.lineage.teacher {
            self.teachers.insert(teacher.clone());
        }
        if let Some(text) = task.problem_text() {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            text.trim().hash(&mut hasher);
            self.task_hashes.insert(hasher.finish());
        }
        if let Some(band) = record.signals.get("band").and_then(Value::as_str) {
            *self.bands.entry(band.to_string()).or_insert(0) += 1;
        }
        if let Some(Value::Object(at_k)) = record.signals.get("pass_at_k") {
            for (k, v) in at_k {
                if let Some(v) = v.as_f64() {
                    let slot = self.pass_at_k.entry(k.clone()).or_insert((0.0, 0));
                    slot.0 += v;
                    slot.1 += 1;
                }
            }
        }
        for attempt in &record.attempts {
            self.attempts += 1;
            if let Some(model) = attempt.generator.as_ref().and_then(|g| g.model.clone()) {
                self.attempts_with_generator += 1;
                let params = attempt
                    .generator
                    .as_ref()
                    .map(|g| g.params.clone())
                    .unwrap_or_default();
                let slot = self.generators.entry(model).or_insert((0, params));
                slot.0 += 1;
            }
            for feedback in &attempt.feedback {
                let v = &feedback.verifier;
                self.verifiers.insert((
                    v.name.clone(),
                    v.version.clone(),
                    json_name(&v.contract),
                    v.imported,
                ));
                self.granularity.insert(json_name(&feedback.granularity));
                let slot = self.verdicts.entry(v.label()).or_insert([0; 3]);
                match feedback.passed() {
                    Some(true) => slot[0] += 1,
                    Some(false) => slot[1] += 1,
                    None => slot[2] += 1,
                }
            }
        }
    }
}

/// Scan every record of a dataset.
pub fn scan_source(source: verity_core::stream::RecordSource, origin: &str) -> Result<DataScan> {
    let mut files = Vec::new();
    let mut columns: Vec<Column> = Vec::new();
    for input in source.inputs() {
        for row in verity_core::stream::sample_rows(input, 64)? {
            for (name, value) in &row {
                let dtype = match value {
                    Value::String(_) => "string",
                    Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                    Value::Number(_) => "number",
                    Value::Bool(_) => "boolean",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                    Value::Null => continue,
                };
                if !columns.iter().any(|c| &c.name == name) {
                    columns.push(Column {
                        name: name.clone(),
                        dtype: dtype.to_string(),
                    });
                }
            }
        }
        let digest = verity_core::ledger::FileDigest::of(&input.path)?;
        files.push(ReleasedFile {
            path: digest.path,
            bytes: digest.bytes,
            sha256: digest.sha256,
            rows: None,
        });
    }
    let mut scan = DataScan {
        origin: format!("scan:{origin}"),
        files,
        columns,
        ..DataScan::default()
    };
    source.for_each(
        |batch| batch.records,
        |records| {
            for record in &records {
                scan.add(record);
            }
            Ok::<(), verity_core::Error>(())
        },
    )?;
    if scan.files.len() == 1 {
        scan.files[0].rows = Some(scan.records);
    }
    Ok(scan)
}

// ---------------------------------------------------------------------------------------------
// Building.

/// Build a card from measured inputs and declared facts.
///
/// `ledger` and `scan` are both optional; the ledger wins where both measure a field.
pub fn build(
    ledger: Option<&Ledger>,
    scan: Option<&DataScan>,
    declared: Option<&Declared>,
) -> Result<Card> {
    let mut card = Card {
        generated_at: verity_core::ledger::now_rfc3339(),
        ..Card::default()
    };
    if let Some(ledger) = ledger {
        crate::from_ledger::apply_ledger(&mut card, ledger)?;
    }
    if let Some(scan) = scan {
        apply_scan(&mut card, scan);
    }
    derive_factors(&mut card);
    match declared {
        Some(declared) => {
            let mut card = merge_declared(card, declared)?;
            derive_factors(&mut card);
            Ok(card)
        }
        None => Ok(card),
    }
}

fn apply_scan(card: &mut Card, scan: &DataScan) {
    let ev = scan.origin.as_str();
    let released = &mut card.released;
    if !released.counts.is_known() {
        released.counts = Fact::measured(
            Counts {
                records: scan.records,
                attempts: Some(scan.attempts),
                by_kind: scan.kinds.clone(),
            },
            ev,
        );
    } else if let Some(Counts {
        by_kind, attempts, ..
    }) = released.counts_mut()
    {
        if by_kind.is_empty() {
            *by_kind = scan.kinds.clone();
        }
        if attempts.is_none() {
            *attempts = Some(scan.attempts);
        }
    }
    if !released.object_kinds.is_known() && !scan.kinds.is_empty() {
        released.object_kinds = Fact::measured(scan.kinds.keys().cloned().collect(), ev);
    }
    if !released.fields.is_known() && !scan.fields.is_empty() {
        released.fields = Fact::measured(scan.fields.iter().cloned().collect(), ev);
    }
    // Columns are layout-specific: they describe the released files only when the scanned files
    // are the released ones (same hashes) or the ledger named none.
    let scanned_are_released = match released.files.value() {
        None => true,
        Some(files) => {
            let released: BTreeSet<&str> = files.iter().map(|f| f.sha256.as_str()).collect();
            let scanned: BTreeSet<&str> = scan.files.iter().map(|f| f.sha256.as_str()).collect();
            released == scanned
        }
    };
    if !released.columns.is_known() && !scan.columns.is_empty() && scanned_are_released {
        released.columns = Fact::measured(scan.columns.clone(), ev);
    }
    if !released.files.is_known() && !scan.files.is_empty() {
        released.files = Fact::measured(scan.files.clone(), ev);
    }
    if !released.domains.is_known() && !scan.domains.is_empty() {
        released.domains = Fact::measured(scan.domains.iter().cloned().collect(), ev);
    }
    if !card.construction.prompt_sources.is_known() && !scan.sources.is_empty() {
        let mut list: Vec<SourceShare> = scan
            .sources
            .iter()
            .map(|(name, (n, license))| SourceShare {
                source: name.clone(),
                records: Some(*n),
                share: None,
                license: license.clone(),
            })
            .collect();
        fill_shares(&mut list);
        card.construction.prompt_sources = Fact::measured(list, ev);
    }
    if !card.construction.generators.is_known() && !scan.generators.is_empty() {
        card.construction.generators = Fact::measured(
            scan.generators
                .iter()
                .map(|(model, (n, params))| GeneratorUse {
                    model: model.clone(),
                    params: params.clone(),
                    attempts: Some(*n),
                })
                .collect(),
            ev,
        );
    }
    if !card.factors.verifier.is_known() && !scan.verifiers.is_empty() {
        let list: Vec<VerifierFact> = scan
            .verifiers
            .iter()
            .map(|(name, version, contract, imported)| VerifierFact {
                name: name.clone(),
                version: version.clone(),
                contract: contract.clone(),
                imported: *imported,
            })
            .collect();
        let contracts: BTreeSet<&str> = list.iter().map(|v| v.contract.as_str()).collect();
        let contract = if contracts.len() == 1 {
            contracts
                .iter()
                .next()
                .copied()
                .unwrap_or("unknown")
                .to_string()
        } else {
            "mixed".into()
        };
        card.verification.contract = Fact::measured(contract, ev);
        card.factors.verifier = Fact::measured(list, ev);
        card.verification.results = Fact::measured(
            scan.verdicts
                .iter()
                .map(|(label, [p, f, u])| VerifierResult {
                    verifier: label.clone(),
                    attempts: Some(p + f + u),
                    pass: Some(*p),
                    fail: Some(*f),
                    unknown: Some(*u),
                })
                .collect(),
            ev,
        );
    }
    if !card.verification.granularity.is_known() && !scan.granularity.is_empty() {
        card.verification.granularity =
            Fact::measured(scan.granularity.iter().cloned().collect(), ev);
    }
    if scan.attempts == 0 && scan.records > 0 {
        let why = format!("{ev}: no record carries an attempt, so there is nothing to band");
        if !card.quality.pass_rate_bands.is_known() {
            card.quality.pass_rate_bands = Fact::NotApplicable {
                provenance: Provenance::Measured,
                evidence: Some(why.clone()),
            };
        }
        if !card.scaling.rollouts_per_task.is_known() {
            card.scaling.rollouts_per_task = Fact::measured(0.0, ev);
        }
    }
    if !card.quality.pass_rate_bands.is_known() && !scan.bands.is_empty() {
        card.quality.pass_rate_bands = Fact::measured(
            PassRateBands {
                bands: scan.bands.clone(),
                model: None,
                rollouts_per_task: (scan.records > 0)
                    .then(|| round6(scan.attempts as f64 / scan.records as f64)),
            },
            ev,
        );
    }
    if !card.scaling.pass_at_k.is_known() && !scan.pass_at_k.is_empty() {
        let means = scan
            .pass_at_k
            .iter()
            .map(|(k, (sum, n))| (k.clone(), round6(sum / *n as f64)))
            .collect();
        card.scaling.pass_at_k = Fact::measured(means, ev);
    }
    if !card.scaling.unique_tasks.is_known() && !scan.task_hashes.is_empty() {
        let unique = scan.task_hashes.len() as u64;
        card.scaling.unique_tasks = Fact::measured(unique, ev);
        if !card.scaling.reuse_rate.is_known() {
            card.scaling.reuse_rate = Fact::measured(
                scan.records.saturating_sub(unique) as f64 / unique as f64,
                ev,
            );
        }
        if !card.scaling.rollouts_per_task.is_known() && scan.attempts > 0 {
            card.scaling.rollouts_per_task =
                Fact::measured(scan.attempts as f64 / unique as f64, ev);
        }
    }
}

fn fill_shares(sources: &mut [SourceShare]) {
    let total: u64 = sources.iter().filter_map(|s| s.records).sum();
    if total > 0 {
        for s in sources.iter_mut() {
            if s.share.is_none() {
                s.share = s.records.map(|r| r as f64 / total as f64);
            }
        }
    }
}

/// `x` rounded to 6 decimals (the precision of the record signals).
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Released {
    pub(crate) fn counts_mut(&mut self) -> Option<&mut Counts> {
        match &mut self.counts {
            Fact::Value { value, .. } => Some(value),
            _ => None,
        }
    }
}

/// Fill derivable factors (lineage, inference budget) from the other sections when they are
/// still unknown.
pub fn derive_factors(card: &mut Card) {
    if !card.factors.lineage.is_known() {
        if let Fact::Value {
            value: sources,
            provenance,
            evidence,
        } = &card.construction.prompt_sources
        {
            let generators = match &card.construction.generators {
                Fact::Value { value, .. } => Some(value.iter().map(|g| g.model.clone()).collect()),
                Fact::NotApplicable { .. } => Some(Vec::new()),
                Fact::Unknown { .. } => None,
            };
            if let Some(generators) = generators {
                card.factors.lineage = Fact::Value {
                    value: LineageFact {
                        sources: sources.iter().map(|s| s.source.clone()).collect(),
                        generators,
                    },
                    provenance: *provenance,
                    evidence: Some(format!(
                        "construction.prompt_sources + construction.generators ({})",
                        evidence.as_deref().unwrap_or("")
                    )),
                };
            }
        }
    }
    if !card.factors.inference_budget.is_known() {
        match &card.construction.generators {
            Fact::NotApplicable { provenance, .. } => {
                card.factors.inference_budget = Fact::NotApplicable {
                    provenance: *provenance,
                    evidence: Some("no generator: nothing was sampled".into()),
                };
            }
            Fact::Value {
                value,
                provenance,
                evidence,
            } if !value.is_empty() => {
                let params = &value[0].params;
                let num = |keys: &[&str]| {
                    keys.iter()
                        .find_map(|k| params.get(*k).and_then(Value::as_f64))
                };
                let budget = Budget {
                    rollouts_per_task: card
                        .scaling
                        .rollouts_per_task
                        .value()
                        .copied()
                        .or_else(|| num(&["n", "num_samples", "rollouts"])),
                    max_tokens: num(&["max_tokens", "max_new_tokens", "max_completion_tokens"])
                        .map(|f| f as u64),
                    temperature: num(&["temperature"]),
                    note: None,
                };
                if budget.max_tokens.is_some() || budget.rollouts_per_task.is_some() {
                    card.factors.inference_budget = Fact::Value {
                        value: budget,
                        provenance: *provenance,
                        evidence: evidence.clone(),
                    };
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Declared facts.

fn normalize(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.trim().to_lowercase()),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalize).collect();
            if items.iter().all(|v| !v.is_object() && !v.is_array()) {
                items.sort_by_key(|v| v.to_string());
            }
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), normalize(v)))
                .collect(),
        ),
        Value::Number(n) => match n.as_f64() {
            Some(f) => json!(f),
            None => value.clone(),
        },
        other => other.clone(),
    }
}

/// True when two values are the same fact after normalisation (case, order of scalar lists,
/// number representation). Declared objects may omit keys that the measured value has.
pub fn same_value(a: &Value, b: &Value) -> bool {
    fn close(a: &Value, b: &Value, subset: bool) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
                _ => x == y,
            },
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b, subset))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| close(v, w, subset)))
                    && (subset || y.keys().all(|k| x.contains_key(k)))
            }
            _ => a == b,
        }
    }
    close(&normalize(a), &normalize(b), true)
}

fn declared_fact(value: &Value, origin: &str) -> Value {
    match value.as_str().map(str::trim) {
        Some("unknown") => {
            json!({"state": "unknown", "provenance": "declared", "note": format!("declared unknown in {origin}")})
        }
        Some("not_applicable") | Some("n/a") => {
            json!({"state": "not_applicable", "provenance": "declared", "evidence": origin})
        }
        _ => {
            json!({"state": "value", "value": value, "provenance": "declared", "evidence": origin})
        }
    }
}

/// Convenience forms accepted in a declared-facts file for a few fields.
fn expand_shorthand(path: &str, value: &Value, contract: Option<&str>) -> Value {
    let wrap_str = |v: &Value| match v {
        Value::String(s) if s != "unknown" && s != "not_applicable" => {
            Value::Array(vec![Value::String(s.clone())])
        }
        other => other.clone(),
    };
    match path {
        "factors.verifier" => {
            let list = match wrap_str(value) {
                Value::Array(items) => items,
                other => return other,
            };
            Value::Array(
                list.into_iter()
                    .map(|item| match item {
                        Value::String(s) => {
                            let (name, version) = s.split_once('@').unwrap_or((&s, "unknown"));
                            json!({"name": name, "version": version, "contract": contract.unwrap_or("unknown")})
                        }
                        other => other,
                    })
                    .collect(),
            )
        }
        "construction.generators" => match wrap_str(value) {
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(s) => json!({"model": s}),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        },
        "construction.prompt_sources" => match wrap_str(value) {
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(s) => json!({"source": s}),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        },
        _ => value.clone(),
    }
}

fn merge_declared(card: Card, declared: &Declared) -> Result<Card> {
    let mut tree = card.to_value();
    let contract = card.verification.contract.value().cloned().or_else(|| {
        declared
            .tree
            .get("verification")
            .and_then(|v| v.get("contract"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let mut pending = Vec::new();
    collect_declared(&tree, &declared.tree, "", declared, &mut pending)?;
    for (path, value) in pending {
        let value = expand_shorthand(&path, &value, contract.as_deref());
        let existing = model::fact_at(&tree, &path).cloned().unwrap_or(Value::Null);
        // Only measured values bind: a measured `not_applicable` (no attempts in this data, so no
        // pass-rate bands) yields to a declared value measured elsewhere (bands from a base-model
        // rollout run over these prompts).
        let measured = existing.get("provenance").and_then(Value::as_str) == Some("measured")
            && existing.get("state").and_then(Value::as_str) == Some("value");
        let new_fact = declared_fact(&value, &declared.origin);
        if measured {
            let agrees = match (existing.get("value"), new_fact.get("value")) {
                (Some(m), Some(d)) => same_value(d, m),
                _ => existing.get("state") == new_fact.get("state"),
            };
            if !agrees {
                return Err(Error::Contradiction {
                    field: path,
                    declared: describe(&new_fact),
                    declared_in: declared.origin.clone(),
                    measured: describe(&existing),
                    measured_from: existing
                        .get("evidence")
                        .and_then(Value::as_str)
                        .unwrap_or("the ledger")
                        .to_string(),
                });
            }
            continue; // the measured fact stays (it has the stronger provenance)
        }
        let candidates = [new_fact.clone(), {
            let mut wrapped = new_fact.clone();
            if let Some(Value::String(s)) = new_fact.get("value") {
                wrapped["value"] = json!([s]);
            }
            wrapped
        }];
        let mut last_error = None;
        let mut placed = false;
        for candidate in candidates {
            let mut trial = tree.clone();
            set_at(&mut trial, &path, candidate);
            match serde_json::from_value::<Card>(trial.clone()) {
                Ok(_) => {
                    tree = trial;
                    placed = true;
                    break;
                }
                Err(e) => last_error = Some(e.to_string()),
            }
        }
        if !placed {
            return Err(Error::Parse {
                path: format!("{} (field `{path}`)", declared.origin),
                message: format!(
                    "the declared value {} does not fit the field: {}",
                    value,
                    last_error.unwrap_or_default()
                ),
            });
        }
    }
    serde_json::from_value(tree).map_err(|e| Error::Parse {
        path: declared.origin.clone(),
        message: e.to_string(),
    })
}

fn describe(fact: &Value) -> String {
    match fact.get("state").and_then(Value::as_str) {
        Some("value") => fact.get("value").map(Value::to_string).unwrap_or_default(),
        Some(state) => format!("`{state}`"),
        None => "?".into(),
    }
}

fn collect_declared(
    card: &Value,
    declared: &Map<String, Value>,
    prefix: &str,
    origin: &Declared,
    out: &mut Vec<(String, Value)>,
) -> Result<()> {
    for (key, value) in declared {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let node = card.get(key);
        match node {
            Some(node) if model::is_fact(node) => out.push((path, value.clone())),
            Some(Value::Object(_)) => match value {
                Value::Object(inner) => {
                    collect_declared(node.unwrap_or(&Value::Null), inner, &path, origin, out)?
                }
                _ => {
                    return Err(Error::Parse {
                        path: format!("{} (key `{path}`)", origin.origin),
                        message: format!("`{path}` is a section; give a table of its fields"),
                    })
                }
            },
            _ => {
                let known = card
                    .as_object()
                    .map(|m| {
                        m.keys()
                            .filter(|k| {
                                !matches!(k.as_str(), "schema" | "generated_by" | "generated_at")
                            })
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                return Err(Error::UnknownField {
                    path: origin.origin.clone(),
                    key: path,
                    section: if prefix.is_empty() {
                        "(top level)".into()
                    } else {
                        prefix.to_string()
                    },
                    known,
                });
            }
        }
    }
    Ok(())
}

fn set_at(tree: &mut Value, path: &str, value: Value) {
    let mut node = tree;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        node = match node.get_mut(*part) {
            Some(next) => next,
            None => return,
        };
    }
    if let Some(obj) = node.as_object_mut() {
        obj.insert(parts[parts.len() - 1].to_string(), value);
    }
}

use crate::model;
