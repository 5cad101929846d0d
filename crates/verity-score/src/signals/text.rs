//! Attempt-level text signals: lengths, think-block shape, final answer and truncation, answer
//! consistency, repetition, reflection markers and language (script) mix.
//!
//! Every function here is a pure function of the text; none allocates more than a few vectors
//! per call, and none can fail: an empty text yields zeros or an absent signal.

use crate::util::{last_boxed, normalize_answer};

/// Shape of the `<think>` block(s) in an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkShape {
    /// The adapter stored the trace and the response separately (the block was split off).
    Separate,
    /// No think tags at all.
    None,
    /// One `<think>` followed by one `</think>`.
    Closed,
    /// `<think>` without `</think>`: generation stopped inside the reasoning.
    Unclosed,
    /// Only `</think>` (chat templates that prefill `<think>` in the prompt).
    CloseOnly,
    /// Several blocks or tags out of order.
    Malformed,
}

impl ThinkShape {
    /// Name written into the `think` signal.
    pub fn as_str(self) -> &'static str {
        match self {
            ThinkShape::Separate => "separate",
            ThinkShape::None => "none",
            ThinkShape::Closed => "closed",
            ThinkShape::Unclosed => "unclosed",
            ThinkShape::CloseOnly => "close_only",
            ThinkShape::Malformed => "malformed",
        }
    }

    /// Whether the shape is well formed (everything but `unclosed` and `malformed`).
    pub fn well_formed(self) -> bool {
        !matches!(self, ThinkShape::Unclosed | ThinkShape::Malformed)
    }
}

/// Opening and closing think tags in `text`, with the offset of the first of each.
fn think_tags(text: &str) -> (usize, usize, Option<usize>, Option<usize>) {
    let bytes = text.as_bytes();
    let (mut opens, mut closes, mut first_open, mut first_close) = (0, 0, None, None);
    // The searcher is built once (building it took as long as searching a trace).
    static TAG: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"think>"));
    for at in TAG.find_iter(bytes) {
        if at >= 2 && &bytes[at - 2..at] == b"</" {
            closes += 1;
            first_close.get_or_insert(at - 2);
        } else if at >= 1 && bytes[at - 1] == b'<' {
            opens += 1;
            first_open.get_or_insert(at - 1);
        }
    }
    (opens, closes, first_open, first_close)
}

/// Classify the think tags of an attempt given its trace and response.
pub fn think_shape(trace: Option<&str>, response: Option<&str>) -> ThinkShape {
    let t = think_tags(trace.unwrap_or(""));
    let r = think_tags(response.unwrap_or(""));
    let (opens, closes) = (t.0 + r.0, t.1 + r.1);
    if trace.is_some() && response.is_some() && opens == 0 && closes == 0 {
        return ThinkShape::Separate;
    }
    match (opens, closes) {
        (0, 0) => ThinkShape::None,
        (1, 1) => {
            // Order across the two texts: the trace comes first.
            let open = t.2.map(|o| (0, o)).or(r.2.map(|o| (1, o)));
            let close = t.3.map(|c| (0, c)).or(r.3.map(|c| (1, c)));
            if open < close {
                ThinkShape::Closed
            } else {
                ThinkShape::Malformed
            }
        }
        (1, 0) => ThinkShape::Unclosed,
        (0, 1) => ThinkShape::CloseOnly,
        _ => ThinkShape::Malformed,
    }
}

/// Where a final answer was found.
pub fn final_answer_marker(answer: Option<&str>, text: &str, code: bool) -> Option<&'static str> {
    if answer.is_some_and(|a| !a.trim().is_empty()) {
        return Some("answer_field");
    }
    if last_boxed(text).is_some() {
        return Some("boxed");
    }
    let tail_start = text.len().saturating_sub(600);
    let tail_start = (tail_start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    let tail = text[tail_start..].to_ascii_lowercase();
    if tail.contains("answer is") || tail.contains("answer:") || tail.contains("####") {
        return Some("answer_phrase");
    }
    if code && text.contains("```") {
        return Some("code_block");
    }
    None
}

/// The answer a trace arrives at (its last `\boxed{}`), normalized.
pub fn trace_answer(trace: &str) -> Option<String> {
    last_boxed(trace).map(normalize_answer)
}

