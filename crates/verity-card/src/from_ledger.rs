//! The measured card fields a ledger gives: each entry's typed summary
//! ([`verity_core::summary::StageSummary`]) mapped to card facts, with the entry as evidence.
//!
//! What it does: the funnel and the rejections of every stage (the export included) from the
//! entries' counts; the released files and record count from the last entry that has them and
//! the released attempts from the export summary; verifiers and verdicts from `verify`; dedup,
//! decontamination (hits per benchmark) and the split policy from their stages; pass-rate bands,
//! pass@k and tokens from `score` only when no later stage changed the records (else they would
//! describe records that were not released); the scaling ledger from a `stats` entry.
//!
//! Known failure modes: a summary whose field has the wrong type is an error naming the ledger
//! line and the field; a stage this version does not know contributes only its counts.

use crate::build::Ledger;
use crate::model::*;
use crate::{Error, Result};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use verity_core::ledger::LedgerEntry;
use verity_core::summary::{
    DecontamSummary, DedupSummary, ScoreSummary, SplitSummary, StageSummary, StatsSummary,
    VerifySummary,
};

fn json_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => "unknown".into(),
    }
}

fn non_null(value: &Value) -> Value {
    match value {
        Value::Object(m) if m.is_empty() => Value::Null,
        other => other.clone(),
    }
}

fn param<'a>(entry: &'a LedgerEntry, path: &str) -> Option<&'a Value> {
    let mut node = &entry.params;
    for part in path.split('.') {
        node = node.get(part)?;
    }
    (!node.is_null()).then_some(node)
}

/// True when a stage after `index` removed or changed records (so facts measured at `index`
/// do not describe the released data).
fn changed_after(ledger: &Ledger, index: usize) -> bool {
    ledger.entries[index + 1..]
        .iter()
        .filter(|e| e.stage != "stats")
        .any(|e| e.rows_out != e.rows_in || !e.rejections.is_empty())
}

