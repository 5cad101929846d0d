//! Typed stage summaries: what each stage measured, as written to its ledger entry's `summary`.
//!
//! What it does: one serde struct per stage ([`VerifySummary`], [`DedupSummary`], ...) and the
//! [`StageSummary`] enum over them. A stage builds its struct; the runner serialises it into the
//! ledger (adding `position`, `segment`, `cpu_seconds`, `wall_seconds`); the release card
//! (verity-card) parses it back with [`StageSummary::parse`] and never looks up keys by guessing.
//! Producer and consumer share the types, so a renamed field is a compile error, not a card
//! field that silently turns `unknown`.
//!
//! Why here: every stage crate and the card depend on verity-core, and on nothing of each other.
//!
//! Known failure modes: ledgers written by the single-stage commands (`verity dedup`, `verity
//! decontam`, `verity select`) nest their measurements under the stage name and use a few older
//! key names; [`StageSummary::parse`] reads both placements and the older names (serde aliases).
//! Keys a struct does not know are ignored (the runner's timing keys, command-specific extras).

use crate::record::VerifierId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `read`: the segment that read the raw input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadSummary {
    /// Segment index.
    #[serde(default)]
    pub segment: u64,
}

/// `normalize`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NormalizeSummary {
    /// Records whose text changed.
    #[serde(default)]
    pub records_changed: u64,
}

/// `verify`: verdict counts over the attempts checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifySummary {
    /// The verifier.
    #[serde(default)]
    pub verifier: Option<VerifierId>,
    /// Attempts checked (or reference solutions, for records without attempts).
    #[serde(default)]
    pub attempts: u64,
    /// Passing verdicts.
    #[serde(default)]
    pub pass: u64,
    /// Failing verdicts.
    #[serde(default)]
    pub fail: u64,
    /// Verdicts that are neither (no answer found, checker error, ...).
    #[serde(default)]
    pub unknown: u64,
    /// Records that had no attempt.
    #[serde(default)]
    pub records_without_attempts: u64,
    /// `unknown` verdicts by reason class.
    #[serde(default)]
    pub unknown_reasons: BTreeMap<String, u64>,
}

/// `score`: rollout statistics over the records scored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    /// Records scored.
    #[serde(default)]
    pub records: u64,
    /// Attempts scored.
    #[serde(default)]
    pub attempts: u64,
    /// Records with a pass rate (at least one graded attempt).
    #[serde(default)]
    pub records_with_pass_rate: u64,
    /// Records per pass-rate band.
    #[serde(default)]
    pub bands: BTreeMap<String, u64>,
    /// Graded attempts per verifier label.
    #[serde(default)]
    pub verifiers: BTreeMap<String, u64>,
    /// Tokens over all attempts (0 without a tokenizer).
    #[serde(default)]
    pub tokens: u64,
    /// Attempts per quality flag (`truncated`, `looping`, ...).
    #[serde(default)]
    pub flags: BTreeMap<String, u64>,
    /// Signals not computed: signal -> reason -> count.
    #[serde(default)]
    pub absent: BTreeMap<String, BTreeMap<String, u64>>,
    /// Mean unbiased pass@k over the records with a pass rate, per k.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pass_at_k: BTreeMap<String, f64>,
}

/// `dedup`: exact and near-duplicate removal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DedupSummary {
    /// Records seen.
    #[serde(default)]
    pub records: u64,
    /// Records without any shingle (never near duplicates).
    #[serde(default)]
    pub empty_texts: u64,
    /// Records removed as exact duplicates.
    #[serde(default, alias = "removed_exact")]
    pub exact_removed: u64,
    /// Records removed as near duplicates.
    #[serde(default, alias = "removed_near")]
    pub near_removed: u64,
    /// Clusters of two or more records.
    #[serde(default)]
    pub clusters: u64,
    /// Size of the largest cluster.
    #[serde(default)]
    pub largest_cluster: u64,
    /// Candidate pairs compared.
    #[serde(default)]
    pub candidate_pairs: u64,
    /// Candidate pairs that passed verification.
    #[serde(default)]
    pub verified_pairs: u64,
    /// Similar pairs not linked because their reference answers differ.
    #[serde(default)]
    pub answer_conflicts: u64,
    /// Bytes of index state at the end of streaming.
    #[serde(default)]
    pub index_bytes: u64,
    /// Clusters per cluster size.
    #[serde(default)]
    pub cluster_sizes: BTreeMap<String, u64>,
}

impl DedupSummary {
    /// Records removed (exact + near).
    pub fn removed(&self) -> u64 {
        self.exact_removed + self.near_removed
    }
}

