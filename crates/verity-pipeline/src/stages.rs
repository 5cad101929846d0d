//! Adapters from recipe stage configs to pipeline stages.
//!
//! What it does: [`build`] turns a [`StageConfig`] into a [`verity_core::stage::Stage`]:
//! `normalize` (this crate), `verify` (verity-math: math/exact/choice/regex; verity-sandbox:
//! code/command), `score`, `select`, `split`, `pairs` (verity-score) and `dedup`, `decontam`
//! (verity-dedup). Each stage's `summary` is its typed [`verity_core::summary::StageSummary`].
//!
//! Memory of first-pass stages (n = records entering the stage):
//! - dedup: ~63 B per record (verity-dedup's in-memory index; signatures and band entries
//!   spill to `TMPDIR`, ~370 B per record of disk) + 4 B (`dup_of`) + the id (a boxed string,
//!   ~16 B + id length) kept until the clusters are known, i.e. about
//!   **(90 + id length) x n bytes**;
//! - select with quota/top-k/diversity: ~80 B per surviving candidate (+1 KB with
//!   `diversity.by = "cluster"`);
//! - split: ~1.1 KB per record (a 128 x u64 MinHash signature when `near_dup = true`).
//!
//! Streaming stages keep O(batch) memory.
//!
//! Known failure modes: `select` rejections made by the global steps (quota/top-k/diversity)
//! are reported per record as `select: not chosen (...)`; the per-step breakdown is in the
//! stage's ledger summary.

use crate::error::{Error, Result};
use crate::normalize::{self, TextOptions};
use crate::recipe::{self, StageConfig, VerifyDrop};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use verity_core::record::{Record, Verdict, VerifierId};
use verity_core::stage::{Processed, Rejected, Stage};
use verity_core::summary::{self, StageSummary};
use verity_core::verify::{verify_record, Verifier, VerifyCounts};
use verity_core::Result as CoreResult;

fn stage_err(index: usize, stage: &str, message: impl std::fmt::Display) -> Error {
    Error::Stage {
        index,
        stage: stage.to_string(),
        message: message.to_string(),
    }
}

fn mark(record: &mut Record, label: String) {
    if !record.lineage.stages.contains(&label) {
        record.lineage.stages.push(label);
    }
}

/// Build the stage for `config` (`index` is its 1-based position, for messages; paths are
/// resolved against `base_dir`). `export` is not a processing stage and yields `None`.
pub fn build(
    index: usize,
    config: &StageConfig,
    base_dir: &Path,
) -> Result<Option<Box<dyn Stage>>> {
    Ok(Some(match config {
        StageConfig::Normalize(c) => Box::new(NormalizeStage::new(c)),
        StageConfig::Verify(c) => Box::new(VerifyStage::new(index, c)?),
        StageConfig::Score(c) => Box::new(ScoreStage::new(index, c)?),
        StageConfig::Dedup(c) => Box::new(DedupStage::new(index, c)?),
        StageConfig::Decontam(c) => Box::new(DecontamStage::new(index, c, base_dir)?),
        StageConfig::Select(c) => Box::new(SelectStage::new(index, c)?),
        StageConfig::Pairs(c) => Box::new(PairsStage::new(c)),
        StageConfig::Split(c) => Box::new(SplitStage::new(index, c)?),
        StageConfig::Export(_) => return Ok(None),
        StageConfig::Generate(_) | StageConfig::Judge(_) | StageConfig::StepLabel(_) => {
            return crate::construct::build(index, config, base_dir).map(Some)
        }
    }))
}

