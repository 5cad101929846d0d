//! The dedup engine: exact keys and MinHash-LSH near-duplicates, streamed in, clustered at the
//! end.
//!
//! # What it does
//!
//! Records are [`DedupConfig::prepare`]d on worker threads (view text -> exact key, MinHash
//! signature, band keys, keep key) and [`Deduper::push`]ed in input order. Exact duplicates are
//! linked on arrival; only the first record of each exact group enters the LSH band tables.
//! [`Deduper::finish`] groups every band by key, verifies candidate pairs (estimated Jaccard of
//! the stored signatures, or exact Jaccard of the shingle sets with `verify_jaccard`) against
//! the threshold, merges verified pairs with union-find, applies the keep policy and returns,
//! for every record, the index of the record it duplicates (or none) plus the clusters.
//!
//! Dedup is a **pipeline blocker**: nothing can be written before every record was seen.
//!
//! # Memory
//!
//! Per record (defaults: 128 bins, 14 bands of 9 rows, mode `both`): signature 256 B (16 bits
//! per bin), band entries 8 B x bands (112 B), exact key table ~40 B, signature slot 4 B,
//! union-find 8 B, answer key 8 B (with the answer guard), keep key 32 B (only for keep
//! policies other than `first`). With
//! [`Deduper::spilling`] (what the CLI and the pipeline use) the signatures and band entries
//! (~370 B per record) go to temporary files and only **~63 B per record** stay in memory
//! (1M records ~ 63 MB; callers add the ids), plus one band's entries (8 B per record) while
//! clustering; [`Deduper::new`] keeps everything in memory (~420 B per record). Both are
//! independent of text length. `verify_jaccard` additionally keeps every record's shingle set
//! in memory (4 B per distinct shingle, ~ 4 B x words). Buckets are scanned with at most
//! [`MAX_REPRESENTATIVES`] comparisons per member, so an input made entirely of duplicates
//! costs O(n) work, not O(n^2).
//!
//! # Different answers are different tasks
//!
//! With `answer_guard` (the default) a near-duplicate link is refused when the two sides have
//! reference answers that differ ([`answer_key`]: numbers and constant expressions by value,
//! other answers with whitespace, `$` and case ignored): a
//! problem and its variant with other numbers ("Find $f(3)$" / "Find $f(-7)$") are two tasks,
//! however similar their text. On the MATH training problems (deepscaler `train/math.json`,
//! view `problem`) 62 of the 68 records a similarity-only rule removed had a different answer
//! from the record kept. The guard works on clusters, not pairs (a cluster never holds two
//! different answers through near links), and it does not apply to exact duplicates (same
//! view text). Records without a reference answer link as before.
//!
//! # Known failure modes
//!
//! - The guard compares numbers, constant expressions and expressions in up to three symbols
//!   by value (`1/2`, `\frac{1}{2}` and `0.5` are one answer; so are `\sqrt{2}/2` and
//!   `\frac{1}{\sqrt{2}}`, or `x+1` and `1+x`) but units, tuples, sets and words as text:
//!   `(1,2)` and `(1, 2.0)` count as different and keep both records (see
//!   [`crate::answer`]).
//! - Verification against a bucket's representatives (not every member) can miss a link when a
//!   bucket holds more than [`MAX_REPRESENTATIVES`] mutually dissimilar records; other bands
//!   usually supply it.

use crate::cluster::{choose, KeepKey, KeepPolicy, UnionFind};
use crate::error::Result;
use crate::exact::{exact_key, View};
use crate::lsh::{band_key, BandTable, LshParams};
use crate::minhash::{
    compact, estimate, jaccard_sorted, shingle_set, MinHasher, Scratch, Shingle, Signature,
};
use crate::spill::Spill;
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Comparisons per bucket member before it starts its own group in that bucket.
pub const MAX_REPRESENTATIVES: usize = 8;

/// Which duplicates to look for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Equal normalized view text only.
    Exact,
    /// MinHash-LSH near duplicates only.
    Near,
    /// Both (exact groups first; near-dup search on one record per exact group).
    #[default]
    Both,
}