/// Answer consistency: does the answer the trace arrives at equal the stated final answer
/// (string-normalized)? `Err(reason)` when either side is missing.
pub fn answer_consistency(
    trace: Option<&str>,
    response: Option<&str>,
    answer: Option<&str>,
) -> Result<bool, &'static str> {
    let Some(trace) = trace.filter(|t| !t.trim().is_empty()) else {
        return Err("no trace");
    };
    let Some(in_trace) = trace_answer(trace) else {
        return Err("the trace states no boxed answer");
    };
    let stated = answer
        .filter(|a| !a.trim().is_empty())
        .map(normalize_answer)
        .or_else(|| response.and_then(last_boxed).map(normalize_answer));
    let Some(stated) = stated else {
        return Err("no stated final answer");
    };
    Ok(in_trace == stated)
}

/// Repetition measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Repetition {
    /// Words in the text.
    pub words: usize,
    /// Share of word n-grams that repeat an earlier n-gram (0 = no repeats).
    pub ngram_ratio: f64,
    /// Share of repeated word 8-grams in the last quarter of the text (at most 400 words).
    pub tail_ratio: f64,
    /// The tail repeats itself: `tail_ratio >= 0.5` over at least 64 words.
    pub looping: bool,
}

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Hash of the word `b[s..e]` (non-empty). A word of at most 15 bytes is hashed as a space
/// followed by the word ([`short_word_hash`] of those bytes), so the token scan, which loads a
/// word with the whitespace character before it, hashes the bytes it loaded with that
/// character set to a space.
#[inline]
pub(crate) fn word_hash(b: &[u8], s: usize, e: usize) -> u64 {
    let len = e - s;
    if len <= 15 {
        let [lo, hi] = super::fasttok::load_bytes(b, s, len);
        return short_word_hash(lo << 8 | 0x20, hi << 8 | lo >> 56, len + 1);
    }
    let mut h = len as u64;
    let mut i = s;
    while i + 8 <= e {
        let w = &b[i..i + 8];
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h ^ x).wrapping_mul(K).rotate_left(31);
        i += 8;
    }
    if i < e {
        let mut w = [0u8; 8];
        w[..e - i].copy_from_slice(&b[i..e]);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(31);
    }
    crate::util::mix64(h)
}

/// Hash of `len <= 16` bytes given as two little-endian words, zero-padded ([`word_hash`]
/// of a word of at most 15 bytes is this hash of a space and the word).
#[inline(always)]
pub(crate) fn short_word_hash(lo: u64, hi: u64, len: usize) -> u64 {
    // One folded 64x64 -> 128-bit multiply (wyhash's mixer): both halves of the product,
    // so every input bit reaches every output bit.
    let m = u128::from(lo ^ 0xa076_1d64_78bd_642f) * u128::from(hi ^ K ^ (len as u64) << 56);
    (m as u64) ^ (m >> 64) as u64
}

/// Call `f(start, end)` for every word (maximal run of clear bits) of a whitespace bitmap made
/// by [`super::scan::scan`], in order; stops early when `f` returns `None`.
#[inline(always)]
pub(crate) fn for_each_word(
    bitmap: &[u64],
    mut f: impl FnMut(usize, usize) -> Option<()>,
) -> Option<()> {
    // Bit set = whitespace; a word starts at a clear bit after a set one and ends (exclusive)
    // at a set bit after a clear one. `carry` is the bit before the block (text start: set).
    let mut carry = 1u64;
    let mut start = 0usize;
    for (block, &ws) in bitmap.iter().enumerate() {
        let prev = (ws << 1) | carry;
        let mut starts = !ws & prev;
        let mut ends = ws & !prev;
        carry = ws >> 63;
        let base = block * 64;
        while starts | ends != 0 {
            let s_bit = starts.trailing_zeros();
            let e_bit = ends.trailing_zeros();
            if s_bit < e_bit {
                start = base + s_bit as usize;
                starts &= starts - 1;
            } else {
                f(start, base + e_bit as usize)?;
                ends &= ends - 1;
            }
        }
    }
    Some(())
}

