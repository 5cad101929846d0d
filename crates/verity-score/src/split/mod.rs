//! Grouped, deterministic train/validation/test splits.
//!
//! What it does: every record gets a group: records with the same task key (normalized problem
//! text, or a field) are one group, and groups whose problems are MinHash near-duplicates are
//! joined. Groups are shuffled by a seeded hash and dealt to the splits so that each split's row
//! count approaches its target (a ratio of all rows, or a count). A group never straddles two
//! splits, so the same problem and its near-duplicates never appear in two splits.
//!
//! Why: rows are not tasks. A random row-level split of rollout data puts attempts at the same
//! problem into both train and test, and the test score then measures memorization.
//!
//! Known failure modes: a very large group (a problem with thousands of rows) lands in one split
//! whole and can push it past its target; the achieved sizes are reported next to the targets.
//! With counts, rows beyond the sum of the counts are left out (reported as `over_count`).
//! Near-duplicate detection is estimated (see [`crate::minhash`]); with `near_dup = None` only
//! identical keys are grouped.

use crate::error::{Error, Result};
use crate::minhash::{self, MinHashParams, UnionFind};
use crate::util::mix64;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Target sizes.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Fractions of all rows (sum to 1).
    Ratios(Vec<f64>),
    /// Row counts.
    Counts(Vec<u64>),
}

/// A split specification.
#[derive(Debug, Clone)]
pub struct SplitSpec {
    /// Split names (`train`, `validation`, `test`).
    pub names: Vec<String>,
    /// Targets, one per name.
    pub targets: Targets,
    /// Seed of the group order.
    pub seed: u64,
    /// Join near-duplicate problems with MinHash (None: exact keys only).
    pub near_dup: Option<MinHashParams>,
}

impl SplitSpec {
    /// Parse `0.8,0.1,0.1` (ratios) or `1000,100,100` (counts) for `names`.
    pub fn parse(names: &[String], sizes: &str, seed: u64) -> Result<SplitSpec> {
        let parts: Vec<&str> = sizes
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.len() != names.len() {
            return Err(Error::param(
                "sizes",
                format!(
                    "{} sizes for {} splits ({})",
                    parts.len(),
                    names.len(),
                    names.join(", ")
                ),
            ));
        }
        let targets = if parts.iter().all(|p| p.parse::<u64>().is_ok())
            && parts.iter().any(|p| p.parse::<u64>().is_ok_and(|n| n > 1))
        {
            Targets::Counts(parts.iter().filter_map(|p| p.parse().ok()).collect())
        } else {
            let mut ratios = Vec::new();
            for p in &parts {
                let r: f64 = p
                    .parse()
                    .map_err(|_| Error::param("sizes", format!("`{p}` is not a number")))?;
                if !(0.0..=1.0).contains(&r) {
                    return Err(Error::param(
                        "sizes",
                        format!("ratio `{p}` is outside [0, 1]"),
                    ));
                }
                ratios.push(r);
            }
            let sum: f64 = ratios.iter().sum();
            if (sum - 1.0).abs() > 1e-6 {
                return Err(Error::param("sizes", format!("ratios sum to {sum}, not 1")));
            }
            Targets::Ratios(ratios)
        };
        Ok(SplitSpec {
            names: names.to_vec(),
            targets,
            seed,
            near_dup: Some(MinHashParams::default()),
        })
    }
}

/// What the splitter needs to know about one record.
#[derive(Debug, Clone, Default)]
pub struct SplitItem {
    /// Task key (None: the record is its own group).
    pub key: Option<u64>,
    /// MinHash signature of the problem text (when near-duplicates are joined).
    pub signature: Option<minhash::Signature>,
}

/// The assignment of every record.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// Split index per record (`None`: left out, over the counts).
    pub split: Vec<Option<usize>>,
    /// Groups after joining keys and near-duplicates.
    pub groups: usize,
    /// Groups that were joined because their problems are near-duplicates.
    pub near_dup_joins: usize,
    /// Rows per split.
    pub rows: Vec<u64>,
    /// Groups per split.
    pub groups_per_split: Vec<u64>,
    /// Rows left out (counts mode).
    pub over_count: u64,
}

