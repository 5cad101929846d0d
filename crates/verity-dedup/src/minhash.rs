//! MinHash signatures by one-permutation hashing with optimal densification.
//!
//! # What it does
//!
//! A text is cut into shingles (word n-grams of [`crate::normalize::words`], default 5 words,
//! or character n-grams of the [`crate::normalize::normalize`]d text), each shingle is hashed
//! once to 64 bits, and the hash picks one of `num_perm` bins (high 32 bits) and competes for
//! that bin's minimum (low 32 bits). Bins no shingle fell into are filled by *optimal
//! densification* (Shrivastava, ICML 2017): empty bin `j` copies the value of the first
//! non-empty bin in a pseudo-random probe sequence that depends only on `j` (and the seed), so
//! the same bins are borrowed in every document. The fraction of equal bins between two
//! signatures estimates the Jaccard similarity of the shingle sets, as with classic
//! `num_perm`-permutation MinHash.
//!
//! # Why
//!
//! Classic MinHash (datasketch, datatrove) evaluates `num_perm` hash functions per shingle:
//! `O(shingles x num_perm)` work, 128x the hashing. One-permutation hashing is `O(shingles +
//! num_perm)` with the same estimator variance once a document has more shingles than bins,
//! which is what makes dedup of long reasoning traces cheap.
//!
//! # Known failure modes
//!
//! - Documents with far fewer shingles than bins rely on densification: their estimates are
//!   noisier than classic MinHash (still unbiased). A text shorter than one shingle is hashed as
//!   a single shingle (so two one-word problems are either identical or disjoint).
//! - An empty text (no words) has no signature; it is never a near duplicate of anything (exact
//!   dedup still groups empty texts together).
//! - Only 16 bits of each bin are stored for verification ([`Signature`]); two different minima
//!   agree by chance with probability 2^-16 per bin, a bias of < 0.0001 on the estimate.

use crate::normalize::{mix64, ngram_hash, normalize, words, Word};

/// How a text is cut into shingles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "n", rename_all = "snake_case")]
pub enum Shingle {
    /// `n` consecutive word tokens.
    Word(usize),
    /// `n` consecutive characters of the normalized text.
    Char(usize),
}

impl Default for Shingle {
    fn default() -> Self {
        Shingle::Word(5)
    }
}

/// Reusable buffers for computing signatures without allocating per text.
#[derive(Debug, Default)]
pub struct Scratch {
    words: Vec<Word>,
    shingles: Vec<u64>,
    bins: Vec<u32>,
}

impl Scratch {
    /// The shingle hashes of the last text hashed (unsorted, may repeat).
    pub fn shingles(&self) -> &[u64] {
        &self.shingles
    }
}

/// Computes MinHash signatures.
#[derive(Debug, Clone)]
pub struct MinHasher {
    num_perm: usize,
    shingle: Shingle,
    seed: u64,
    /// For each bin, the probe sequence used to fill it when it is empty (first 8 probes
    /// precomputed; later ones are computed on the fly).
    probes: Vec<[u16; 8]>,
}

const EMPTY: u32 = u32::MAX;

impl MinHasher {
    /// A hasher with `num_perm` bins (1..=65535) and the given shingling.
    pub fn new(num_perm: usize, shingle: Shingle, seed: u64) -> MinHasher {
        let num_perm = num_perm.clamp(1, u16::MAX as usize);
        let probes = (0..num_perm)
            .map(|j| {
                let mut row = [0u16; 8];
                for (t, slot) in row.iter_mut().enumerate() {
                    *slot = probe(seed, j, t as u64 + 1, num_perm) as u16;
                }
                row
            })
            .collect();
        MinHasher {
            num_perm,
            shingle,
            seed,
            probes,
        }
    }

    /// Number of bins (the signature length).
    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// The shingling.
    pub fn shingle(&self) -> Shingle {
        self.shingle
    }

