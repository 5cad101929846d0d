//! Benchmark decontamination: n-gram overlap plus a short-problem matcher.
//!
//! # What it does
//!
//! [`DecontamIndex::build`] indexes benchmark items; [`DecontamIndex::check`] finds hits in a
//! record's texts. Three matchers, all on the word tokens of [`crate::normalize::words`]
//! (NFKC, lowercase, punctuation and LaTeX formatting dropped):
//!
//! 1. **n-gram** (every field): a hit when the text shares one word n-gram (default 13) with a
//!    benchmark item's problem (or its `extra` text, e.g. MBPP asserts). n-grams that occur in
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
use crate::normalize::{mix64, nfkc, words, words_of_nfkc, Word};
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

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

/// Decontamination parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecontamConfig {
    /// Word n-gram length.
    pub ngram: usize,
    /// Run the contained/fuzzy problem matchers.
    pub short_matcher: bool,
    /// Minimum aligned fraction of an item's words for a fuzzy hit.
    pub fuzzy_threshold: f64,
}

impl Default for DecontamConfig {
    fn default() -> Self {
        DecontamConfig {
            ngram: 13,
            short_matcher: true,
            fuzzy_threshold: 0.8,
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
    /// Benchmark name.
    pub benchmark: String,
    /// Benchmark item id.
    pub item: String,
    /// Matcher.
    pub method: Method,
    /// The matching text of the record (NFKC form).
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
    id: String,
    words: Box<[u64]>,
}

/// The benchmark index.
pub struct DecontamIndex {
    config: DecontamConfig,
    benchmarks: Vec<String>,
    items: Vec<ItemInfo>,
    grams: HashMap<u64, u32>,
    filter: Vec<u64>,
    filter_mask: u64,
    short: HashMap<u64, u32>,
    short_lengths: Vec<usize>,
    trigrams: HashMap<u64, Vec<u32>>,
}

const NGRAM_BASE: u64 = 0x100_0000_01b3 | 1;

/// Rolling polynomial hashes of every `n`-word window of `words`, calling `f(start, hash)`.
#[inline]
fn for_each_window(words: &[Word], n: usize, mut f: impl FnMut(usize, u64)) {
    if n == 0 || words.len() < n {
        return;
    }
    let mut pow = 1u64;
    for _ in 0..n {
        pow = pow.wrapping_mul(NGRAM_BASE);
    }
    let mut h = 0u64;
    for (i, w) in words.iter().enumerate() {
        h = h.wrapping_mul(NGRAM_BASE).wrapping_add(w.hash);
        if i >= n {
            h = h.wrapping_sub(words[i - n].hash.wrapping_mul(pow));
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

fn to_words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    words(text, &mut out);
    out
}

impl DecontamIndex {
    /// Index `benchmarks`.
    pub fn build(benchmarks: &[Benchmark], config: DecontamConfig) -> DecontamIndex {
        let n = config.ngram.max(1);
        let mut items = Vec::new();
        let mut grams: HashMap<u64, u32> = HashMap::new();
        let mut short: HashMap<u64, u32> = HashMap::new();
        let mut short_lengths = Vec::new();
        let mut trigrams: HashMap<u64, Vec<u32>> = HashMap::new();
        let mut names = Vec::new();
        let mut removed: hashbrown::HashSet<u64> = hashbrown::HashSet::new();
        for (b, bench) in benchmarks.iter().enumerate() {
            names.push(bench.name.clone());
            // n-gram -> (first item, number of items) within this benchmark.
            let mut local: HashMap<u64, (u32, u32)> = HashMap::new();
            for item in &bench.items {
                let index = items.len() as u32;
                let problem_words = to_words(&item.problem);
                let hashes: Box<[u64]> = problem_words.iter().map(|w| w.hash).collect();
                let mut seen_here: hashbrown::HashSet<u64> = hashbrown::HashSet::new();
                for text_words in [Some(problem_words), item.extra.as_deref().map(to_words)]
                    .into_iter()
                    .flatten()
                {
                    for_each_window(&text_words, n, |_, h| {
                        if seen_here.insert(h) {
                            let e = local.entry(h).or_insert((index, 0));
                            e.1 += 1;
                        }
                    });
                }
                if hashes.len() < n && hashes.len() >= MIN_SHORT_WORDS {
                    short.entry(sequence_hash(&hashes)).or_insert(index);
                    if !short_lengths.contains(&hashes.len()) {
                        short_lengths.push(hashes.len());
                    }
                }
                if hashes.len() >= MIN_FUZZY_WORDS {
                    let mut seen: hashbrown::HashSet<u64> = hashbrown::HashSet::new();
                    for t in hashes.windows(3) {
                        let h = sequence_hash(t);
                        if seen.insert(h) {
                            trigrams.entry(h).or_default().push(index);
                        }
                    }
                }
                items.push(ItemInfo {
                    bench: b as u32,
                    id: item.id.clone(),
                    words: hashes,
                });
            }
            for (h, (first, count)) in local {
                if count as usize > MAX_SHARED_ITEMS {
                    removed.insert(h);
                    continue;
                }
                grams.entry(h).or_insert(first);
            }
        }
        trigrams.retain(|_, v| v.len() <= MAX_TRIGRAM_ITEMS);
        short_lengths.sort_unstable();
        // Bit filter: ~16 bits per n-gram (false-positive rate ~6% with one probe).
        let bits = (grams.len() * 16).next_power_of_two().max(1 << 16);
        let mut filter = vec![0u64; bits / 64];
        let filter_mask = bits as u64 - 1;
        for &h in grams.keys() {
            let bit = h & filter_mask;
            filter[(bit >> 6) as usize] |= 1 << (bit & 63);
        }
        DecontamIndex {
            config,
            benchmarks: names,
            items,
            grams,
            filter,
            filter_mask,
            short,
            short_lengths,
            trigrams,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DecontamConfig {
        &self.config
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
        self.grams.len()
    }

    #[inline]
    fn maybe(&self, h: u64) -> bool {
        let bit = h & self.filter_mask;
        self.filter[(bit >> 6) as usize] & (1 << (bit & 63)) != 0
    }

    #[expect(clippy::too_many_arguments)]
    fn hit(
        &self,
        field: &str,
        item: u32,
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
        let item_words = info.words.len().max(1);
        Hit {
            field: field.to_string(),
            benchmark: self.benchmarks[info.bench as usize].clone(),
            item: info.id.clone(),
            method,
            span: text[start..end].to_string(),
            matched_words: matched,
            score: (matched as f64 / item_words as f64).min(1.0),
        }
    }

    /// Hits of one text. `problem` enables the problem-level matchers. At most one hit per
    /// (field, item).
    pub fn check(&self, field: &str, text: &str, problem: bool, out: &mut Vec<Hit>) {
        let text = nfkc(text);
        let text: &str = &text;
        let mut ws = Vec::new();
        words_of_nfkc(text, &mut ws);
        if ws.is_empty() {
            return;
        }
        let n = self.config.ngram.max(1);
        // item -> (first word, last word, matched words)
        let mut found: Vec<(u32, usize, usize, usize)> = Vec::new();
        let mut last_cover: Vec<usize> = Vec::new();
        for_each_window(&ws, n, |start, h| {
            if !self.maybe(h) {
                return;
            }
            if let Some(&item) = self.grams.get(&h) {
                match found.iter().position(|f| f.0 == item) {
                    Some(p) => {
                        let f = &mut found[p];
                        let end = start + n - 1;
                        let new_words = (end + 1).saturating_sub(last_cover[p].max(start));
                        f.3 += new_words.min(n);
                        f.2 = end;
                        last_cover[p] = end + 1;
                    }
                    None => {
                        found.push((item, start, start + n - 1, n));
                        last_cover.push(start + n);
                    }
                }
            }
        });
        for &(item, first, last, matched) in &found {
            out.push(self.hit(field, item, Method::Ngram, text, &ws, first, last, matched));
        }
        if !problem || !self.config.short_matcher {
            return;
        }
        let hashes: Vec<u64> = ws.iter().map(|w| w.hash).collect();
        // Contained short items.
        for &len in &self.short_lengths {
            if len > hashes.len() {
                break;
            }
            for start in 0..=hashes.len() - len {
                let h = sequence_hash(&hashes[start..start + len]);
                if let Some(&item) = self.short.get(&h) {
                    if self.items[item as usize].words[..] == hashes[start..start + len]
                        && !found.iter().any(|f| f.0 == item)
                    {
                        found.push((item, start, start + len - 1, len));
                        out.push(self.hit(
                            field,
                            item,
                            Method::Contained,
                            text,
                            &ws,
                            start,
                            start + len - 1,
                            len,
                        ));
                    }
                }
            }
        }
        // Fuzzy: candidates by rare trigrams, verified by word LCS.
        if hashes.len() < 3 {
            return;
        }
        let mut votes: HashMap<u32, u32> = HashMap::new();
        for t in hashes.windows(3) {
            if let Some(list) = self.trigrams.get(&sequence_hash(t)) {
                for &item in list {
                    *votes.entry(item).or_insert(0) += 1;
                }
            }
        }
        let mut candidates: Vec<(u32, u32)> = votes.into_iter().collect();
        candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for &(item, _) in candidates.iter().take(FUZZY_CANDIDATES) {
            if found.iter().any(|f| f.0 == item) {
                continue;
            }
            let target = &self.items[item as usize].words;
            if target.len() < MIN_FUZZY_WORDS
                || hashes.len() as f64 > target.len() as f64 * 1.5 + 20.0
            {
                continue;
            }
            let (aligned, first, last) = lcs(target, &hashes);
            let score = aligned as f64 / target.len() as f64;
            if score >= self.config.fuzzy_threshold {
                found.push((item, first, last, aligned));
                out.push(self.hit(field, item, Method::Fuzzy, text, &ws, first, last, aligned));
            }
        }
    }
}

/// Word-level longest common subsequence of `item` within `text`: (length, first and last
/// text position of the alignment).
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
    // Span: first text position where the LCS count starts to grow and where it is reached.
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
        assert_eq!(out[0].benchmark, "gsm8k");
        assert_eq!(out[0].item, "3");
        assert_eq!(out[0].method, Method::Ngram);
        assert!(out[0].span.starts_with("JAMES DECIDES"), "{}", out[0].span);
        // The other 1318 problems do not match their neighbours.
        let clean =
            "Janet has three apples and buys two more at the market on Sunday; how many now?";
        assert!(hits(&index, clean).is_empty());
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
            found.iter().any(|h| h.item == math.items[0].id),
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
}