/// Word hashes of `text` (words split on whitespace, as `str::split_whitespace`), appended to
/// `out`; `masks` is scratch space for the byte scan.
pub fn word_hashes(text: &str, out: &mut Vec<u64>, masks: &mut super::scan::Masks) {
    super::scan::scan(text, masks);
    word_hashes_of(text, &masks.ws, out);
}

/// [`word_hashes`] from the whitespace bitmap `ws` of `text` (as [`super::scan::scan`] makes
/// it).
pub(crate) fn word_hashes_of(text: &str, ws: &[u64], out: &mut Vec<u64>) {
    let b = text.as_bytes();
    for_each_word(ws, |s, e| {
        out.push(word_hash(b, s, e));
        Some(())
    });
}

/// The open-addressing set of [`repeated_share`], reused between calls without clearing: an
/// entry holds 24 bits of an n-gram hash (bits 40..64; the slot index comes from bits 17..)
/// and, in its low byte, the call (generation, 1..=255) that wrote it; entries of other calls
/// count as empty. The slots are cleared once every 255 calls.
#[derive(Debug, Default)]
pub(crate) struct NgramTable {
    slots: Vec<u32>,
    generation: u8,
}

impl NgramTable {
    /// Start a call that needs `size` slots (a power of two): returns the generation tag.
    fn begin(&mut self, size: usize) -> u32 {
        if self.slots.len() < size {
            self.slots.resize(size, 0);
        }
        if self.generation == u8::MAX {
            self.slots.fill(0);
            self.generation = 0;
        }
        self.generation += 1;
        u32::from(self.generation)
    }
}

/// Share of the `n`-grams of `hashes` that repeat an earlier one, counted with an
/// open-addressing set in `table` (reused between calls).
fn repeated_share(hashes: &[u64], n: usize, table: &mut NgramTable) -> f64 {
    repeats(hashes, n, table, usize::MAX).0
}

/// [`repeated_share`], and how many of the repeating n-grams start at or after word `from`.
fn repeats(hashes: &[u64], n: usize, table: &mut NgramTable, from: usize) -> (f64, usize) {
    if n == 0 || hashes.len() < n {
        return (0.0, 0);
    }
    let total = hashes.len() - n + 1;
    // At most an eighth full: few probes meet an occupied slot (each is a likely branch
    // misprediction). With 4-byte slots the table of a 600-word trace is 32 KiB (a quarter
    // full: 1-2% more CPU for `score` on the 200k corpus; half full: 5% more).
    let size = (total * 8).next_power_of_two().max(16);
    let generation = table.begin(size);
    let table = &mut table.slots[..size];
    let mask = size - 1;
    let mut repeats = 0usize;
    let mut repeats_from = 0usize;
    // The hash of the window `hashes[i..i + n]` is `XOR_j rotl(hashes[i + j], 13 (n - 1 - j))`
    // (a fold of `rotl(acc, 13) ^ h`), kept rolling: add the newest word, hash, then remove the
    // oldest (rotated 13 (n - 1) bits by then).
    let oldest = (13 * (n - 1) % 64) as u32;
    let mut acc = hashes[..n - 1]
        .iter()
        .fold(0u64, |acc, h| acc.rotate_left(13) ^ h);
    // Window i: its newest word is `hashes[i + n - 1]`, its oldest `hashes[i]`.
    let windows = hashes[n - 1..].iter().zip(hashes).enumerate();
    for (i, (&newest, &old)) in windows {
        acc = acc.rotate_left(13) ^ newest;
        let h = acc.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        acc ^= old.rotate_left(oldest);
        let g = ((h >> 32) as u32 & !0xff) | generation;
        let mut slot = (h >> 17) as usize & mask;
        loop {
            let v = table[slot];
            if v & 0xff != generation {
                table[slot] = g;
                break;
            }
            if v == g {
                repeats += 1;
                repeats_from += usize::from(i >= from);
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    (repeats as f64 / total as f64, repeats_from)
}

/// Per-thread scratch buffers of the text signals, reused between attempts.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Word hashes of the attempt's texts, in order.
    pub words: Vec<u64>,
    /// Bitmaps of the text being scanned ([`super::scan::scan`]).
    pub masks: super::scan::Masks,
    /// The n-gram table of [`repeated_share`].
    pub table: NgramTable,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Run `f` with this thread's scratch buffers, the word-hash buffer cleared.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        scratch.words.clear();
        let r = f(&mut scratch);
        if scratch.words.capacity() > 1 << 20 || scratch.masks.ws.capacity() > 1 << 20 {
            // Do not keep huge buffers after a huge text.
            *scratch = Scratch::default();
        }
        r
    })
}

