//! Selection: filters with rejection counts, band keeps, quotas, top-k, diversity-aware
//! sampling, the s1K-style staged recipe, and preference-pair building.
//!
//! What it does: a [`Selector`] screens each record as it streams by (expression filters, then
//! the band keep), turning survivors into small [`Candidate`]s; [`Selector::choose`] then
//! applies the global steps (per-key quotas, top-k by a score expression, diversity-aware
//! sampling over MinHash clusters or a field) and returns the indices to keep, in input order.
//! Every step counts what it rejected and why.
//!
//! Why two phases: quotas, top-k and diversity need to see all candidates, but only their keys
//! and scores, so the records themselves are streamed twice instead of held in memory.
//!
//! Determinism: every tie and every sample is broken by a stable hash of the seed and the
//! record's position, so the same input, plan and seed select the same records.
//!
//! Known failure modes: a score expression that is `null` for a record ranks it last; quotas
//! and diversity apply to candidates that survived the filters (they do not reach back);
//! MinHash clusters are estimated (see [`crate::minhash`]).

pub mod pairs;

use crate::error::{Error, Result};
use crate::expr::{self, Expr};
use crate::minhash::{self, MinHashParams};
use crate::signals::rollout::parse_band;
use crate::util::{hash64, mix64};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use verity_core::record::Record;

/// What a quota or a diversity spread is keyed by.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyBy {
    /// `task.source.dataset`.
    Source,
    /// `task.domain`.
    Domain,
    /// Any field path (see [`expr::resolve_path`]).
    Field(String),
    /// MinHash clusters of the problem text (diversity only).
    Cluster,
}

impl KeyBy {
    /// Parse `source`, `domain`, `cluster` or `field:PATH`.
    pub fn parse(text: &str) -> Result<KeyBy> {
        match text {
            "source" => Ok(KeyBy::Source),
            "domain" => Ok(KeyBy::Domain),
            "cluster" | "minhash" => Ok(KeyBy::Cluster),
            other => match other.strip_prefix("field:") {
                Some(p) if !p.is_empty() => Ok(KeyBy::Field(p.to_string())),
                _ => Err(Error::param(
                    "by",
                    format!("`{other}`: expected source, domain, cluster or field:PATH"),
                )),
            },
        }
    }

    fn value(&self, record: &Record) -> String {
        let v = match self {
            KeyBy::Source => expr::resolve_path(record, "source"),
            KeyBy::Domain => expr::resolve_path(record, "domain"),
            KeyBy::Field(p) => expr::resolve_path(record, p),
            KeyBy::Cluster => None,
        };
        match v {
            None | Some(Value::Null) => "(none)".to_string(),
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
        }
    }
}

/// The selection plan.
#[derive(Debug, Clone, Default)]
pub struct SelectPlan {
    /// Expression filters, applied in order: `(text, parsed)`.
    pub filters: Vec<(String, Expr)>,
    /// Keep only records whose `band` signal is one of these.
    pub keep_bands: Option<Vec<&'static str>>,
    /// At most `max` records per key.
    pub quota: Option<(KeyBy, u64)>,
    /// The `k` best by a score expression: `(text, parsed, k)`.
    pub top_k: Option<(String, Expr, usize)>,
    /// Diversity-aware sampling of `n` records spread over keys (round robin).
    pub diversity: Option<(KeyBy, usize)>,
    /// MinHash parameters for `KeyBy::Cluster`.
    pub minhash: MinHashParams,
    /// Seed of every tie-break and sample.
    pub seed: u64,
}

/// The quality filter of the s1K-style recipe.
pub const S1K_QUALITY: &str =
    "has(truncated) and not truncated and not looping and think_wellformed != false and not language_mixed";

/// The difficulty filter of the s1K-style recipe: the model did not always solve the task.
pub const S1K_DIFFICULTY: &str = "has(pass_rate) and pass_rate < 1";

impl SelectPlan {
    /// Add an expression filter.
    pub fn filter(&mut self, text: &str) -> Result<()> {
        let e = expr::parse(text)?;
        self.filters.push((text.to_string(), e));
        Ok(())
    }

    /// Keep only these bands (names or aliases, see [`parse_band`]).
    pub fn bands(&mut self, names: &[String]) -> Result<()> {
        let mut bands = Vec::new();
        for n in names {
            bands.push(parse_band(n).ok_or_else(|| {
                Error::param("keep-band", format!("unknown band `{n}`; use 0, (0,0.25], (0.25,0.5], (0.5,0.75], (0.75,1), 1 or unsolved/hard/medium/easy/very_easy/solved"))
            })?);
        }
        self.keep_bands = Some(bands);
        Ok(())
    }

