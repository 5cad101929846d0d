//! Reflection markers: "wait", "hmm", "let me check", "alternatively", ... counted per group.
//!
//! What it does: counts, per group of [`REFLECTION_MARKERS`], the phrases that occur in a text
//! as whole words (ASCII case-insensitive; a phrase starts where an ASCII letter or digit
//! follows a byte that is not one, and the byte after it is not one either), scanning left to
//! right and taking at each word start the longest phrase that fits, never overlapping a phrase
//! already counted.
//!
//! Why: reasoning traces that backtrack ("wait", "let me re-check") are a signal users select
//! on. The count runs on every attempt, so it visits only the word starts the byte scan of
//! [`super::scan`] found, and looks each one up by its first three (lowercased) bytes in a
//! 64-slot perfect-hash table; the phrases of a slot are compared only on a hit.
//!
//! Known failure modes: markers are English and ASCII; "wait" in "wait time" counts (a marker
//! is a phrase, not an intent). Counts are not a quality measure (see `docs/signals.md`).

use super::scan::{for_each_run_start, scan, Masks};

/// Reflection marker groups and the phrases that count for each (matched ASCII
/// case-insensitively, as whole words, longest first, non-overlapping).
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

/// Number of marker groups.
pub const GROUPS: usize = REFLECTION_MARKERS.len();

/// Slots of the prefix table (a power of two, at most 256).
const SLOTS: usize = 64;

/// One slot of the prefix table: the first three bytes (lowercase, little-endian) of its
/// phrases (0 = empty: a phrase starts with a letter), and the range of its phrases.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    prefix: u32,
    first: u16,
    end: u16,
}

/// A compiled reflection-marker matcher.
#[derive(Debug, Clone)]
pub struct ReflectionMatcher {
    /// Lowercase phrases with their group, sorted by prefix slot, longest first in a slot.
    phrases: Vec<(Box<[u8]>, usize)>,
    slots: [Slot; SLOTS],
    /// Per phrase (same order): its first eight bytes (lowercase, little-endian, zero-padded)
    /// and the mask of those it has.
    heads: Vec<(u64, u64)>,
    /// Multiplier of the prefix hash (found at build time so that no two prefixes collide).
    mul: u32,
}

/// The first three bytes of `b[at..]` (zero-padded), ASCII letters lowercased.
#[inline(always)]
fn prefix_at(b: &[u8], at: usize) -> u32 {
    let x = match b.get(at..at + 4) {
        Some(w) => u32::from_le_bytes([w[0], w[1], w[2], w[3]]) & 0x00ff_ffff,
        None => {
            let mut x = 0u32;
            for k in 0..3 {
                if let Some(&c) = b.get(at + k) {
                    x |= u32::from(c) << (8 * k);
                }
            }
            x
        }
    };
    // SWAR: set bit 5 of the bytes that are ASCII letters.
    let y = (x | 0x2020_2020) & 0x7f7f_7f7f;
    let letter = (y + 0x1f1f_1f1f) & !(y + 0x0505_0505) & !x & 0x8080_8080;
    x | (letter >> 2)
}

#[inline(always)]
fn slot_of(prefix: u32, mul: u32) -> usize {
    (prefix.wrapping_mul(mul) >> 26) as usize & (SLOTS - 1)
}

impl ReflectionMatcher {
    /// Build the matcher over [`REFLECTION_MARKERS`].
    pub fn new() -> ReflectionMatcher {
        let mut phrases: Vec<(Box<[u8]>, usize)> = Vec::new();
        for (group, (_, list)) in REFLECTION_MARKERS.iter().enumerate() {
            for phrase in *list {
                phrases.push((phrase.to_ascii_lowercase().into_bytes().into(), group));
            }
        }
        let mut prefixes: Vec<u32> = phrases.iter().map(|(p, _)| prefix_at(p, 0)).collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        // A multiplier under which the prefixes take distinct slots (a few tries at most:
        // ~15 keys in 64 slots).
        let mut mul = 0x9e37_79b1u32;
        while {
            let mut seen = [false; SLOTS];
            !prefixes
                .iter()
                .all(|&p| !std::mem::replace(&mut seen[slot_of(p, mul)], true))
        } {
            mul = mul.wrapping_mul(0x2c1b_3c6d).wrapping_add(0x297a_2d39) | 1;
        }
        phrases.sort_by(|a, b| {
            slot_of(prefix_at(&a.0, 0), mul)
                .cmp(&slot_of(prefix_at(&b.0, 0), mul))
                .then(b.0.len().cmp(&a.0.len()))
        });
        let mut slots = [Slot::default(); SLOTS];
        for (i, (phrase, _)) in phrases.iter().enumerate() {
            let prefix = prefix_at(phrase, 0);
            let slot = &mut slots[slot_of(prefix, mul)];
            if slot.prefix == 0 {
                *slot = Slot {
                    prefix,
                    first: i as u16,
                    end: i as u16,
                };
            }
            slot.end = i as u16 + 1;
        }
        let heads = phrases
            .iter()
            .map(|(phrase, _)| {
                let mut head = [0u8; 8];
                let mut mask = [0u8; 8];
                for (k, &c) in phrase.iter().take(8).enumerate() {
                    head[k] = c;
                    mask[k] = 0xff;
                }
                (u64::from_le_bytes(head), u64::from_le_bytes(mask))
            })
            .collect();
        ReflectionMatcher {
            phrases,
            slots,
            heads,
            mul,
        }
    }