/// Repetition of word n-grams (`n` words) over `text`, and looping at its end.
pub fn repetition(text: &str, n: usize) -> Repetition {
    with_scratch(|s| {
        word_hashes(text, &mut s.words, &mut s.masks);
        repetition_of_words(&s.words, n, &mut s.table)
    })
}

/// [`repetition`] from the word hashes of the text (as [`word_hashes`] makes them); `table` is
/// scratch space.
pub(crate) fn repetition_of_words(hashes: &[u64], n: usize, table: &mut NgramTable) -> Repetition {
    const TAIL_N: usize = 8;
    let words = hashes.len();
    let tail_len = (words / 4).clamp(words.min(64), 400);
    let tail_start = words - tail_len.min(words);
    let (ngram_ratio, repeats_in_tail) = repeats(hashes, n, table, tail_start);
    let tail = &hashes[tail_start..];
    // An 8-gram of the tail that repeats an earlier one of the tail starts with an n-gram
    // (n <= 8) that repeats an earlier one: with none of those, no 8-gram repeats either.
    let tail_ratio = if n <= TAIL_N && repeats_in_tail == 0 {
        0.0
    } else {
        repeated_share(tail, TAIL_N, table)
    };
    Repetition {
        words,
        ngram_ratio,
        tail_ratio,
        looping: tail.len() >= 64 && tail_ratio >= 0.5,
    }
}

/// [`repetition_of_words`] over word hashes already made (for the profiling example).
#[doc(hidden)]
pub fn repetition_of_hashes(hashes: &[u64], n: usize) -> Repetition {
    with_scratch(|s| repetition_of_words(hashes, n, &mut s.table))
}

pub use super::reflection::{ReflectionMatcher, REFLECTION_MARKERS};

/// Writing systems counted by [`script_mix`].
pub const SCRIPTS: [&str; 7] = [
    "latin",
    "cjk",
    "cyrillic",
    "arabic",
    "greek",
    "devanagari",
    "other",
];

/// Script index of a non-ASCII letter (same order as [`SCRIPTS`]); `None` for a non-letter.
fn script_of(c: char) -> Option<usize> {
    // Common in traces and decided without the Unicode tables: Latin-1 and Latin Extended
    // letters, and the punctuation, arrows and mathematical operators around them.
    match c {
        '\u{d7}' | '\u{f7}' | '\u{2010}'..='\u{205e}' | '\u{2190}'..='\u{22ff}' => return None,
        '\u{c0}'..='\u{24f}' => return Some(0),
        _ => {}
    }
    if c.is_ascii() || !c.is_alphabetic() {
        return None;
    }
    Some(match c as u32 {
        0x00C0..=0x024F | 0x1E00..=0x1EFF => 0,
        0x3040..=0x30FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF
        | 0x20000..=0x2FA1F => 1,
        0x0400..=0x04FF => 2,
        0x0600..=0x06FF | 0x0750..=0x077F => 3,
        0x0370..=0x03FF => 4,
        0x0900..=0x097F => 5,
        _ => 6,
    })
}

/// Letters per script in `text` (same order as [`SCRIPTS`]).
///
/// One byte scan counts the ASCII letters and finds the non-ASCII characters; only those are
/// decoded.
pub fn script_mix(text: &str) -> [u64; SCRIPTS.len()] {
    let mut counts = [0u64; SCRIPTS.len()];
    let mut masks = super::scan::Masks::default();
    super::scan::scan_whitespace(text, &mut masks);
    counts[0] = masks.ascii_letters;
    add_non_ascii_scripts(text, &masks.lead, &mut counts);
    counts
}