    /// The s1K-style staged recipe (Muennighoff et al. 2025, "s1: Simple test-time scaling"):
    /// **quality** (drop truncated, looping, malformed or language-mixed attempts), then
    /// **difficulty** (keep tasks the model did not always solve, ranked hardest first by
    /// `1 - pass_rate` plus a small length term), then **diversity** (`n` records spread over
    /// domains by round robin). Extra filters given by the user run before it.
    pub fn s1k(&mut self, n: usize) -> Result<()> {
        self.filter(S1K_QUALITY)?;
        self.filter(S1K_DIFFICULTY)?;
        let score = "(1 - pass_rate) + min(tokens_total, 32768) / 1000000";
        self.top_k = Some((score.to_string(), expr::parse(score)?, n.saturating_mul(4)));
        self.diversity = Some((KeyBy::Domain, n));
        Ok(())
    }

    /// The plan as JSON (for the ledger).
    pub fn to_json(&self) -> Value {
        json!({
            "where": self.filters.iter().map(|(t, _)| t).collect::<Vec<_>>(),
            "keep_bands": self.keep_bands,
            "quota": self.quota.as_ref().map(|(k, m)| json!({"by": format!("{k:?}"), "max": m})),
            "top_k": self.top_k.as_ref().map(|(t, _, k)| json!({"score": t, "k": k})),
            "diversity": self.diversity.as_ref().map(|(k, n)| json!({"by": format!("{k:?}"), "n": n})),
            "seed": self.seed,
        })
    }
}

/// A record that passed the streaming filters.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Position in the input (0-based record index).
    pub index: u64,
    /// Score for top-k (`None` when not asked or null).
    pub score: Option<f64>,
    /// Quota key.
    pub quota_key: Option<String>,
    /// Diversity key (string key, or cluster signature).
    pub diversity_key: Option<String>,
    /// MinHash signature of the problem (diversity by cluster).
    pub signature: Option<minhash::Signature>,
}

/// The outcome of screening one record.
#[derive(Debug, Clone)]
pub enum Screened {
    /// Passed the streaming filters.
    Keep(Candidate),
    /// Rejected, with the reason.
    Reject(String),
}

/// A configured selector.
#[derive(Debug, Clone)]
pub struct Selector {
    plan: SelectPlan,
}

impl Selector {
    /// A selector for `plan`.
    pub fn new(plan: SelectPlan) -> Selector {
        Selector { plan }
    }

    /// The plan.
    pub fn plan(&self) -> &SelectPlan {
        &self.plan
    }

    /// Whether the plan has global steps (quota, top-k, diversity) that need a second pass.
    pub fn needs_global(&self) -> bool {
        self.plan.quota.is_some() || self.plan.top_k.is_some() || self.plan.diversity.is_some()
    }

    /// Screen one record (streaming step).
    pub fn screen(&self, record: &Record, index: u64) -> Screened {
        for (text, e) in &self.plan.filters {
            let mut missing = Vec::new();
            if !expr::truthy(&e.eval_with(record, &mut missing)) {
                let reason = if missing.is_empty() {
                    format!("where: {text}")
                } else {
                    missing.sort();
                    missing.dedup();
                    format!("where: {text} (missing: {})", missing.join(", "))
                };
                return Screened::Reject(reason);
            }
        }
        if let Some(bands) = &self.plan.keep_bands {
            match record.signals.get("band").and_then(Value::as_str) {
                None => {
                    return Screened::Reject(
                        "band: no band signal (not scored, or no verdicts)".into(),
                    )
                }
                Some(b) if !bands.contains(&b) => {
                    return Screened::Reject(format!("band: {b} not kept"))
                }
                Some(_) => {}
            }
        }
        let score = self
            .plan
            .top_k
            .as_ref()
            .and_then(|(_, e, _)| e.eval(record).as_f64());
        let quota_key = self.plan.quota.as_ref().map(|(k, _)| k.value(record));
        let (diversity_key, signature) = match &self.plan.diversity {
            Some((KeyBy::Cluster, _)) => (
                None,
                Some(minhash::signature(
                    record.problem_text().unwrap_or(""),
                    &self.plan.minhash,
                )),
            ),
            Some((k, _)) => (Some(k.value(record)), None),
            None => (None, None),
        };
        Screened::Keep(Candidate {
            index,
            score,
            quota_key,
            diversity_key,
            signature,
        })
    }