/// Whether the stage for `config` needs a first pass (without building it).
pub fn needs_first_pass(config: &StageConfig) -> bool {
    match config {
        StageConfig::Dedup(_) | StageConfig::Split(_) => true,
        StageConfig::Select(c) => {
            c.quota.is_some() || c.top_k.is_some() || c.diversity.is_some() || c.s1k.is_some()
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// normalize

/// `normalize`: Unicode NFC, whitespace, template debris, empty records.
pub struct NormalizeStage {
    options: TextOptions,
    drop_empty: bool,
    changed: std::sync::atomic::AtomicU64,
}

impl NormalizeStage {
    /// From the recipe config.
    pub fn new(c: &recipe::NormalizeConfig) -> Self {
        NormalizeStage {
            options: TextOptions {
                nfc: c.nfc,
                whitespace: c.whitespace,
                strip_template: c.strip_template,
            },
            drop_empty: c.drop_empty,
            changed: Default::default(),
        }
    }
}

impl Stage for NormalizeStage {
    fn name(&self) -> &str {
        "normalize"
    }
    fn params(&self) -> Value {
        json!({"nfc": self.options.nfc, "whitespace": self.options.whitespace,
               "strip_template": self.options.strip_template, "drop_empty": self.drop_empty})
    }
    fn process(&self, _first: u64, records: Vec<Record>) -> CoreResult<Processed> {
        let mut out = Processed::default();
        let mut changed = 0;
        for mut record in records {
            if normalize::normalize_record(&mut record, self.options) {
                changed += 1;
            }
            mark(&mut record, "normalize".into());
            if self.drop_empty && !normalize::has_problem(&record) {
                out.rejected.push(Rejected {
                    record,
                    reason: "empty_problem".into(),
                    detail: None,
                });
            } else {
                out.kept.push(record);
            }
        }
        self.changed
            .fetch_add(changed, std::sync::atomic::Ordering::Relaxed);
        Ok(out)
    }
    fn summary(&self) -> StageSummary {
        StageSummary::Normalize(summary::NormalizeSummary {
            records_changed: self.changed.load(std::sync::atomic::Ordering::Relaxed),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// verify

/// `verify`: feedback from a verifier on every attempt (or on the reference solution when a
/// record has no attempt), optionally dropping records or attempts.
pub struct VerifyStage {
    verifier: Box<dyn Verifier>,
    options: Value,
    drop: VerifyDrop,
    reference: bool,
    counts: Mutex<(VerifyCounts, u64, BTreeMap<String, u64>)>,
}

impl VerifyStage {
    /// From the recipe config.
    pub fn new(index: usize, c: &recipe::VerifyConfig) -> Result<Self> {
        let err = |m: String| stage_err(index, "verify", m);
        let extract = verity_math::ExtractOptions {
            last_number: c.last_number,
            ..Default::default()
        };
        let percent = match c.percent.as_deref().unwrap_or("either") {
            "either" => verity_math::PercentPolicy::Either,
            "fraction" => verity_math::PercentPolicy::Fraction,
            "number" => verity_math::PercentPolicy::Number,
            other => {
                return Err(err(format!(
                    "percent `{other}`: expected either, fraction or number"
                )))
            }
        };
        let mut equiv = verity_math::EquivOptions {
            percent,
            unordered_lists: c.unordered_lists,
            ..verity_math::EquivOptions::default()
        };
        if let Some(tol) = c.rel_tol {
            equiv.rel_tol = tol;
        }
        let (verifier, options): (Box<dyn Verifier>, Value) = match c.verifier.as_str() {
            "math" => {
                let options = verity_math::MathOptions { extract, equiv };
                let params = serde_json::to_value(&options).unwrap_or(Value::Null);
                (Box::new(verity_math::MathVerifier::new(options)), params)
            }
            "exact" => (
                Box::new(verity_math::simple::ExactVerifier::new(
                    extract,
                    c.case_sensitive,
                )),
                json!({"case_sensitive": c.case_sensitive, "last_number": c.last_number}),
            ),
            "choice" => {
                let letters = c.letters.clone().unwrap_or_else(|| "ABCDEFGHIJ".into());
                (
                    Box::new(verity_math::simple::ChoiceVerifier::new(&letters, extract)),
                    json!({"letters": letters}),
                )
            }
            "regex" => {
                let pattern = c.pattern.clone().ok_or_else(|| {
                    err("verifier `regex` needs `pattern = \"...\"` with a capture group".into())
                })?;
                let mut v = verity_math::simple::RegexVerifier::new(&pattern, c.regex_math)
                    .map_err(|e| err(e.to_string()))?;
                v.equiv = equiv;
                (
                    Box::new(v),
                    json!({"pattern": pattern, "math": c.regex_math}),
                )
            }
            "code" => {
                let mut options = verity_sandbox::CodeVerifierOptions::default();
                if let Some(t) = c.timeout_s {
                    options.harness.per_test_timeout =
                        std::time::Duration::from_secs_f64(t.max(0.001));
                }
                let v =
                    verity_sandbox::CodeVerifier::new(options).map_err(|e| err(e.to_string()))?;
                (Box::new(v), json!({"timeout_s": c.timeout_s}))
            }
            "command" => {
                if c.command.is_empty() {
                    return Err(err(
                        "verifier `command` needs `command = [\"checker\", \"args\"...]`".into(),
                    ));
                }
                let mut options = verity_sandbox::CommandVerifierOptions {
                    command: c.command.clone(),
                    ..Default::default()
                };
                if let Some(t) = c.timeout_s {
                    options.limits.wall_timeout = std::time::Duration::from_secs_f64(t.max(0.001));
                }
                let v = verity_sandbox::CommandVerifier::new(options)
                    .map_err(|e| err(e.to_string()))?;
                (
                    Box::new(v),
                    json!({"command": c.command, "timeout_s": c.timeout_s}),
                )
            }
            other => {
                return Err(err(format!(
                    "unknown verifier `{other}` (known: math, exact, choice, regex, code, command)"
                )))
            }
        };
        Ok(VerifyStage {
            verifier,
            options,
            drop: c.drop,
            reference: c.reference,
            counts: Mutex::default(),
        })
    }
}

impl Stage for VerifyStage {
    fn name(&self) -> &str {
        "verify"
    }
    fn params(&self) -> Value {
        json!({"verifier": self.verifier.id(), "options": self.options, "drop": self.drop, "reference": self.reference})
    }
    fn verifiers(&self) -> Vec<VerifierId> {
        vec![self.verifier.id()]
    }
    fn process(&self, _first: u64, mut records: Vec<Record>) -> CoreResult<Processed> {
        let name = self.verifier.id().name;
        let verifier = self.verifier.as_ref();
        let results: Vec<(VerifyCounts, Vec<String>)> = records
            .par_iter_mut()
            .map(|record| {
                if self.reference {
                    verity_core::verify::add_solution_attempt(record);
                }
                let c = verify_record(verifier, record);
                let reasons = record
                    .attempts
                    .iter()
                    .filter_map(|a| a.verdict_of(&name))
                    .filter(|f| f.verdict == Verdict::Unknown)
                    .filter_map(|f| f.detail.as_ref()?.get("reason")?.as_str().map(reason_class))
                    .collect();
                (c, reasons)
            })
            .collect();
        {
            let mut guard = self
                .counts
                .lock()
                .map_err(|_| verity_core::Error::Other("verify counts poisoned".into()))?;
            for (c, reasons) in &results {
                if c.attempts == 0 {
                    guard.1 += 1;
                }
                guard.0.add(*c);
                for r in reasons {
                    *guard.2.entry(r.clone()).or_default() += 1;
                }
            }
        }
        let mut out = Processed::default();
        for (mut record, (c, _)) in records.into_iter().zip(results) {
            match self.drop {
                VerifyDrop::None => out.kept.push(record),
                VerifyDrop::NoPass => {
                    if c.pass > 0 {
                        out.kept.push(record);
                    } else {
                        let reason = if c.attempts == 0 {
                            "verify:no_attempt"
                        } else {
                            "verify:no_pass"
                        };
                        out.rejected.push(Rejected {
                            record,
                            reason: reason.into(),
                            detail: Some(json!({"attempts": c.attempts, "fail": c.fail, "unknown": c.unknown})),
                        });
                    }
                }
                VerifyDrop::FailedAttempts => {
                    let before = record.attempts.len();
                    record
                        .attempts
                        .retain(|a| a.verdict_of(&name).and_then(|f| f.passed()) == Some(true));
                    if record.attempts.is_empty() {
                        out.rejected.push(Rejected {
                            record,
                            reason: "verify:no_pass".into(),
                            detail: Some(json!({"attempts": before})),
                        });
                    } else {
                        if record.attempts.len() < before {
                            record.signals.insert(
                                "attempts_dropped".into(),
                                json!(before - record.attempts.len()),
                            );
                        }
                        out.kept.push(record);
                    }
                }
            }
        }
        Ok(out)
    }
    fn summary(&self) -> StageSummary {
        let guard = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let (c, none, reasons) = &*guard;
        StageSummary::Verify(summary::VerifySummary {
            verifier: Some(self.verifier.id()),
            attempts: c.attempts,
            pass: c.pass,
            fail: c.fail,
            unknown: c.unknown,
            records_without_attempts: *none,
            unknown_reasons: reasons.clone(),
        })
    }
}

fn reason_class(reason: &str) -> String {
    let cut = reason.find([':', '(']).unwrap_or(reason.len());
    reason[..cut].trim().to_string()
}

// ---------------------------------------------------------------------------------------------
// score

/// `score`: utility signals per attempt and task.
pub struct ScoreStage {
    scorer: verity_score::signals::Scorer,
    summary: Mutex<verity_score::signals::ScoreSummary>,
}

impl ScoreStage {
    /// From the recipe config.
    pub fn new(index: usize, c: &recipe::ScoreConfig) -> Result<Self> {
        let mut options = verity_score::signals::ScoreOptions::default();
        match c.tokenizer.as_deref() {
            Some("none") => options.tokenizer = None,
            Some(t) => options.tokenizer = Some(t.to_string()),
            None => {}
        }
        if let Some(ks) = &c.ks {
            options.ks = ks.clone();
        }
        options.verifier = verity_score::signals::VerifierChoice::parse(c.verifier.as_deref());
        let scorer = verity_score::signals::Scorer::new(options)
            .map_err(|e| stage_err(index, "score", e))?;
        Ok(ScoreStage {
            scorer,
            summary: Mutex::default(),
        })
    }
}

impl Stage for ScoreStage {
    fn name(&self) -> &str {
        "score"
    }
    fn params(&self) -> Value {
        let o = self.scorer.options();
        json!({"tokenizer": o.tokenizer, "ks": o.ks, "verifier": format!("{:?}", o.verifier), "ngram": o.ngram})
    }
    fn process(&self, _first: u64, mut records: Vec<Record>) -> CoreResult<Processed> {
        records.par_iter_mut().for_each(|r| {
            self.scorer.score_record(r);
            mark(r, "score".into());
        });
        let mut partial = verity_score::signals::ScoreSummary::default();
        for r in &records {
            partial.add(r);
        }
        if let Ok(mut s) = self.summary.lock() {
            s.merge(partial);
        }
        Ok(Processed::keep_all(records))
    }
    fn summary(&self) -> StageSummary {
        StageSummary::Score(
            self.summary
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .typed(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// dedup

/// `dedup`: exact and near duplicates (first pass: signatures; second pass: drop duplicates).
pub struct DedupStage {
    config: verity_dedup::dedup::DedupConfig,
    hasher: verity_dedup::minhash::MinHasher,
    deduper: Option<verity_dedup::dedup::Deduper>,
    ids: Vec<Box<str>>,
    dup_of: Vec<u32>,
    kept_ids: std::collections::HashMap<u32, Box<str>>,
    stats: summary::DedupSummary,
    cluster_sizes: BTreeMap<u64, u64>,
}

const NOT_DUP: u32 = u32::MAX;

impl DedupStage {
    /// From the recipe config.
    pub fn new(index: usize, c: &recipe::DedupStageConfig) -> Result<Self> {
        use verity_dedup::dedup::{DedupConfig, Mode};
        let err = |m: String| stage_err(index, "dedup", m);
        let mut config = DedupConfig::default();
        if let Some(m) = &c.mode {
            config.mode = Mode::from_name(m)
                .ok_or_else(|| err(format!("mode `{m}`: expected exact, near or both")))?;
        }
        if let Some(v) = &c.view {
            config.view = verity_dedup::exact::View::from_name(v).ok_or_else(|| {
                err(format!(
                    "view `{v}`: expected problem, problem_answer, trace or record"
                ))
            })?;
        }
        if let Some(n) = c.num_perm {
            if !(8..=1024).contains(&n) {
                return Err(err(format!("num_perm {n}: expected 8..=1024")));
            }
            config.num_perm = n;
        }
        if let Some(t) = c.threshold {
            if !(0.0..=1.0).contains(&t) || t == 0.0 {
                return Err(err(format!("threshold {t}: expected a number in (0, 1]")));
            }
            config.threshold = t;
        }
        config.lsh = verity_dedup::lsh::LshParams::for_threshold(config.threshold, config.num_perm);
        if let Some(k) = &c.keep {
            config.keep = verity_dedup::cluster::KeepPolicy::from_name(k).ok_or_else(|| {
                err(format!(
                    "keep `{k}`: expected first, longest, passing or highest-score"
                ))
            })?;
        }
        config.verify_jaccard = c.verify_jaccard;
        config.answer_guard = !c.ignore_answers;
        let hasher = config.hasher();
        Ok(DedupStage {
            // Signatures and band entries spill to the temp dir (`TMPDIR`): ~63 B per record
            // stay in memory instead of ~420 B.
            deduper: Some(verity_dedup::dedup::Deduper::spilling(
                config.clone(),
                &std::env::temp_dir(),
            )?),
            config,
            hasher,
            ids: Vec::new(),
            dup_of: Vec::new(),
            kept_ids: Default::default(),
            stats: summary::DedupSummary::default(),
            cluster_sizes: BTreeMap::new(),
        })
    }
}

impl Stage for DedupStage {
    fn name(&self) -> &str {
        "dedup"
    }
    fn params(&self) -> Value {
        serde_json::to_value(&self.config).unwrap_or(Value::Null)
    }
    fn needs_first_pass(&self) -> bool {
        true
    }
    fn observe(&mut self, first: u64, records: &[Record]) -> CoreResult<()> {
        if first != self.ids.len() as u64 {
            return Err(verity_core::Error::Other(format!(
                "internal: dedup saw record {first} after {} records",
                self.ids.len()
            )));
        }
        let config = &self.config;
        let hasher = &self.hasher;
        let prepared: Vec<_> = records
            .par_iter()
            .map_init(
                verity_dedup::minhash::Scratch::default,
                |scratch, record| {
                    let text = config.view.text(record);
                    let keep = verity_dedup::exact::keep_key(record, text.chars().count() as u64);
                    config
                        .prepare(hasher, &text, keep, scratch)
                        .with_answer(record.task.reference.answer.as_deref())
                },
            )
            .collect();
        let deduper = self.deduper.as_mut().ok_or_else(|| {
            verity_core::Error::Other("internal: dedup observed after seal".into())
        })?;
        for p in prepared {
            deduper.push(p).map_err(dedup_err)?;
        }
        self.ids
            .extend(records.iter().map(|r| r.id.clone().into_boxed_str()));
        Ok(())
    }
    fn seal(&mut self) -> CoreResult<()> {
        let deduper = self
            .deduper
            .take()
            .ok_or_else(|| verity_core::Error::Other("internal: dedup sealed twice".into()))?;
        let outcome = deduper.finish().map_err(dedup_err)?;
        self.dup_of = outcome
            .dup_of
            .iter()
            .map(|d| d.unwrap_or(NOT_DUP))
            .collect();
        for cluster in &outcome.clusters {
            *self
                .cluster_sizes
                .entry(cluster.members.len() as u64)
                .or_default() += 1;
            if let Some(id) = self.ids.get(cluster.kept as usize) {
                self.kept_ids.insert(cluster.kept, id.clone());
            }
        }
        self.ids = Vec::new();
        let st = &outcome.stats;
        let stats = summary::DedupSummary {
            records: st.records,
            empty_texts: st.empty_texts,
            exact_removed: st.exact_removed,
            near_removed: st.near_removed,
            clusters: st.clusters,
            largest_cluster: st.largest_cluster,
            candidate_pairs: st.candidate_pairs,
            verified_pairs: st.verified_pairs,
            answer_conflicts: st.answer_conflicts,
            index_bytes: st.index_bytes,
            cluster_sizes: self
                .cluster_sizes
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
        };
        self.stats = stats;
        Ok(())
    }
    fn process(&self, first: u64, records: Vec<Record>) -> CoreResult<Processed> {
        let mut out = Processed::default();
        for (i, mut record) in records.into_iter().enumerate() {
            let index = first + i as u64;
            let dup = *self.dup_of.get(index as usize).ok_or_else(|| {
                verity_core::Error::Other(format!("internal: dedup has no decision for record {index} (input changed between passes?)"))
            })?;
            mark(&mut record, "dedup".into());
            if dup == NOT_DUP {
                out.kept.push(record);
            } else {
                let kept_id = self.kept_ids.get(&dup).map(|s| s.to_string());
                record.lineage.dup_of = kept_id.clone();
                out.rejected.push(Rejected {
                    record,
                    reason: "duplicate".into(),
                    detail: Some(json!({"dup_of": kept_id, "dup_of_index": dup})),
                });
            }
        }
        Ok(out)
    }
    fn summary(&self) -> StageSummary {
        StageSummary::Dedup(self.stats.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// decontam

/// (records per benchmark, hits per method, contaminated records)
type HitCounts = (BTreeMap<String, u64>, BTreeMap<String, u64>, u64);

/// `decontam`: n-gram / contained / fuzzy matches against benchmark sets.
pub struct DecontamStage {
    index: verity_dedup::decontam::DecontamIndex,
    against: Vec<String>,
    problem: bool,
    trace: bool,
    drop: bool,
    hits: Mutex<HitCounts>,
}

impl DecontamStage {
    /// From the recipe config (file benchmarks resolved against `base_dir`).
    pub fn new(index: usize, c: &recipe::DecontamStageConfig, base_dir: &Path) -> Result<Self> {
        let err = |m: String| stage_err(index, "decontam", m);
        if c.against.is_empty() {
            return Err(err("`against` is empty: name benchmarks (`builtin:all`, `builtin:math500,aime24`) or files".into()));
        }
        let specs: Vec<String> = c
            .against
            .iter()
            .map(|s| {
                if s.starts_with("builtin:") || Path::new(s).is_absolute() {
                    s.clone()
                } else {
                    base_dir.join(s).display().to_string()
                }
            })
            .collect();
        let benchmarks =
            verity_dedup::benchmarks::resolve(&specs).map_err(|e| err(e.to_string()))?;
        let mut config = verity_dedup::decontam::DecontamConfig::default();
        if let Some(n) = c.ngram {
            if n == 0 {
                return Err(err("ngram must be at least 1".into()));
            }
            config.ngram = n;
        }
        config.short_matcher = c.short_matcher;
        if let Some(t) = c.fuzzy_threshold {
            config.fuzzy_threshold = t;
        }
        if let Some(m) = c.min_coverage {
            if !(0.0..=1.0).contains(&m) {
                return Err(err(format!(
                    "min_coverage {m}: expected a fraction from 0 to 1"
                )));
            }
            config.min_coverage = m;
        }
        let fields = c
            .fields
            .clone()
            .unwrap_or_else(|| vec!["problem".into(), "trace".into()]);
        for f in &fields {
            if f != "problem" && f != "trace" {
                return Err(err(format!(
                    "fields: `{f}` is not a field (use problem, trace)"
                )));
            }
        }
        let drop = match c.action.as_deref().unwrap_or("drop") {
            "drop" => true,
            "flag" => false,
            other => return Err(err(format!("action `{other}`: expected drop or flag"))),
        };
        Ok(DecontamStage {
            index: verity_dedup::decontam::DecontamIndex::build(&benchmarks, config),
            against: c.against.clone(),
            problem: fields.iter().any(|f| f == "problem"),
            trace: fields.iter().any(|f| f == "trace"),
            drop,
            hits: Mutex::default(),
        })
    }

    fn check(&self, record: &Record) -> Vec<verity_dedup::decontam::Hit> {
        let mut hits = Vec::new();
        if self.problem {
            if let Some(p) = record.problem_text() {
                self.index.check("problem", p, true, &mut hits);
            }
        }
        if self.trace {
            for a in &record.attempts {
                for text in [&a.trace, &a.response].into_iter().flatten() {
                    self.index.check("trace", text, false, &mut hits);
                }
            }
        }
        hits
    }
}

impl Stage for DecontamStage {
    fn name(&self) -> &str {
        "decontam"
    }
    fn params(&self) -> Value {
        json!({"against": self.against, "benchmarks": self.index.benchmarks(), "items": self.index.items(),
               "config": self.index.config(), "problem": self.problem, "trace": self.trace, "drop": self.drop})
    }
    fn process(&self, _first: u64, records: Vec<Record>) -> CoreResult<Processed> {
        let checked: Vec<(Record, Vec<verity_dedup::decontam::Hit>)> = records
            .into_par_iter()
            .map(|r| {
                let h = self.check(&r);
                (r, h)
            })
            .collect();
        let mut out = Processed::default();
        let mut by_bench: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_method: BTreeMap<String, u64> = BTreeMap::new();
        let mut contaminated = 0;
        for (mut record, hits) in checked {
            mark(&mut record, "decontam".into());
            if hits.is_empty() {
                out.kept.push(record);
                continue;
            }
            contaminated += 1;
            let mut benches: Vec<&str> = hits.iter().map(|h| &*h.benchmark).collect();
            benches.sort_unstable();
            benches.dedup();
            for b in &benches {
                *by_bench.entry(b.to_string()).or_default() += 1;
            }
            for h in &hits {
                *by_method
                    .entry(format!("{:?}", h.method).to_lowercase())
                    .or_default() += 1;
            }
            let detail = serde_json::to_value(&hits).unwrap_or(Value::Null);
            if self.drop {
                out.rejected.push(Rejected {
                    record,
                    reason: format!("contaminated:{}", benches[0]),
                    detail: Some(detail),
                });
            } else {
                record.signals.insert("contamination".into(), detail);
                out.kept.push(record);
            }
        }
        if let Ok(mut g) = self.hits.lock() {
            for (k, v) in by_bench {
                *g.0.entry(k).or_default() += v;
            }
            for (k, v) in by_method {
                *g.1.entry(k).or_default() += v;
            }
            g.2 += contaminated;
        }
        Ok(out)
    }
    fn summary(&self) -> StageSummary {
        let g = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let mut per_bench: BTreeMap<String, u64> = self
            .index
            .benchmarks()
            .iter()
            .map(|b| (b.clone(), 0))
            .collect();
        for (k, v) in &g.0 {
            per_bench.insert(k.clone(), *v);
        }
        StageSummary::Decontam(summary::DecontamSummary {
            contaminated_records: g.2,
            hits_by_benchmark: per_bench,
            hits_by_method: g.1.clone(),
            benchmarks: self.index.benchmarks().to_vec(),
            items: self.index.items() as u64,
            action: if self.drop { "drop" } else { "flag" }.into(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// select

/// `select`: filters, bands, quotas, top-k, diversity, s1K.
pub struct SelectStage {
    selector: verity_score::select::Selector,
    global: bool,
    candidates: Vec<verity_score::select::Candidate>,
    seen: u64,
    kept: Vec<u64>,
    global_rejections: BTreeMap<String, u64>,
}

impl SelectStage {
    /// From the recipe config.
    pub fn new(index: usize, c: &recipe::SelectConfig) -> Result<Self> {
        use verity_score::expr;
        use verity_score::select::{KeyBy, SelectPlan};
        let err = |e: String| stage_err(index, "select", e);
        let mut plan = SelectPlan {
            seed: c.seed,
            ..SelectPlan::default()
        };
        for f in &c.filters {
            plan.filter(f).map_err(|e| err(e.to_string()))?;
        }
        if let Some(b) = &c.keep_bands {
            plan.bands(b).map_err(|e| err(e.to_string()))?;
        }
        if let Some(q) = &c.quota {
            plan.quota = Some((KeyBy::parse(&q.by).map_err(|e| err(e.to_string()))?, q.max));
        }
        if let Some(t) = &c.top_k {
            plan.top_k = Some((
                t.score.clone(),
                expr::parse(&t.score).map_err(|e| err(e.to_string()))?,
                t.k,
            ));
        }
        if let Some(d) = &c.diversity {
            plan.diversity = Some((KeyBy::parse(&d.by).map_err(|e| err(e.to_string()))?, d.n));
        }
        if let Some(n) = c.s1k {
            plan.s1k(n).map_err(|e| err(e.to_string()))?;
        }
        let selector = verity_score::select::Selector::new(plan);
        Ok(SelectStage {
            global: selector.needs_global(),
            selector,
            candidates: Vec::new(),
            seen: 0,
            kept: Vec::new(),
            global_rejections: BTreeMap::new(),
        })
    }
}

impl Stage for SelectStage {
    fn name(&self) -> &str {
        "select"
    }
    fn params(&self) -> Value {
        self.selector.plan().to_json()
    }
    fn needs_first_pass(&self) -> bool {
        self.global
    }
    fn observe(&mut self, first: u64, records: &[Record]) -> CoreResult<()> {
        let screened: Vec<_> = records
            .par_iter()
            .enumerate()
            .map(|(i, r)| self.selector.screen(r, first + i as u64))
            .collect();
        for s in screened {
            if let verity_score::select::Screened::Keep(c) = s {
                self.candidates.push(c);
            }
        }
        self.seen = first + records.len() as u64;
        Ok(())
    }
    fn seal(&mut self) -> CoreResult<()> {
        let candidates = std::mem::take(&mut self.candidates);
        self.kept = self
            .selector
            .choose(candidates, &mut self.global_rejections);
        Ok(())
    }
    fn process(&self, first: u64, records: Vec<Record>) -> CoreResult<Processed> {
        let mut out = Processed::default();
        for (i, mut record) in records.into_iter().enumerate() {
            let index = first + i as u64;
            mark(&mut record, "select".into());
            match self.selector.screen(&record, index) {
                verity_score::select::Screened::Reject(reason) => out.rejected.push(Rejected {
                    record,
                    reason: format!("select: {reason}"),
                    detail: None,
                }),
                verity_score::select::Screened::Keep(_) => {
                    if !self.global || self.kept.binary_search(&index).is_ok() {
                        out.kept.push(record);
                    } else {
                        out.rejected.push(Rejected {
                            record,
                            reason: "select: not chosen (quota/top_k/diversity)".into(),
                            detail: None,
                        });
                    }
                }
            }
        }
        Ok(out)
    }
    fn summary(&self) -> StageSummary {
        StageSummary::Select(summary::SelectSummary {
            plan: self.selector.plan().to_json(),
            chosen: self.kept.len() as u64,
            global_rejections: self.global_rejections.clone(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// pairs

/// `pairs`: preference pairs from rollout sets (passing = chosen, failing = rejected).
pub struct PairsStage {
    options: verity_score::select::pairs::PairOptions,
    made: std::sync::atomic::AtomicU64,
}

impl PairsStage {
    /// From the recipe config.
    pub fn new(c: &recipe::PairsConfig) -> Self {
        PairsStage {
            options: verity_score::select::pairs::PairOptions {
                verifier: verity_score::signals::VerifierChoice::parse(c.verifier.as_deref()),
                max_pairs: c.max_pairs.unwrap_or(1).max(1),
                seed: c.seed,
            },
            made: Default::default(),
        }
    }
}

impl Stage for PairsStage {
    fn name(&self) -> &str {
        "pairs"
    }
    fn params(&self) -> Value {
        json!({"verifier": format!("{:?}", self.options.verifier), "max_pairs": self.options.max_pairs, "seed": self.options.seed})
    }
    fn process(&self, _first: u64, records: Vec<Record>) -> CoreResult<Processed> {
        let mut out = Processed::default();
        for record in records {
            if record.object == verity_core::record::ObjectKind::PreferencePair {
                out.kept.push(record);
                continue;
            }
            match verity_score::select::pairs::build_pairs(
                std::slice::from_ref(&record),
                &self.options,
            ) {
                Ok(pairs) => {
                    self.made
                        .fetch_add(pairs.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    out.kept.extend(pairs.into_iter().map(|mut p| {
                        mark(&mut p, "pairs".into());
                        p
                    }));
                }
                Err(reason) => out.rejected.push(Rejected {
                    record,
                    reason: format!("pairs: {reason}"),
                    detail: None,
                }),
            }
        }
        Ok(out)
    }
    fn summary(&self) -> StageSummary {
        StageSummary::Pairs(summary::PairsSummary {
            pairs: self.made.load(std::sync::atomic::Ordering::Relaxed),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// split

/// `split`: grouped deterministic splits; the split name goes to `signals.split`, and the
/// export writes one file set per split.
pub struct SplitStage {
    spec: verity_score::split::SplitSpec,
    key: verity_score::group::GroupKey,
    items: Vec<verity_score::split::SplitItem>,
    assignment: Option<verity_score::split::Assignment>,
}

impl SplitStage {
    /// From the recipe config.
    pub fn new(index: usize, c: &recipe::SplitConfig) -> Result<Self> {
        let names = c
            .names
            .clone()
            .unwrap_or_else(|| vec!["train".into(), "test".into()]);
        for n in &names {
            if n.is_empty()
                || !n
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
            {
                return Err(stage_err(
                    index,
                    "split",
                    format!("split name `{n}`: use letters, digits, _ and -"),
                ));
            }
        }
        let mut spec = verity_score::split::SplitSpec::parse(&names, &c.sizes, c.seed)
            .map_err(|e| stage_err(index, "split", e))?;
        if !c.near_dup {
            spec.near_dup = None;
        }
        Ok(SplitStage {
            spec,
            key: verity_score::group::GroupKey::Problem,
            items: Vec::new(),
            assignment: None,
        })
    }
}

impl Stage for SplitStage {
    fn name(&self) -> &str {
        "split"
    }
    fn params(&self) -> Value {
        json!({"names": self.spec.names, "targets": format!("{:?}", self.spec.targets), "seed": self.spec.seed,
               "near_dup": self.spec.near_dup.is_some(), "group_by": "problem"})
    }
    fn needs_first_pass(&self) -> bool {
        true
    }
    fn observe(&mut self, _first: u64, records: &[Record]) -> CoreResult<()> {
        let near = self.spec.near_dup;
        let key = &self.key;
        let items: Vec<_> = records
            .par_iter()
            .map(|r| verity_score::split::SplitItem {
                key: key.key(r).ok(),
                signature: near
                    .as_ref()
                    .map(|p| verity_score::minhash::signature(r.problem_text().unwrap_or(""), p)),
            })
            .collect();
        self.items.extend(items);
        Ok(())
    }
    fn seal(&mut self) -> CoreResult<()> {
        let items = std::mem::take(&mut self.items);
        self.assignment = Some(verity_score::split::assign(&items, &self.spec));
        Ok(())
    }
    fn process(&self, first: u64, records: Vec<Record>) -> CoreResult<Processed> {
        let a = self
            .assignment
            .as_ref()
            .ok_or_else(|| verity_core::Error::Other("internal: split not sealed".into()))?;
        let mut out = Processed::default();
        for (i, mut record) in records.into_iter().enumerate() {
            let index = (first + i as u64) as usize;
            mark(&mut record, "split".into());
            match a.split.get(index).copied().flatten() {
                Some(s) => {
                    record
                        .signals
                        .insert("split".into(), json!(self.spec.names[s]));
                    out.kept.push(record);
                }
                None => out.rejected.push(Rejected {
                    record,
                    reason: "split: over the requested counts".into(),
                    detail: None,
                }),
            }
        }
        Ok(out)
    }
    fn summary(&self) -> StageSummary {
        StageSummary::Split(
            self.assignment
                .as_ref()
                .map(|a| a.summary(&self.spec))
                .unwrap_or_default(),
        )
    }
}

fn dedup_err(e: verity_dedup::Error) -> verity_core::Error {
    verity_core::Error::Other(format!("dedup: {e}"))
}
