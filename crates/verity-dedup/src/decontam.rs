//! Benchmark decontamination: n-gram overlap plus a short-problem matcher.
//!
//! # What it does
//!
//! [`DecontamIndex::build`] indexes benchmark items; [`DecontamIndex::check`] finds hits in a
//! record's texts. Three matchers, all on the word tokens of [`crate::normalize::words`]
//! (NFKC, lowercase, punctuation and LaTeX formatting dropped):
//!
//! 1. **n-gram** (every field): a hit when the text shares word n-grams (default 13) with a
//!    benchmark item's problem (or its `extra` text, e.g. MBPP asserts) that cover at least
//!    `min_coverage` (default 0.5) of the item's words: the text's words inside matching
//!    n-grams, each distinct n-gram counted once (a phrase quoted ten times covers it once).
//!    One shared n-gram is not enough: benchmark items share phrasing with ordinary training
//!    problems ("... where $m$ and $n$ are relatively prime positive integers. Find $m+n$."),
//!    and on real data that phrasing was most of what a bare 13-gram match flagged (193 of
//!    975 pre-2024 AIME problems "matched" AIME 2024/2025, all below 0.4 coverage; 1,539 of
//!    1,889 LeetCode training problems matched the LeetCode test set below 0.3). A copied item,
//!    even lightly edited, covers nearly all of its words. `min_coverage` 0 restores the
//!    any-n-gram rule. n-grams that occur in
//!    more than [`MAX_SHARED_ITEMS`] items of one benchmark are template boilerplate (BBH task
//!    instructions, LeetCode's prompt preamble) and are not indexed. Windows are hashed with a
//!    rolling polynomial hash and pre-screened by a bit filter, so the cost per word is a few
//!    nanoseconds.
//! 2. **contained** (problem field): an item shorter than n words (and at least
//!    [`MIN_SHORT_WORDS`]) whose whole word sequence appears contiguously in the problem.
//!    Many math problems have fewer than 13 words; this is the exact-normalized match for them.
//! 3. **fuzzy** (problem field): a problem that is a light edit of an item: candidates share a
//!    rare word trigram with the item, and the item's words align with the problem's words
//!    (word-level longest common subsequence) for at least `fuzzy_threshold` (default 0.8) of
//!    the item's words, the problem being at most 1.5x + 20 words the item's length. Items of
//!    fewer than [`MIN_FUZZY_WORDS`] words are not fuzzy-matched (too easy to match by chance).
//!
//! Each hit names the record field, the benchmark, the item id, the method and the matching
//! span (the record's text from the first to the last matching word, capped at 300 bytes).
//!
//! # Why
//!
//! 13-gram overlap is the standard (GPT-3, lm-eval-harness, datatrove); it misses leaked
//! problems that were lightly edited and problems too short to have 13 words, which the
//! problem-level matchers catch without flagging ordinary text.
//!
//! # Known failure modes
//!
//! - Paraphrases (reworded problems, translated problems, changed numbers in many places) are
//!   not found: these are lexical matchers.
//! - A training text that legitimately quotes a benchmark passage of n words is flagged.
//! - Boilerplate pruning means an item made only of template text plus a few words is found
//!   only by the problem-level matchers.

use crate::benchmarks::Benchmark;
use crate::normalize::{
    hash128, hash_bytes, mix64, words, words_nfkc, words_nfkc_into, words_of_nfkc, Word,
};
use hashbrown::HashMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// n-grams found in more items than this (within one benchmark) are not indexed.
pub const MAX_SHARED_ITEMS: usize = 10;
/// Items shorter than this many words are only matched when equal to the whole problem.
pub const MIN_SHORT_WORDS: usize = 4;
/// Items shorter than this are not fuzzy-matched.
pub const MIN_FUZZY_WORDS: usize = 8;
/// Word trigrams shared by more items than this are too common to propose fuzzy candidates.
const MAX_TRIGRAM_ITEMS: usize = 32;
/// Fuzzy candidates verified per record field.
const FUZZY_CANDIDATES: usize = 4;
/// Longest span reported, in bytes.
const MAX_SPAN_BYTES: usize = 300;
/// Problem texts up to this many bytes have their hits remembered (see [`ProblemCache`]).
const MAX_CACHED_PROBLEM_BYTES: usize = 16 << 10;
/// Shards of the [`ProblemCache`] (a lock each) and the problems each remembers.
const CACHE_SHARDS: usize = 16;
const CACHE_ENTRIES_PER_SHARD: usize = 1 << 15;

/// The hits of problem texts already checked, keyed by a 128-bit hash of (field, text): rows
/// that repeat a problem (the rollouts of one task, reused prompts) are matched once and get a
/// copy of the same hits. The matchers are a function of the text, so the hits are those of a
/// fresh check. Bounded: a shard that reaches [`CACHE_ENTRIES_PER_SHARD`] problems is
/// cleared (at most 524,288 problems and their hits are held).
struct ProblemCache {
    shards: Vec<Mutex<CacheShard>>,
}

/// One shard: each problem's hits are a range of one vector (no allocation per problem, and
/// a lookup reads the table slot and then the hits, not a separately allocated list).
#[derive(Default)]
struct CacheShard {
    ranges: HashMap<u128, (u32, u32)>,
    hits: Vec<CachedHit>,
}

/// A remembered hit without its strings (~32 bytes instead of ~450 with them): the field is
/// the cache key's, the benchmark and item come from the index, and the span is a range of
/// the problem text when it is one (always unless NFKC changed the text).
#[derive(Debug, Clone)]
struct CachedHit {
    item: u32,
    method: Method,
    matched_words: u32,
    score: f64,
    span: CachedSpan,
}

#[derive(Debug, Clone)]
enum CachedSpan {
    Range(u32, u32),
    Text(Box<str>),
}

impl ProblemCache {
    fn new() -> ProblemCache {
        ProblemCache {
            shards: (0..CACHE_SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn key(field: &str, text: &str) -> u128 {
        hash128(text.as_bytes()) ^ u128::from(hash_bytes(field.as_bytes()))
    }

    fn shard(&self, key: u128) -> &Mutex<CacheShard> {
        &self.shards[(key >> 64) as usize % CACHE_SHARDS]
    }

    /// Append the cached hits of `key` (a check of `field` in `text`) to `out`; false when
    /// `key` is not cached.
    fn get(
        &self,
        index: &DecontamIndex,
        key: u128,
        field: &str,
        text: &str,
        out: &mut Vec<Hit>,
    ) -> bool {
        let Ok(shard) = self.shard(key).lock() else {
            return false;
        };
        let Some(&(start, len)) = shard.ranges.get(&key) else {
            return false;
        };
        let (start, len) = (start as usize, len as usize);
        for cached in &shard.hits[start..start + len] {
            let info = &index.items[cached.item as usize];
            let span = match &cached.span {
                CachedSpan::Range(s, e) => text.get(*s as usize..*e as usize).unwrap_or_default(),
                CachedSpan::Text(t) => t,
            };
            out.push(Hit {
                field: field.to_string(),
                benchmark: index.names[info.bench as usize].clone(),
                item: info.id.clone(),
                method: cached.method,
                span: if index.spans {
                    span.to_string()
                } else {
                    String::new()
                },
                matched_words: cached.matched_words as usize,
                score: cached.score,
            });
        }
        true
    }

    /// Remember `hits` (of items `items`, in order) of the check of `text` under `key`.
    fn insert(&self, key: u128, text: &str, hits: &[Hit], items: &[u32]) {
        if hits.len() != items.len() {
            return;
        }
        let Ok(mut shard) = self.shard(key).lock() else {
            return;
        };
        if shard.ranges.len() >= CACHE_ENTRIES_PER_SHARD
            || shard.hits.len() >= u32::MAX as usize / 2
        {
            shard.ranges.clear();
            shard.hits.clear();
        }
        let start = shard.hits.len() as u32;
        shard
            .hits
            .extend(hits.iter().zip(items).map(|(hit, &item)| {
                // Any occurrence of the span in the text reproduces it (an empty span, when
                // spans are off, is the empty range).
                let found = if hit.span.is_empty() {
                    Some(0)
                } else {
                    text.find(hit.span.as_str())
                };
                let span = match found {
                    Some(s) => CachedSpan::Range(s as u32, (s + hit.span.len()) as u32),
                    None => CachedSpan::Text(hit.span.as_str().into()),
                };
                CachedHit {
                    item,
                    method: hit.method,
                    matched_words: hit.matched_words as u32,
                    score: hit.score,
                    span,
                }
            }));
        shard.ranges.insert(key, (start, hits.len() as u32));
    }
}

/// Decontamination parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecontamConfig {
    /// Word n-gram length.
    pub ngram: usize,
    /// Run the contained/fuzzy problem matchers.
    pub short_matcher: bool,
    /// Minimum aligned fraction of an item's words for a fuzzy hit.
    pub fuzzy_threshold: f64,
    /// Minimum fraction of an item's words covered by matching n-grams for an n-gram hit (0:
    /// any shared n-gram).
    #[serde(default = "default_min_coverage")]
    pub min_coverage: f64,
}

fn default_min_coverage() -> f64 {
    DEFAULT_MIN_COVERAGE
}

/// Default [`DecontamConfig::min_coverage`].
pub const DEFAULT_MIN_COVERAGE: f64 = 0.5;

impl Default for DecontamConfig {
    fn default() -> Self {
        DecontamConfig {
            ngram: 13,
            short_matcher: true,
            fuzzy_threshold: 0.8,
            min_coverage: DEFAULT_MIN_COVERAGE,
        }
    }
}

/// How a hit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Shared word n-gram.
    Ngram,
    /// A short item contained in the problem.
    Contained,
    /// A lightly edited item.
    Fuzzy,
}

/// One contamination hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Record field (`problem`, `trace`, ...).
    pub field: String,
    /// Benchmark name (shared with the index: a hit does not copy it).
    pub benchmark: Arc<str>,
    /// Benchmark item id (shared with the index).
    pub item: Arc<str>,
    /// Matcher.
    pub method: Method,
    /// The matching text of the record (NFKC form, at most 300 bytes); empty when the index
    /// was told not to keep spans ([`DecontamIndex::set_spans`]).
    pub span: String,
    /// Matched words (n-gram: words covered by matching n-grams; fuzzy/contained: aligned
    /// item words).
    pub matched_words: usize,
    /// Fraction of the item's words matched (1 for n-gram hits covering the whole item).
    pub score: f64,
}