/// `decontam`: matches against benchmark sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DecontamSummary {
    /// Records with at least one hit.
    #[serde(default)]
    pub contaminated_records: u64,
    /// Contaminated records per benchmark (a record hitting two benchmarks counts in both);
    /// every benchmark checked is listed, with 0 when nothing matched.
    #[serde(default, alias = "records_per_benchmark")]
    pub hits_by_benchmark: BTreeMap<String, u64>,
    /// Hits per matching method (`ngram`, `contained`, `fuzzy`, ...).
    #[serde(default, alias = "hits_per_method")]
    pub hits_by_method: BTreeMap<String, u64>,
    /// Benchmarks checked.
    #[serde(default, alias = "benchmarks_checked")]
    pub benchmarks: Vec<String>,
    /// Benchmark items indexed.
    #[serde(default, alias = "benchmark_items")]
    pub items: u64,
    /// `drop` (contaminated records rejected) or `flag` (kept with `signals.contamination`).
    #[serde(default = "drop_action", alias = "mode")]
    pub action: String,
}

fn drop_action() -> String {
    "drop".into()
}

/// `select`: filters and global choices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectSummary {
    /// The resolved selection plan.
    #[serde(default)]
    pub plan: Value,
    /// Records chosen by the global steps (quota/top-k/diversity/s1K; 0 without them).
    #[serde(default)]
    pub chosen: u64,
    /// Rejections of the global steps by step.
    #[serde(default)]
    pub global_rejections: BTreeMap<String, u64>,
}

/// `pairs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PairsSummary {
    /// Preference pairs made.
    #[serde(default)]
    pub pairs: u64,
}

/// One split of a `split` stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitShare {
    /// Split name.
    pub name: String,
    /// Rows assigned.
    #[serde(default)]
    pub rows: u64,
    /// Groups assigned.
    #[serde(default)]
    pub groups: u64,
    /// The requested size (`{"ratio": r}` or `{"count": n}`).
    #[serde(default)]
    pub target: Value,
}

/// `split`: grouped deterministic splits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitSummary {
    /// The splits in order.
    #[serde(default)]
    pub splits: Vec<SplitShare>,
    /// Groups (tasks) split.
    #[serde(default)]
    pub groups: u64,
    /// Groups joined because their problems are near duplicates.
    #[serde(default)]
    pub near_duplicate_joins: u64,
    /// Rows over the requested counts (rejected).
    #[serde(default)]
    pub over_count: u64,
    /// Seed.
    #[serde(default)]
    pub seed: u64,
    /// Near-duplicate grouping parameters (null when off).
    #[serde(default)]
    pub near_duplicates: Value,
}

/// `export`: the released data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportSummary {
    /// Trainer format.
    #[serde(default)]
    pub target: String,
    /// `jsonl` or `parquet`.
    #[serde(default)]
    pub format: String,
    /// Data files written.
    #[serde(default)]
    pub files: u64,
    /// Rows written per split.
    #[serde(default)]
    pub rows_per_split: BTreeMap<String, u64>,
    /// Attempts held by the released records (before the target picks one per row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u64>,
}

/// A distribution (`count`, `min`, `p50`, `mean`, `p90`, `p99`, `max`), as `verity stats` writes
/// it; only the mean is read here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Mean.
    #[serde(default)]
    pub mean: Option<f64>,
}

/// `reuse` of `verity stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsReuse {
    /// Rows beyond one per task.
    #[serde(default)]
    pub duplicate_rows: u64,
    /// Rows beyond one per task, per unique task.
    #[serde(default)]
    pub reuse_rate: Option<f64>,
}

/// `attempts` of `verity stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsAttempts {
    /// Attempts over all rows.
    #[serde(default)]
    pub total: u64,
    /// Attempts per task.
    #[serde(default)]
    pub per_task: Option<Distribution>,
}

/// `tokens` of `verity stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsTokens {
    /// Attempts counted per tokenizer.
    #[serde(default)]
    pub tokenizer: BTreeMap<String, u64>,
    /// Tokens over all attempts.
    #[serde(default)]
    pub total: u64,
    /// Tokens per attempt.
    #[serde(default)]
    pub per_attempt: Option<Distribution>,
}

/// `mixture` of `verity stats`: rows per source dataset, domain and object kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsMixture {
    /// Rows per source dataset (`(none)` for rows without one).
    #[serde(default)]
    pub source: BTreeMap<String, u64>,
    /// Rows per domain.
    #[serde(default)]
    pub domain: BTreeMap<String, u64>,
    /// Rows per object kind.
    #[serde(default)]
    pub object: BTreeMap<String, u64>,
}

/// `stats`: the scaling ledger `verity stats --json` prints (read by `verity card build --stats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsSummary {
    /// Rows.
    #[serde(default)]
    pub rows: u64,
    /// Unique tasks.
    #[serde(default)]
    pub unique_tasks: u64,
    /// Reuse.
    #[serde(default)]
    pub reuse: StatsReuse,
    /// Attempts.
    #[serde(default)]
    pub attempts: StatsAttempts,
    /// Tasks per pass-rate band.
    #[serde(default)]
    pub pass_rate_bands: BTreeMap<String, u64>,
    /// Tokens.
    #[serde(default)]
    pub tokens: StatsTokens,
    /// Mixture.
    #[serde(default)]
    pub mixture: StatsMixture,
}