/// Add the non-ASCII letters of `text` to `counts` (per script, same order as [`SCRIPTS`]),
/// given the lead-byte bitmap of its scan ([`super::scan::Masks::lead`]); the ASCII letters
/// come from [`super::scan::Masks::ascii_letters`].
pub fn add_non_ascii_scripts(text: &str, lead: &[u64], counts: &mut [u64; SCRIPTS.len()]) {
    super::scan::for_each_non_ascii(lead, |at| {
        if let Some(i) = text
            .get(at..)
            .and_then(|r| r.chars().next())
            .and_then(script_of)
        {
            counts[i] += 1;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_shapes() {
        assert_eq!(think_shape(Some("a"), Some("b")), ThinkShape::Separate);
        assert_eq!(
            think_shape(None, Some("<think>a</think> b")),
            ThinkShape::Closed
        );
        assert_eq!(think_shape(None, Some("<think>a b")), ThinkShape::Unclosed);
        assert_eq!(
            think_shape(None, Some("a</think> b")),
            ThinkShape::CloseOnly
        );
        assert_eq!(
            think_shape(None, Some("</think>a<think>")),
            ThinkShape::Malformed
        );
        assert_eq!(think_shape(None, Some("plain")), ThinkShape::None);
        assert_eq!(think_shape(None, None), ThinkShape::None);
        assert!(!ThinkShape::Unclosed.well_formed());
    }

    #[test]
    fn consistency_compares_trace_and_stated_answers() {
        assert_eq!(
            answer_consistency(Some(r"so \boxed{4}"), None, Some("4")),
            Ok(true)
        );
        assert_eq!(
            answer_consistency(Some(r"so \boxed{4}"), Some(r"\boxed{5}"), None),
            Ok(false)
        );
        assert!(answer_consistency(Some("no box"), None, Some("4")).is_err());
        assert!(answer_consistency(None, None, Some("4")).is_err());
        assert!(answer_consistency(Some(""), None, Some("4")).is_err());
    }

    #[test]
    fn repetition_detects_loops_and_not_ordinary_text() {
        let ordinary = "The quick brown fox jumps over the lazy dog while seven wizards quietly judge boxing matches near a frozen lake.";
        let r = repetition(ordinary, 4);
        assert_eq!(r.ngram_ratio, 0.0);
        assert!(!r.looping);
        let looped = format!(
            "{ordinary} {}",
            "so the answer is 5 and then we check again ".repeat(40)
        );
        let r = repetition(&looped, 4);
        assert!(r.ngram_ratio > 0.8, "{r:?}");
        assert!(r.looping, "{r:?}");
        assert_eq!(repetition("", 4).words, 0);
    }

    /// Share of repeated n-grams counted directly over `split_whitespace` words.
    fn direct_share(words: &[&str], n: usize) -> f64 {
        if words.len() < n {
            return 0.0;
        }
        let mut seen = std::collections::HashSet::new();
        let total = words.len() - n + 1;
        let repeats = words
            .windows(n)
            .filter(|w| !seen.insert(w.to_vec()))
            .count();
        repeats as f64 / total as f64
    }

    /// The repetition signals computed directly (word strings, a hash set of n-grams).
    pub(crate) fn direct_repetition(text: &str, n: usize) -> Repetition {
        let words: Vec<&str> = text.split_whitespace().collect();
        let tail_len = (words.len() / 4).clamp(words.len().min(64), 400);
        let tail = &words[words.len() - tail_len.min(words.len())..];
        let tail_ratio = direct_share(tail, 8);
        Repetition {
            words: words.len(),
            ngram_ratio: direct_share(&words, n),
            tail_ratio,
            looping: tail.len() >= 64 && tail_ratio >= 0.5,
        }
    }

    #[test]
    fn words_split_like_split_whitespace() {
        let mut texts = vec![
            String::new(),
            " ".into(),
            "a".into(),
            "  lead and trail  ".into(),
            "tabs\tand\nnew\r\nlines\x0bvt\x0cff \x1c not-ws".into(),
            "nbsp\u{a0}em\u{2003}ideo\u{3000}nel\u{85}ls\u{2028}x \u{200b}zwsp’s – ×÷".into(),
        ];
        // Words crossing the 64-byte blocks at every offset.
        for k in 0..70 {
            texts.push(format!(
                "{}{} wörd\u{a0}{}",
                "x".repeat(k),
                " ".repeat(k % 3),
                "y".repeat(130 - k)
            ));
        }
        let mut masks = super::super::scan::Masks::default();
        for t in &texts {
            let mut got = Vec::new();
            word_hashes(t, &mut got, &mut masks);
            let b = t.as_bytes();
            let expected: Vec<u64> = t
                .split_whitespace()
                .map(|w| {
                    let s = w.as_ptr() as usize - t.as_ptr() as usize;
                    word_hash(b, s, s + w.len())
                })
                .collect();
            assert_eq!(got, expected, "{t:?}");
        }
    }

    #[test]
    fn repetition_equals_a_direct_count() {
        let base = "Let me verify this with a different approach. We compute 3 × 4 = 12,\u{a0}which we use next.\n";
        let texts = [
            base.to_string(),
            base.repeat(7),
            format!(
                "{}{}",
                base,
                "so the answer is 5 and then we check again ".repeat(30)
            ),
            "one two three four five six seven eight nine ten".repeat(3),
            // Repeats only before the tail, then only inside it.
            format!(
                "{}{}",
                "we check again ".repeat(40),
                (0..300).map(|i| format!("w{i} ")).collect::<String>()
            ),
            format!(
                "{}{}",
                (0..300).map(|i| format!("w{i} ")).collect::<String>(),
                "we check again ".repeat(40)
            ),
        ];
        for t in &texts {
            // 6 and 7: the rolling window hash rotates the oldest word past 64 bits.
            for n in [1, 2, 3, 4, 5, 6, 7, 8, 12] {
                assert_eq!(repetition(t, n), direct_repetition(t, n), "{n} {t:?}");
            }
        }
    }

    #[test]
    fn rolling_window_hash_equals_the_fold() {
        // The share computed with the rolling hash equals the share computed with each
        // window's hash folded from scratch, for every window size and for repeats at every
        // distance.
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            state = crate::util::mix64(state);
            state
        };
        let vocabulary: Vec<u64> = (0..7).map(|_| next()).collect();
        // One table for every call: ~460 calls of which ~450 use the table, so the
        // generation tags wrap around (and the slots are cleared) on the way.
        let mut table = NgramTable::default();
        let lengths = [
            0usize, 1, 5, 9, 40, 300, 5, 300, 1, 40, 9, 300, 40, 5, 9, 300,
        ];
        for len in lengths.iter().chain(&lengths).copied().chain([7; 10]) {
            let hashes: Vec<u64> = (0..len)
                .map(|_| vocabulary[(next() % 7) as usize])
                .collect();
            for n in 1..=11 {
                let got = repeated_share(&hashes, n, &mut table);
                let expected = if hashes.len() < n {
                    0.0
                } else {
                    let mut seen = std::collections::HashSet::new();
                    let windows = hashes.len() - n + 1;
                    let repeats = hashes
                        .windows(n)
                        .filter(|w| {
                            let g = w.iter().fold(0u64, |acc, h| acc.rotate_left(13) ^ h);
                            !seen.insert(g)
                        })
                        .count();
                    repeats as f64 / windows as f64
                };
                assert_eq!(got, expected, "len {len} n {n}");
            }
        }
    }

    #[test]
    fn script_mix_equals_a_char_by_char_count() {
        let texts = [
            "abc 你好 привет".to_string(),
            "Ünïcödé café ΑΒΓ δ 3×4 – ’tis ¾ € हिन्दी عربي 한국어 ＡＢＣ x".repeat(3),
            "plain ascii only, with Punctuation! and digits 123".into(),
            "é".into(),
            "1234567é".into(),
            "12345678é9".into(),
        ];
        for t in &texts {
            let mut expected = [0u64; SCRIPTS.len()];
            for c in t.chars() {
                if c.is_ascii_alphabetic() {
                    expected[0] += 1;
                } else if let Some(i) = script_of(c) {
                    expected[i] += 1;
                }
            }
            assert_eq!(script_mix(t), expected, "{t:?}");
        }
    }

    #[test]
    fn script_shortcuts_agree_with_the_unicode_tables() {
        for c in (0x80u32..0x3000).filter_map(char::from_u32) {
            let letter = c.is_alphabetic();
            assert_eq!(script_of(c).is_some(), letter, "{c:?} U+{:04X}", c as u32);
        }
    }

    #[test]
    fn scripts_are_counted() {
        let mix = script_mix("abc 你好 привет");
        assert_eq!(mix[0], 3);
        assert_eq!(mix[1], 2);
        assert_eq!(mix[2], 6);
    }
}