impl Mode {
    /// The mode called `name`.
    pub fn from_name(name: &str) -> Option<Mode> {
        match name {
            "exact" => Some(Mode::Exact),
            "near" => Some(Mode::Near),
            "both" => Some(Mode::Both),
            _ => None,
        }
    }
    fn exact(self) -> bool {
        matches!(self, Mode::Exact | Mode::Both)
    }
    fn near(self) -> bool {
        matches!(self, Mode::Near | Mode::Both)
    }
}

/// Default similarity threshold (see the crate docs for how it was chosen).
pub const DEFAULT_THRESHOLD: f64 = 0.7;
/// Default number of MinHash bins.
pub const DEFAULT_NUM_PERM: usize = 128;

/// Dedup parameters, exactly as written to the ledger.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DedupConfig {
    /// Exact, near or both.
    pub mode: Mode,
    /// Which text is compared.
    pub view: View,
    /// Shingling for MinHash.
    pub shingle: Shingle,
    /// MinHash bins.
    pub num_perm: usize,
    /// LSH bands and rows.
    pub lsh: LshParams,
    /// A candidate pair is a duplicate when its (estimated or exact) Jaccard is at least this.
    pub threshold: f64,
    /// Verify candidates with exact Jaccard of the shingle sets instead of the signature
    /// estimate (more memory: the sets are kept).
    pub verify_jaccard: bool,
    /// Which record a cluster keeps.
    pub keep: KeepPolicy,
    /// Hash seed.
    pub seed: u64,
    /// Refuse near-duplicate links between records whose reference answers differ.
    #[serde(default = "yes")]
    pub answer_guard: bool,
}

fn yes() -> bool {
    true
}

pub use crate::answer::answer_key;

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            mode: Mode::Both,
            view: View::Trace,
            shingle: Shingle::Word(5),
            num_perm: DEFAULT_NUM_PERM,
            lsh: LshParams::for_threshold(DEFAULT_THRESHOLD, DEFAULT_NUM_PERM),
            threshold: DEFAULT_THRESHOLD,
            verify_jaccard: false,
            keep: KeepPolicy::First,
            seed: 0x7665_7269_7479,
            answer_guard: true,
        }
    }
}

impl DedupConfig {
    /// The MinHasher for this configuration.
    pub fn hasher(&self) -> MinHasher {
        MinHasher::new(self.num_perm, self.shingle, self.seed)
    }

    /// Compute everything dedup needs from one view text (call on worker threads).
    pub fn prepare(
        &self,
        hasher: &MinHasher,
        text: &str,
        keep: KeepKey,
        scratch: &mut Scratch,
    ) -> Prepared {
        let exact = self.mode.exact().then(|| exact_key(text));
        let mut signature = None;
        let mut bands = Vec::new();
        let mut set = None;
        if self.mode.near() {
            hasher.shingle_hashes(text, scratch);
            if self.verify_jaccard && !scratch.shingles().is_empty() {
                set = Some(shingle_set(scratch));
            }
            if let Some(bins) = hasher.bins_from_shingles(scratch) {
                bands = (0..self.lsh.bands)
                    .map(|b| band_key(bins, b, self.lsh.rows))
                    .collect();
                signature = Some(compact(bins));
            }
        }
        Prepared {
            exact,
            signature,
            bands,
            set,
            keep,
            answer: 0,
        }
    }
}

/// What [`DedupConfig::prepare`] computed for one record.
#[derive(Debug, Clone)]
pub struct Prepared {
    exact: Option<u128>,
    signature: Option<Signature>,
    bands: Vec<u32>,
    set: Option<Box<[u32]>>,
    keep: KeepKey,
    answer: u64,
}

impl Prepared {
    /// The record's reference answer, for [`DedupConfig::answer_guard`].
    pub fn with_answer(mut self, answer: Option<&str>) -> Prepared {
        self.answer = answer_key(answer);
        self
    }
}

/// How a member matched its cluster's kept record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The kept record itself.
    Kept,
    /// Same normalized view text.
    Exact,
    /// MinHash near duplicate (possibly through other members).
    Near,
}