    /// Counts per group (same order as [`REFLECTION_MARKERS`]).
    pub fn count(&self, text: &str) -> [u32; GROUPS] {
        let mut masks = Masks::default();
        scan(text, &mut masks);
        let mut counts = [0u32; GROUPS];
        self.count_into(text, &masks.alnum, &mut counts);
        counts
    }

    /// Add the counts of `text` to `counts`, given its ASCII-alphanumeric bitmap (from
    /// [`scan`]).
    pub fn count_into(&self, text: &str, alnum: &[u64], counts: &mut [u32; GROUPS]) {
        let b = text.as_bytes();
        let mut next = 0usize;
        for_each_run_start(alnum, |at| self.match_at(b, at, &mut next, counts));
    }

    /// Count the phrase starting at the run start `at` of `b`, if any and if `at` is not
    /// inside a phrase already counted (before `*next`); a counted phrase moves `*next` to its
    /// end.
    #[inline(always)]
    fn match_at(&self, b: &[u8], at: usize, next: &mut usize, counts: &mut [u32; GROUPS]) {
        if at < *next {
            return;
        }
        let prefix = prefix_at(b, at);
        let slot = self.slots[slot_of(prefix, self.mul)];
        if slot.prefix != prefix {
            return;
        }
        // The eight bytes at `at`, ASCII letters lowercased, rule out most phrases of the slot
        // with one comparison each.
        let window = b.get(at..at + 8).map(|w| {
            let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            x | (verity_core::bytes::ascii_letter8(x) >> 2)
        });
        let range = usize::from(slot.first)..usize::from(slot.end);
        for ((phrase, group), &(head, mask)) in
            self.phrases[range.clone()].iter().zip(&self.heads[range])
        {
            if window.is_some_and(|w| w & mask != head) {
                continue;
            }
            let end = at + phrase.len();
            if end <= b.len()
                && b[at..end].eq_ignore_ascii_case(phrase)
                && !b.get(end).is_some_and(u8::is_ascii_alphanumeric)
            {
                counts[*group] += 1;
                *next = end;
                return;
            }
        }
    }

    /// Count the phrases of `b` that start in `b[start..end]` (a run start there is judged
    /// with the byte before `start`), skipping starts before `*next` and moving it past each
    /// phrase counted: the ranges of a text, visited in order with one `next`, give the counts
    /// of [`ReflectionMatcher::count_into`] over the text.
    pub(crate) fn count_range(
        &self,
        b: &[u8],
        start: usize,
        end: usize,
        next: &mut usize,
        counts: &mut [u32; GROUPS],
    ) {
        let mut prev_alnum = start > 0 && b[start - 1].is_ascii_alphanumeric();
        for at in start..end {
            let alnum = b[at].is_ascii_alphanumeric();
            if alnum && !prev_alnum {
                self.match_at(b, at, next, counts);
            }
            prev_alnum = alnum;
        }
    }

    /// Whether a phrase may start at a run start inside `chunk`, a word of a text, possibly
    /// with the whitespace character before it and the newlines after it, and followed in the
    /// text by whitespace or the end of the text when it ends in a letter or digit. Never
    /// false where [`ReflectionMatcher::count_range`] over the chunk could count a phrase (it
    /// may be true where it counts none). A phrase can start at a run start when:
    /// - it fits in the rest of the chunk, equals it there (ASCII case-insensitively) and is
    ///   not followed by a letter or digit (the end of the chunk counts as neither); or
    /// - it is longer than the rest of the chunk, begins with it, and goes on with a space (what
    ///   the whitespace after the chunk could be; a chunk that ends in a newline cannot be
    ///   continued by a phrase, which holds none).
    pub(crate) fn may_start_in(&self, chunk: &[u8]) -> bool {
        let mut prev_alnum = false;
        for (at, &c) in chunk.iter().enumerate() {
            let alnum = c.is_ascii_alphanumeric();
            if alnum && !prev_alnum {
                let tail = &chunk[at..];
                let left = tail.len();
                if self.phrases.iter().any(|(p, _)| {
                    if p.len() <= left {
                        tail[..p.len()].eq_ignore_ascii_case(p)
                            && !tail.get(p.len()).is_some_and(u8::is_ascii_alphanumeric)
                    } else {
                        p[..left].eq_ignore_ascii_case(tail) && p[left] == b' '
                    }
                }) {
                    return true;
                }
            }
            prev_alnum = alnum;
        }
        false
    }
}

