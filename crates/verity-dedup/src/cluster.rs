//! Clusters of duplicates: union-find over matched pairs, and the keep policy that picks the
//! record each cluster keeps.
//!
//! # What it does
//!
//! [`UnionFind`] merges records linked by an exact-key match or a verified near-duplicate
//! pair (path halving + union by size, 4 + 4 bytes per record). A cluster is a connected
//! component, so duplicates are transitive: if A~B and B~C, A, B and C form one cluster even
//! when A and C alone would not match. [`KeepPolicy`] chooses the survivor.
//!
//! # Known failure modes
//!
//! - Transitivity can chain: a series of small edits links texts that are far apart at the
//!   ends. Verification of every link at the threshold bounds each step, not the chain.

use serde::{Deserialize, Serialize};

/// Union-find (disjoint sets) over record indices.
#[derive(Debug, Clone, Default)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    /// Add one more singleton; returns its index.
    pub fn push(&mut self) -> u32 {
        let i = self.parent.len() as u32;
        self.parent.push(i);
        self.size.push(1);
        i
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Merge the sets of `a` and `b`; true when they were different.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        true
    }

    /// Size of `x`'s set.
    pub fn set_size(&mut self, x: u32) -> u32 {
        let r = self.find(x);
        self.size[r as usize]
    }
}

/// Which record of a cluster is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeepPolicy {
    /// The first in input order.
    #[default]
    First,
    /// The one with the longest view text (ties: first).
    Longest,
    /// One whose attempt passed its verifier (latest answer-level verdict `pass`; ties and
    /// clusters without a pass: first).
    Passing,
    /// The highest score: the largest verifier feedback `score` on any attempt, else the
    /// record's `signals.score` (records without a score rank last; ties: first).
    HighestScore,
}

impl KeepPolicy {
    /// The policy called `name` (`first`, `longest`, `passing`, `highest-score`).
    pub fn from_name(name: &str) -> Option<KeepPolicy> {
        match name {
            "first" => Some(KeepPolicy::First),
            "longest" => Some(KeepPolicy::Longest),
            "passing" => Some(KeepPolicy::Passing),
            "highest-score" | "highest_score" => Some(KeepPolicy::HighestScore),
            _ => None,
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            KeepPolicy::First => "first",
            KeepPolicy::Longest => "longest",
            KeepPolicy::Passing => "passing",
            KeepPolicy::HighestScore => "highest-score",
        }
    }
}

/// What the keep policy needs to know about a record.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KeepKey {
    /// Length of the view text in characters.
    pub length: u64,
    /// Some attempt passed its verifier.
    pub passing: bool,
    /// Best score, if any.
    pub score: Option<f64>,
}

/// Index (into `members`) of the record to keep. `members` must be in input order.
/// With [`KeepPolicy::First`] `keys` is not read (it may be empty).
pub fn choose(policy: KeepPolicy, members: &[u32], keys: &[KeepKey]) -> usize {
    let mut best = 0usize;
    if policy == KeepPolicy::First {
        return best;
    }
    for (pos, &m) in members.iter().enumerate().skip(1) {
        let (a, b) = (&keys[m as usize], &keys[members[best] as usize]);
        let better = match policy {
            KeepPolicy::First => false,
            KeepPolicy::Longest => a.length > b.length,
            KeepPolicy::Passing => a.passing && !b.passing,
            KeepPolicy::HighestScore => match (a.score, b.score) {
                (Some(x), Some(y)) => x > y,
                (Some(x), None) => !x.is_nan(),
                _ => false,
            },
        };
        if better {
            best = pos;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_merges_transitively() {
        let mut uf = UnionFind::new(5);
        assert!(uf.union(0, 1));
        assert!(uf.union(1, 2));
        assert!(!uf.union(0, 2));
        assert_eq!(uf.find(0), uf.find(2));
        assert_ne!(uf.find(0), uf.find(3));
        assert_eq!(uf.set_size(2), 3);
        let x = uf.push();
        assert_eq!(x, 5);
        assert_eq!(uf.len(), 6);
    }

    #[test]
    fn keep_policies_pick_as_documented() {
        let keys = vec![
            KeepKey {
                length: 10,
                passing: false,
                score: None,
            },
            KeepKey {
                length: 30,
                passing: true,
                score: Some(0.2),
            },
            KeepKey {
                length: 30,
                passing: true,
                score: Some(0.9),
            },
        ];
        let members = [0, 1, 2];
        assert_eq!(choose(KeepPolicy::First, &members, &keys), 0);
        assert_eq!(choose(KeepPolicy::Longest, &members, &keys), 1);
        assert_eq!(choose(KeepPolicy::Passing, &members, &keys), 1);
        assert_eq!(choose(KeepPolicy::HighestScore, &members, &keys), 2);
        assert_eq!(
            KeepPolicy::from_name("highest-score"),
            Some(KeepPolicy::HighestScore)
        );
        assert_eq!(KeepPolicy::from_name("best"), None);
    }
}