/// Assign every item to a split.
pub fn assign(items: &[SplitItem], spec: &SplitSpec) -> Assignment {
    let n = items.len();
    let mut uf = UnionFind::new(n);
    // Same key -> same group.
    let mut first_of_key: HashMap<u64, usize> = HashMap::new();
    let mut key_reps = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(k) = item.key {
            match first_of_key.get(&k) {
                Some(&f) => uf.union(f, i),
                None => {
                    first_of_key.insert(k, i);
                    key_reps.push(i);
                }
            }
        } else {
            key_reps.push(i);
        }
    }
    // Near-duplicate keys -> same group.
    let mut near_dup_joins = 0;
    if let Some(params) = &spec.near_dup {
        let sigs: Vec<minhash::Signature> = key_reps
            .iter()
            .map(|&i| items[i].signature.clone().unwrap_or_default())
            .collect();
        let with_sig: Vec<bool> = key_reps
            .iter()
            .map(|&i| items[i].signature.is_some())
            .collect();
        let roots = minhash::cluster(&sigs, params);
        for (j, &root) in roots.iter().enumerate() {
            if root != j
                && with_sig[j]
                && with_sig[root]
                && uf.find(key_reps[j]) != uf.find(key_reps[root])
            {
                uf.union(key_reps[j], key_reps[root]);
                near_dup_joins += 1;
            }
        }
    }
    // Group sizes and seeded order. The group id is its smallest member index, so the order
    // depends only on the data and the seed. Order key: hash of the smallest key in the group
    // (or of the member index for keyless rows), so adding rows elsewhere does not reshuffle.
    let mut group_of = vec![0usize; n];
    let mut size: HashMap<usize, u64> = HashMap::new();
    let mut order_key: HashMap<usize, u64> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let root = uf.find(i);
        group_of[i] = root;
        *size.entry(root).or_insert(0) += 1;
        let k = mix64(spec.seed ^ item.key.unwrap_or_else(|| mix64(i as u64 ^ 0xabcdef)));
        let slot = order_key.entry(root).or_insert(k);
        if k < *slot {
            *slot = k;
        }
    }
    let mut groups: Vec<usize> = size.keys().copied().collect();
    groups.sort_by_key(|g| (order_key[g], *g));
    let m = spec.names.len();
    let targets: Vec<f64> = match &spec.targets {
        Targets::Ratios(r) => r.iter().map(|x| x * n as f64).collect(),
        Targets::Counts(c) => c.iter().map(|&x| x as f64).collect(),
    };
    let counts_mode = matches!(spec.targets, Targets::Counts(_));
    let mut rows = vec![0u64; m];
    let mut groups_per_split = vec![0u64; m];
    let mut split_of_group: HashMap<usize, Option<usize>> = HashMap::new();
    let mut over_count = 0;
    for g in groups {
        let s = size[&g];
        // The split with the largest remaining deficit (relative to its target) that has room;
        // in ratio mode the largest deficit overall.
        let mut best: Option<(usize, f64)> = None;
        for j in 0..m {
            let deficit = targets[j] - rows[j] as f64;
            if counts_mode && deficit < s as f64 {
                continue;
            }
            if targets[j] <= 0.0 {
                continue;
            }
            let rel = deficit / targets[j];
            if best.is_none_or(|(_, b)| rel > b) {
                best = Some((j, rel));
            }
        }
        if let Some((j, _)) = best {
            rows[j] += s;
            groups_per_split[j] += 1;
            split_of_group.insert(g, Some(j));
        } else {
            over_count += s;
            split_of_group.insert(g, None);
        }
    }
    Assignment {
        split: group_of
            .iter()
            .map(|g| split_of_group.get(g).copied().flatten())
            .collect(),
        groups: size.len(),
        near_dup_joins,
        rows,
        groups_per_split,
        over_count,
    }
}

impl Assignment {
    /// Summary JSON for the ledger.
    pub fn to_json(&self, spec: &SplitSpec) -> Value {
        serde_json::to_value(self.summary(spec)).unwrap_or(Value::Null)
    }