#[derive(Debug, Clone)]
struct ItemInfo {
    bench: u32,
    id: Arc<str>,
    /// Words of the item's extra text (0 without one).
    extra_words: usize,
    words: Box<[u64]>,
}

/// A blocked Bloom filter: each key sets four bits of one 64-bit block, so a probe reads one
/// word of memory. Used to skip hash-map lookups for windows that cannot match. Four bits per
/// key keep false positives low at 8 bits per key, so the filters are half the size (and more
/// of them stays in the L2 cache) of a two-bit filter with as few false positives.
struct BitFilter {
    blocks: Vec<u64>,
    mask: u64,
}

impl BitFilter {
    /// A filter for `keys` keys at about `bits_per_key` bits each (rounded up to a power of two
    /// blocks; at 8 to 16 bits per key, 0.3% to 1.5% of absent keys pass).
    fn new(keys: usize, bits_per_key: usize) -> BitFilter {
        let blocks = (keys.saturating_mul(bits_per_key) / 64)
            .next_power_of_two()
            .max(16);
        BitFilter {
            blocks: vec![0; blocks],
            mask: blocks as u64 - 1,
        }
    }

    #[inline]
    fn bits(h: u64) -> u64 {
        (1u64 << (h >> 58))
            | (1u64 << ((h >> 52) & 63))
            | (1u64 << ((h >> 46) & 63))
            | (1u64 << ((h >> 40) & 63))
    }

    fn insert(&mut self, h: u64) {
        self.blocks[(h & self.mask) as usize] |= Self::bits(h);
    }

    #[inline]
    fn contains(&self, h: u64) -> bool {
        let bits = Self::bits(h);
        self.blocks[(h & self.mask) as usize] & bits == bits
    }

    /// Keep the keys of `keys` (`(position, hash)` pairs) that the filter may contain, in
    /// order. The loop has no data-dependent branch, so the block loads (cache misses on a
    /// large filter) of all keys are in flight together instead of one after the other.
    fn retain_possible(&self, keys: &mut Vec<(u32, u64)>) {
        let mut kept = 0;
        for i in 0..keys.len() {
            let key = keys[i];
            keys[kept] = key;
            kept += usize::from(self.contains(key.1));
        }
        keys.truncate(kept);
    }
}

/// The key a [`ProbeFilter`]'s first level uses for hash `h`: other bits than the second
/// level's, so the two levels' false positives are independent.
#[inline]
fn first_level_key(h: u64) -> u64 {
    h.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29)
}

/// The probe filter: a blocked Bloom filter sized for few false positives, behind a smaller
/// one (a quarter of the bits) when the big one would not stay in the cache: the small one
/// rejects most absent probes while records stream through the cache, and only its
/// survivors (~10%) load a block of the big one. Same answers as the big filter alone (the
/// small one has no false negatives).
struct ProbeFilter {
    first: Option<BitFilter>,
    filter: BitFilter,
}

/// Probe filters larger than this get a first level.
const FIRST_LEVEL_ABOVE_BYTES: usize = 512 << 10;

impl ProbeFilter {
    fn new(keys: usize) -> ProbeFilter {
        let filter = BitFilter::new(keys, 8);
        let first =
            (filter.blocks.len() * 8 > FIRST_LEVEL_ABOVE_BYTES).then(|| BitFilter::new(keys, 2));
        ProbeFilter { first, filter }
    }

    fn insert(&mut self, h: u64) {
        self.filter.insert(h);
        if let Some(first) = self.first.as_mut() {
            first.insert(first_level_key(h));
        }
    }

    /// [`BitFilter::retain_possible`] through both levels.
    fn retain_possible(&self, keys: &mut Vec<(u32, u64)>) {
        if let Some(first) = &self.first {
            let mut kept = 0;
            for i in 0..keys.len() {
                let key = keys[i];
                keys[kept] = key;
                kept += usize::from(first.contains(first_level_key(key.1)));
            }
            keys.truncate(kept);
        }
        self.filter.retain_possible(keys);
    }
}

/// A 4096-bit set of word hashes (512 bytes: stays in L1); false positives possible, no false
/// negatives.
struct WordSet([u64; 64]);

impl Default for WordSet {
    fn default() -> Self {
        WordSet([0; 64])
    }
}

impl WordSet {
    #[inline]
    fn bit(h: u64) -> usize {
        (h >> 44) as usize & 4095
    }

    fn insert(&mut self, h: u64) {
        let b = Self::bit(h);
        self.0[b >> 6] |= 1 << (b & 63);
    }

    #[inline]
    fn contains(&self, h: u64) -> bool {
        let b = Self::bit(h);
        self.0[b >> 6] & (1 << (b & 63)) != 0
    }
}

/// Open-addressing hash table from 64-bit hashes to small values: key and value share one
/// 16-byte slot, so a lookup touches one cache line (a `HashMap` reads its control bytes and
/// then the bucket). `V::default()` marks an empty slot and is never stored.
struct FlatMap<V> {
    slots: Vec<(u64, V)>,
    mask: usize,
}

impl<V: Copy + Default + PartialEq> FlatMap<V> {
    /// A table for `entries` keys at a load factor of at most 1/2.
    fn with_capacity(entries: usize) -> FlatMap<V> {
        let capacity = (entries.max(1) * 2).next_power_of_two().max(16);
        FlatMap {
            slots: vec![(0, V::default()); capacity],
            mask: capacity - 1,
        }
    }

    #[inline]
    fn slot(&self, key: u64) -> usize {
        // Bits 20.. of the key: the bit filters use the low and the top bits.
        (key >> 20) as usize & self.mask
    }