/// Marker counting carried through the fused token scan of
/// [`super::fasttok::TokenCounter::count_with_words`]: the text's ranges are visited in order.
#[derive(Debug)]
pub(crate) struct MarkerScan<'a> {
    pub matcher: &'a ReflectionMatcher,
    /// No phrase may start before this offset (the end of the last phrase counted).
    pub next: usize,
    pub counts: [u32; GROUPS],
}

impl MarkerScan<'_> {
    /// Count the phrases starting in `b[start..end]` (see [`ReflectionMatcher::count_range`]).
    #[inline]
    pub fn range(&mut self, b: &[u8], start: usize, end: usize) {
        self.matcher
            .count_range(b, start, end, &mut self.next, &mut self.counts);
    }
}

/// The matcher over [`REFLECTION_MARKERS`], built once.
pub fn matcher() -> &'static ReflectionMatcher {
    static MATCHER: std::sync::OnceLock<ReflectionMatcher> = std::sync::OnceLock::new();
    MATCHER.get_or_init(ReflectionMatcher::new)
}

impl Default for ReflectionMatcher {
    fn default() -> Self {
        ReflectionMatcher::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, position by position: at each word start, the longest phrase that
    /// matches (ASCII case-insensitively) and ends at a word boundary.
    fn reference(text: &str) -> [u32; GROUPS] {
        let b = text.as_bytes();
        let mut phrases: Vec<(String, usize)> = Vec::new();
        for (group, (_, list)) in REFLECTION_MARKERS.iter().enumerate() {
            for phrase in *list {
                phrases.push((phrase.to_string(), group));
            }
        }
        phrases.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let mut counts = [0u32; GROUPS];
        let mut i = 0;
        'scan: while i < b.len() {
            let starts_word =
                b[i].is_ascii_alphanumeric() && (i == 0 || !b[i - 1].is_ascii_alphanumeric());
            if starts_word {
                for (phrase, group) in &phrases {
                    let end = i + phrase.len();
                    if end <= b.len()
                        && b[i..end].eq_ignore_ascii_case(phrase.as_bytes())
                        && (end == b.len() || !b[end].is_ascii_alphanumeric())
                    {
                        counts[*group] += 1;
                        i = end;
                        continue 'scan;
                    }
                }
            }
            i += 1;
        }
        counts
    }

    #[test]
    fn markers_count_whole_words() {
        let m = ReflectionMatcher::new();
        let counts =
            m.count("Wait, let me double-check. Hmm... awaited waiting. But wait: actually no.");
        assert_eq!(counts[0], 2, "wait + but wait, not awaited/waiting");
        assert_eq!(counts[1], 1);
        assert_eq!(counts[2], 1);
        assert_eq!(counts[6], 1);
        // A phrase glued to a word before it does not hide a marker inside it.
        assert_eq!(m.count("xbut wait")[0], 1);
        assert_eq!(m.count("hmmmm hmm hmmm")[1], 2);
    }

    #[test]
    fn counts_equal_the_definition() {
        let m = ReflectionMatcher::new();
        let mut total = 0;
        let texts = [
            "WAIT. But Wait, BUT WAIT: hmm, HMMM; Let Me Double-Check; LET'S VERIFY. xbut wait",
            "Actually, ÀCTUALLY actually’s – I Made A Mistake. That's Wrong! go back; Start over?",
            "Alternatively,\nalternatively\tON SECOND THOUGHT let me re-examine backtracking backtrack",
            "awaited waiting hmmmm letme check doublecheck",
            "wai",
            "go",
            "(wait)[hmm]{actually}\"let me check\"—wait…hmm_wait 3wait wait3 é wait",
        ];
        for t in texts {
            let expected = reference(t);
            assert_eq!(m.count(t), expected, "{t:?}");
            total += expected.iter().sum::<u32>();
        }
        assert!(total > 20, "{total}");
    }

    proptest! {
        #[test]
        fn random_texts_equal_the_definition(
            parts in proptest::collection::vec(prop_oneof![
                Just("wait"), Just("Wait"), Just("but"), Just("BUT wait"), Just("hmm"), Just("m"),
                Just("let me"), Just(" check"), Just("let's"), Just("double"), Just("-check"),
                Just("that's"), Just(" wrong"), Just("that is not right"), Just("go back"),
                Just("on second thought"), Just("actually"), Just("i made a mistake"),
                Just(" "), Just("  "), Just("\n"), Just("."), Just(","), Just("x"), Just("7"),
                Just("é"), Just("_"), Just("'"), Just("alternatively"), Just("start over"),
            ], 0..40)
        ) {
            let text: String = parts.concat();
            let m = ReflectionMatcher::new();
            prop_assert_eq!(m.count(&text), reference(&text), "{:?}", text);
        }
    }
}