/// The typed summary of one ledger entry.
#[derive(Debug, Clone, PartialEq)]
pub enum StageSummary {
    /// `read`.
    Read(ReadSummary),
    /// `normalize`.
    Normalize(NormalizeSummary),
    /// `verify`.
    Verify(VerifySummary),
    /// `score`.
    Score(ScoreSummary),
    /// `dedup`.
    Dedup(DedupSummary),
    /// `decontam`.
    Decontam(DecontamSummary),
    /// `select`.
    Select(SelectSummary),
    /// `pairs`.
    Pairs(PairsSummary),
    /// `split`.
    Split(SplitSummary),
    /// `export`.
    Export(ExportSummary),
    /// `stats` (the output of `verity stats --json` given to the card builder).
    Stats(StatsSummary),
    /// A stage this version has no type for (`convert`, `stats`, stages of other tools): its
    /// summary as written.
    Other(Value),
}

impl StageSummary {
    /// The summary as the JSON object written to the ledger.
    pub fn to_value(&self) -> Value {
        let v = match self {
            StageSummary::Read(s) => serde_json::to_value(s),
            StageSummary::Normalize(s) => serde_json::to_value(s),
            StageSummary::Verify(s) => serde_json::to_value(s),
            StageSummary::Score(s) => serde_json::to_value(s),
            StageSummary::Dedup(s) => serde_json::to_value(s),
            StageSummary::Decontam(s) => serde_json::to_value(s),
            StageSummary::Select(s) => serde_json::to_value(s),
            StageSummary::Pairs(s) => serde_json::to_value(s),
            StageSummary::Split(s) => serde_json::to_value(s),
            StageSummary::Export(s) => serde_json::to_value(s),
            StageSummary::Stats(s) => serde_json::to_value(s),
            StageSummary::Other(v) => return v.clone(),
        };
        v.unwrap_or(Value::Null)
    }

    /// Parse the `summary` of a ledger entry of stage `stage`. Measurements nested under the
    /// stage's name (`summary.dedup.clusters`, as the single-stage commands write them) are
    /// read as if they were at the top. `Err` names the field that does not fit its type.
    pub fn parse(stage: &str, summary: &Value) -> Result<StageSummary, String> {
        let mut flat = match summary {
            Value::Object(m) => m.clone(),
            Value::Null => serde_json::Map::new(),
            other => return Ok(StageSummary::Other(other.clone())),
        };
        let key = if stage == "decontaminate" {
            "decontam"
        } else {
            stage
        };
        if let Some(Value::Object(inner)) = summary.get(key) {
            for (k, v) in inner {
                flat.insert(k.clone(), v.clone());
            }
        }
        let flat = Value::Object(flat);
        fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
            serde_json::from_value(v).map_err(|e| e.to_string())
        }
        Ok(match key {
            "read" => StageSummary::Read(typed(flat)?),
            "normalize" => StageSummary::Normalize(typed(flat)?),
            "verify" => StageSummary::Verify(typed(flat)?),
            "score" => StageSummary::Score(typed(flat)?),
            "dedup" => StageSummary::Dedup(typed(flat)?),
            "decontam" => StageSummary::Decontam(typed(flat)?),
            "select" => StageSummary::Select(typed(flat)?),
            "pairs" => StageSummary::Pairs(typed(flat)?),
            "split" => StageSummary::Split(typed(flat)?),
            "export" => StageSummary::Export(typed(flat)?),
            "stats" => StageSummary::Stats(typed(flat)?),
            _ => StageSummary::Other(summary.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_command_summaries_and_older_names_parse() {
        let s = StageSummary::parse(
            "dedup",
            &json!({"layouts_in": ["verity"], "dedup": {"records": 30, "removed_exact": 2, "removed_near": 3, "clusters": 4}}),
        )
        .unwrap();
        let StageSummary::Dedup(d) = s else {
            panic!("not a dedup summary: {s:?}")
        };
        assert_eq!((d.records, d.removed(), d.clusters), (30, 5, 4));
        let s = StageSummary::parse(
            "decontam",
            &json!({"decontam": {"records_per_benchmark": {"gsm8k": 30}, "mode": "flag"}}),
        )
        .unwrap();
        let StageSummary::Decontam(d) = s else {
            panic!("not a decontam summary: {s:?}")
        };
        assert_eq!(d.hits_by_benchmark.get("gsm8k"), Some(&30));
        assert_eq!(d.action, "flag");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_an_error_naming_it() {
        let e = StageSummary::parse("verify", &json!({"attempts": "many"})).unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
    }

    #[test]
    fn round_trip_through_the_ledger_json() {
        let s = StageSummary::Export(ExportSummary {
            target: "trl-sft".into(),
            format: "jsonl".into(),
            files: 1,
            rows_per_split: [("train".to_string(), 126)].into_iter().collect(),
            attempts: Some(504),
        });
        let mut v = s.to_value();
        v["cpu_seconds"] = json!(0.5);
        assert_eq!(StageSummary::parse("export", &v).unwrap(), s);
    }
}
