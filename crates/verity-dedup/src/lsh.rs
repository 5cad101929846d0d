//! Locality-sensitive hashing over MinHash signatures: bands and rows.
//!
//! # What it does
//!
//! A signature of `num_perm` bins is cut into `bands` bands of `rows` bins; two records become
//! a candidate pair when all bins of at least one band agree. For a pair of Jaccard similarity
//! `s` that happens with probability `1 - (1 - s^rows)^bands` (the S-curve). [`LshParams::
//! for_threshold`] picks `bands x rows <= num_perm` minimising the area of false positives
//! below the threshold plus false negatives above it (equal weights), the same criterion as
//! datasketch's `MinHashLSH`, so `--threshold 0.8` means the same S-curve in both tools.
//!
//! Band keys are stored as 32-bit hashes next to a 32-bit record index (8 bytes per record
//! per band) and grouped by sorting at the end ([`BandTable`]); chance 32-bit collisions only
//! add candidates, which the signature check rejects.
//!
//! # Known failure modes
//!
//! - Pairs just below the S-curve's knee are found only sometimes; the threshold is a soft
//!   boundary. Candidate verification ([`crate::dedup`]) makes it hard on the estimate.

use crate::error::Result;
use crate::normalize::mix64;
use crate::spill::Spill;

/// Bands and rows of an LSH index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LshParams {
    /// Number of bands.
    pub bands: usize,
    /// Bins per band.
    pub rows: usize,
}

impl LshParams {
    /// Probability that a pair with Jaccard `s` becomes a candidate.
    pub fn candidate_probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// The similarity where the S-curve is steepest, about `(1/bands)^(1/rows)`.
    pub fn implied_threshold(&self) -> f64 {
        (1.0 / self.bands as f64).powf(1.0 / self.rows as f64)
    }

    /// The bands/rows (with `bands * rows <= num_perm`) minimising false-positive plus
    /// false-negative area around `threshold` (datasketch's criterion, weights 0.5/0.5).
    pub fn for_threshold(threshold: f64, num_perm: usize) -> LshParams {
        let threshold = threshold.clamp(0.01, 0.99);
        let mut best = LshParams {
            bands: 1,
            rows: num_perm.max(1),
        };
        let mut best_error = f64::INFINITY;
        for bands in 1..=num_perm.max(1) {
            let max_rows = num_perm / bands;
            for rows in 1..=max_rows {
                let p = LshParams { bands, rows };
                let fp = integrate(|s| p.candidate_probability(s), 0.0, threshold);
                let fnr = integrate(|s| 1.0 - p.candidate_probability(s), threshold, 1.0);
                let error = 0.5 * fp + 0.5 * fnr;
                if error < best_error {
                    best_error = error;
                    best = p;
                }
            }
        }
        best
    }
}

fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let steps = 200;
    let h = (b - a) / steps as f64;
    (0..steps).map(|i| f(a + (i as f64 + 0.5) * h)).sum::<f64>() * h
}

/// The 32-bit key of band `band` of a signature.
#[inline]
pub fn band_key(bins: &[u32], band: usize, rows: usize) -> u32 {
    let mut h = mix64(band as u64 ^ 0xb5ad_4ece_da1c_e2a9);
    for &v in &bins[band * rows..(band + 1) * rows] {
        h = (h ^ u64::from(v))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(27);
    }
    (mix64(h) >> 32) as u32
}

/// One LSH band: `(band key, record)` entries, appended while streaming (in memory or spilled
/// to disk, see [`Spill`]) and grouped by key at the end.
pub struct BandTable {
    entries: Spill,
}

impl BandTable {
    /// A band whose entries are stored in `entries`.
    pub fn new(entries: Spill) -> BandTable {
        BandTable { entries }
    }

    /// Add one record's key.
    pub fn push(&mut self, key: u32, record: u32) -> Result<()> {
        self.entries
            .append(&((u64::from(key) << 32) | u64::from(record)).to_le_bytes())
    }

    /// Bytes held in memory.
    pub fn bytes(&self) -> usize {
        self.entries.resident_bytes()
    }

    /// Sort and call `f` with each bucket of two or more records (record indices ascending).
    /// Only this band's entries are in memory meanwhile (8 B per record).
    pub fn for_each_bucket(mut self, mut f: impl FnMut(&[u32]) -> Result<()>) -> Result<()> {
        self.entries.seal()?;
        let mut entries = self.entries.read_u64s()?;
        drop(self.entries);
        entries.sort_unstable();
        let mut members: Vec<u32> = Vec::new();
        let mut i = 0;
        while i < entries.len() {
            let key = entries[i] >> 32;
            let mut j = i + 1;
            while j < entries.len() && entries[j] >> 32 == key {
                j += 1;
            }
            if j - i > 1 {
                members.clear();
                members.extend(entries[i..j].iter().map(|&e| e as u32));
                f(&members)?;
            }
            i = j;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_picks_a_curve_whose_knee_is_near_it() {
        for t in [0.5, 0.7, 0.8, 0.9] {
            let p = LshParams::for_threshold(t, 128);
            assert!(p.bands * p.rows <= 128);
            assert!((p.implied_threshold() - t).abs() < 0.12, "{t}: {p:?}");
            assert!(p.candidate_probability(t + 0.1) > p.candidate_probability(t - 0.1));
        }
    }

    #[test]
    fn matches_datasketch_choice_at_0_8() {
        // datasketch MinHashLSH(threshold=0.8, num_perm=128) picks b=9, r=13.
        let p = LshParams::for_threshold(0.8, 128);
        assert_eq!((p.bands, p.rows), (9, 13));
    }

    #[test]
    fn buckets_group_equal_keys() {
        let dir = tempfile::tempdir().unwrap();
        for spill in [Spill::memory(), Spill::file_in(dir.path()).unwrap()] {
            let mut t = BandTable::new(spill);
            for (key, record) in [(5, 0), (7, 1), (5, 2), (5, 3), (9, 4), (9, 5)] {
                t.push(key, record).unwrap();
            }
            let mut seen = Vec::new();
            t.for_each_bucket(|m| {
                seen.push(m.to_vec());
                Ok(())
            })
            .unwrap();
            assert_eq!(seen, vec![vec![0, 2, 3], vec![4, 5]]);
        }
    }
}