    fn tie(&self, index: u64) -> u64 {
        mix64(self.plan.seed ^ mix64(index))
    }

    /// Order: higher score first (null last), then the seeded tie-break.
    fn rank(&self, c: &mut [Candidate]) {
        c.sort_by(|a, b| {
            let sa = a.score.unwrap_or(f64::NEG_INFINITY);
            let sb = b.score.unwrap_or(f64::NEG_INFINITY);
            sb.total_cmp(&sa)
                .then(self.tie(a.index).cmp(&self.tie(b.index)))
        });
    }

    /// Global steps: quota, top-k, diversity. Returns kept indices in input order; rejections
    /// are added to `rejections`.
    pub fn choose(
        &self,
        mut candidates: Vec<Candidate>,
        rejections: &mut BTreeMap<String, u64>,
    ) -> Vec<u64> {
        self.rank(&mut candidates);
        if let Some((by, max)) = &self.plan.quota {
            let mut taken: HashMap<String, u64> = HashMap::new();
            candidates.retain(|c| {
                let key = c.quota_key.clone().unwrap_or_default();
                let n = taken.entry(key.clone()).or_insert(0);
                if *n >= *max {
                    *rejections
                        .entry(format!("quota: over {max} per {}", key_name(by)))
                        .or_insert(0) += 1;
                    false
                } else {
                    *n += 1;
                    true
                }
            });
        }
        if let Some((text, _, k)) = &self.plan.top_k {
            if candidates.len() > *k {
                let dropped = (candidates.len() - k) as u64;
                *rejections
                    .entry(format!("top_k: not in the best {k} by `{text}`"))
                    .or_insert(0) += dropped;
                candidates.truncate(*k);
            }
        }
        if let Some((by, n)) = &self.plan.diversity {
            candidates = self.spread(candidates, by, *n, rejections);
        }
        let mut kept: Vec<u64> = candidates.iter().map(|c| c.index).collect();
        kept.sort_unstable();
        kept
    }

    fn spread(
        &self,
        candidates: Vec<Candidate>,
        by: &KeyBy,
        n: usize,
        rejections: &mut BTreeMap<String, u64>,
    ) -> Vec<Candidate> {
        if candidates.len() <= n {
            return candidates;
        }
        let keys: Vec<u64> = if *by == KeyBy::Cluster {
            let sigs: Vec<minhash::Signature> = candidates
                .iter()
                .map(|c| c.signature.clone().unwrap_or_default())
                .collect();
            let roots = minhash::cluster(&sigs, &self.plan.minhash);
            roots.iter().map(|&r| candidates[r].index).collect()
        } else {
            candidates
                .iter()
                .map(|c| {
                    hash64(
                        self.plan.seed,
                        c.diversity_key.as_deref().unwrap_or("").as_bytes(),
                    )
                })
                .collect()
        };
        // Buckets keep the ranked order inside; buckets are visited in seeded order.
        let mut order: Vec<u64> = Vec::new();
        let mut buckets: HashMap<u64, std::collections::VecDeque<Candidate>> = HashMap::new();
        for (c, k) in candidates.into_iter().zip(keys) {
            let bucket = buckets.entry(k).or_default();
            if bucket.is_empty() {
                order.push(k);
            }
            bucket.push_back(c);
        }
        order.sort_by_key(|k| mix64(self.plan.seed ^ k));
        let total: usize = buckets.values().map(|b| b.len()).sum();
        let mut out = Vec::with_capacity(n);
        'outer: loop {
            let mut any = false;
            for k in &order {
                if let Some(c) = buckets.get_mut(k).and_then(|b| b.pop_front()) {
                    out.push(c);
                    any = true;
                    if out.len() == n {
                        break 'outer;
                    }
                }
            }
            if !any {
                break;
            }
        }
        let dropped = (total - out.len()) as u64;
        if dropped > 0 {
            *rejections
                .entry(format!(
                    "diversity: beyond {n} spread over {} {}",
                    order.len(),
                    key_name(by)
                ))
                .or_insert(0) += dropped;
        }
        out
    }
}

fn key_name(by: &KeyBy) -> String {
    match by {
        KeyBy::Source => "source".into(),
        KeyBy::Domain => "domain".into(),
        KeyBy::Cluster => "minhash clusters".into(),
        KeyBy::Field(p) => format!("`{p}`"),
    }
}

#[cfg(test)]
mod tests;