    /// The typed ledger summary.
    pub fn summary(&self, spec: &SplitSpec) -> verity_core::summary::SplitSummary {
        use verity_core::summary::{SplitShare, SplitSummary};
        SplitSummary {
            splits: spec
                .names
                .iter()
                .enumerate()
                .map(|(j, name)| SplitShare {
                    name: name.clone(),
                    rows: self.rows[j],
                    groups: self.groups_per_split[j],
                    target: match &spec.targets {
                        Targets::Ratios(r) => json!({"ratio": r[j]}),
                        Targets::Counts(c) => json!({"count": c[j]}),
                    },
                })
                .collect(),
            groups: self.groups as u64,
            near_duplicate_joins: self.near_dup_joins as u64,
            over_count: self.over_count,
            seed: spec.seed,
            near_duplicates: spec.near_dup.map_or(Value::Null, |p| {
                json!({"threshold": p.threshold, "shingle": p.shingle, "bands": p.bands, "rows": p.rows})
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::hash64;

    fn items(problems: &[&str], params: &MinHashParams) -> Vec<SplitItem> {
        problems
            .iter()
            .map(|p| SplitItem {
                key: Some(hash64(1, crate::util::normalize_problem(p).as_bytes())),
                signature: Some(minhash::signature(p, params)),
            })
            .collect()
    }

    #[test]
    fn same_problem_and_near_duplicates_never_cross() {
        let params = MinHashParams::default();
        let mut problems = Vec::new();
        for i in 0..200 {
            problems.push(format!("Problem {i}: a farmer has {i} cows and buys some more at the market on Sunday morning"));
        }
        // Repeats of problem 3 and a near-duplicate of problem 5.
        problems.push(problems[3].clone());
        problems.push(problems[3].to_uppercase());
        problems.push(format!("Question: {}", problems[5]));
        let refs: Vec<&str> = problems.iter().map(String::as_str).collect();
        let its = items(&refs, &params);
        let spec = SplitSpec::parse(
            &["train".into(), "validation".into(), "test".into()],
            "0.8,0.1,0.1",
            3,
        )
        .unwrap();
        let a = assign(&its, &spec);
        assert_eq!(a.split[3], a.split[200]);
        assert_eq!(a.split[3], a.split[201]);
        assert_eq!(a.split[5], a.split[202], "near-duplicate joined");
        assert!(a.near_dup_joins >= 1);
        assert_eq!(a.rows.iter().sum::<u64>(), 203);
        assert!((a.rows[0] as i64 - 162).abs() <= 4, "{:?}", a.rows);
        // Deterministic.
        let b = assign(&its, &spec);
        assert_eq!(a.split, b.split);
        let other = SplitSpec {
            seed: 4,
            ..spec.clone()
        };
        assert_ne!(assign(&its, &other).split, a.split);
    }

    #[test]
    fn counts_and_bad_specs() {
        let params = MinHashParams::default();
        let problems: Vec<String> = (0..50)
            .map(|i| format!("unique question number {i} about apples and pears"))
            .collect();
        let refs: Vec<&str> = problems.iter().map(String::as_str).collect();
        let spec = SplitSpec::parse(&["train".into(), "test".into()], "30,10", 0).unwrap();
        let a = assign(&items(&refs, &params), &spec);
        assert_eq!(a.rows, vec![30, 10]);
        assert_eq!(a.over_count, 10);
        assert!(SplitSpec::parse(&["a".into(), "b".into()], "0.5,0.6", 0).is_err());
        assert!(SplitSpec::parse(&["a".into()], "0.5,0.5", 0).is_err());
        assert!(SplitSpec::parse(&["a".into(), "b".into()], "x,1", 0).is_err());
        // Keyless rows are their own groups.
        let keyless = vec![SplitItem::default(); 10];
        let spec = SplitSpec::parse(&["a".into(), "b".into()], "0.5,0.5", 0).unwrap();
        assert_eq!(assign(&keyless, &spec).rows, vec![5, 5]);
        assert_eq!(assign(&[], &spec).rows, vec![0, 0]);
    }
}
