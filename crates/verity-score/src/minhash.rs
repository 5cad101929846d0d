//! A small, self-contained MinHash with LSH banding and union-find clustering.
//!
//! What it does: turns a text into a signature of `bands * rows` minimum hashes over word
//! shingles, finds candidate pairs that share a band, keeps pairs whose estimated Jaccard
//! similarity reaches the threshold, and joins them into clusters.
//!
//! Why here: `select` (diversity over clusters) and `split` (near-duplicates never cross splits)
//! need clusters of similar problems; a few hundred lines keep this crate independent of the
//! dedup stage and deterministic.
//!
//! Known failure modes: texts shorter than the shingle size use the whole text as one shingle
//! (so they only match identical short texts); similarity is estimated, so pairs right at the
//! threshold may fall either side; LSH can miss pairs just above the threshold.

use crate::util::{hash64, mix64, normalize_problem};
use std::collections::HashMap;

/// MinHash parameters.
#[derive(Debug, Clone, Copy)]
pub struct MinHashParams {
    /// Words per shingle.
    pub shingle: usize,
    /// LSH bands.
    pub bands: usize,
    /// Rows per band.
    pub rows: usize,
    /// Estimated Jaccard similarity at or above which two texts are near-duplicates.
    pub threshold: f64,
    /// Hash seed.
    pub seed: u64,
}

impl Default for MinHashParams {
    fn default() -> Self {
        MinHashParams {
            shingle: 3,
            bands: 16,
            rows: 8,
            threshold: 0.7,
            seed: 0x5eed,
        }
    }
}

/// A MinHash signature.
pub type Signature = Vec<u64>;

/// Signature of `text` (normalized like problem keys: lowercase letters and digits).
pub fn signature(text: &str, params: &MinHashParams) -> Signature {
    let norm = normalize_problem(text);
    let words: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
    let n = params.bands * params.rows;
    let mut sig = vec![u64::MAX; n];
    let seeds: Vec<u64> = (0..n as u64).map(|i| mix64(params.seed ^ i)).collect();
    let mut add = |shingle_hash: u64| {
        for (slot, seed) in sig.iter_mut().zip(&seeds) {
            let v = mix64(shingle_hash ^ seed);
            if v < *slot {
                *slot = v;
            }
        }
    };
    if words.len() < params.shingle.max(1) {
        add(hash64(params.seed, norm.as_bytes()));
    } else {
        for window in words.windows(params.shingle.max(1)) {
            let joined = window.join(" ");
            add(hash64(params.seed, joined.as_bytes()));
        }
    }
    sig
}

/// Estimated Jaccard similarity of two signatures.
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

/// Union-find over `0..n`.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    /// Representative of `x` (path halving).
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Join the sets of `a` and `b` (the smaller index becomes the root, so results are
    /// independent of pair order).
    pub fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }
}

/// Cluster signatures: returns, for each input, the index of its cluster's first member.
pub fn cluster(signatures: &[Signature], params: &MinHashParams) -> Vec<usize> {
    let mut uf = UnionFind::new(signatures.len());
    for band in 0..params.bands {
        let mut buckets: HashMap<u64, usize> = HashMap::new();
        let lo = band * params.rows;
        let hi = lo + params.rows;
        for (i, sig) in signatures.iter().enumerate() {
            let Some(slice) = sig.get(lo..hi) else {
                continue;
            };
            let mut h = mix64(band as u64);
            for v in slice {
                h = mix64(h ^ v);
            }
            match buckets.get(&h) {
                Some(&first) => {
                    if uf.find(first) != uf.find(i)
                        && similarity(&signatures[first], sig) >= params.threshold
                    {
                        uf.union(first, i);
                    }
                }
                None => {
                    buckets.insert(h, i);
                }
            }
        }
    }
    (0..signatures.len()).map(|i| uf.find(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_duplicates_cluster_and_different_texts_do_not() {
        let p = MinHashParams::default();
        let base = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?";
        let near = "Question: Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May ?";
        let other = "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?";
        let sigs = vec![
            signature(base, &p),
            signature(near, &p),
            signature(other, &p),
        ];
        assert!(similarity(&sigs[0], &sigs[1]) > 0.8);
        assert!(similarity(&sigs[0], &sigs[2]) < 0.2);
        let clusters = cluster(&sigs, &p);
        assert_eq!(clusters, vec![0, 0, 2]);
    }

    #[test]
    fn short_and_empty_texts_do_not_panic() {
        let p = MinHashParams::default();
        let sigs = vec![signature("", &p), signature("a", &p), signature("a", &p)];
        assert_eq!(cluster(&sigs, &p), vec![0, 1, 1]);
    }
}