pub(crate) fn apply_ledger(card: &mut Card, ledger: &Ledger) -> Result<()> {
    let mut funnel = Vec::new();
    let mut filters = Vec::new();
    let mut verifiers: Vec<VerifierFact> = Vec::new();
    let mut verifier_evidence = Vec::new();
    let mut results = Vec::new();
    for (index, entry) in ledger.entries.iter().enumerate() {
        let evidence = ledger.evidence(index);
        crate::agreement::apply(card, entry, &evidence);
        let summary =
            StageSummary::parse(&entry.stage, &entry.summary).map_err(|message| Error::Parse {
                path: format!("{} (summary of `{}`)", evidence, entry.stage),
                message,
            })?;
        if entry.stage != "stats" {
            funnel.push(FunnelStep {
                stage: entry.stage.clone(),
                rows_in: entry.rows_in,
                rows_out: entry.rows_out,
            });
            if !entry.rejections.is_empty() || entry.rows_out < entry.rows_in {
                filters.push(FilterStep {
                    stage: entry.stage.clone(),
                    params: non_null(&entry.params),
                    rows_in: entry.rows_in,
                    rows_out: entry.rows_out,
                    rejections: entry.rejections.clone(),
                });
            }
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
        if entry.stage != "stats" && (entry.rows_out > 0 || entry.rows_in > 0) {
            // The last entry's output is what was released; its attempts are known only when
            // the entry says (the export does).
            let attempts = match &summary {
                StageSummary::Export(e) => e.attempts,
                _ => None,
            };
            card.released.counts = Fact::measured(
                Counts {
                    records: entry.rows_out,
                    attempts,
                    by_kind: BTreeMap::new(),
                },
                evidence.clone(),
            );
        }
        match &summary {
            StageSummary::Verify(v) => {
                // A verify run that checked no attempt (a prompt-only set) did not shape the
                // data: its verifier is not measured (declare the reward verifier instead).
                if v.attempts == 0 {
                    continue;
                }
                for id in &entry.verifiers {
                    let fact = VerifierFact {
                        name: id.name.clone(),
                        version: id.version.clone(),
                        contract: json_name(&id.contract),
                        imported: id.imported,
                    };
                    if !verifiers.contains(&fact) {
                        verifiers.push(fact);
                    }
                }
                if !entry.verifiers.is_empty() {
                    verifier_evidence.push(evidence.clone());
                }
                results.push(verify_result(entry, v));
            }
            StageSummary::Dedup(d) => {
                card.quality.dedup = Fact::measured(dedup_fact(entry, d), evidence.clone());
            }
            StageSummary::Decontam(d) => {
                card.quality.decontamination =
                    Fact::measured(decontam_fact(entry, d), evidence.clone());
            }
            StageSummary::Score(s) if !changed_after(ledger, index) => {
                apply_score(card, s, entry, &evidence);
            }
            StageSummary::Stats(s) => apply_stats(card, s, &evidence),
            StageSummary::Split(s) => {
                card.quality.split_policy =
                    Fact::measured(split_policy(entry, s), evidence.clone());
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
        let contract = match contracts.len() {
            1 => contracts.iter().next().copied().unwrap_or("unknown"),
            _ => "mixed",
        }
        .to_string();
        let evidence = verifier_evidence.join(", ");
        card.verification.contract = Fact::measured(contract, evidence.clone());
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
        card.factors.verifier = Fact::measured(verifiers, evidence.clone());
        card.verification.results = Fact::measured(results, evidence);
    }
    Ok(())
}

fn verify_result(entry: &LedgerEntry, v: &VerifySummary) -> VerifierResult {
    let label = match &v.verifier {
        Some(id) => id.label(),
        None => entry
            .verifiers
            .iter()
            .map(|v| v.label())
            .collect::<Vec<_>>()
            .join("+"),
    };
    VerifierResult {
        verifier: if label.is_empty() {
            "unknown".into()
        } else {
            label
        },
        attempts: Some(v.attempts),
        pass: Some(v.pass),
        fail: Some(v.fail),
        unknown: Some(v.unknown),
    }
}

fn dedup_fact(entry: &LedgerEntry, d: &DedupSummary) -> Dedup {
    let method = match param(entry, "mode").and_then(Value::as_str) {
        Some(mode) if param(entry, "num_perm").is_some() && mode != "exact" => {
            format!("{mode} (minhash-lsh)")
        }
        Some(mode) => mode.to_string(),
        None => "unspecified".into(),
    };
    Dedup {
        method,
        params: non_null(&entry.params),
        clusters: Some(d.clusters),
        removed: Some(if d.records > 0 {
            d.removed()
        } else {
            entry.rows_in.saturating_sub(entry.rows_out)
        }),
    }
}

fn decontam_fact(entry: &LedgerEntry, d: &DecontamSummary) -> Decontamination {
    let mut benchmarks = d.benchmarks.clone();
    if benchmarks.is_empty() {
        if let Some(Value::Array(items)) = param(entry, "benchmarks").or(param(entry, "against")) {
            benchmarks = items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
                    _ => None,
                })
                .collect();
        }
    }
    for name in d.hits_by_benchmark.keys() {
        if !benchmarks.contains(name) {
            benchmarks.push(name.clone());
        }
    }
    let ngram = param(entry, "config.ngram").or(param(entry, "ngram"));
    let method = match ngram {
        Some(n) => {
            let mut m = format!("{n}-gram overlap");
            let config = |k: &str| param(entry, &format!("config.{k}")).or(param(entry, k));
            if config("short_matcher").and_then(Value::as_bool) == Some(true) {
                m.push_str(" + short-problem matcher");
            }
            if let Some(t) = config("fuzzy_threshold") {
                m.push_str(&format!(" + fuzzy (threshold {t})"));
            }
            if let Some(c) = config("min_coverage") {
                m.push_str(&format!(", n-gram hits covering >= {c} of the item"));
            }
            m
        }
        None => "unspecified".into(),
    };
    let removed = if d.action == "flag" {
        0
    } else {
        entry.rows_in.saturating_sub(entry.rows_out)
    };
    Decontamination {
        benchmarks,
        method,
        params: non_null(&entry.params),
        hits: d.hits_by_benchmark.clone(),
        removed: Some(removed),
    }
}

fn split_policy(entry: &LedgerEntry, s: &SplitSummary) -> String {
    let group = param(entry, "group_by")
        .and_then(Value::as_str)
        .unwrap_or("problem");
    let parts: Vec<String> = s
        .splits
        .iter()
        .map(|p| {
            let target = match (p.target.get("ratio"), p.target.get("count")) {
                (Some(r), _) => format!("ratio {r}"),
                (_, Some(c)) => format!("count {c}"),
                _ => "no target".into(),
            };
            format!(
                "{} {} rows in {} groups ({target})",
                p.name, p.rows, p.groups
            )
        })
        .collect();
    let near = if s.near_duplicates.is_null() {
        String::new()
    } else {
        format!(
            ", near-duplicate problems joined into one group ({} joins)",
            s.near_duplicate_joins
        )
    };
    format!(
        "grouped by {group}{near}, seed {}: {}",
        s.seed,
        parts.join("; ")
    )
}

fn apply_score(card: &mut Card, s: &ScoreSummary, entry: &LedgerEntry, evidence: &str) {
    // All-zero bands mean no task had verdicts: nothing was measured.
    if s.bands.values().sum::<u64>() > 0 {
        card.quality.pass_rate_bands = Fact::measured(
            PassRateBands {
                bands: s.bands.clone(),
                model: None,
                rollouts_per_task: (s.records > 0).then(|| s.attempts as f64 / s.records as f64),
            },
            evidence,
        );
    }
    if !s.pass_at_k.is_empty() {
        card.scaling.pass_at_k = Fact::measured(s.pass_at_k.clone(), evidence);
    }
    if s.tokens > 0 {
        card.scaling.tokens = Fact::measured(
            TokenStats {
                total: s.tokens,
                mean: (s.attempts > 0).then(|| s.tokens as f64 / s.attempts as f64),
                tokenizer: param(entry, "tokenizer")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
            evidence,
        );
    }
}

fn apply_stats(card: &mut Card, s: &StatsSummary, evidence: &str) {
    if s.pass_rate_bands.values().sum::<u64>() > 0 {
        card.quality.pass_rate_bands = Fact::measured(
            PassRateBands {
                bands: s.pass_rate_bands.clone(),
                model: None,
                rollouts_per_task: s.attempts.per_task.as_ref().and_then(|d| d.mean),
            },
            evidence,
        );
    }
    if s.unique_tasks > 0 {
        card.scaling.unique_tasks = Fact::measured(s.unique_tasks, evidence);
        let rate = s
            .reuse
            .reuse_rate
            .unwrap_or(s.rows.saturating_sub(s.unique_tasks) as f64 / s.unique_tasks as f64);
        card.scaling.reuse_rate = Fact::measured(rate, evidence);
    }
    if let Some(mean) = s.attempts.per_task.as_ref().and_then(|d| d.mean) {
        card.scaling.rollouts_per_task = Fact::measured(mean, evidence);
    }
    if s.tokens.total > 0 {
        card.scaling.tokens = Fact::measured(
            TokenStats {
                total: s.tokens.total,
                mean: s.tokens.per_attempt.as_ref().and_then(|d| d.mean),
                tokenizer: (!s.tokens.tokenizer.is_empty()).then(|| {
                    s.tokens
                        .tokenizer
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
            },
            evidence,
        );
    }
    if !s.mixture.object.is_empty() {
        if let Some(c) = card.released.counts_mut() {
            c.by_kind = s.mixture.object.clone();
        }
        card.released.object_kinds =
            Fact::measured(s.mixture.object.keys().cloned().collect(), evidence);
    }
    if !s.mixture.domain.is_empty() {
        card.released.domains =
            Fact::measured(s.mixture.domain.keys().cloned().collect(), evidence);
    }
    let hashed_only = match card.construction.prompt_sources.value() {
        None => true,
        Some(v) => v.iter().all(|s| s.source.contains("(sha256:")),
    };
    // `(none)` is how stats counts rows without a source dataset.
    let known: Vec<(&String, &u64)> = s
        .mixture
        .source
        .iter()
        .filter(|(k, _)| !k.starts_with('(') && !k.is_empty())
        .collect();
    if hashed_only && !known.is_empty() {
        let total: u64 = known.iter().map(|(_, n)| **n).sum();
        let list = known
            .into_iter()
            .map(|(name, n)| SourceShare {
                source: name.clone(),
                records: Some(*n),
                share: Some(*n as f64 / total as f64),
                license: None,
            })
            .collect();
        card.construction.prompt_sources = Fact::measured(list, evidence);
    }
}