    /// Insert `value` (not `V::default()`) for `key` unless the key is present; true when
    /// inserted.
    fn insert(&mut self, key: u64, value: V) -> bool {
        let mut i = self.slot(key);
        loop {
            let (k, v) = self.slots[i];
            if v == V::default() {
                self.slots[i] = (key, value);
                return true;
            }
            if k == key {
                return false;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Load the first slot of every key (and return a value that depends on them), so that
    /// the cache misses of a batch of lookups overlap; the lookups that follow hit the cache.
    fn touch(&self, keys: &[(u32, u64)]) -> u64 {
        keys.iter()
            .fold(0, |acc, &(_, key)| acc ^ self.slots[self.slot(key)].0)
    }

    #[inline]
    fn get(&self, key: u64) -> Option<V> {
        let mut i = self.slot(key);
        loop {
            let (k, v) = self.slots[i];
            if v == V::default() {
                return None;
            }
            if k == key {
                return Some(v);
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// What one benchmark contributes to the index (built in parallel, merged in order).
#[derive(Default)]
struct BenchmarkPart {
    survivors: Vec<(u64, u32)>,
    short: Vec<(u64, u32)>,
    trigrams: Vec<(u64, u32)>,
}

/// The benchmark index.
pub struct DecontamIndex {
    config: DecontamConfig,
    benchmarks: Vec<String>,
    /// The same names, shared by the hits.
    names: Vec<Arc<str>>,
    /// Whether hits carry their span ([`DecontamIndex::set_spans`]).
    spans: bool,
    items: Vec<ItemInfo>,
    /// n-gram length.
    n: usize,
    /// Probe length m (<= n) and stride s = n - m + 1: every n-word window contains the m-word
    /// window starting at the next multiple of s, so probing m-grams at multiples of s finds
    /// every candidate n-gram with 1/s of the lookups.
    probe_len: usize,
    stride: usize,
    /// n-gram -> 1 + item index.
    grams: FlatMap<u32>,
    ngram_count: usize,
    /// m-grams of the indexed n-grams.
    probe: ProbeFilter,
    /// Short item word sequence -> 1 + item index.
    short: FlatMap<u32>,
    short_filter: BitFilter,
    /// First and last words of the short items.
    short_first: WordSet,
    short_last: WordSet,
    short_lengths: Vec<usize>,
    /// Trigram -> (start, count) in `postings` (item indexes), or (item, 1) for a trigram of
    /// one item (no second memory access).
    trigrams: FlatMap<(u32, u32)>,
    postings: Vec<u32>,
    trigram_filter: BitFilter,
    /// NGRAM_BASE^k.
    pow: Vec<u64>,
    /// Hits of problem texts seen before.
    cache: ProblemCache,
}

const NGRAM_BASE: u64 = 0x100_0000_01b3 | 1;

/// Rolling polynomial hashes of every `n`-word window of `words`, calling `f(start, hash)`.
/// The hash of `words[s..s + n]` equals [`window_hash`] on the prefix hashes.
fn for_each_window(words: &[u64], n: usize, mut f: impl FnMut(usize, u64)) {
    if n == 0 || words.len() < n {
        return;
    }
    let mut pow = 1u64;
    for _ in 0..n {
        pow = pow.wrapping_mul(NGRAM_BASE);
    }
    let mut h = 0u64;
    for (i, &w) in words.iter().enumerate() {
        h = h.wrapping_mul(NGRAM_BASE).wrapping_add(w);
        if i >= n {
            h = h.wrapping_sub(words[i - n].wrapping_mul(pow));
        }
        if i + 1 >= n {
            f(i + 1 - n, mix64(h ^ n as u64));
        }
    }
}

fn sequence_hash(hashes: &[u64]) -> u64 {
    let mut h = 0u64;
    for &w in hashes {
        h = h.wrapping_mul(NGRAM_BASE).wrapping_add(w);
    }
    mix64(h ^ hashes.len() as u64)
}

/// Prefix hashes: `prefix[i]` is the polynomial hash of the first `i` words.
fn prefix_hashes(words: impl Iterator<Item = u64>, prefix: &mut Vec<u64>) {
    prefix.clear();
    prefix.push(0);
    let mut h = 0u64;
    for w in words {
        h = h.wrapping_mul(NGRAM_BASE).wrapping_add(w);
        prefix.push(h);
    }
}

/// Hash of the `len` words from `start` (equal to `sequence_hash` of them).
#[inline]
fn window_hash(prefix: &[u64], pow: &[u64], start: usize, len: usize) -> u64 {
    let h = prefix[start + len].wrapping_sub(prefix[start].wrapping_mul(pow[len]));
    mix64(h ^ len as u64)
}

fn to_hashes(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    words(text, &mut out);
    out.iter().map(|w| w.hash).collect()
}

/// A match being assembled for one item.
#[derive(Debug, Clone, Copy)]
struct Found {
    item: u32,
    /// The n-grams are from the item's `extra` text (n-gram hits on the problem and on the
    /// extra text are covered apart: each against its own length).
    extra: bool,
    first: usize,
    last: usize,
    matched: usize,
    /// One past the last word already counted in `matched`.
    cover: usize,
}

/// Top bit of an n-gram table value: the n-gram is from the item's `extra` text.
const EXTRA: u32 = 1 << 31;

/// Record the n-gram at `start` whose table value is `value` (`1 + item`, with [`EXTRA`] for
/// the item's extra text; n-grams come in increasing `start`): extend the hit of that item
/// and part, counting only the words not covered yet, or start a new one.
fn add_ngram(found: &mut Vec<Found>, value: u32, start: usize, n: usize) {
    let item = (value & !EXTRA) - 1;
    let extra = value & EXTRA != 0;
    let end = start + n - 1;
    match found
        .iter_mut()
        .find(|f| f.item == item && f.extra == extra)
    {
        Some(f) => {
            f.matched += (end + 1).saturating_sub(f.cover.max(start)).min(n);
            f.last = end;
            f.cover = end + 1;
        }
        None => found.push(Found {
            item,
            extra,
            first: start,
            last: end,
            matched: n,
            cover: end + 1,
        }),
    }
}

/// Per-thread buffers reused across [`DecontamIndex::check`] calls (no allocation per call once
/// they have grown).
#[derive(Default)]
struct Scratch {
    words: Vec<Word>,
    /// Word hashes of a text checked by n-grams only (no spans unless it has a hit).
    hashes: Vec<u64>,
    prefix: Vec<u64>,
    /// (word position, hash) of probes or trigrams.
    keys: Vec<(u32, u64)>,
    /// (window start, hash) of the n-gram lookups.
    lookups: Vec<(u32, u64)>,
    found: Vec<Found>,
    /// The distinct n-grams matched in the text being checked.
    matched: hashbrown::HashSet<u64>,
    candidates: Vec<u32>,
    /// Vote table, all zeros between calls.
    votes: Vec<(u32, u32)>,
    /// Slots of `votes` in use.
    used: Vec<u32>,
    lcs: LcsScratch,
}

/// Buffers kept when a text had more words than this are released after the call.
const SCRATCH_KEEP_WORDS: usize = 1 << 20;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl DecontamIndex {
    /// Index `benchmarks`.
    pub fn build(benchmarks: &[Benchmark], config: DecontamConfig) -> DecontamIndex {
        let n = config.ngram.max(1);
        let probe_len = n.div_ceil(2);
        let stride = n - probe_len + 1;
        let pow: Vec<u64> = std::iter::successors(Some(1u64), |p| Some(p.wrapping_mul(NGRAM_BASE)))
            .take(n.max(3) + 1)
            .collect();
        let names: Vec<String> = benchmarks.iter().map(|b| b.name.clone()).collect();
        let all: Vec<(u32, &crate::benchmarks::Item)> = benchmarks
            .iter()
            .enumerate()
            .flat_map(|(b, bench)| bench.items.iter().map(move |item| (b as u32, item)))
            .collect();
        let (items, extras): (Vec<ItemInfo>, Vec<Option<Vec<u64>>>) = all
            .par_iter()
            .map(|&(bench, item)| {
                let extra = item.extra.as_deref().map(to_hashes);
                let info = ItemInfo {
                    bench,
                    id: item.id.as_str().into(),
                    extra_words: extra.as_ref().map_or(0, Vec::len),
                    words: to_hashes(&item.problem).into(),
                };
                (info, extra)
            })
            .unzip();
        let texts = || {
            items
                .iter()
                .zip(&extras)
                .flat_map(|(info, extra)| [Some(&info.words[..]), extra.as_deref()])
                .flatten()
        };
        // Probe m-grams: the m-gram at every position of a text long enough for an n-gram
        // (each lies inside an n-gram window). Boilerplate n-grams pruned below keep theirs:
        // that only adds probe hits that find nothing.
        let positions: usize = texts()
            .filter(|t| t.len() >= n)
            .map(|t| t.len() + 1 - probe_len)
            .sum();
        let mut probe = ProbeFilter::new(positions);
        let mut prefix = Vec::new();
        for text in texts().filter(|t| t.len() >= n) {
            prefix_hashes(text.iter().copied(), &mut prefix);
            for q in 0..=text.len() - probe_len {
                probe.insert(window_hash(&prefix, &pow, q, probe_len));
            }
        }
        // n-grams: first item per n-gram, pruned when shared by more than MAX_SHARED_ITEMS
        // items of one benchmark; earlier benchmarks win.
        let mut ranges = Vec::new();
        let mut first_item = 0usize;
        for bench in benchmarks {
            ranges.push(first_item..first_item + bench.items.len());
            first_item += bench.items.len();
        }
        // Per benchmark (in parallel): surviving n-grams, short items, trigram postings.
        let parts: Vec<BenchmarkPart> = ranges
            .into_par_iter()
            .map(|range| {
                let mut part = BenchmarkPart::default();
                // n-gram -> (first item, number of items) within this benchmark.
                let windows: usize = range
                    .clone()
                    .flat_map(|i| [Some(&items[i].words[..]), extras[i].as_deref()])
                    .flatten()
                    .map(|t| (t.len() + 1).saturating_sub(n))
                    .sum();
                // Sized once: growing a large table re-allocates (and page-faults) each time.
                let mut local: HashMap<u64, (u32, u32)> = HashMap::with_capacity(windows);
                let mut seen_here: hashbrown::HashSet<u64> = hashbrown::HashSet::new();
                for index in range {
                    seen_here.clear();
                    let hashes = &items[index].words;
                    for (text, part) in [(Some(&hashes[..]), 0), (extras[index].as_deref(), EXTRA)]
                    {
                        let Some(text) = text else { continue };
                        for_each_window(text, n, |_, h| {
                            if seen_here.insert(h) {
                                let e = local.entry(h).or_insert((index as u32 | part, 0));
                                e.1 += 1;
                            }
                        });
                    }
                    if hashes.len() < n && hashes.len() >= MIN_SHORT_WORDS {
                        part.short.push((sequence_hash(hashes), index as u32));
                    }
                    if hashes.len() >= MIN_FUZZY_WORDS {
                        for t in hashes.windows(3) {
                            part.trigrams.push((sequence_hash(t), index as u32));
                        }
                    }
                }
                part.survivors = local
                    .into_iter()
                    .filter(|(_, (_, count))| *count as usize <= MAX_SHARED_ITEMS)
                    .map(|(h, (first, _))| (h, first))
                    .collect();
                // No sort: the n-grams of one benchmark are distinct, so the order they are
                // inserted in changes where they sit in the table, not what a lookup returns.
                part
            })
            .collect();
        // Earlier benchmarks win an n-gram (or short sequence) they share with later ones.
        let survivors: Vec<(u64, u32)> = parts
            .iter()
            .flat_map(|p| p.survivors.iter().copied())
            .collect();
        let short: Vec<(u64, u32)> = parts.iter().flat_map(|p| p.short.iter().copied()).collect();
        let mut short_lengths: Vec<usize> = short
            .iter()
            .map(|&(_, item)| items[item as usize].words.len())
            .collect();
        short_lengths.sort_unstable();
        short_lengths.dedup();
        let mut trigram_pairs: Vec<(u64, u32)> =
            parts.into_iter().flat_map(|p| p.trigrams).collect();
        let mut grams = FlatMap::with_capacity(survivors.len());
        let mut ngram_count = 0;
        for &(h, item) in &survivors {
            // 1 + item, with the part bit kept.
            ngram_count += usize::from(grams.insert(h, ((item & !EXTRA) + 1) | (item & EXTRA)));
        }
        drop(survivors);
        let mut short_filter = BitFilter::new(short.len(), 16);
        let mut short_table = FlatMap::with_capacity(short.len());
        let mut short_first = WordSet::default();
        let mut short_last = WordSet::default();
        for &(h, item) in &short {
            short_filter.insert(h);
            short_table.insert(h, item + 1);
            let words = &items[item as usize].words;
            if let (Some(&first), Some(&last)) = (words.first(), words.last()) {
                short_first.insert(first);
                short_last.insert(last);
            }
        }
        // Trigram postings: items (ascending, each once) per trigram shared by at most
        // MAX_TRIGRAM_ITEMS items.
        trigram_pairs.par_sort_unstable();
        trigram_pairs.dedup();
        let groups = trigram_pairs.chunk_by(|a, b| a.0 == b.0);
        let kept = groups
            .clone()
            .filter(|g| g.len() <= MAX_TRIGRAM_ITEMS)
            .count();
        let mut trigram_filter = BitFilter::new(kept, 12);
        let mut trigrams = FlatMap::with_capacity(kept);
        let mut postings = Vec::new();
        for group in groups.filter(|g| g.len() <= MAX_TRIGRAM_ITEMS) {
            let h = group[0].0;
            trigram_filter.insert(h);
            if group.len() == 1 {
                trigrams.insert(h, (group[0].1, 1));
            } else {
                trigrams.insert(h, (postings.len() as u32, group.len() as u32));
                postings.extend(group.iter().map(|&(_, item)| item));
            }
        }
        DecontamIndex {
            config,
            names: names.iter().map(|n| Arc::from(n.as_str())).collect(),
            benchmarks: names,
            spans: true,
            items,
            n,
            probe_len,
            stride,
            ngram_count,
            grams,
            probe,
            short: short_table,
            short_filter,
            short_first,
            short_last,
            short_lengths,
            trigrams,
            postings,
            trigram_filter,
            pow,
            cache: ProblemCache::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DecontamConfig {
        &self.config
    }

    /// Whether hits carry the matching text of the record (on by default). A caller that
    /// only counts or marks hits turns spans off: a hit then allocates nothing but its field
    /// name.
    pub fn set_spans(&mut self, on: bool) {
        self.spans = on;
    }

    /// Benchmarks indexed, in order.
    pub fn benchmarks(&self) -> &[String] {
        &self.benchmarks
    }

    /// Items indexed.
    pub fn items(&self) -> usize {
        self.items.len()
    }

    /// Distinct n-grams indexed.
    pub fn ngrams(&self) -> usize {
        self.ngram_count
    }

    #[expect(clippy::too_many_arguments)]
    fn hit(
        &self,
        field: &str,
        item: u32,
        extra: bool,
        method: Method,
        text: &str,
        ws: &[Word],
        first: usize,
        last: usize,
        matched: usize,
    ) -> Hit {
        let info = &self.items[item as usize];
        let (start, mut end) = (ws[first].start as usize, ws[last].end as usize);
        if end - start > MAX_SPAN_BYTES {
            end = start + MAX_SPAN_BYTES;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
        }
        let item_words = self.part_words(item, extra);
        Hit {
            field: field.to_string(),
            benchmark: self.names[info.bench as usize].clone(),
            item: info.id.clone(),
            method,
            span: if self.spans {
                text[start..end].to_string()
            } else {
                String::new()
            },
            matched_words: matched,
            score: (matched as f64 / item_words as f64).min(1.0),
        }
    }

    /// Hits of one text. `problem` enables the problem-level matchers. At most one hit per
    /// (field, item). Buffers are reused per thread: the call allocates only for hits.
    /// A problem text seen before (same field and bytes) gets the hits of its first check.
    pub fn check(&self, field: &str, text: &str, problem: bool, out: &mut Vec<Hit>) {
        if problem && text.len() <= MAX_CACHED_PROBLEM_BYTES {
            let key = ProblemCache::key(field, text);
            if self.cache.get(self, key, field, text, out) {
                return;
            }
            let before = out.len();
            let mut items = Vec::new();
            self.check_uncached(field, text, problem, out, Some(&mut items));
            self.cache.insert(key, text, &out[before..], &items);
            return;
        }
        self.check_uncached(field, text, problem, out, None);
    }

    /// [`DecontamIndex::check`] without the problem cache; with `items`, the item of each hit
    /// is appended to it.
    fn check_uncached(
        &self,
        field: &str,
        text: &str,
        problem: bool,
        out: &mut Vec<Hit>,
        items: Option<&mut Vec<u32>>,
    ) {
        let check = |scratch: &mut Scratch| {
            self.check_with(scratch, field, text, problem, out);
            // Every hit of a check is one `found` entry, in the same order.
            if let Some(items) = items {
                items.extend(scratch.found.iter().map(|f| f.item));
            }
        };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                scratch.found.clear();
                check(&mut scratch);
                if scratch.words.capacity().max(scratch.hashes.capacity()) > SCRATCH_KEEP_WORDS {
                    *scratch = Scratch::default();
                }
            }
            Err(_) => check(&mut Scratch::default()),
        });
    }

    /// The n-gram matcher alone (traces, and problems without the problem matchers): the
    /// text is tokenized into word hashes only; the word spans are computed (by the same
    /// tokenizer) only when an n-gram matched, to report the hit.
    fn check_ngrams(&self, scratch: &mut Scratch, field: &str, text: &str, out: &mut Vec<Hit>) {
        let Scratch {
            words: ws,
            hashes,
            keys,
            lookups,
            found,
            matched,
            ..
        } = scratch;
        let (m, stride) = (self.probe_len, self.stride);
        let text = words_nfkc_into(text, hashes);
        let len = hashes.len();
        let n = self.n;
        if len < n {
            return;
        }
        // The probe m-grams at multiples of the stride, hashed in one tight pass.
        keys.clear();
        keys.extend((0..=len - m).step_by(stride).map(|p| {
            let acc = hashes[p..p + m]
                .iter()
                .fold(0u64, |acc, &h| acc.wrapping_mul(NGRAM_BASE).wrapping_add(h));
            (p as u32, mix64(acc ^ m as u64))
        }));
        // The filter keeps the probes that may lie in an indexed n-gram (in one pass without
        // branches: its loads overlap).
        self.probe.retain_possible(keys);
        if keys.is_empty() {
            return;
        }
        // The n-windows whose probe position is p, looked up in order.
        lookups.clear();
        for &(p, _) in keys.iter() {
            let p = p as usize;
            for start in (p + m).saturating_sub(n)..=p.min(len - n) {
                lookups.push((start as u32, sequence_hash(&hashes[start..start + n])));
            }
        }
        std::hint::black_box(self.grams.touch(lookups));
        found.clear();
        matched.clear();
        for &(start, h) in lookups.iter() {
            if let Some(item) = self.grams.get(h) {
                if matched.insert(h) {
                    add_ngram(found, item, start as usize, n);
                }
            }
        }
        self.keep_covering(found);
        if found.is_empty() {
            return;
        }
        // The same words with their spans (the tokenizer is the same: same words, same order).
        words_of_nfkc(&text, ws);
        debug_assert_eq!(ws.len(), len);
        if ws.len() != len {
            return;
        }
        for f in found.iter() {
            out.push(self.hit(
                field,
                f.item,
                f.extra,
                Method::Ngram,
                &text,
                ws,
                f.first,
                f.last,
                f.matched,
            ));
        }
    }

    /// Words of the part of the item an n-gram hit is on (its problem or its extra text).
    fn part_words(&self, item: u32, extra: bool) -> usize {
        let info = &self.items[item as usize];
        if extra {
            info.extra_words
        } else {
            info.words.len()
        }
        .max(1)
    }

    /// Drop the n-gram hits that cover less than `min_coverage` of their part of the item,
    /// then keep one hit per item (the first found).
    fn keep_covering(&self, found: &mut Vec<Found>) {
        let min = self.config.min_coverage;
        if min > 0.0 {
            found.retain(|f| f.matched as f64 >= min * self.part_words(f.item, f.extra) as f64);
        }
        let mut k = 1;
        while k < found.len() {
            if found[..k].iter().any(|f| f.item == found[k].item) {
                found.remove(k);
            } else {
                k += 1;
            }
        }
    }

    fn check_with(
        &self,
        scratch: &mut Scratch,
        field: &str,
        text: &str,
        problem: bool,
        out: &mut Vec<Hit>,
    ) {
        if !(problem && self.config.short_matcher) {
            self.check_ngrams(scratch, field, text, out);
            return;
        }
        let Scratch {
            words: ws,
            prefix,
            keys,
            lookups,
            found,
            matched,
            candidates,
            votes,
            used,
            lcs: lcs_scratch,
            ..
        } = scratch;
        let text = words_nfkc(text, ws);
        let text: &str = &text;
        if ws.is_empty() {
            return;
        }
        let len = ws.len();
        // The problem matchers hash windows at every position: prefix hashes make each O(1).
        prefix_hashes(ws.iter().map(|w| w.hash), prefix);
        let pow = &self.pow[..];
        let hash_at = |start: usize, l: usize| -> u64 { window_hash(prefix, pow, start, l) };
        let (n, m, stride) = (self.n, self.probe_len, self.stride);
        found.clear();
        // Probe m-grams at multiples of the stride; the filter keeps the probes that may lie
        // in an indexed n-gram (in one pass without branches: its loads overlap).
        keys.clear();
        if len >= n {
            keys.extend(
                (0..=len - m)
                    .step_by(stride)
                    .map(|p| (p as u32, hash_at(p, m))),
            );
        }
        self.probe.retain_possible(keys);
        // The n-windows whose probe position is p, looked up in order.
        lookups.clear();
        for &(p, _) in keys.iter() {
            let p = p as usize;
            for start in (p + m).saturating_sub(n)..=p.min(len - n) {
                lookups.push((start as u32, hash_at(start, n)));
            }
        }
        std::hint::black_box(self.grams.touch(lookups));
        matched.clear();
        for &(start, h) in lookups.iter() {
            let Some(item) = self.grams.get(h) else {
                continue;
            };
            if matched.insert(h) {
                add_ngram(found, item, start as usize, n);
            }
        }
        self.keep_covering(found);
        for f in found.iter() {
            out.push(self.hit(
                field,
                f.item,
                f.extra,
                Method::Ngram,
                text,
                ws,
                f.first,
                f.last,
                f.matched,
            ));
        }
        // Contained short items. A window can only equal a short item when its first and
        // last words are the first and last words of one (the words are compared below), so
        // the window hash is computed only where both are in the small first/last word sets.
        keys.clear();
        keys.extend(
            ws.iter()
                .enumerate()
                .filter(|(_, w)| self.short_first.contains(w.hash))
                .map(|(i, w)| (i as u32, w.hash)),
        );
        for &l in &self.short_lengths {
            if l > len {
                break;
            }
            for &(start, _) in keys.iter() {
                let start = start as usize;
                if start + l > len {
                    break;
                }
                if !self.short_last.contains(ws[start + l - 1].hash) {
                    continue;
                }
                let h = window_hash(prefix, pow, start, l);
                if !self.short_filter.contains(h) {
                    continue;
                }
                let Some(item) = self.short.get(h) else {
                    continue;
                };
                let item = item - 1;
                let same = self.items[item as usize]
                    .words
                    .iter()
                    .eq(ws[start..start + l].iter().map(|w| &w.hash));
                if same && !found.iter().any(|f| f.item == item) {
                    found.push(Found {
                        item,
                        extra: false,
                        first: start,
                        last: start + l - 1,
                        matched: l,
                        cover: start + l,
                    });
                    out.push(self.hit(
                        field,
                        item,
                        false,
                        Method::Contained,
                        text,
                        ws,
                        start,
                        start + l - 1,
                        l,
                    ));
                }
            }
        }
        // Fuzzy: candidates by rare trigrams, verified by word LCS.
        if len < 3 {
            return;
        }
        candidates.clear();
        keys.clear();
        keys.extend((0..=len - 3).map(|start| (start as u32, window_hash(prefix, pow, start, 3))));
        self.trigram_filter.retain_possible(keys);
        std::hint::black_box(self.trigrams.touch(keys));
        for &(_, h) in keys.iter() {
            if let Some((first, count)) = self.trigrams.get(h) {
                if count == 1 {
                    candidates.push(first);
                } else {
                    candidates.extend_from_slice(
                        &self.postings[first as usize..(first + count) as usize],
                    );
                }
            }
        }
        if candidates.is_empty() {
            return;
        }
        // Votes per item in a small open-addressing table (no sort), then the best
        // FUZZY_CANDIDATES by (votes descending, item ascending).
        // `votes` is all zeros between calls; only the slots used here are visited and reset.
        let capacity = (candidates.len() * 2).next_power_of_two().max(64);
        let mask = capacity - 1;
        if votes.len() < capacity {
            votes.resize(capacity, (0, 0));
        }
        used.clear();
        let mut best: [(u32, u32); FUZZY_CANDIDATES] = [(u32::MAX, 0); FUZZY_CANDIDATES];
        for &item in candidates.iter() {
            let mut slot = (mix64(u64::from(item)) as usize) & mask;
            while votes[slot].1 != 0 && votes[slot].0 != item {
                slot = (slot + 1) & mask;
            }
            if votes[slot].1 == 0 {
                used.push(slot as u32);
            }
            votes[slot] = (item, votes[slot].1 + 1);
        }
        // (votes, item) pairs are distinct, so the best FUZZY_CANDIDATES by this strict order
        // do not depend on the order the items are visited in.
        let better = |a: (u32, u32), b: (u32, u32)| a.1 > b.1 || (a.1 == b.1 && a.0 < b.0);
        for &slot in used.iter() {
            let mut entry = votes[slot as usize];
            votes[slot as usize] = (0, 0);
            let last = best[FUZZY_CANDIDATES - 1];
            if last.1 != 0 && !better(entry, last) {
                continue;
            }
            for b in best.iter_mut() {
                if b.1 == 0 || better(entry, *b) {
                    std::mem::swap(b, &mut entry);
                    if entry.1 == 0 {
                        break;
                    }
                }
            }
        }
        // Load the candidates' word lists together (their cache misses overlap).
        let touched = best
            .iter()
            .filter(|b| b.1 != 0)
            .map(|b| self.items[b.0 as usize].words.first().copied().unwrap_or(0))
            .fold(0, |acc, w| acc ^ w);
        std::hint::black_box(touched);
        // A 1024-bit set of the text's words: the item words found in it bound the LCS from
        // above, so most candidates are rejected without aligning them.
        let mut signature = [0u64; 16];
        for w in ws.iter() {
            let bit = (w.hash >> 40) as usize & 1023;
            signature[bit >> 6] |= 1 << (bit & 63);
        }
        for &(item, _) in best.iter().filter(|b| b.1 != 0) {
            if found.iter().any(|f| f.item == item) {
                continue;
            }
            let target = &self.items[item as usize].words;
            if target.len() < MIN_FUZZY_WORDS || len as f64 > target.len() as f64 * 1.5 + 20.0 {
                continue;
            }
            let bound = target
                .iter()
                .filter(|&&h| {
                    let bit = (h >> 40) as usize & 1023;
                    signature[bit >> 6] & (1 << (bit & 63)) != 0
                })
                .count();
            // Same expression as the score below: aligned <= bound, so the score is lower too.
            if (bound as f64 / target.len() as f64) < self.config.fuzzy_threshold {
                continue;
            }
            let (aligned, first, last) = lcs_scratch.lcs(target, ws);
            let score = aligned as f64 / target.len() as f64;
            if score >= self.config.fuzzy_threshold {
                found.push(Found {
                    item,
                    extra: false,
                    first,
                    last,
                    matched: aligned,
                    cover: last + 1,
                });
                out.push(self.hit(
                    field,
                    item,
                    false,
                    Method::Fuzzy,
                    text,
                    ws,
                    first,
                    last,
                    aligned,
                ));
            }
        }
    }
}

/// Bit-parallel word LCS (Hyyrö 2004: `V' = (V + (V & M)) | (V & !M)`, one bit per item word,
/// 64 item words per machine word), with reused buffers.
#[derive(Default)]
struct LcsScratch {
    /// Open-addressing table of the item's distinct words: slot -> 1 + mask index (0 = empty).
    slots: Vec<u32>,
    keys: Vec<u64>,
    /// Match masks, `blocks` words per distinct item word.
    masks: Vec<u64>,
    v: Vec<u64>,
}

impl LcsScratch {
    /// Word-level longest common subsequence of `item` within `text`: (length, first and last
    /// text position of the alignment). Same result as the dynamic program [`lcs`].
    fn lcs(&mut self, item: &[u64], text: &[Word]) -> (usize, usize, usize) {
        let (m, n) = (item.len(), text.len());
        if m == 0 || n == 0 {
            return (0, 0, 0);
        }
        let blocks = m.div_ceil(64);
        let capacity = (2 * m).next_power_of_two().max(16);
        let table_mask = capacity - 1;
        self.slots.clear();
        self.slots.resize(capacity, 0);
        self.keys.clear();
        self.keys.resize(capacity, 0);
        self.masks.clear();
        let slot_of = |slots: &[u32], keys: &[u64], h: u64| -> (usize, bool) {
            let mut s = (mix64(h) as usize) & table_mask;
            loop {
                if slots[s] == 0 {
                    return (s, false);
                }
                if keys[s] == h {
                    return (s, true);
                }
                s = (s + 1) & table_mask;
            }
        };
        for (i, &h) in item.iter().enumerate() {
            let (s, present) = slot_of(&self.slots, &self.keys, h);
            if !present {
                self.slots[s] = (self.masks.len() / blocks) as u32 + 1;
                self.keys[s] = h;
                self.masks.resize(self.masks.len() + blocks, 0);
            }
            let base = (self.slots[s] as usize - 1) * blocks;
            self.masks[base + i / 64] |= 1u64 << (i % 64);
        }
        self.v.clear();
        self.v.resize(blocks, u64::MAX);
        let top_bits = m - (blocks - 1) * 64;
        let top_mask = if top_bits == 64 {
            u64::MAX
        } else {
            (1u64 << top_bits) - 1
        };
        let zeros = |v: &[u64]| -> usize {
            let full: usize = v[..blocks - 1]
                .iter()
                .map(|x| x.count_zeros() as usize)
                .sum();
            full + (!v[blocks - 1] & top_mask).count_ones() as usize
        };
        let mut best = 0usize;
        let mut last = 0usize;
        let mut first: Option<usize> = None;
        for (j, w) in text.iter().enumerate() {
            let (s, present) = slot_of(&self.slots, &self.keys, w.hash);
            if !present {
                continue;
            }
            first.get_or_insert(j);
            let base = (self.slots[s] as usize - 1) * blocks;
            let mut carry = 0u64;
            for (k, v) in self.v.iter_mut().enumerate() {
                let mask = self.masks[base + k];
                let u = *v & mask;
                let (sum, c1) = v.overflowing_add(u);
                let (sum, c2) = sum.overflowing_add(carry);
                carry = u64::from(c1 | c2);
                *v = sum | (*v & !mask);
            }
            let count = zeros(&self.v);
            if count > best {
                best = count;
                last = j;
            }
        }
        if best == 0 {
            return (0, 0, 0);
        }
        (best, first.unwrap_or(0).min(last), last)
    }
}

/// Word-level longest common subsequence of `item` within `text` by dynamic programming
/// (the reference for the bit-parallel [`LcsScratch::lcs`]).
#[cfg(test)]
fn lcs(item: &[u64], text: &[u64]) -> (usize, usize, usize) {
    let (m, n) = (item.len(), text.len());
    if m == 0 || n == 0 {
        return (0, 0, 0);
    }
    let mut prev = vec![0u32; n + 1];
    let mut cur = vec![0u32; n + 1];
    for &a in item {
        for j in 1..=n {
            cur[j] = if a == text[j - 1] {
                prev[j - 1] + 1
            } else {
                prev[j].max(cur[j - 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let best = prev[n] as usize;
    let last = (1..=n).find(|&j| prev[j] as usize == best).unwrap_or(n) - 1;
    let first = text
        .iter()
        .position(|w| item.contains(w))
        .unwrap_or(0)
        .min(last);
    (best, first, last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmarks::{builtin, Item};

    fn bench(name: &str, problems: &[&str]) -> Benchmark {
        Benchmark {
            name: name.into(),
            items: problems
                .iter()
                .enumerate()
                .map(|(i, p)| Item {
                    id: format!("{name}-{i}"),
                    problem: p.to_string(),
                    answer: None,
                    extra: None,
                })
                .collect(),
        }
    }

    fn hits(index: &DecontamIndex, text: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        index.check("problem", text, true, &mut out);
        out
    }

    #[test]
    fn real_gsm8k_problem_copied_into_a_trace_is_an_ngram_hit() {
        let gsm8k = builtin("gsm8k").unwrap().load().unwrap();
        let index = DecontamIndex::build(std::slice::from_ref(&gsm8k), DecontamConfig::default());
        let leaked = format!(
            "Let me restate. {} So first I compute...",
            gsm8k.items[3].problem.to_uppercase()
        );
        let mut out = Vec::new();
        index.check("trace", &leaked, false, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(&*out[0].benchmark, "gsm8k");
        assert_eq!(&*out[0].item, "3");
        assert_eq!(out[0].method, Method::Ngram);
        assert!(out[0].span.starts_with("JAMES DECIDES"), "{}", out[0].span);
        // The other 1318 problems do not match their neighbours.
        let clean =
            "Janet has three apples and buys two more at the market on Sunday; how many now?";
        assert!(hits(&index, clean).is_empty());
    }

    #[test]
    fn phrasing_shared_with_an_item_is_not_a_hit_but_a_copy_is() {
        let aime = builtin("aime24").unwrap().load().unwrap();
        // The longest AIME 2024 problem, and its closing words (the instruction part:
        // "... relatively prime positive integers. Find $m+n$." style phrasing).
        let item = aime
            .items
            .iter()
            .max_by_key(|i| i.problem.split_whitespace().count())
            .unwrap();
        let words: Vec<&str> = item.problem.split_whitespace().collect();
        assert!(words.len() >= 60, "{} words", words.len());
        let tail = words[words.len() - 16..].join(" ");
        let stem = "A jar holds red, green and blue marbles; two are drawn at random without \
                    replacement, and the chance that they differ in colour is written as below.";
        let training = format!("{stem} {tail}");
        let check = |config: DecontamConfig, text: &str| {
            let index = DecontamIndex::build(std::slice::from_ref(&aime), config);
            let mut out = Vec::new();
            index.check("problem", text, true, &mut out);
            out
        };
        // Sixteen shared words of a long item are not that item.
        assert!(check(DecontamConfig::default(), &training).is_empty());
        // Quoting them again and again does not add up to it either.
        let quoted = format!("{stem} {}", [tail.as_str(); 10].join(" Again: "));
        assert!(check(DecontamConfig::default(), &quoted).is_empty());
        // The any-n-gram rule (min_coverage 0) flags the shared phrasing.
        let any = DecontamConfig {
            min_coverage: 0.0,
            ..DecontamConfig::default()
        };
        let hits = check(any, &training);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(*hits[0].item, *item.id);
        assert!(hits[0].score < 0.5, "{}", hits[0].score);
        // The item itself, restated in a trace with two words changed, is a hit.
        let mut edited = words.clone();
        edited[10] = "seventeen";
        edited[words.len() / 2] = "purple";
        let trace = format!("We are asked: {} Let us begin.", edited.join(" "));
        let hits = check(DecontamConfig::default(), &trace);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(*hits[0].item, *item.id);
        assert_eq!(hits[0].method, Method::Ngram);
        assert!(hits[0].score > 0.9, "{}", hits[0].score);
    }

    #[test]
    fn test_asserts_are_covered_against_their_own_length() {
        // MBPP 265's asserts start with the letters a..n; the task text has 11 words.
        let mbpp = builtin("mbpp").unwrap().load().unwrap();
        let item = mbpp.items.iter().find(|i| i.id == "265").unwrap();
        let index = DecontamIndex::build(std::slice::from_ref(&mbpp), DecontamConfig::default());
        // An alphabet in a training record shares 14 words with the asserts: more than half
        // of the task text's length, a small part of the asserts'.
        let alphabet = "Label the boxes A,B,C,D,E,F,G,H,I,J,K,L,M,N and then sort them.";
        assert!(
            hits(&index, alphabet).is_empty(),
            "{:?}",
            hits(&index, alphabet)
        );
        // The asserts themselves, pasted into a solution, are a hit on that item.
        let solution = format!(
            "def list_split(S, step):\n    return [S[i::step] for i in range(step)]\n{}",
            item.extra.as_deref().unwrap()
        );
        let out = hits(&index, &solution);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(&*out[0].item, "265");
        assert_eq!(out[0].method, Method::Ngram);
        assert!(out[0].score > 0.9, "{}", out[0].score);
    }

    #[test]
    fn repeated_problems_get_the_hits_of_a_fresh_check() {
        let sets: Vec<Benchmark> = ["gsm8k", "math500", "aime24"]
            .iter()
            .map(|n| builtin(n).unwrap().load().unwrap())
            .collect();
        let index = DecontamIndex::build(&sets, DecontamConfig::default());
        // Exact copies, upper-cased and lightly edited items, and clean texts, each checked
        // three times, in the "problem" and in another field.
        let mut texts: Vec<String> = Vec::new();
        for (i, item) in sets[0].items.iter().take(60).enumerate() {
            texts.push(item.problem.clone());
            texts.push(item.problem.to_uppercase());
            texts.push(item.problem.replacen(' ', " and then ", 1 + i % 3));
            texts.push(format!(
                "A clean question number {i} about apples and pears?"
            ));
        }
        texts.extend(sets[1].items.iter().take(20).map(|i| i.problem.clone()));
        // Texts that NFKC changes (full-width letters, ligatures): their spans are not ranges
        // of the text as given.
        for item in sets[0].items.iter().take(10) {
            texts.push(
                item.problem
                    .replace('a', "\u{FF41}")
                    .replace("fi", "\u{FB01}"),
            );
        }
        texts.push(String::new());
        let mut flagged = 0;
        for field in ["problem", "question"] {
            for text in &texts {
                let mut fresh = Vec::new();
                index.check_uncached(field, text, true, &mut fresh, None);
                flagged += usize::from(!fresh.is_empty());
                for _ in 0..3 {
                    let mut cached = vec![];
                    index.check(field, text, true, &mut cached);
                    assert_eq!(cached, fresh, "{field}: {text}");
                }
            }
        }
        assert!(flagged >= 2 * (3 * 60 + 20), "{flagged}");
    }

    #[test]
    fn lightly_edited_problem_is_a_fuzzy_hit() {
        let math = builtin("math500").unwrap().load().unwrap();
        let index = DecontamIndex::build(std::slice::from_ref(&math), DecontamConfig::default());
        let original = &math.items[0].problem;
        // Replace two words: no 13-gram may survive in a short problem, fuzzy still matches.
        let edited = original
            .replacen("Convert", "Change", 1)
            .replacen("point", "dot", 1);
        let found = hits(&index, &edited);
        assert!(
            found.iter().any(|h| *h.item == *math.items[0].id),
            "{found:?}"
        );
    }

    #[test]
    fn short_items_match_when_contained() {
        let b = bench("tiny", &["Find the sum of 17 and 25.", "Is 91 prime?"]);
        let index = DecontamIndex::build(&[b], DecontamConfig::default());
        let found = hits(
            &index,
            "Question: find the SUM of 17 and 25. Answer with a number",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].method, Method::Contained);
        assert!(hits(&index, "Find the sum of 18 and 25.").is_empty());
        // Too short to match inside longer text (3 words).
        assert!(hits(&index, "Is 91 prime? Explain why or why not.").is_empty());
    }

    #[test]
    fn boilerplate_shared_by_many_items_is_not_indexed() {
        let template = "The following paragraphs each describe a set of objects arranged in a fixed order and the statements are consistent";
        let problems: Vec<String> = (0..20)
            .map(|i| format!("{template}. Object {i} is red."))
            .collect();
        let refs: Vec<&str> = problems.iter().map(String::as_str).collect();
        let index = DecontamIndex::build(
            &[bench("bbhlike", &refs)],
            DecontamConfig {
                short_matcher: false,
                ..DecontamConfig::default()
            },
        );
        assert!(hits(&index, template).is_empty());
    }

    #[test]
    fn empty_and_non_latin_texts() {
        let b = bench(
            "zh",
            &["小明有五个苹果，他吃了两个，还剩几个苹果？请写出计算过程。"],
        );
        let index = DecontamIndex::build(&[b], DecontamConfig::default());
        assert!(hits(&index, "").is_empty());
        let found = hits(
            &index,
            "题目：小明有五个苹果，他吃了两个，还剩几个苹果？请写出计算过程。",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(hits(&index, "小红有三个梨").is_empty());
    }

    #[test]
    fn lcs_aligns_words() {
        assert_eq!(lcs(&[1, 2, 3, 4], &[9, 1, 2, 7, 4]).0, 3);
        assert_eq!(lcs(&[], &[1]).0, 0);
    }

    fn as_words(hashes: &[u64]) -> Vec<Word> {
        hashes
            .iter()
            .enumerate()
            .map(|(i, &hash)| Word {
                hash,
                start: i as u32,
                end: i as u32 + 1,
            })
            .collect()
    }

    proptest::proptest! {
        /// The bit-parallel LCS (one and several 64-bit blocks) gives the dynamic program's
        /// length and span; a small alphabet makes repeated words and long alignments common.
        #[test]
        fn bit_parallel_lcs_equals_the_dynamic_program(
            item in proptest::collection::vec(0u64..6, 0..150),
            text in proptest::collection::vec(0u64..6, 0..200),
        ) {
            let mut scratch = LcsScratch::default();
            proptest::prop_assert_eq!(scratch.lcs(&item, &as_words(&text)), lcs(&item, &text));
        }
    }

    /// The n-gram hits by looking up every window (no probes, no filter), in the order and
    /// with the spans the matcher reports: each distinct n-gram counted once, hits covering
    /// less than `min_coverage` of their item dropped.
    fn ngram_hits_by_every_window(
        index: &DecontamIndex,
        text: &str,
    ) -> Vec<(String, usize, String)> {
        let mut ws = Vec::new();
        words(text, &mut ws);
        let hashes: Vec<u64> = ws.iter().map(|w| w.hash).collect();
        let n = index.n;
        let mut found: Vec<Found> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for_each_window(&hashes, n, |start, h| {
            if let Some(item) = index.grams.get(h) {
                if seen.insert(h) {
                    add_ngram(&mut found, item, start, n);
                }
            }
        });
        index.keep_covering(&mut found);
        found
            .iter()
            .map(|f| {
                let (start, end) = (ws[f.first].start as usize, ws[f.last].end as usize);
                let span = text[start..end.min(start + MAX_SPAN_BYTES)].to_string();
                (index.items[f.item as usize].id.to_string(), f.matched, span)
            })
            .collect()
    }

    #[test]
    fn probe_filter_levels_keep_every_inserted_key() {
        let keys: Vec<u64> = (0..600_000u64).map(|i| mix64(i ^ 0x5555)).collect();
        let mut filter = ProbeFilter::new(keys.len());
        assert!(filter.first.is_some());
        for &k in &keys {
            filter.insert(k);
        }
        let mut probes: Vec<(u32, u64)> = keys.iter().map(|&k| (0, k)).collect();
        filter.retain_possible(&mut probes);
        assert_eq!(probes.len(), keys.len());
        // Absent keys: the two levels reject about as many as the big filter alone or more.
        let absent: Vec<(u32, u64)> = (0..100_000u64)
            .map(|i| (i as u32, mix64(i ^ 0xaaaa_0000)))
            .collect();
        let mut both = absent.clone();
        filter.retain_possible(&mut both);
        let mut big = absent.clone();
        filter.filter.retain_possible(&mut big);
        assert!(both.len() <= big.len());
        assert!(both.iter().all(|k| big.contains(k)));
    }

    proptest::proptest! {
        /// Probing m-grams at a stride finds exactly the n-gram hits of a lookup at every
        /// window, for every n (small vocabulary: many shared and repeated n-grams).
        #[test]
        fn strided_probes_find_every_ngram_hit(
            items in proptest::collection::vec(proptest::collection::vec(0u8..12, 0..40), 1..8),
            text in proptest::collection::vec(0u8..12, 0..120),
            n in 1usize..16,
        ) {
            let vocabulary = |w: &[u8]| -> String {
                w.iter().map(|&i| format!("w{i}")).collect::<Vec<_>>().join(" ")
            };
            let problems: Vec<String> = items.iter().map(|w| vocabulary(w)).collect();
            // The text also quotes the first item, so there are long matching runs.
            let text = format!("{} {} {}", vocabulary(&text), problems[0], vocabulary(&text[..text.len() / 2]));
            let refs: Vec<&str> = problems.iter().map(String::as_str).collect();
            let index = DecontamIndex::build(
                &[bench("b", &refs)],
                DecontamConfig { ngram: n, short_matcher: false, ..DecontamConfig::default() },
            );
            let mut out = Vec::new();
            index.check("trace", &text, false, &mut out);
            let got: Vec<(String, usize, String)> = out
                .iter()
                .map(|h| (h.item.to_string(), h.matched_words, h.span.clone()))
                .collect();
            proptest::prop_assert_eq!(got, ngram_hits_by_every_window(&index, &text));
            // The problem path hashes windows from prefix hashes instead: same n-gram hits.
            let index = DecontamIndex::build(
                &[bench("b", &refs)],
                DecontamConfig { ngram: n, ..DecontamConfig::default() },
            );
            let mut out = Vec::new();
            index.check("problem", &text, true, &mut out);
            let got: Vec<(String, usize, String)> = out
                .iter()
                .filter(|h| h.method == Method::Ngram)
                .map(|h| (h.item.to_string(), h.matched_words, h.span.clone()))
                .collect();
            proptest::prop_assert_eq!(got, ngram_hits_by_every_window(&index, &text));
        }
    }

    /// The contained-item hits by hashing every window of every short length (no first/last
    /// word sets), in the matcher's order: (item id, first word, last word).
    fn contained_hits_by_every_window(
        index: &DecontamIndex,
        text: &str,
    ) -> Vec<(String, usize, usize)> {
        let mut ws = Vec::new();
        words(text, &mut ws);
        let hashes: Vec<u64> = ws.iter().map(|w| w.hash).collect();
        let mut out: Vec<(String, usize, usize)> = Vec::new();
        for &l in &index.short_lengths {
            for start in 0..(hashes.len() + 1).saturating_sub(l) {
                let Some(item) = index.short.get(sequence_hash(&hashes[start..start + l])) else {
                    continue;
                };
                let info = &index.items[item as usize - 1];
                if info.words[..] == hashes[start..start + l]
                    && !out.iter().any(|(id, _, _)| **id == *info.id)
                {
                    out.push((info.id.to_string(), start, start + l - 1));
                }
            }
        }
        out
    }

    proptest::proptest! {
        /// The first/last-word prefilter of the contained matcher finds exactly the hits of a
        /// lookup of every window of every short length (small vocabulary: short items occur
        /// often, overlapping and repeated; n-grams are off so only contained hits are made).
        #[test]
        fn contained_prefilter_finds_every_short_item(
            items in proptest::collection::vec(proptest::collection::vec(0u8..6, 4..13), 1..12),
            text in proptest::collection::vec(0u8..9, 0..80),
        ) {
            let vocabulary = |w: &[u8]| -> String {
                w.iter().map(|&i| format!("w{i}")).collect::<Vec<_>>().join(" ")
            };
            let problems: Vec<String> = items.iter().map(|w| vocabulary(w)).collect();
            let text = format!("{} {} {}", vocabulary(&text), problems[0], vocabulary(&text[..text.len() / 3]));
            let refs: Vec<&str> = problems.iter().map(String::as_str).collect();
            let index = DecontamIndex::build(
                &[bench("b", &refs)],
                DecontamConfig { ngram: 40, ..DecontamConfig::default() },
            );
            let mut out = Vec::new();
            index.check("problem", &text, true, &mut out);
            let got: Vec<(String, usize)> = out
                .iter()
                .filter(|h| h.method == Method::Contained)
                .map(|h| (h.item.to_string(), h.matched_words))
                .collect();
            let expected: Vec<(String, usize)> = contained_hits_by_every_window(&index, &text)
                .into_iter()
                .map(|(id, first, last)| (id, last + 1 - first))
                .collect();
            proptest::prop_assert!(!expected.is_empty());
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn window_hashes_from_prefixes_equal_the_rolling_hashes() {
        let words: Vec<u64> = (0..40u64).map(|i| mix64(i % 7)).collect();
        let pow: Vec<u64> = std::iter::successors(Some(1u64), |p| Some(p.wrapping_mul(NGRAM_BASE)))
            .take(14)
            .collect();
        let mut prefix = Vec::new();
        prefix_hashes(words.iter().copied(), &mut prefix);
        let mut rolled = Vec::new();
        for_each_window(&words, 13, |start, h| rolled.push((start, h)));
        assert_eq!(rolled.len(), 28);
        for (start, h) in rolled {
            assert_eq!(window_hash(&prefix, &pow, start, 13), h);
            assert_eq!(sequence_hash(&words[start..start + 13]), h);
        }
    }
}