/// One member of a cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    /// Record index in input order.
    pub index: u32,
    /// Similarity to the kept record (1 for exact; estimated or exact Jaccard otherwise).
    pub similarity: f64,
    /// How it matched.
    pub kind: MatchKind,
}

/// A cluster of duplicates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    /// The kept record's index.
    pub kept: u32,
    /// Every member in input order (the kept one included).
    pub members: Vec<Member>,
}

/// Counts of one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DedupStats {
    /// Records seen.
    pub records: u64,
    /// Records without any shingle (empty view text): never near duplicates.
    pub empty_texts: u64,
    /// Records removed as exact duplicates.
    pub exact_removed: u64,
    /// Records removed as near duplicates.
    pub near_removed: u64,
    /// Clusters of two or more records.
    pub clusters: u64,
    /// Size of the largest cluster.
    pub largest_cluster: u64,
    /// Candidate pairs compared.
    pub candidate_pairs: u64,
    /// Candidate pairs that passed verification.
    pub verified_pairs: u64,
    /// Candidate pairs similar enough but not linked: their clusters have different
    /// reference answers ([`DedupConfig::answer_guard`]).
    #[serde(default)]
    pub answer_conflicts: u64,
    /// Bytes of index state at the end of streaming (signatures, band tables, keys).
    pub index_bytes: u64,
}

/// The decisions of a run.
#[derive(Debug, Clone)]
pub struct DedupOutcome {
    /// For each record (input order), the index of the kept record it duplicates.
    pub dup_of: Vec<Option<u32>>,
    /// Clusters of two or more records, ordered by kept index.
    pub clusters: Vec<Cluster>,
    /// Counts.
    pub stats: DedupStats,
}

/// Streaming dedup state.
pub struct Deduper {
    config: DedupConfig,
    /// Keep keys, only when the keep policy reads them.
    keys: Vec<KeepKey>,
    exact_first: ExactIndex,
    exact_of: Vec<u32>,
    signatures: Signatures,
    tables: Vec<BandTable>,
    uf: UnionFind,
    /// With the answer guard: per record its [`answer_key`], then per union-find root the
    /// answer of its cluster (0 while none is known).
    answers: Vec<u64>,
    empty: u64,
}

const NO_EXACT: u32 = u32::MAX;
const NO_SIGNATURE: u32 = u32::MAX;

/// The first record of each exact group, by its 128-bit key: the table holds only a 4-byte
/// position per group (keys and record indices sit in two dense vectors), about half the
/// memory of a map of `(u128, u32)` entries.
#[derive(Default)]
struct ExactIndex {
    table: hashbrown::HashTable<u32>,
    keys: Vec<u128>,
    firsts: Vec<u32>,
}

impl ExactIndex {
    /// The first record with `key`, or `index` after recording it as the first.
    fn first_or_insert(&mut self, key: u128, index: u32) -> u32 {
        let hash = key as u64;
        let keys = &self.keys;
        if let Some(&pos) = self.table.find(hash, |&p| keys[p as usize] == key) {
            return self.firsts[pos as usize];
        }
        let pos = self.keys.len() as u32;
        self.keys.push(key);
        self.firsts.push(index);
        let keys = &self.keys;
        self.table
            .insert_unique(hash, pos, |&p| keys[p as usize] as u64);
        index
    }

    fn bytes(&self) -> usize {
        self.table.capacity() * 5 + self.keys.capacity() * 16 + self.firsts.capacity() * 4
    }
}

/// Stored signatures (and shingle sets with `verify_jaccard`), one slot per record that has one.
struct Signatures {
    /// Per record: its slot in `data`, or [`NO_SIGNATURE`].
    slot: Vec<u32>,
    /// `width` little-endian `u16` bins per slot.
    data: Spill,
    width: usize,
    slots: u32,
    sets: Vec<Option<Box<[u32]>>>,
    verify_jaccard: bool,
    /// Scratch for two signatures being compared.
    a: Vec<u8>,
    b: Vec<u8>,
}

