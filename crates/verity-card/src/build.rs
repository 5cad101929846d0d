//! `verity card build`: a card from a run's ledger, an optional scan of the released data, and a
//! declared-facts TOML file.
//!
//! What it does: maps ledger entries (by stage name and tolerant summary keys, documented in
//! `docs/card.md`) to measured card fields; scans records (object kinds, fields, generators and
//! decoding parameters, sources, verifier feedback, unique tasks) when a data file is given; then
//! merges the declared facts, refusing any declared value that contradicts a measured one.
//!
//! Why: the measured half of a card must come from what actually ran; the declared half is what
//! no ledger can know (base model, optimizer, intended use).
//!
//! Known failure modes: summary keys other stages write are matched by name; a key under a
//! name not listed in `docs/card.md` is ignored and its field stays `unknown`. Numbers are
//! compared with a relative tolerance of 1e-9; strings after trimming and case folding.

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
        let rows = stats.get("rows").and_then(as_u64).unwrap_or(0);
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

    fn evidence(&self, index: usize) -> String {
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
// Tolerant summary access.

fn lookup<'a>(entry: &'a LedgerEntry, keys: &[&str]) -> Option<&'a Value> {
    for key in keys {
        for root in [&entry.summary, &entry.params] {
            let mut node = root;
            let mut found = true;
            for part in key.split('.') {
                match node.get(part) {
                    Some(next) => node = next,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if found && !node.is_null() {
                return Some(node);
            }
        }
    }
    None
}

fn summary_only<'a>(entry: &'a LedgerEntry, keys: &[&str]) -> Option<&'a Value> {
    // Stages may nest their summary under their own name (`summary.dedup.clusters`).
    let nested = entry.summary.get(entry.stage.as_str());
    keys.iter().find_map(|key| {
        [Some(&entry.summary), nested]
            .into_iter()
            .flatten()
            .find_map(|root| {
                let mut node = root;
                for part in key.split('.') {
                    node = node.get(part)?;
                }
                (!node.is_null()).then_some(node)
            })
    })
}

fn as_u64(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        ),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => ["name", "id", "benchmark", "source", "model"]
                        .iter()
                        .find_map(|k| o.get(*k).and_then(Value::as_str))
                        .map(str::to_string),
                    _ => None,
                })
                .collect(),
        ),
        Value::Object(map) => Some(map.keys().cloned().collect()),
        _ => None,
    }
}

fn count_map(value: &Value) -> Option<BTreeMap<String, u64>> {
    match value {
        Value::Object(map) => Some(
            map.iter()
                .filter_map(|(k, v)| {
                    as_u64(v)
                        .or_else(|| v.get("count").and_then(as_u64))
                        .or_else(|| v.get("hits").and_then(as_u64))
                        .map(|n| (k.clone(), n))
                })
                .collect(),
        ),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| {
                    let name = ["name", "band", "benchmark", "kind"]
                        .iter()
                        .find_map(|k| v.get(*k).and_then(Value::as_str))?;
                    let n = ["count", "hits", "tasks", "records"]
                        .iter()
                        .find_map(|k| v.get(*k).and_then(as_u64))?;
                    Some((name.to_string(), n))
                })
                .collect(),
        ),
        _ => None,
    }
}