    /// Fill `scratch.shingles` with the shingle hashes of `text`.
    pub fn shingle_hashes(&self, text: &str, scratch: &mut Scratch) {
        scratch.shingles.clear();
        match self.shingle {
            Shingle::Word(n) => {
                let n = n.max(1);
                words(text, &mut scratch.words);
                let ws = &scratch.words;
                if ws.is_empty() {
                    return;
                }
                if ws.len() < n {
                    scratch.shingles.push(ngram_hash(ws) ^ self.seed);
                    return;
                }
                scratch
                    .shingles
                    .extend(ws.windows(n).map(|w| ngram_hash(w) ^ self.seed));
            }
            Shingle::Char(n) => {
                let n = n.max(1);
                let normalized = normalize(text);
                scratch.words.clear();
                for (i, c) in normalized.char_indices() {
                    scratch.words.push(Word {
                        hash: mix64(u64::from(c as u32) ^ 0x5151_5151),
                        start: i as u32,
                        end: (i + c.len_utf8()) as u32,
                    });
                }
                let ws = &scratch.words;
                if ws.is_empty() {
                    return;
                }
                if ws.len() < n {
                    scratch.shingles.push(ngram_hash(ws) ^ self.seed);
                    return;
                }
                scratch
                    .shingles
                    .extend(ws.windows(n).map(|w| ngram_hash(w) ^ self.seed));
            }
        }
    }

    /// The full 32-bit signature of `text` into `scratch` (None for a text without shingles).
    pub fn signature_bins<'s>(&self, text: &str, scratch: &'s mut Scratch) -> Option<&'s [u32]> {
        self.shingle_hashes(text, scratch);
        self.bins_from_shingles(scratch)
    }

    /// The signature of the shingles already in `scratch`.
    pub fn bins_from_shingles<'s>(&self, scratch: &'s mut Scratch) -> Option<&'s [u32]> {
        if scratch.shingles.is_empty() {
            return None;
        }
        let k = self.num_perm as u64;
        scratch.bins.clear();
        scratch.bins.resize(self.num_perm, EMPTY);
        let bins = &mut scratch.bins;
        for &h in &scratch.shingles {
            let h = mix64(h);
            let bin = (((h >> 32) * k) >> 32) as usize;
            let value = (h as u32).min(EMPTY - 1);
            if value < bins[bin] {
                bins[bin] = value;
            }
        }
        // Optimal densification: empty bins borrow from non-empty ones along a fixed probe
        // sequence (reading only originally non-empty bins).
        if bins.contains(&EMPTY) {
            let filled: Vec<bool> = bins.iter().map(|&v| v != EMPTY).collect();
            for j in 0..self.num_perm {
                if filled[j] {
                    continue;
                }
                let mut found = None;
                for &p in &self.probes[j] {
                    if filled[p as usize] {
                        found = Some(p as usize);
                        break;
                    }
                }
                let mut t = 9u64;
                while found.is_none() && t < 64 * k {
                    let p = probe(self.seed, j, t, self.num_perm);
                    if filled[p] {
                        found = Some(p);
                    }
                    t += 1;
                }
                let source = found
                    .or_else(|| {
                        (1..self.num_perm)
                            .map(|d| (j + d) % self.num_perm)
                            .find(|&p| filled[p])
                    })
                    .unwrap_or(j);
                // Mix in the probe distance-independent bin id so borrowed values stay
                // comparable across documents that borrowed from the same source.
                bins[j] = bins[source];
            }
        }
        Some(&scratch.bins)
    }
}