impl Signatures {
    fn push(&mut self, signature: Option<Signature>, set: Option<Box<[u32]>>) -> Result<()> {
        match signature {
            Some(sig) if sig.len() == self.width => {
                let mut bytes = std::mem::take(&mut self.a);
                bytes.clear();
                bytes.extend(sig.iter().flat_map(|v| v.to_le_bytes()));
                let written = self.data.append(&bytes);
                self.a = bytes;
                written?;
                self.slot.push(self.slots);
                self.slots += 1;
            }
            _ => self.slot.push(NO_SIGNATURE),
        }
        if self.verify_jaccard {
            self.sets.push(set);
        }
        Ok(())
    }

    /// Similarity of the records whose signatures are stored at records `ra` and `rb`.
    fn similarity(&mut self, ra: u32, rb: u32) -> Result<f64> {
        if self.verify_jaccard {
            if let (Some(Some(x)), Some(Some(y))) =
                (self.sets.get(ra as usize), self.sets.get(rb as usize))
            {
                return Ok(jaccard_sorted(x, y));
            }
        }
        let slot = |r: u32| self.slot.get(r as usize).copied().unwrap_or(NO_SIGNATURE);
        let (sa, sb) = (slot(ra), slot(rb));
        if sa == NO_SIGNATURE || sb == NO_SIGNATURE {
            return Ok(0.0);
        }
        let bytes = self.width * 2;
        self.a.resize(bytes, 0);
        self.b.resize(bytes, 0);
        self.data
            .read_at(u64::from(sa) * bytes as u64, &mut self.a)?;
        self.data
            .read_at(u64::from(sb) * bytes as u64, &mut self.b)?;
        let decode = |v: &[u8]| -> Vec<u16> {
            v.chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]))
                .collect()
        };
        Ok(estimate(&decode(&self.a), &decode(&self.b)))
    }

    fn resident_bytes(&self) -> usize {
        let sets: usize = self
            .sets
            .iter()
            .map(|s| s.as_ref().map_or(0, |s| s.len() * 4) + 16)
            .sum();
        self.data.resident_bytes() + self.slot.capacity() * 4 + sets
    }
}

impl Deduper {
    /// A deduper for `config` that keeps its whole index in memory.
    pub fn new(config: DedupConfig) -> Deduper {
        Deduper::with_storage(config, || Ok(Spill::memory()))
            .unwrap_or_else(|_| unreachable!("memory storage cannot fail to open"))
    }

    /// A deduper for `config` that spills signatures and band entries (~370 B per record at
    /// the defaults) to temporary files in `dir`, keeping ~80 B per record in memory.
    pub fn spilling(config: DedupConfig, dir: &Path) -> Result<Deduper> {
        Deduper::with_storage(config, || Spill::file_in(dir))
    }