fn non_null(value: &Value) -> Value {
    if value.is_object() && value.as_object().is_some_and(Map::is_empty) {
        Value::Null
    } else {
        value.clone()
    }
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
        apply_ledger(&mut card, ledger);
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

fn apply_ledger(card: &mut Card, ledger: &Ledger) {
    let mut funnel = Vec::new();
    let mut filters = Vec::new();
    let mut verifiers: Vec<VerifierFact> = Vec::new();
    let mut verifier_evidence = Vec::new();
    let mut results = Vec::new();
    for (index, entry) in ledger.entries.iter().enumerate() {
        let evidence = ledger.evidence(index);
        crate::agreement::apply(card, entry, &evidence);
        if entry.stage != "stats" {
            funnel.push(FunnelStep {
                stage: entry.stage.clone(),
                rows_in: entry.rows_in,
                rows_out: entry.rows_out,
            });
        }
        if matches!(
            entry.stage.as_str(),
            "verify" | "dedup" | "decontam" | "select" | "filter" | "score"
        ) && (!entry.rejections.is_empty() || entry.rows_out != entry.rows_in)
        {
            filters.push(FilterStep {
                stage: entry.stage.clone(),
                params: non_null(&entry.params),
                rows_in: entry.rows_in,
                rows_out: entry.rows_out,
                rejections: entry.rejections.clone(),
            });
        }
        if !entry.outputs.is_empty() {
            let files = entry
                .outputs
                .iter()
                .map(|o| ReleasedFile {
                    path: o.path.clone(),
                    bytes: o.bytes,
                    sha256: o.sha256.clone(),
                    rows: (entry.outputs.len() == 1).then_some(entry.rows_out),
                })
                .collect();
            card.released.files = Fact::measured(files, evidence.clone());
        }
        if entry.rows_out > 0 || entry.rows_in > 0 {
            let mut counts = card.released.counts.value().cloned().unwrap_or_default();
            counts.records = entry.rows_out;
            if let Some(kinds) = summary_only(entry, &["object_kinds", "kinds", "mixture.object"])
                .and_then(count_map)
            {
                if !kinds.is_empty() {
                    counts.by_kind = kinds;
                }
            }
            if let Some(n) = summary_only(entry, &["attempts"]).and_then(as_u64) {
                counts.attempts = Some(n);
            }
            card.released.counts = Fact::measured(counts, evidence.clone());
        }
        if let Some(kinds) =
            summary_only(entry, &["object_kinds", "kinds", "mixture.object"]).and_then(string_list)
        {
            if !kinds.is_empty() {
                card.released.object_kinds = Fact::measured(kinds, evidence.clone());
            }
        }
        if let Some(Value::Array(cols)) = summary_only(entry, &["columns"]) {
            let cols: Vec<Column> = cols
                .iter()
                .filter_map(|c| match c {
                    Value::String(name) => Some(Column {
                        name: name.clone(),
                        dtype: "string".into(),
                    }),
                    Value::Object(o) => Some(Column {
                        name: o.get("name")?.as_str()?.to_string(),
                        dtype: o
                            .get("dtype")
                            .and_then(Value::as_str)
                            .unwrap_or("string")
                            .to_string(),
                    }),
                    _ => None,
                })
                .collect();
            if !cols.is_empty() {
                card.released.columns = Fact::measured(cols, evidence.clone());
            }
        }
        if let Some(fields) = summary_only(entry, &["fields"]).and_then(string_list) {
            card.released.fields = Fact::measured(fields, evidence.clone());
        }
        if let Some(domains) =
            summary_only(entry, &["domains", "mixture.domain"]).and_then(string_list)
        {
            card.released.domains = Fact::measured(domains, evidence.clone());
        }
        if let Some(sources) = summary_only(entry, &["sources", "source_datasets"]) {
            let list = parse_sources(sources);
            if !list.is_empty() {
                card.construction.prompt_sources = Fact::measured(list, evidence.clone());
            }
        }
        if let Some(generators) = summary_only(entry, &["generators"]) {
            let list = parse_generators(generators);
            if !list.is_empty() {
                card.construction.generators = Fact::measured(list, evidence.clone());
            }
        }
        match entry.stage.as_str() {
            // A verify run that checked no attempt (a prompt-only set) did not shape the data:
            // its verifier is not measured (declare the reward verifier instead).
            "verify" if summary_only(entry, &["attempts"]).and_then(as_u64) == Some(0) => {}
            "verify" => {
                for v in &entry.verifiers {
                    let fact = VerifierFact {
                        name: v.name.clone(),
                        version: v.version.clone(),
                        contract: json_name(&v.contract),
                        imported: v.imported,
                    };
                    if !verifiers.contains(&fact) {
                        verifiers.push(fact);
                    }
                }
                if !entry.verifiers.is_empty() {
                    verifier_evidence.push(evidence.clone());
                }
                if let Some(g) = summary_only(entry, &["granularity"]).and_then(string_list) {
                    card.verification.granularity = Fact::measured(g, evidence.clone());
                }
                results.extend(parse_results(entry));
            }
            "dedup" => {
                let method = summary_only(entry, &["method"])
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| {
                        let mode = entry.params.get("mode").and_then(Value::as_str)?;
                        Some(if entry.params.get("num_perm").is_some() {
                            format!("{mode} (minhash-lsh)")
                        } else {
                            mode.to_string()
                        })
                    })
                    .unwrap_or_else(|| "unspecified".into());
                let split_removed = match (
                    summary_only(entry, &["removed_exact"]).and_then(as_u64),
                    summary_only(entry, &["removed_near"]).and_then(as_u64),
                ) {
                    (None, None) => None,
                    (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
                };
                let removed = summary_only(entry, &["removed", "duplicates"])
                    .and_then(as_u64)
                    .or(split_removed)
                    .or(Some(entry.rows_in.saturating_sub(entry.rows_out)));
                card.quality.dedup = Fact::measured(
                    Dedup {
                        method,
                        params: non_null(&entry.params),
                        clusters: summary_only(entry, &["clusters", "duplicate_clusters"])
                            .and_then(|v| {
                                as_u64(v).or_else(|| v.as_array().map(|a| a.len() as u64))
                            }),
                        removed,
                    },
                    evidence.clone(),
                );
            }
            "decontam" | "decontaminate" => {
                let hits = summary_only(
                    entry,
                    &["hits_per_benchmark", "records_per_benchmark", "hits"],
                )
                .and_then(count_map)
                .unwrap_or_default();
                let mut benchmarks = summary_only(entry, &["benchmarks_checked", "benchmarks"])
                    .or_else(|| lookup(entry, &["benchmarks", "against"]))
                    .and_then(string_list)
                    .unwrap_or_default();
                for name in hits.keys() {
                    if !benchmarks.contains(name) {
                        benchmarks.push(name.clone());
                    }
                }
                let method = lookup(entry, &["method"])
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| {
                        lookup(entry, &["ngram", "n", "config.ngram"]).map(|n| {
                            let mut m = format!("{n}-gram overlap");
                            if lookup(entry, &["short_matcher", "config.short_matcher"])
                                .and_then(Value::as_bool)
                                == Some(true)
                            {
                                m.push_str(" + short-problem matcher");
                            }
                            if let Some(t) =
                                lookup(entry, &["fuzzy_threshold", "config.fuzzy_threshold"])
                                    .filter(|t| !t.is_null())
                            {
                                m.push_str(&format!(" + fuzzy (threshold {t})"));
                            }
                            if let Some(c) = lookup(entry, &["min_coverage", "config.min_coverage"])
                                .filter(|c| !c.is_null())
                            {
                                m.push_str(&format!(", n-gram hits covering >= {c} of the item"));
                            }
                            m
                        })
                    })
                    .unwrap_or_else(|| "unspecified".into());
                let removed = summary_only(entry, &["removed"])
                    .and_then(as_u64)
                    .or(Some(entry.rows_in.saturating_sub(entry.rows_out)));
                card.quality.decontamination = Fact::measured(
                    Decontamination {
                        benchmarks,
                        method,
                        params: non_null(&entry.params),
                        hits,
                        removed,
                    },
                    evidence.clone(),
                );
            }
            "score" | "stats" => apply_score(card, entry, &evidence),
            "split" => {
                card.quality.split_policy = Fact::measured(
                    format!("verity split with {}", entry.params),
                    evidence.clone(),
                );
            }
            _ => {}
        }
    }
    if !card.construction.prompt_sources.is_known() {
        // The inputs of the first stage are the sources, identified by their hashes.
        if let Some((index, first)) = ledger
            .entries
            .iter()
            .enumerate()
            .find(|(_, e)| !e.inputs.is_empty())
        {
            let sources = first
                .inputs
                .iter()
                .map(|i| SourceShare {
                    source: format!(
                        "{} (sha256:{})",
                        std::path::Path::new(&i.path)
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| i.path.clone()),
                        i.sha256.get(..12).unwrap_or(&i.sha256)
                    ),
                    records: (first.inputs.len() == 1).then_some(first.rows_in),
                    share: (first.inputs.len() == 1).then_some(1.0),
                    license: None,
                })
                .collect();
            card.construction.prompt_sources = Fact::measured(sources, ledger.evidence(index));
        }
    }
    if !funnel.is_empty() {
        card.scaling.funnel = Fact::measured(funnel, format!("{} (all entries)", ledger.name));
        card.construction.filters =
            Fact::measured(filters, format!("{} (all entries)", ledger.name));
    }
    if !verifiers.is_empty() {
        let contracts: BTreeSet<&str> = verifiers.iter().map(|v| v.contract.as_str()).collect();
        let contract = if contracts.len() == 1 {
            contracts
                .iter()
                .next()
                .copied()
                .unwrap_or("unknown")
                .to_string()
        } else {
            "mixed".to_string()
        };
        let evidence = verifier_evidence.join(", ");
        card.verification.contract = Fact::measured(contract, evidence.clone());
        if !card.verification.granularity.is_known() {
            // Verity's answer checkers grade the final answer.
            let answer_level = verifiers.iter().all(|v| {
                matches!(
                    v.name.as_str(),
                    "math" | "exact" | "choice" | "regex" | "code"
                )
            });
            if answer_level {
                card.verification.granularity = Fact::measured(
                    vec!["answer".to_string()],
                    format!(
                        "{evidence}; verity's {} verifiers grade final answers",
                        verifiers
                            .iter()
                            .map(|v| v.name.as_str())
                            .collect::<Vec<_>>()
                            .join("/")
                    ),
                );
            }
        }
        card.factors.verifier = Fact::measured(verifiers, evidence.clone());
        if !results.is_empty() {
            card.verification.results = Fact::measured(results, evidence);
        }
    }
}