fn probe(seed: u64, bin: usize, attempt: u64, k: usize) -> usize {
    let h = mix64(seed ^ ((bin as u64) << 32) ^ attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    (((h >> 32) * k as u64) >> 32) as usize
}

/// A stored signature: the low 16 bits of every bin.
pub type Signature = Box<[u16]>;

/// Truncate full bins to a stored [`Signature`].
pub fn compact(bins: &[u32]) -> Signature {
    bins.iter().map(|&v| v as u16).collect()
}

/// Estimated Jaccard similarity of two stored signatures (fraction of equal bins, corrected
/// for 16-bit chance agreement).
pub fn estimate(a: &[u16], b: &[u16]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64;
    let p = equal / a.len() as f64;
    let chance = 1.0 / 65536.0;
    ((p - chance) / (1.0 - chance)).clamp(0.0, 1.0)
}

/// Exact Jaccard similarity of two sorted, deduplicated shingle sets.
pub fn jaccard_sorted(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

/// The sorted, deduplicated 32-bit shingle set of the shingles in `scratch`.
pub fn shingle_set(scratch: &Scratch) -> Box<[u32]> {
    let mut set: Vec<u32> = scratch.shingles.iter().map(|&h| mix64(h) as u32).collect();
    set.sort_unstable();
    set.dedup();
    set.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(hasher: &MinHasher, text: &str) -> Signature {
        let mut scratch = Scratch::default();
        compact(hasher.signature_bins(text, &mut scratch).unwrap())
    }

    fn exact_jaccard(hasher: &MinHasher, a: &str, b: &str) -> f64 {
        let mut s = Scratch::default();
        hasher.shingle_hashes(a, &mut s);
        let sa = shingle_set(&s);
        hasher.shingle_hashes(b, &mut s);
        let sb = shingle_set(&s);
        jaccard_sorted(&sa, &sb)
    }

    fn text(seed: u64, words: usize) -> String {
        (0..words)
            .map(|i| format!("w{}", mix64(seed * 1_000_003 + i as u64) % 5000))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn identical_texts_have_identical_signatures() {
        let h = MinHasher::new(128, Shingle::Word(5), 1);
        let a = text(1, 300);
        assert_eq!(sig(&h, &a), sig(&h, &a.to_uppercase()));
        assert!((estimate(&sig(&h, &a), &sig(&h, &a)) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn estimate_tracks_exact_jaccard() {
        let h = MinHasher::new(256, Shingle::Word(3), 7);
        for (edit_every, words) in [(7usize, 400usize), (20, 400), (50, 120), (5, 2000)] {
            let a = text(3, words);
            let b: String = a
                .split(' ')
                .enumerate()
                .map(|(i, w)| if i % edit_every == 0 { "edited" } else { w })
                .collect::<Vec<_>>()
                .join(" ");
            let exact = exact_jaccard(&h, &a, &b);
            let est = estimate(&sig(&h, &a), &sig(&h, &b));
            assert!(
                (exact - est).abs() < 0.12,
                "edit every {edit_every}: exact {exact} est {est}"
            );
        }
    }

    #[test]
    fn unrelated_texts_estimate_near_zero() {
        let h = MinHasher::new(128, Shingle::Word(5), 1);
        let est = estimate(&sig(&h, &text(1, 500)), &sig(&h, &text(2, 500)));
        assert!(est < 0.05, "{est}");
    }

    #[test]
    fn short_and_empty_texts() {
        let h = MinHasher::new(128, Shingle::Word(5), 1);
        let mut s = Scratch::default();
        assert!(h.signature_bins("", &mut s).is_none());
        assert!(h.signature_bins("  ?? ", &mut s).is_none());
        let one = sig(&h, "Compute");
        assert_eq!(one, sig(&h, "compute!"));
        assert!(estimate(&one, &sig(&h, "Evaluate")) < 0.05);
    }

    #[test]
    fn char_shingles_work_on_unspaced_scripts() {
        let h = MinHasher::new(128, Shingle::Char(3), 1);
        let a = "小明有五个苹果，他吃了两个，还剩几个？小红有三个梨，她给了小明一个。";
        let b = "小明有五个苹果，他吃了两个，还剩几个？小红有三个梨，她给了小明两个。";
        let est = estimate(&sig(&h, a), &sig(&h, b));
        assert!(est > 0.7, "{est}");
    }
}
