//! Attempt-level text signals: lengths, think-block shape, final answer and truncation, answer
//! consistency, repetition, reflection markers and language (script) mix.
//!
//! Every function here is a pure function of the text; none allocates more than a few vectors
//! per call, and none can fail: an empty text yields zeros or an absent signal.

use crate::util::{last_boxed, normalize_answer};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

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
    for at in memchr::memmem::find_iter(bytes, b"think>") {
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

/// Word hashes of `text` (words split on whitespace), appended to `out`.
fn word_hashes(text: &str, out: &mut Vec<u64>) {
    if text.is_ascii() {
        let mut h = 0u64;
        let mut in_word = false;
        for &b in text.as_bytes() {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                if in_word {
                    out.push(h);
                    h = 0;
                    in_word = false;
                }
            } else {
                h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
                in_word = true;
            }
        }
        if in_word {
            out.push(h);
        }
    } else {
        for word in text.split_whitespace() {
            let mut h = 0u64;
            for &b in word.as_bytes() {
                h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
            }
            out.push(h);
        }
    }
}

/// Share of the `n`-grams of `hashes` that repeat an earlier one, counted with an
/// open-addressing set in `table` (reused between calls).
fn repeated_share(hashes: &[u64], n: usize, table: &mut Vec<u64>) -> f64 {
    if n == 0 || hashes.len() < n {
        return 0.0;
    }
    let total = hashes.len() - n + 1;
    let size = (total * 2).next_power_of_two().max(16);
    table.clear();
    table.resize(size, 0);
    let mask = size - 1;
    let mut repeats = 0usize;
    for w in hashes.windows(n) {
        let mut g = w
            .iter()
            .fold(0u64, |acc, h| acc.rotate_left(13) ^ h)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        if g == 0 {
            g = 1;
        }
        let mut slot = (g >> 17) as usize & mask;
        loop {
            let v = table[slot];
            if v == 0 {
                table[slot] = g;
                break;
            }
            if v == g {
                repeats += 1;
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    repeats as f64 / total as f64
}

/// Repetition of word n-grams (`n` words) over `text`, and looping at its end.
pub fn repetition(text: &str, n: usize) -> Repetition {
    let mut hashes = Vec::with_capacity(text.len() / 5);
    word_hashes(text, &mut hashes);
    let mut table = Vec::new();
    let words = hashes.len();
    let ngram_ratio = repeated_share(&hashes, n, &mut table);
    let tail_len = (words / 4).clamp(words.min(64), 400);
    let tail = &hashes[words - tail_len.min(words)..];
    let tail_ratio = repeated_share(tail, 8, &mut table);
    Repetition {
        words,
        ngram_ratio,
        tail_ratio,
        looping: tail.len() >= 64 && tail_ratio >= 0.5,
    }
}

/// Reflection marker groups and the phrases that count for each (matched case-insensitively,
/// as whole words, leftmost-longest, non-overlapping).
pub const REFLECTION_MARKERS: &[(&str, &[&str])] = &[
    ("wait", &["wait", "but wait"]),
    ("hmm", &["hmm", "hmmm"]),
    (
        "check",
        &[
            "let me check",
            "let me verify",
            "let me double-check",
            "let me double check",
            "let me recheck",
            "let me re-check",
            "let me re-examine",
            "let me reconsider",
            "let me re-evaluate",
            "double-check",
            "double check",
            "let's check",
            "let's verify",
            "let's double-check",
        ],
    ),
    ("alternatively", &["alternatively"]),
    (
        "mistake",
        &[
            "i made a mistake",
            "i made an error",
            "that's not right",
            "that is not right",
            "that's incorrect",
            "that is incorrect",
            "this is wrong",
            "that's wrong",
        ],
    ),
    (
        "backtrack",
        &["backtrack", "go back", "start over", "on second thought"],
    ),
    ("actually", &["actually"]),
];

/// A compiled reflection-marker matcher.
pub struct ReflectionMatcher {
    automaton: Option<AhoCorasick>,
    group_of: Vec<usize>,
}

impl std::fmt::Debug for ReflectionMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReflectionMatcher").finish_non_exhaustive()
    }
}

impl ReflectionMatcher {
    /// Build the matcher over [`REFLECTION_MARKERS`].
    pub fn new() -> ReflectionMatcher {
        let mut patterns = Vec::new();
        let mut group_of = Vec::new();
        for (group, (_, phrases)) in REFLECTION_MARKERS.iter().enumerate() {
            for phrase in *phrases {
                patterns.push(*phrase);
                group_of.push(group);
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&patterns)
            .ok();
        ReflectionMatcher {
            automaton,
            group_of,
        }
    }

    /// Counts per group (same order as [`REFLECTION_MARKERS`]).
    pub fn count(&self, text: &str) -> [u32; REFLECTION_MARKERS.len()] {
        let mut counts = [0u32; REFLECTION_MARKERS.len()];
        let bytes = text.as_bytes();
        let Some(automaton) = &self.automaton else {
            return counts;
        };
        for m in automaton.find_iter(text) {
            let before_ok = m.start() == 0 || !bytes[m.start() - 1].is_ascii_alphanumeric();
            let after_ok = m.end() >= bytes.len() || !bytes[m.end()].is_ascii_alphanumeric();
            if before_ok && after_ok {
                counts[self.group_of[m.pattern().as_usize()]] += 1;
            }
        }
        counts
    }
}

impl Default for ReflectionMatcher {
    fn default() -> Self {
        ReflectionMatcher::new()
    }
}

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

/// Letters per script in `text` (same order as [`SCRIPTS`]).
pub fn script_mix(text: &str) -> [u64; SCRIPTS.len()] {
    let mut counts = [0u64; SCRIPTS.len()];
    for &b in text.as_bytes() {
        if b.is_ascii_alphabetic() {
            counts[0] += 1;
        }
    }
    if text.is_ascii() {
        return counts;
    }
    for c in text.chars() {
        if c.is_ascii() || !c.is_alphabetic() {
            continue;
        }
        let u = c as u32;
        let index = match u {
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
        };
        counts[index] += 1;
    }
    counts
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

    #[test]
    fn reflection_markers_count_whole_words() {
        let m = ReflectionMatcher::new();
        let counts =
            m.count("Wait, let me double-check. Hmm... awaited waiting. But wait: actually no.");
        assert_eq!(counts[0], 2, "wait + but wait, not awaited/waiting");
        assert_eq!(counts[1], 1);
        assert_eq!(counts[2], 1);
        assert_eq!(counts[6], 1);
    }

    #[test]
    fn scripts_are_counted() {
        let mix = script_mix("abc 你好 привет");
        assert_eq!(mix[0], 3);
        assert_eq!(mix[1], 2);
        assert_eq!(mix[2], 6);
    }
}