fn apply_score(card: &mut Card, entry: &LedgerEntry, evidence: &str) {
    if let Some(bands) =
        summary_only(entry, &["pass_rate_bands", "bands", "difficulty_bands"]).and_then(count_map)
    {
        // All-zero bands mean no task had verdicts: nothing was measured.
        if bands.values().sum::<u64>() > 0 {
            card.quality.pass_rate_bands = Fact::measured(
                PassRateBands {
                    bands,
                    model: lookup(entry, &["model", "band_model", "rollout_model"])
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    rollouts_per_task: summary_only(
                        entry,
                        &["rollouts_per_task", "attempts.per_task.mean"],
                    )
                    .and_then(Value::as_f64),
                },
                evidence,
            );
        }
    }
    if let Some(n) =
        summary_only(entry, &["unique_tasks", "unique_prompts", "groups.tasks"]).and_then(as_u64)
    {
        card.scaling.unique_tasks = Fact::measured(n, evidence);
        let rows = summary_only(entry, &["rows", "records"])
            .and_then(as_u64)
            .unwrap_or(entry.rows_out);
        if rows > 0 && n > 0 {
            card.scaling.reuse_rate =
                Fact::measured(rows.saturating_sub(n) as f64 / n as f64, evidence);
        }
    }
    if let Some(r) =
        summary_only(entry, &["reuse_rate", "reuse.reuse_rate"]).and_then(Value::as_f64)
    {
        card.scaling.reuse_rate = Fact::measured(r, evidence);
    }
    if let Some(r) = summary_only(entry, &["rollouts_per_task", "attempts.per_task.mean"])
        .and_then(Value::as_f64)
    {
        card.scaling.rollouts_per_task = Fact::measured(r, evidence);
    }
    if let Some(Value::Object(map)) = summary_only(entry, &["pass_at_k", "pass@k"]) {
        let values: BTreeMap<String, f64> = map
            .iter()
            .filter_map(|(k, v)| v.as_f64().map(|f| (k.clone(), f)))
            .collect();
        if !values.is_empty() {
            card.scaling.pass_at_k = Fact::measured(values, evidence);
        }
    }
    let tokens = summary_only(entry, &["tokens"]);
    let total = tokens
        .and_then(|t| t.get("total").and_then(as_u64).or_else(|| as_u64(t)))
        .or_else(|| summary_only(entry, &["tokens_total", "total_tokens"]).and_then(as_u64));
    if let Some(total) = total.filter(|t| *t > 0) {
        let tokenizer = lookup(entry, &["tokenizer", "tokens.tokenizer"]).and_then(|t| match t {
            Value::String(s) => Some(s.clone()),
            Value::Object(m) => Some(m.keys().cloned().collect::<Vec<_>>().join(", ")),
            _ => None,
        });
        card.scaling.tokens = Fact::measured(
            TokenStats {
                total,
                mean: tokens
                    .and_then(|t| {
                        t.get("mean")
                            .or_else(|| t.get("per_attempt").and_then(|p| p.get("mean")))
                    })
                    .and_then(Value::as_f64)
                    .or_else(|| summary_only(entry, &["tokens_mean"]).and_then(Value::as_f64)),
                tokenizer,
            },
            evidence,
        );
    }
    if let Some(Value::Object(sources)) = summary_only(entry, &["mixture.source"]) {
        if !card.construction.prompt_sources.is_known()
            || card
                .construction
                .prompt_sources
                .value()
                .is_some_and(|v| v.iter().all(|s| s.source.contains("(sha256:")))
        {
            // `(none)` is how stats counts rows without a source dataset.
            let known: Map<String, Value> = sources
                .iter()
                .filter(|(k, _)| !k.starts_with('(') && !k.is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let list = parse_sources(&Value::Object(known));
            if !list.is_empty() {
                card.construction.prompt_sources = Fact::measured(list, evidence);
            }
        }
    }
}

fn parse_sources(value: &Value) -> Vec<SourceShare> {
    let mut out = Vec::new();
    match value {
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::String(s) => out.push(SourceShare {
                        source: s.clone(),
                        records: None,
                        share: None,
                        license: None,
                    }),
                    Value::Object(o) => {
                        if let Some(name) = ["source", "dataset", "name"]
                            .iter()
                            .find_map(|k| o.get(*k).and_then(Value::as_str))
                        {
                            out.push(SourceShare {
                                source: name.to_string(),
                                records: ["records", "rows", "count"]
                                    .iter()
                                    .find_map(|k| o.get(*k).and_then(as_u64)),
                                share: o.get("share").and_then(Value::as_f64),
                                license: o
                                    .get("license")
                                    .and_then(Value::as_str)
                                    .map(str::to_string),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        Value::Object(map) => {
            for (name, v) in map {
                out.push(SourceShare {
                    source: name.clone(),
                    records: as_u64(v).or_else(|| v.get("records").and_then(as_u64)),
                    share: v.get("share").and_then(Value::as_f64),
                    license: v.get("license").and_then(Value::as_str).map(str::to_string),
                });
            }
        }
        _ => {}
    }
    fill_shares(&mut out);
    out
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

fn parse_generators(value: &Value) -> Vec<GeneratorUse> {
    let items: Vec<Value> = match value {
        Value::Array(items) => items.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let mut o = v.as_object().cloned().unwrap_or_default();
                o.insert("model".into(), Value::String(k.clone()));
                Value::Object(o)
            })
            .collect(),
        Value::String(s) => vec![Value::String(s.clone())],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| match item {
            Value::String(model) => Some(GeneratorUse {
                model,
                params: Map::new(),
                attempts: None,
            }),
            Value::Object(o) => Some(GeneratorUse {
                model: o.get("model").and_then(Value::as_str)?.to_string(),
                params: o
                    .get("params")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
                attempts: o.get("attempts").and_then(as_u64),
            }),
            _ => None,
        })
        .collect()
}

fn parse_results(entry: &LedgerEntry) -> Vec<VerifierResult> {
    let mut out = Vec::new();
    if let Some(Value::Object(per)) = summary_only(entry, &["per_verifier", "verifiers"]) {
        for (label, counts) in per {
            out.push(VerifierResult {
                verifier: label.clone(),
                attempts: counts.get("attempts").and_then(as_u64),
                pass: counts.get("pass").and_then(as_u64),
                fail: counts.get("fail").and_then(as_u64),
                unknown: counts.get("unknown").and_then(as_u64),
            });
        }
        return out;
    }
    let counts = summary_only(entry, &["counts"]).unwrap_or(&entry.summary);
    let pass = counts.get("pass").and_then(as_u64);
    let fail = counts.get("fail").and_then(as_u64);
    if pass.is_some() || fail.is_some() {
        let label = entry
            .verifiers
            .iter()
            .map(|v| v.label())
            .collect::<Vec<_>>()
            .join("+");
        out.push(VerifierResult {
            verifier: if label.is_empty() {
                "unknown".into()
            } else {
                label
            },
            attempts: counts.get("attempts").and_then(as_u64),
            pass,
            fail,
            unknown: counts.get("unknown").and_then(as_u64),
        });
    }
    out
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

impl Released {
    fn counts_mut(&mut self) -> Option<&mut Counts> {
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