    fn with_storage(
        config: DedupConfig,
        mut storage: impl FnMut() -> Result<Spill>,
    ) -> Result<Deduper> {
        let tables = if config.mode.near() {
            (0..config.lsh.bands)
                .map(|_| storage().map(BandTable::new))
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        let signatures = Signatures {
            slot: Vec::new(),
            data: if config.mode.near() {
                storage()?
            } else {
                Spill::memory()
            },
            width: config.num_perm,
            slots: 0,
            sets: Vec::new(),
            verify_jaccard: config.verify_jaccard,
            a: Vec::new(),
            b: Vec::new(),
        };
        Ok(Deduper {
            config,
            keys: Vec::new(),
            exact_first: ExactIndex::default(),
            exact_of: Vec::new(),
            signatures,
            tables,
            uf: UnionFind::default(),
            answers: Vec::new(),
            empty: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DedupConfig {
        &self.config
    }

    /// Records pushed so far.
    pub fn len(&self) -> usize {
        self.uf.len()
    }

    /// True before the first push.
    pub fn is_empty(&self) -> bool {
        self.uf.len() == 0
    }

    /// Add the next record (input order). Fails only when a spill file cannot be written.
    pub fn push(&mut self, prepared: Prepared) -> Result<()> {
        let index = self.uf.push();
        if self.config.keep != KeepPolicy::First {
            self.keys.push(prepared.keep);
        }
        if self.config.answer_guard {
            self.answers.push(prepared.answer);
        }
        let mut exact_dup = false;
        let mut first_of_group = NO_EXACT;
        if let Some(key) = prepared.exact {
            let first = self.exact_first.first_or_insert(key, index);
            if first != index {
                if self.config.answer_guard {
                    // The cluster keeps its answer; it takes this record's if it had none.
                    let root = self.uf.find(first);
                    let known = self.answers[root as usize];
                    self.uf.union(first, index);
                    let root = self.uf.find(first);
                    self.answers[root as usize] = if known != 0 { known } else { prepared.answer };
                } else {
                    self.uf.union(first, index);
                }
                exact_dup = true;
            }
            first_of_group = first;
        }
        self.exact_of.push(first_of_group);
        if !self.config.mode.near() {
            return Ok(());
        }
        if prepared.signature.is_none() {
            self.empty += 1;
        }
        if exact_dup {
            // Same text as an earlier record: its similarity to others equals the first's.
            return self.signatures.push(None, None);
        }
        for (table, &key) in self.tables.iter_mut().zip(&prepared.bands) {
            table.push(key, index)?;
        }
        self.signatures.push(prepared.signature, prepared.set)
    }

    fn index_bytes(&self) -> u64 {
        let tables: usize = self.tables.iter().map(BandTable::bytes).sum();
        let exact = self.exact_first.bytes() + self.exact_of.capacity() * 4;
        let keys =
            self.keys.capacity() * std::mem::size_of::<KeepKey>() + self.answers.capacity() * 8;
        (self.signatures.resident_bytes() + tables + exact + keys + self.uf.len() * 8) as u64
    }

    /// Cluster everything pushed and decide what to keep.
    pub fn finish(mut self) -> Result<DedupOutcome> {
        let n = self.uf.len();
        let mut stats = DedupStats {
            records: n as u64,
            empty_texts: self.empty,
            index_bytes: self.index_bytes(),
            ..DedupStats::default()
        };
        self.signatures.data.seal()?;
        // Near duplicates: verify bucket members against up to MAX_REPRESENTATIVES earlier
        // members of other sets.
        let threshold = self.config.threshold;
        let exact_of = &self.exact_of;
        let uf = &mut self.uf;
        let signatures = &mut self.signatures;
        let guard = self.config.answer_guard;
        let answers = &mut self.answers;
        let mut reps: Vec<u32> = Vec::with_capacity(MAX_REPRESENTATIVES);
        for table in std::mem::take(&mut self.tables) {
            table.for_each_bucket(|members| {
                reps.clear();
                for &m in members {
                    let mut linked = false;
                    for &r in &reps {
                        if uf.find(r) == uf.find(m) {
                            linked = true;
                            break;
                        }
                    }
                    if !linked {
                        for &r in &reps {
                            stats.candidate_pairs += 1;
                            if similarity(exact_of, signatures, r, m)? >= threshold {
                                if guard {
                                    let (a, b) = (uf.find(r), uf.find(m));
                                    let (x, y) = (answers[a as usize], answers[b as usize]);
                                    if x != 0 && y != 0 && x != y {
                                        stats.answer_conflicts += 1;
                                        continue;
                                    }
                                    uf.union(r, m);
                                    answers[uf.find(r) as usize] = if x != 0 { x } else { y };
                                } else {
                                    uf.union(r, m);
                                }
                                stats.verified_pairs += 1;
                                linked = true;
                                break;
                            }
                        }
                    }
                    if !linked && reps.len() < MAX_REPRESENTATIVES {
                        reps.push(m);
                    }
                }
                Ok(())
            })?;
        }
        // Components, in input order.
        let mut root_cluster: HashMap<u32, u32> = HashMap::new();
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for i in 0..n as u32 {
            if self.uf.set_size(i) < 2 {
                continue;
            }
            let root = self.uf.find(i);
            let g = *root_cluster.entry(root).or_insert_with(|| {
                groups.push(Vec::new());
                (groups.len() - 1) as u32
            });
            groups[g as usize].push(i);
        }
        drop(root_cluster);
        let mut dup_of = vec![None; n];
        let mut clusters = Vec::with_capacity(groups.len());
        for members in groups {
            let kept = members[choose(self.config.keep, &members, &self.keys)];
            let kept_exact = representative(&self.exact_of, kept);
            let mut list = Vec::with_capacity(members.len());
            for &m in &members {
                let (kind, similarity) = if m == kept {
                    (MatchKind::Kept, 1.0)
                } else if self.config.mode.exact()
                    && representative(&self.exact_of, m) == kept_exact
                {
                    stats.exact_removed += 1;
                    (MatchKind::Exact, 1.0)
                } else {
                    stats.near_removed += 1;
                    (
                        MatchKind::Near,
                        similarity(&self.exact_of, &mut self.signatures, kept, m)?,
                    )
                };
                if m != kept {
                    dup_of[m as usize] = Some(kept);
                }
                list.push(Member {
                    index: m,
                    similarity,
                    kind,
                });
            }
            stats.largest_cluster = stats.largest_cluster.max(list.len() as u64);
            clusters.push(Cluster {
                kept,
                members: list,
            });
        }
        clusters.sort_by_key(|c| c.kept);
        stats.clusters = clusters.len() as u64;
        Ok(DedupOutcome {
            dup_of,
            clusters,
            stats,
        })
    }
}

/// The record holding the signature for `i` (the first of its exact group).
fn representative(exact_of: &[u32], i: u32) -> u32 {
    match exact_of.get(i as usize) {
        Some(&first) if first != NO_EXACT => first,
        _ => i,
    }
}

/// Similarity of records `a` and `b` (1 within an exact group).
fn similarity(exact_of: &[u32], signatures: &mut Signatures, a: u32, b: u32) -> Result<f64> {
    let (ra, rb) = (representative(exact_of, a), representative(exact_of, b));
    if ra == rb {
        return Ok(1.0);
    }
    signatures.similarity(ra, rb)
}

/// Dedup a list of texts in memory (convenience for tests and small inputs).
pub fn dedup_texts(config: &DedupConfig, texts: &[&str]) -> DedupOutcome {
    let hasher = config.hasher();
    let mut scratch = Scratch::default();
    let mut deduper = Deduper::new(config.clone());
    for text in texts {
        let keep = KeepKey {
            length: text.chars().count() as u64,
            ..KeepKey::default()
        };
        deduper
            .push(config.prepare(&hasher, text, keep, &mut scratch))
            .unwrap_or_else(|_| unreachable!("an in-memory deduper cannot fail"));
    }
    deduper
        .finish()
        .unwrap_or_else(|_| unreachable!("an in-memory deduper cannot fail"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::mix64;

    fn doc(seed: u64, words: usize) -> String {
        (0..words)
            .map(|i| format!("w{}", mix64(seed * 7919 + i as u64) % 3000))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn edit(text: &str, every: usize) -> String {
        text.split(' ')
            .enumerate()
            .map(|(i, w)| if i % every == 3 { "changed" } else { w })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn finds_exact_and_near_duplicates_and_keeps_the_first() {
        let a = doc(1, 400);
        let b = doc(2, 400);
        let a_near = edit(&a, 60);
        let a_exact = a.to_uppercase();
        let texts = [a.as_str(), b.as_str(), a_near.as_str(), a_exact.as_str()];
        let out = dedup_texts(&DedupConfig::default(), &texts);
        assert_eq!(out.dup_of, vec![None, None, Some(0), Some(0)]);
        assert_eq!(out.clusters.len(), 1);
        let c = &out.clusters[0];
        assert_eq!(c.kept, 0);
        assert_eq!(c.members.len(), 3);
        assert_eq!(c.members[2].kind, MatchKind::Exact);
        assert_eq!(c.members[1].kind, MatchKind::Near);
        assert!(c.members[1].similarity > 0.7 && c.members[1].similarity < 1.0);
        assert_eq!(out.stats.exact_removed, 1);
        assert_eq!(out.stats.near_removed, 1);
    }

    /// Dedup `(text, reference answer)` pairs in memory.
    fn dedup_answered(config: &DedupConfig, rows: &[(&str, Option<&str>)]) -> DedupOutcome {
        let hasher = config.hasher();
        let mut scratch = Scratch::default();
        let mut deduper = Deduper::new(config.clone());
        for (text, answer) in rows {
            let p = config
                .prepare(&hasher, text, KeepKey::default(), &mut scratch)
                .with_answer(*answer);
            deduper.push(p).unwrap();
        }
        deduper.finish().unwrap()
    }

    #[test]
    fn near_duplicates_with_different_answers_are_different_tasks() {
        let a = doc(1, 400);
        let a1 = edit(&a, 60);
        let a2 = edit(&a, 70);
        // Same answer (written with other spacing and dollars): one task.
        let same = dedup_answered(
            &DedupConfig::default(),
            &[(&a, Some("$\\frac{1}{2}$")), (&a1, Some("\\frac {1}{2}"))],
        );
        assert_eq!(same.dup_of, vec![None, Some(0)]);
        // The same number written another way: one task.
        let value = dedup_answered(
            &DedupConfig::default(),
            &[(&a, Some("0.5")), (&a1, Some("\\dfrac{1}{2}"))],
        );
        assert_eq!(value.dup_of, vec![None, Some(0)]);
        assert_eq!(value.stats.answer_conflicts, 0);
        // The same constant expression written another way: one task; another value: two.
        let expression = |x: &str, y: &str| {
            dedup_answered(&DedupConfig::default(), &[(&a, Some(x)), (&a1, Some(y))]).dup_of
        };
        assert_eq!(
            expression("\\sqrt{2}/2", "\\frac{1}{\\sqrt{2}}"),
            vec![None, Some(0)]
        );
        assert_eq!(expression("\\sqrt{2}/2", "\\sqrt{3}/2"), vec![None, None]);
        // The same function of symbols written another way: one task; another function: two.
        assert_eq!(expression("x+1", "1 + x"), vec![None, Some(0)]);
        assert_eq!(expression("(x+1)^2", "x^2+2x+1"), vec![None, Some(0)]);
        assert_eq!(expression("x+1", "y+1"), vec![None, None]);
        // Another answer: two tasks, however similar the text.
        let rows = [(a.as_str(), Some("7")), (a1.as_str(), Some("-7"))];
        let guarded = dedup_answered(&DedupConfig::default(), &rows);
        assert_eq!(guarded.dup_of, vec![None, None]);
        assert!(guarded.stats.answer_conflicts >= 1);
        let off = DedupConfig {
            answer_guard: false,
            ..DedupConfig::default()
        };
        assert_eq!(dedup_answered(&off, &rows).dup_of, vec![None, Some(0)]);
        // Clusters, not pairs: a record without an answer joins the first; the third, with
        // another answer, cannot join through it.
        let chain = dedup_answered(
            &DedupConfig::default(),
            &[(&a, Some("7")), (&a1, None), (&a2, Some("8"))],
        );
        assert_eq!(chain.dup_of, vec![None, Some(0), None]);
        // Exact duplicates (same view text) merge whatever their answers.
        let upper = a.to_uppercase();
        let exact = dedup_answered(
            &DedupConfig::default(),
            &[(&a, Some("7")), (&upper, Some("8"))],
        );
        assert_eq!(exact.dup_of, vec![None, Some(0)]);
        assert_eq!(answer_key(Some("  ")), 0);
        assert_eq!(answer_key(None), 0);
    }

    #[test]
    fn spilled_index_gives_the_same_outcome_as_in_memory() {
        let base: Vec<String> = (0..60).map(|i| doc(i, 200)).collect();
        let mut texts: Vec<String> = Vec::new();
        for (i, b) in base.iter().enumerate() {
            texts.push(b.clone());
            if i % 3 == 0 {
                texts.push(edit(b, 50 + i % 7));
            }
            if i % 5 == 0 {
                texts.push(b.to_uppercase());
            }
        }
        texts.push(String::new());
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        for keep in [KeepPolicy::First, KeepPolicy::Longest] {
            // Memory and spilled storage must agree on every decision and similarity.
            let config = DedupConfig {
                keep,
                ..DedupConfig::default()
            };
            let memory = dedup_texts(&config, &refs);
            let dir = tempfile::tempdir().unwrap();
            let hasher = config.hasher();
            let mut scratch = Scratch::default();
            let mut spilled = Deduper::spilling(config.clone(), dir.path()).unwrap();
            for text in &refs {
                let key = KeepKey {
                    length: text.chars().count() as u64,
                    ..KeepKey::default()
                };
                spilled
                    .push(config.prepare(&hasher, text, key, &mut scratch))
                    .unwrap();
            }
            let spilled = spilled.finish().unwrap();
            assert_eq!(spilled.dup_of, memory.dup_of);
            // 20 edited copies and 12 upper-cased ones; where a cluster keeps the (longer)
            // edited copy, the upper-cased original is a near duplicate of it (4 such clusters).
            let expected = if keep == KeepPolicy::First {
                (12, 20)
            } else {
                (8, 24)
            };
            let got = (spilled.stats.exact_removed, spilled.stats.near_removed);
            assert_eq!(got, expected);
            let sims = |o: &DedupOutcome| -> Vec<(u32, u32, f64)> {
                o.clusters
                    .iter()
                    .flat_map(|c| {
                        c.members
                            .iter()
                            .map(move |m| (c.kept, m.index, m.similarity))
                    })
                    .collect()
            };
            assert_eq!(sims(&spilled), sims(&memory));
        }
    }

    #[test]
    fn exact_mode_ignores_near_duplicates() {
        let a = doc(1, 300);
        let a_near = edit(&a, 40);
        let config = DedupConfig {
            mode: Mode::Exact,
            ..DedupConfig::default()
        };
        let out = dedup_texts(&config, &[&a, &a_near, &a]);
        assert_eq!(out.dup_of, vec![None, None, Some(0)]);
    }

    #[test]
    fn dissimilar_texts_are_kept() {
        let docs: Vec<String> = (0..200).map(|i| doc(i, 150)).collect();
        let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let out = dedup_texts(&DedupConfig::default(), &refs);
        assert!(out.dup_of.iter().all(Option::is_none));
        assert!(out.clusters.is_empty());
    }

    #[test]
    fn verify_jaccard_uses_exact_similarity() {
        let a = doc(5, 500);
        let far = edit(&a, 4);
        let near = edit(&a, 80);
        let config = DedupConfig {
            verify_jaccard: true,
            ..DedupConfig::default()
        };
        let out = dedup_texts(&config, &[&a, &far, &near]);
        assert_eq!(out.dup_of, vec![None, None, Some(0)]);
    }

    #[test]
    fn all_duplicate_input_is_one_cluster_in_linear_work() {
        let a = doc(9, 200);
        let near: Vec<String> = (0..3000)
            .map(|i| {
                if i % 2 == 0 {
                    a.clone()
                } else {
                    edit(&a, 70 + i % 5)
                }
            })
            .collect();
        let refs: Vec<&str> = near.iter().map(String::as_str).collect();
        let out = dedup_texts(&DedupConfig::default(), &refs);
        assert_eq!(out.clusters.len(), 1);
        assert_eq!(out.clusters[0].members.len(), 3000);
        assert!(out.stats.candidate_pairs < 3000 * 9 * MAX_REPRESENTATIVES as u64);
    }

    #[test]
    fn empty_texts_are_exact_duplicates_but_never_near() {
        let out = dedup_texts(&DedupConfig::default(), &["", " ", "?"]);
        assert_eq!(out.dup_of, vec![None, Some(0), None]);
        assert_eq!(out.stats.empty_texts, 3);
        let near_only = DedupConfig {
            mode: Mode::Near,
            ..DedupConfig::default()
        };
        let out = dedup_texts(&near_only, &["", " ", "?"]);
        assert!(out.dup_of.iter().all(Option::is_none));
    }

    #[test]
    fn keep_longest_picks_the_longer_member() {
        let a = doc(3, 300);
        let longer = format!("{a} extra words here");
        let config = DedupConfig {
            keep: KeepPolicy::Longest,
            ..DedupConfig::default()
        };
        let out = dedup_texts(&config, &[&a, &longer]);
        assert_eq!(out.dup_of, vec![Some(1), None]);
    }
}
