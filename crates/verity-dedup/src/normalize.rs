//! Text normalization shared by exact dedup, MinHash shingling and n-gram decontamination.
//!
//! # What it does
//!
//! Two views of a text are defined here:
//!
//! - [`normalize`] returns the **exact-match key text**: Unicode NFKC, then lowercase
//!   (Unicode `to_lowercase`), then LaTeX spacing removed (`\,` `\;` `\:` `\!` `\ `, `~`,
//!   `\quad`, `\qquad`, `\left`, `\right`, and `\dfrac`/`\tfrac` written as `\frac`), then every
//!   run of whitespace collapsed to one space and the ends trimmed. Punctuation and operators are
//!   kept (`x+y` and `x-y` stay different).
//! - [`words`] splits a text into **word tokens** for shingles and n-grams: NFKC, lowercase,
//!   a word is a maximal run of letters/digits (so punctuation and LaTeX braces separate words
//!   and disappear), a LaTeX command `\name` is a word `name` except for the formatting and
//!   spacing commands listed in [`DROPPED_COMMANDS`] (dropped) and `\dfrac`/`\tfrac` (read as
//!   `frac`), and each character of a script written without spaces (CJK ideographs, kana,
//!   Hangul syllables, Thai, ...) is a word on its own so such texts still yield n-grams.
//!   Relation symbols and signs are kept: the **marks** `<` `>` `=` `+` `-` (and `≤` `≥` `≠`
//!   `−` `±`) written before a word, with or without spaces, become part of that word, so
//!   `k>0` and `k<0`, `sin 60°` and `sin(-60°)`, `x+y` and `x-y` give different words while
//!   `x - 3` and `x-3` give the same ones. A mark changes its word's hash only (the word count
//!   and spans are those of the words alone); the last four marks before a word count.
//!   Each word is returned as a 64-bit hash plus its byte span in the (NFKC) text.
//!
//! # Why
//!
//! Duplicate and leaked problems differ in trivia (full-width digits, `\dfrac` vs `\frac`,
//! `\,` thin spaces, capitalisation, doubled spaces): the normalization removes exactly those,
//! so the exact key is stable and n-grams line up, while anything that can change a problem's
//! meaning is kept: numbers, and operators (in the exact key) or relation symbols and signs (as
//! marks on the words), because `Find all k such that k>0` and the same with `k<0` are
//! different problems that share every letter and digit.
//!
//! # Known failure modes
//!
//! - Word tokens ignore punctuation other than the marks, so `3.5` and `3 5` tokenize alike,
//!   and so do `x*y` and `x/y`. A hyphen is a mark like a minus sign: `two-digit` and
//!   `two digit` give different words (`two - digit` and `two-digit` the same). LaTeX
//!   relation commands are words of their own (`\le` is `le`, `\leq` is `leq`), not marks.
//! - Lowercasing is Unicode simple-case per character; Turkish dotted/dotless i is not special.
//! - Scripts without spaces use one character per word, so their n-grams span fewer "words" of
//!   meaning than in English: a 13-gram is 13 characters.

use std::borrow::Cow;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
use verity_core::bytes::{ascii_alnum8, ascii_letter8, eq8, load8, pack8, HIGH};

/// LaTeX commands dropped from the word stream (spacing and formatting that does not change
/// the text's content).
pub const DROPPED_COMMANDS: &[&str] = &[
    "left",
    "right",
    "big",
    "bigl",
    "bigr",
    "Big",
    "Bigl",
    "Bigr",
    "bigg",
    "Bigg",
    "quad",
    "qquad",
    "displaystyle",
    "textstyle",
    "text",
    "textbf",
    "textit",
    "mathrm",
    "mathbf",
    "mathit",
    "operatorname",
    "hspace",
    "vspace",
    "mbox",
];

/// The text in Unicode NFKC form, borrowed when it already is (always for ASCII).
pub fn nfkc(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    match nfkc_quick_check(text) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => {
            let normalized = nfkc_by_stretches(text);
            if normalized == text {
                Cow::Borrowed(text)
            } else {
                Cow::Owned(normalized)
            }
        }
    }
}

/// NFKC of `text`, normalizing only its non-ASCII stretches (each with the ASCII character
/// before it, which a combining mark may compose with). A position before an ASCII character
/// is a safe normalization boundary: ASCII characters are stable starters that never compose
/// with what precedes them, so NFKC of the pieces concatenates to NFKC of the whole.
fn nfkc_by_stretches(text: &str) -> String {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut out = String::with_capacity(n + n / 16);
    let mut copied = 0;
    let mut i = 0;
    while i < n {
        i = skip_ascii(bytes, i);
        while i < n && bytes[i] < 0x80 {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = if i > copied { i - 1 } else { i };
        while i < n && bytes[i] >= 0x80 {
            i += 1;
        }
        // `start` and `i` are character boundaries (ASCII bytes or the ends).
        let (Some(before), Some(stretch)) = (text.get(copied..start), text.get(start..i)) else {
            return text.nfkc().collect();
        };
        out.push_str(before);
        match is_nfkc_quick(stretch.chars()) {
            IsNormalized::Yes => out.push_str(stretch),
            _ => out.extend(stretch.nfkc()),
        }
        copied = i;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// A position at or after `i`, at most the first non-ASCII byte from `i` (or `bytes.len()`):
/// skips 32 ASCII bytes per step (four loads, one test), then 8.
#[inline]
fn skip_ascii(bytes: &[u8], mut i: usize) -> usize {
    let n = bytes.len();
    while i + 32 <= n
        && (load8(bytes, i) | load8(bytes, i + 8) | load8(bytes, i + 16) | load8(bytes, i + 24))
            & HIGH
            == 0
    {
        i += 32;
    }
    while i + 8 <= n && load8(bytes, i) & HIGH == 0 {
        i += 8;
    }
    i
}

/// `is_nfkc_quick` of `text`, run only on its non-ASCII stretches: an ASCII character is
/// always allowed and a starter, so it resets the check's state and the result is the same
/// as on the whole text, without decoding the ASCII bulk character by character.
fn nfkc_quick_check(text: &str) -> IsNormalized {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut result = IsNormalized::Yes;
    let mut i = 0;
    while i < n {
        i = skip_ascii(bytes, i);
        while i < n && bytes[i] < 0x80 {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        while i < n && bytes[i] >= 0x80 {
            i += 1;
        }
        // `start` and `i` are character boundaries (an ASCII byte or the end follows).
        let Some(run) = text.get(start..i) else {
            return is_nfkc_quick(text.chars());
        };
        match is_nfkc_quick(run.chars()) {
            IsNormalized::Yes => {}
            IsNormalized::No => return IsNormalized::No,
            IsNormalized::Maybe => result = IsNormalized::Maybe,
        }
    }
    result
}

/// The exact-match key text (see the module docs for the rules).
pub fn normalize(text: &str) -> String {
    if text.is_ascii() {
        return normalize_ascii(text.as_bytes());
    }
    let text = nfkc(text);
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    let mut chars = text.chars().peekable();
    let push = |out: &mut String, pending: &mut bool, c: char| {
        if *pending && !out.is_empty() {
            out.push(' ');
        }
        *pending = false;
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    };
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek().copied() {
                Some(',' | ';' | ':' | '!' | ' ') => {
                    chars.next();
                    pending_space = pending_space || !out.is_empty();
                    continue;
                }
                Some(n) if n.is_ascii_alphabetic() => {
                    let mut name = String::new();
                    while let Some(&n) = chars.peek() {
                        if n.is_ascii_alphabetic() {
                            name.push(n);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    match name.as_str() {
                        "quad" | "qquad" => {
                            pending_space = pending_space || !out.is_empty();
                        }
                        "left" | "right" => {}
                        "dfrac" | "tfrac" => {
                            push(&mut out, &mut pending_space, '\\');
                            out.push_str("frac");
                        }
                        _ => {
                            push(&mut out, &mut pending_space, '\\');
                            for n in name.chars() {
                                out.push(n.to_ascii_lowercase());
                            }
                        }
                    }
                    continue;
                }
                _ => {}
            }
        }
        if c == '~' || c.is_whitespace() {
            pending_space = pending_space || !out.is_empty();
            continue;
        }
        push(&mut out, &mut pending_space, c);
    }
    out
}

/// [`normalize`] for ASCII text, byte by byte (same rules).
fn normalize_ascii(bytes: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut pending_space = false;
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        let c = bytes[i];
        if c == b'\\' && i + 1 < n {
            let next = bytes[i + 1];
            if matches!(next, b',' | b';' | b':' | b'!' | b' ') {
                i += 2;
                pending_space = pending_space || !out.is_empty();
                continue;
            }
            if next.is_ascii_alphabetic() {
                let mut j = i + 1;
                while j < n && bytes[j].is_ascii_alphabetic() {
                    j += 1;
                }
                let name = &bytes[i + 1..j];
                match name {
                    b"quad" | b"qquad" => pending_space = pending_space || !out.is_empty(),
                    b"left" | b"right" => {}
                    _ => {
                        if pending_space && !out.is_empty() {
                            out.push(b' ');
                        }
                        pending_space = false;
                        out.push(b'\\');
                        if name == b"dfrac" || name == b"tfrac" {
                            out.extend_from_slice(b"frac");
                        } else {
                            out.extend(name.iter().map(u8::to_ascii_lowercase));
                        }
                    }
                }
                i = j;
                continue;
            }
        }
        if c == b'~' || c.is_ascii_whitespace() || c == 0x0b {
            pending_space = pending_space || !out.is_empty();
            i += 1;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(b' ');
        }
        pending_space = false;
        out.push(c.to_ascii_lowercase());
        i += 1;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// One word token: its hash and byte span in the text given to [`words`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    /// 64-bit hash of the lowercased word.
    pub hash: u64,
    /// Byte offset of the first character.
    pub start: u32,
    /// Byte offset one past the last character.
    pub end: u32,
}

const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Final avalanche (murmur3 fmix64), so low and high bits of word hashes are both usable.
#[inline]
pub const fn mix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// True for characters of scripts written without spaces between words.
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0x20000..=0x3FFFF // CJK extensions B..
    )
}

/// Hash of a word's lowercase bytes, eight bytes at a time. `or_mask` is OR-ed into every
/// byte (0x20 lowercases ASCII letters and leaves digits unchanged, so an ASCII alphanumeric
/// word can be hashed straight from the text).
/// Words of at most 16 bytes (nearly all of them) take [`hash_le16`].
#[inline]
fn hash_chunks(bytes: &[u8], or_mask: u64) -> u64 {
    if bytes.len() <= 16 {
        let mut word = [0u8; 16];
        word[..bytes.len()].copy_from_slice(bytes);
        let v = u128::from_le_bytes(word) | (u128::from(or_mask) << 64 | u128::from(or_mask));
        return hash_le16(v, bytes.len());
    }
    let mut h: u64 = 0x243f_6a88_85a3_08d3 ^ (bytes.len() as u64).wrapping_mul(FNV_PRIME);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h ^ (u64::from_le_bytes(word) | or_mask)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h = h.rotate_left(31);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        let mask = or_mask & (u64::MAX >> (64 - 8 * rest.len()));
        h = (h ^ (u64::from_le_bytes(word) | mask)).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    }
    mix64(h)
}

const ASCII_LOWER: u64 = 0x2020_2020_2020_2020;

/// Split `text` into word tokens (see the module docs), appending to `out` (cleared first).
/// Offsets refer to the NFKC form of `text`; pass the result of [`nfkc`] when spans matter.
/// Texts longer than 4 GiB are cut at 4 GiB (spans are `u32`).
pub fn words(text: &str, out: &mut Vec<Word>) {
    let text = nfkc(text);
    words_of_nfkc(&text, out);
}

/// [`words`] of a text already in NFKC form (the result of [`nfkc`]); skips the check.
///
/// ASCII is scanned eight bytes at a time (a word of up to 7 letters costs one load, one
/// classification and one multiply); non-ASCII characters take the Unicode path.
pub fn words_of_nfkc(text: &str, out: &mut Vec<Word>) {
    tokenize(text, out);
}

/// [`words`] of `text`, and the NFKC text the word offsets refer to (the result of [`nfkc`]).
/// The text is tokenized as it is; only when the tokenizer met a non-ASCII character is NFKC
/// checked, and the text tokenized again if NFKC changed it (ASCII text is never changed by
/// NFKC, so the common case reads the text once).
pub fn words_nfkc<'a>(text: &'a str, out: &mut Vec<Word>) -> Cow<'a, str> {
    // (Beyond 4 GiB the tokenizer stops and would not see non-ASCII text: NFKC first.)
    words_nfkc_into(text, out)
}

/// Where the tokenizer puts the words it finds, in text order.
pub trait WordSink {
    /// Forget the words of an earlier text.
    fn reset(&mut self, text_len: usize);
    /// A word with hash `hash` at bytes `start..end`.
    fn word(&mut self, hash: u64, start: usize, end: usize);
    /// Several words in text order (`hashes[k]` at bytes `starts[k]..ends[k]`): the words of
    /// one 64-byte block, gathered in local arrays so the tokenizer's per-word loop does not
    /// update the sink (a `Vec`'s length in memory) word by word.
    #[inline(always)]
    fn words(&mut self, hashes: &[u64], starts: &[u32], ends: &[u32]) {
        for ((&h, &s), &e) in hashes.iter().zip(starts).zip(ends) {
            self.word(h, s as usize, e as usize);
        }
    }
}

impl WordSink for Vec<Word> {
    #[inline]
    fn reset(&mut self, text_len: usize) {
        self.clear();
        self.reserve(text_len / 6);
    }

    #[inline(always)]
    fn word(&mut self, hash: u64, start: usize, end: usize) {
        self.push(Word {
            hash,
            start: start as u32,
            end: end as u32,
        });
    }

    #[inline(always)]
    fn words(&mut self, hashes: &[u64], starts: &[u32], ends: &[u32]) {
        self.extend(
            hashes
                .iter()
                .zip(starts)
                .zip(ends)
                .map(|((&hash, &start), &end)| Word { hash, start, end }),
        );
    }
}

/// Word hashes only (no spans): what the n-gram probes of a long text need.
impl WordSink for Vec<u64> {
    #[inline]
    fn reset(&mut self, text_len: usize) {
        self.clear();
        self.reserve(text_len / 4);
    }

    #[inline(always)]
    fn word(&mut self, hash: u64, _start: usize, _end: usize) {
        self.push(hash);
    }

    #[inline(always)]
    fn words(&mut self, hashes: &[u64], _starts: &[u32], _ends: &[u32]) {
        self.extend_from_slice(hashes);
    }
}

/// [`words_nfkc`] into any [`WordSink`]: the words of `text` in NFKC form, and that text.
pub fn words_nfkc_into<'a, S: WordSink>(text: &'a str, out: &mut S) -> Cow<'a, str> {
    if text.len() > u32::MAX as usize {
        let normalized = nfkc(text);
        tokenize(&normalized, out);
        return normalized;
    }
    if !tokenize(text, out) {
        return Cow::Borrowed(text);
    }
    let normalized = nfkc(text);
    if let Cow::Owned(changed) = &normalized {
        tokenize(changed, out);
    }
    normalized
}

/// The mark code of an ASCII byte (`<` `>` `=` `+` `-`), 0 for other bytes.
#[inline]
const fn ascii_mark(b: u8) -> u8 {
    match b {
        b'<' | b'>' | b'=' | b'+' | b'-' => b,
        _ => 0,
    }
}

/// The mark codes of a non-ASCII character: `≤` is `<=`, `≥` is `>=`, `≠` is its own, the
/// minus sign `−` is `-`, `±` is `+-`.
fn unicode_marks(c: char) -> &'static [u8] {
    match c {
        '≤' | '⩽' => b"<=",
        '≥' | '⩾' => b">=",
        '≠' => b"#",
        '−' => b"-",
        '±' => b"+-",
        _ => b"",
    }
}

/// `marks` with one more mark code (the last four are kept).
#[inline]
const fn push_mark(marks: u64, code: u8) -> u64 {
    ((marks << 8) | code as u64) & 0xffff_ffff
}

/// The hash of a word written after the marks `marks` (non-zero).
#[inline]
const fn marked(hash: u64, marks: u64) -> u64 {
    mix64(hash ^ marks.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A [`WordSink`] that applies the pending marks to the next word it is given.
struct Marked<'a, S> {
    out: &'a mut S,
    /// Mark codes seen since the last word (0: none).
    marks: u64,
}

impl<S: WordSink> WordSink for Marked<'_, S> {
    #[inline]
    fn reset(&mut self, text_len: usize) {
        self.marks = 0;
        self.out.reset(text_len);
    }

    #[inline(always)]
    fn word(&mut self, hash: u64, start: usize, end: usize) {
        let hash = if self.marks == 0 {
            hash
        } else {
            marked(hash, std::mem::take(&mut self.marks))
        };
        self.out.word(hash, start, end);
    }
}

/// [`words_of_nfkc`] into `out` (reset first); true when the text has a non-ASCII character
/// (within its first 4 GiB).
fn tokenize<S: WordSink>(text: &str, out: &mut S) -> bool {
    let mut sink = Marked { out, marks: 0 };
    tokenize_marked(text, &mut sink)
}

/// [`tokenize`] with the pending marks in `out`.
fn tokenize_marked<S: WordSink>(text: &str, out: &mut Marked<'_, S>) -> bool {
    let mut non_ascii = false;
    let bytes = text.as_bytes();
    let n = bytes.len().min(u32::MAX as usize);
    let bytes = &bytes[..n];
    out.reset(n);
    let mut buffer: Vec<u8> = Vec::new();
    // The words of one 64-byte block (at most one per byte), handed to the sink together
    // (set up once per text: zeroing them per block would cost more than the block).
    let mut hashes = [0u64; 64];
    let mut word_starts = [0u32; 64];
    let mut word_ends = [0u32; 64];
    let mut i = 0usize;
    while i < n {
        if i + 64 <= n && (i == 0 || bytes[i - 1] != b'\\') {
            // Plain ASCII stretch: classify 64 bytes at once, then take every word that ends
            // (on an ASCII separator) before the first non-ASCII byte.
            let class = classify64(bytes, i);
            let limit = class.non_ascii.trailing_zeros() as usize;
            let below_limit = if limit == 64 {
                u64::MAX
            } else {
                (1u64 << limit) - 1
            };
            let words = class.alnum & below_limit;
            // Marks not yet given to a word (consumed from the low end).
            let mut marks = class.marks & below_limit;
            let mut pending = out.marks;
            // First and last byte of every word; the k-th start pairs with the k-th end, so
            // the loop carries no dependency but two bit clears.
            let mut starts = words & !(words << 1);
            let mut ends = words & !(words >> 1);
            // LaTeX command names: words starting with a letter right after a backslash.
            let commands = starts & class.letter & (class.backslash << 1);
            // A word that reaches the limit may go on past it: taken after the loop.
            let open = if limit == 0 {
                0
            } else {
                ends & (1u64 << (limit - 1))
            };
            ends &= !open;
            let mut k = 0usize;
            if commands == 0 && i + 80 <= n {
                // No LaTeX command in the block, and 16 bytes readable from every word start:
                // each word is hashed from two loads, without a branch on its length.
                let block = &bytes[i..i + 80];
                while ends != 0 && k < 64 {
                    let s = starts.trailing_zeros() as usize & 63;
                    starts &= starts - 1;
                    let e = ends.trailing_zeros() as usize + 1;
                    ends &= ends - 1;
                    let len = e.saturating_sub(s);
                    let hash = if len <= 16 {
                        let lo = load8(block, s);
                        let hi = load8(block, s + 8);
                        hash_le16_words(lo | ASCII_LOWER, hi | ASCII_LOWER, len)
                    } else {
                        hash_chunks(&block[s..e.min(64)], ASCII_LOWER)
                    };
                    let before = marks & ((1u64 << s) - 1);
                    hashes[k] = if (before | pending) == 0 {
                        hash
                    } else {
                        marks &= !before;
                        let m = take_marks(block, before, pending);
                        pending = 0;
                        marked(hash, m)
                    };
                    word_starts[k] = (i + s) as u32;
                    word_ends[k] = (i + e) as u32;
                    k += 1;
                }
            }
            while ends != 0 && k < 64 {
                let s = starts.trailing_zeros() as usize;
                starts &= starts - 1;
                if commands & (1u64 << s) != 0 {
                    // The name is the letters from s; digits after it start a new word
                    // (paired with this run's end), else the name takes the run's end.
                    let e = s + (!(class.letter >> s)).trailing_zeros() as usize;
                    let run_end = ends.trailing_zeros() as usize + 1;
                    if e == run_end {
                        ends &= ends - 1;
                    } else {
                        starts |= 1u64 << e;
                    }
                    if let Some(hash) = command_hash(&bytes[i + s..i + e]) {
                        let before = marks & ((1u64 << s) - 1);
                        hashes[k] = if (before | pending) == 0 {
                            hash
                        } else {
                            marks &= !before;
                            let m = take_marks(&bytes[i..], before, pending);
                            pending = 0;
                            marked(hash, m)
                        };
                        word_starts[k] = (i + s) as u32;
                        word_ends[k] = (i + e) as u32;
                        k += 1;
                    }
                    continue;
                }
                let e = ends.trailing_zeros() as usize + 1;
                ends &= ends - 1;
                let (start, end) = (i + s, i + e);
                let hash = ascii_word_hash(bytes, start, end);
                let before = marks & ((1u64 << s) - 1);
                hashes[k] = if (before | pending) == 0 {
                    hash
                } else {
                    marks &= !before;
                    let m = take_marks(&bytes[i..], before, pending);
                    pending = 0;
                    marked(hash, m)
                };
                word_starts[k] = start as u32;
                word_ends[k] = end as u32;
                k += 1;
            }
            out.out
                .words(&hashes[..k], &word_starts[..k], &word_ends[..k]);
            // Marks after the last word of the block wait for the next word (an open word
            // starts after all of them).
            out.marks = if marks == 0 {
                pending
            } else {
                take_marks(&bytes[i..], marks, pending)
            };
            if open == 0 {
                i += limit;
                if limit == 64 {
                    continue;
                }
            } else {
                let block_end = i + limit;
                let s = starts.trailing_zeros() as usize;
                let start = i + s;
                i = start;
                if commands & (1u64 << s) != 0 {
                    i = latex_command(text, start, n, out);
                    continue;
                }
                if limit == 64 {
                    // A word running past the block (not a command: its first byte does not
                    // follow a backslash): find its end here.
                    let end = ascii_word_end(bytes, block_end);
                    if end >= n || bytes[end] < 0x80 {
                        out.word(ascii_word_hash(bytes, start, end), start, end);
                        i = end;
                        continue;
                    }
                    // Non-ASCII letters may continue the word: the byte-wise step takes it.
                }
            }
        }
        i = step(text, n, i, &mut buffer, out, &mut non_ascii);
    }
    non_ascii
}

/// `pending` followed by the mark codes of the bytes of `block` at the bits of `bits`.
#[inline(never)]
fn take_marks(block: &[u8], mut bits: u64, mut pending: u64) -> u64 {
    while bits != 0 {
        let at = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        pending = push_mark(pending, block[at]);
    }
    pending
}

/// The hash of the ASCII alphanumeric word `bytes[start..end]` (lowercased).
#[inline]
fn ascii_word_hash(bytes: &[u8], start: usize, end: usize) -> u64 {
    let len = end - start;
    if len <= 16 && start + 16 <= bytes.len() {
        let v = u128::from(load8(bytes, start)) | u128::from(load8(bytes, start + 8)) << 64;
        hash_le16(
            v | (u128::from(ASCII_LOWER) << 64 | u128::from(ASCII_LOWER)),
            len,
        )
    } else {
        hash_chunks(&bytes[start..end], ASCII_LOWER)
    }
}

/// The first position at or after `j` that is not an ASCII letter or digit (`bytes.len()`
/// at the end).
#[inline]
fn ascii_word_end(bytes: &[u8], mut j: usize) -> usize {
    let n = bytes.len();
    while j + 8 <= n {
        let ends = !ascii_alnum8(load8(bytes, j)) & HIGH;
        if ends != 0 {
            return j + (ends.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < n && bytes[j].is_ascii_alphanumeric() {
        j += 1;
    }
    j
}

/// Byte classes of 64 bytes, one bit per byte (bit k: byte `at + k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Classes {
    /// ASCII letter or digit.
    alnum: u64,
    /// ASCII letter.
    letter: u64,
    /// Not ASCII (left to [`step`]).
    non_ascii: u64,
    /// A backslash.
    backslash: u64,
    /// A mark: `<` `>` `=` `+` `-`.
    marks: u64,
}

/// The [`Classes`] of `bytes[at..at + 64]`.
///
/// SSE2 (part of the x86_64 baseline) with the primitives of `verity_core::bytes::sse2`:
/// 16 bytes per compare; equal to [`classify64_swar`] (property-tested).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify64(bytes: &[u8], at: usize) -> Classes {
    use verity_core::bytes::sse2::{ascii_digit, ascii_letter, bits16, eq, load16, or};
    let mut c = Classes {
        alnum: 0,
        letter: 0,
        non_ascii: 0,
        backslash: 0,
        marks: 0,
    };
    for k in 0..4 {
        let v = load16(bytes, at + 16 * k);
        let letter = ascii_letter(v);
        let mask = |m| bits16(m) << (16 * k);
        c.alnum |= mask(or(ascii_digit(v), letter));
        c.letter |= mask(letter);
        c.non_ascii |= mask(v);
        c.backslash |= mask(eq(v, b'\\'));
        let relations = or(or(eq(v, b'<'), eq(v, b'>')), eq(v, b'='));
        c.marks |= mask(or(relations, or(eq(v, b'+'), eq(v, b'-'))));
    }
    c
}

/// [`classify64`] without SIMD (other targets).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classify64(bytes: &[u8], at: usize) -> Classes {
    classify64_swar(bytes, at)
}

/// [`classify64`] eight bytes at a time in general-purpose registers.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn classify64_swar(bytes: &[u8], at: usize) -> Classes {
    let mut c = Classes {
        alnum: 0,
        letter: 0,
        non_ascii: 0,
        backslash: 0,
        marks: 0,
    };
    for k in 0..8 {
        let x = load8(bytes, at + 8 * k);
        c.alnum |= pack8(ascii_alnum8(x)) << (8 * k);
        c.letter |= pack8(ascii_letter8(x)) << (8 * k);
        c.non_ascii |= pack8(x & HIGH) << (8 * k);
        c.backslash |= pack8(eq8(x, b'\\')) << (8 * k);
        let marks = eq8(x, b'<') | eq8(x, b'>') | eq8(x, b'=') | eq8(x, b'+') | eq8(x, b'-');
        c.marks |= pack8(marks) << (8 * k);
    }
    c
}

/// One step of the byte-wise tokenizer from `i`: skip separators, then read one token (an
/// ASCII word, a LaTeX command, a non-ASCII word or character). Returns where the next step
/// starts (`n` at the end).
fn step<S: WordSink>(
    text: &str,
    n: usize,
    mut i: usize,
    buffer: &mut Vec<u8>,
    out: &mut Marked<'_, S>,
    non_ascii: &mut bool,
) -> usize {
    let bytes = &text.as_bytes()[..n];
    // Skip ASCII separators, keeping marks.
    loop {
        if i + 8 <= n {
            let x = load8(bytes, i);
            let stops = ascii_alnum8(x) | (x & HIGH);
            let marks = eq8(x, b'<') | eq8(x, b'>') | eq8(x, b'=') | eq8(x, b'+') | eq8(x, b'-');
            let first_stop = if stops == 0 {
                8
            } else {
                (stops.trailing_zeros() / 8) as usize
            };
            let mut marks = marks & (u64::MAX >> (64 - 8 * first_stop).min(63)).wrapping_shl(0);
            if first_stop < 8 {
                marks &= (1u64 << (8 * first_stop)) - 1;
            }
            while marks != 0 {
                let at = (marks.trailing_zeros() / 8) as usize;
                marks &= marks - 1;
                out.marks = push_mark(out.marks, bytes[i + at]);
            }
            i += first_stop;
            if first_stop == 8 {
                continue;
            }
            break;
        }
        while i < n && bytes[i] < 0x80 && !bytes[i].is_ascii_alphanumeric() {
            let code = ascii_mark(bytes[i]);
            if code != 0 {
                out.marks = push_mark(out.marks, code);
            }
            i += 1;
        }
        if i >= n {
            return n;
        }
        break;
    }
    let b = bytes[i];
    if b < 0x80 {
        // An ASCII letter or digit starts a word.
        let start = i;
        if b.is_ascii_alphabetic() && start > 0 && bytes[start - 1] == b'\\' {
            return latex_command(text, start, n, out);
        }
        if i + 8 <= n {
            let x = load8(bytes, i);
            let ends = !ascii_alnum8(x) & HIGH;
            if ends != 0 {
                // The word ends inside this load: hash it from the register.
                let len = (ends.trailing_zeros() / 8) as usize;
                let j = i + len;
                if bytes[j] >= 0x80 {
                    *non_ascii = true;
                    return slow_word(text, start, j, n, buffer, out);
                }
                out.word(hash_short_ascii(x, len), start, j);
                return j;
            }
        }
        let mut j = i;
        while j + 8 <= n {
            let ends = !ascii_alnum8(load8(bytes, j)) & HIGH;
            if ends != 0 {
                j += (ends.trailing_zeros() / 8) as usize;
                break;
            }
            j += 8;
        }
        if j + 8 > n {
            while j < n && bytes[j].is_ascii_alphanumeric() {
                j += 1;
            }
        }
        if j < n && bytes[j] >= 0x80 {
            *non_ascii = true;
            return slow_word(text, start, j, n, buffer, out);
        }
        out.word(hash_chunks(&bytes[start..j], ASCII_LOWER), start, j);
        return j;
    }
    *non_ascii = true;
    let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
        return n;
    };
    let width = c.len_utf8();
    if !c.is_alphanumeric() {
        for &code in unicode_marks(c) {
            out.marks = push_mark(out.marks, code);
        }
        return i + width;
    }
    if is_unspaced_script(c) {
        buffer.clear();
        push_lower(c, buffer);
        out.word(hash_chunks(buffer, 0), i, i + width);
        return i + width;
    }
    slow_word(text, i, i, n, buffer, out)
}

/// A LaTeX command name (letters after a backslash) starting at `start`: a word unless it is a
/// dropped formatting command. Returns where scanning resumes.
fn latex_command<S: WordSink>(text: &str, start: usize, n: usize, out: &mut S) -> usize {
    let bytes = text.as_bytes();
    let mut j = start;
    while j < n && bytes[j].is_ascii_alphabetic() {
        j += 1;
    }
    if let Some(hash) = command_hash(&bytes[start..j]) {
        out.word(hash, start, j);
    }
    j
}

/// The word hash of the LaTeX command `name` (ASCII letters), `None` for a dropped one.
#[inline]
fn command_hash(name: &[u8]) -> Option<u64> {
    if DROPPED_COMMANDS.iter().any(|d| d.as_bytes() == name) {
        return None;
    }
    Some(if name == b"dfrac" || name == b"tfrac" {
        hash_chunks(b"frac", ASCII_LOWER)
    } else {
        hash_chunks(name, ASCII_LOWER)
    })
}

/// The length-dependent seeds of [`hash_le16`] (lengths 0..=16).
const SHORT_SEEDS: [u64; 17] = {
    let mut seeds = [0u64; 17];
    let mut len = 0;
    while len < 17 {
        seeds[len] = mix64(0x243f_6a88_85a3_08d3 ^ (len as u64).wrapping_mul(FNV_PRIME));
        len += 1;
    }
    seeds
};

/// [`hash_chunks`]`(word, ASCII_LOWER)` of the first `len` (1..=7) bytes of `x`.
#[inline]
fn hash_short_ascii(x: u64, len: usize) -> u64 {
    hash_le16(u128::from(x | ASCII_LOWER), len)
}

/// The hash of a word of `len` (0..=16) bytes, the low `len` bytes of `v` (the bytes above
/// are ignored): one 64x64->128-bit multiply of its two halves, each xor-ed with a seed,
/// folded to 64 bits (wyhash's mixer). No branch on the length, and a third of the cost of a
/// multiply-then-fmix64 hash: this is the tokenizer's per-word work.
#[inline(always)]
fn hash_le16(v: u128, len: usize) -> u64 {
    hash_le16_words(v as u64, (v >> 64) as u64, len)
}

/// [`hash_le16`] of the 16 bytes `lo`, `hi` (little-endian halves).
#[inline(always)]
fn hash_le16_words(lo: u64, hi: u64, len: usize) -> u64 {
    debug_assert!(len <= 16);
    let len = len.min(16);
    folded_multiply(
        (lo & KEEP[len].0) ^ SHORT_SEEDS[len],
        (hi & KEEP[len].1) ^ 0x9e37_79b9_7f4a_7c15,
    )
}

/// The masks of the low `len` bytes of a 16-byte word (low half, high half), `len` 0..=16.
const KEEP: [(u64, u64); 17] = {
    let mut keep = [(0u64, 0u64); 17];
    let mut len = 0;
    while len < 17 {
        let lo = if len >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * len)) - 1
        };
        let hi = if len <= 8 {
            0
        } else if len == 16 {
            u64::MAX
        } else {
            (1u64 << (8 * (len - 8))) - 1
        };
        keep[len] = (lo, hi);
        len += 1;
    }
    keep
};

/// `a * b` as a 128-bit product, its halves xor-ed.
#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ (p >> 64) as u64
}

fn push_lower(c: char, buffer: &mut Vec<u8>) {
    let mut tmp = [0u8; 4];
    for l in c.to_lowercase() {
        buffer.extend_from_slice(l.encode_utf8(&mut tmp).as_bytes());
    }
}

/// A word with non-ASCII letters starting at `start` (ASCII alphanumerics up to `from`
/// already scanned): lowercased into `buffer`, hashed, pushed. Returns where scanning resumes.
fn slow_word<S: WordSink>(
    text: &str,
    start: usize,
    from: usize,
    n: usize,
    buffer: &mut Vec<u8>,
    out: &mut S,
) -> usize {
    buffer.clear();
    buffer.extend(
        text.as_bytes()[start..from]
            .iter()
            .map(u8::to_ascii_lowercase),
    );
    let mut j = from;
    while j < n {
        let Some(c) = text[j..].chars().next() else {
            break;
        };
        if c.is_ascii() {
            if !c.is_ascii_alphanumeric() {
                break;
            }
            buffer.push(c.to_ascii_lowercase() as u8);
        } else if c.is_alphanumeric() && !is_unspaced_script(c) {
            push_lower(c, buffer);
        } else {
            break;
        }
        j += c.len_utf8();
    }
    if !buffer.is_empty() {
        out.word(hash_lower(buffer), start, j);
    }
    j.max(start + 1)
}

/// Hash of already-lowercased word bytes, equal to the fast path's hash for ASCII words.
fn hash_lower(buffer: &[u8]) -> u64 {
    if buffer.is_ascii() {
        hash_chunks(buffer, ASCII_LOWER)
    } else {
        hash_chunks(buffer, 0)
    }
}

/// The hash [`words`] gives a single word (ASCII alphanumerics or letters of any script).
pub fn hash_word(word: &str) -> u64 {
    let mut buffer = Vec::new();
    for c in word.chars() {
        push_lower(c, &mut buffer);
    }
    hash_lower(&buffer)
}

/// Hash of `n` consecutive word hashes (order-sensitive).
#[inline]
pub fn ngram_hash(words: &[Word]) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for w in words {
        h = (h.rotate_left(23) ^ w.hash).wrapping_mul(0x2545_f491_4f6c_dd1d);
    }
    mix64(h)
}

/// 64-bit hash of a byte string (for exact keys); FNV-1a 64 with a final avalanche, processed
/// eight bytes at a time.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0x243f_6a88_85a3_08d3 ^ (bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h = h.rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    mix64(h)
}

/// 128-bit hash of a byte string: two independent 64-bit hashes (exact-dup keys; a collision
/// between different texts is ~n²/2^129, negligible).
pub fn hash128(bytes: &[u8]) -> u128 {
    let a = hash_bytes(bytes);
    let b = hash_chunks(bytes, 0);
    (u128::from(a) << 64) | u128::from(b)
}

#[cfg(test)]
/// The byte-at-a-time tokenizer the fast [`words_of_nfkc`] must agree with.
fn words_of_nfkc_reference(text: &str, out: &mut Vec<Word>) {
    out.clear();
    let bytes = text.as_bytes();
    let n = bytes.len().min(u32::MAX as usize);
    let mut buffer: Vec<u8> = Vec::new();
    // Mark codes since the last word; given to the next word pushed.
    let mut marks = 0u64;
    let mark_new_word = |out: &mut Vec<Word>, before: usize, marks: &mut u64| {
        if out.len() > before && *marks != 0 {
            if let Some(last) = out.last_mut() {
                last.hash = marked(last.hash, *marks);
            }
            *marks = 0;
        }
    };
    let mut i = 0usize;
    while i < n {
        let b = bytes[i];
        let before = out.len();
        if b < 0x80 {
            if !b.is_ascii_alphanumeric() {
                if matches!(b, b'<' | b'>' | b'=' | b'+' | b'-') {
                    marks = ((marks << 8) | u64::from(b)) & 0xffff_ffff;
                }
                i += 1;
                continue;
            }
            let start = i;
            if b.is_ascii_alphabetic() && start > 0 && bytes[start - 1] == b'\\' {
                // A LaTeX command name: letters only.
                let mut j = i;
                while j < n && bytes[j].is_ascii_alphabetic() {
                    j += 1;
                }
                let name = &text[start..j];
                if !DROPPED_COMMANDS.contains(&name) {
                    let hash = if name == "dfrac" || name == "tfrac" {
                        hash_chunks(b"frac", ASCII_LOWER)
                    } else {
                        hash_chunks(name.as_bytes(), ASCII_LOWER)
                    };
                    out.push(Word {
                        hash,
                        start: start as u32,
                        end: j as u32,
                    });
                }
                mark_new_word(out, before, &mut marks);
                i = j;
                continue;
            }
            let mut j = i;
            while j < n && bytes[j].is_ascii_alphanumeric() {
                j += 1;
            }
            if j < n && bytes[j] >= 0x80 {
                i = slow_word(text, start, j, n, &mut buffer, out);
            } else {
                out.push(Word {
                    hash: hash_chunks(&bytes[start..j], ASCII_LOWER),
                    start: start as u32,
                    end: j as u32,
                });
                i = j;
            }
            mark_new_word(out, before, &mut marks);
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        let width = c.len_utf8();
        if !c.is_alphanumeric() {
            let codes: &[u8] = match c {
                '≤' | '⩽' => b"<=",
                '≥' | '⩾' => b">=",
                '≠' => b"#",
                '−' => b"-",
                '±' => b"+-",
                _ => b"",
            };
            for &code in codes {
                marks = ((marks << 8) | u64::from(code)) & 0xffff_ffff;
            }
            i += width;
            continue;
        }
        if is_unspaced_script(c) {
            buffer.clear();
            push_lower(c, &mut buffer);
            out.push(Word {
                hash: hash_chunks(&buffer, 0),
                start: i as u32,
                end: (i + width) as u32,
            });
            mark_new_word(out, before, &mut marks);
            i += width;
            continue;
        }
        i = slow_word(text, i, i, n, &mut buffer, out);
        mark_new_word(out, before, &mut marks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word_texts(text: &str) -> Vec<String> {
        let normalized = nfkc(text);
        let mut out = Vec::new();
        words(&normalized, &mut out);
        out.iter()
            .map(|w| normalized[w.start as usize..w.end as usize].to_lowercase())
            .collect()
    }

    #[test]
    fn exact_key_folds_case_space_width_and_latex_spacing() {
        assert_eq!(normalize("  What is  2+2?\n"), "what is 2+2?");
        assert_eq!(normalize("Ｆｉｎｄ １２"), "find 12");
        assert_eq!(
            normalize("$\\dfrac{1}{2}\\,\\text{cm}$"),
            "$\\frac{1}{2} \\text{cm}$"
        );
        assert_eq!(normalize("\\left( x \\right)"), "( x )");
        assert_eq!(normalize("a\\quad b~c"), "a b c");
        assert_ne!(normalize("x+y"), normalize("x-y"));
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" \t\n "), "");
    }

    #[test]
    fn ascii_fast_path_matches_the_general_path() {
        for text in [
            "  What is  2+2?\n",
            "$\\dfrac{1}{2}\\,\\text{cm}$ \\left( x \\right) a\\quad b~c \\; \\",
            "\\Frac \\qquad\tX\x0b\x0cY",
            "",
        ] {
            // Appending a non-ASCII letter forces the general path for the same prefix.
            let general = normalize(&format!("{text}\u{e9}"));
            let fast = normalize(text);
            assert_eq!(
                format!("{fast}\u{e9}"),
                general.replace(" \u{e9}", "\u{e9}"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn words_split_on_punctuation_and_drop_formatting_commands() {
        assert_eq!(
            word_texts("Hello, World! 3.5"),
            ["hello", "world", "3", "5"]
        );
        assert_eq!(
            word_texts("$\\dfrac{12}{5}\\,\\text{cm}$"),
            ["dfrac", "12", "5", "cm"]
        );
        assert_eq!(word_texts("\\left(x\\right)"), ["x"]);
        assert!(word_texts("").is_empty());
        assert!(word_texts("?!... --").is_empty());
    }

    fn hashes(text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        words(text, &mut out);
        out.iter().map(|w| w.hash).collect()
    }

    #[test]
    fn relation_symbols_and_signs_keep_problems_apart() {
        // issue 22: different problems that share every letter and digit
        let pairs = [
            (
                "Find all k such that k>0 and f(k)=1.",
                "Find all k such that k<0 and f(k)=1.",
            ),
            ("Compute sin 60°.", "Compute sin(-60°)."),
            ("Compute $x+y$.", "Compute $x-y$."),
            ("Solve x \u{2264} 3.", "Solve x \u{2265} 3."),
            ("Find f(-1).", "Find f(1)."),
            ("Solve 2x = 6.", "Solve 2x + 6."),
        ];
        for (a, b) in pairs {
            assert_ne!(hashes(a), hashes(b), "{a:?} / {b:?}");
            assert_eq!(word_texts(a).len(), word_texts(b).len(), "{a:?} / {b:?}");
        }
    }

    #[test]
    fn sign_variants_are_not_near_duplicates_but_spacing_variants_are() {
        use crate::dedup::{dedup_texts, DedupConfig};
        let config = DedupConfig::default();
        for (a, b) in [
            (
                "Find all k such that k>0 and f(k)=1.",
                "Find all k such that k<0 and f(k)=1.",
            ),
            ("Compute sin 60°.", "Compute sin(-60°)."),
        ] {
            let outcome = dedup_texts(&config, &[a, b]);
            assert_eq!(outcome.dup_of, [None, None], "{a:?} / {b:?}");
        }
        let outcome = dedup_texts(
            &config,
            &[
                "Find all k such that k > 0 and f(k) = 1.",
                "Find all k such that k>0 and f(k)=1.",
            ],
        );
        assert_eq!(outcome.dup_of, [None, Some(0)]);
    }

    #[test]
    fn marks_do_not_depend_on_spacing_or_on_the_minus_character() {
        let same = [
            ("x - 3 = 0", "x-3=0"),
            ("k > 0", "k>0"),
            ("sin(-60°)", "sin (- 60°)"),
            ("x \u{2212} 1", "x - 1"),
            ("x \u{2264} 1", "x <= 1"),
            ("$=\\text{5}$", "= 5"),
        ];
        for (a, b) in same {
            assert_eq!(hashes(a), hashes(b), "{a:?} / {b:?}");
        }
        // a mark changes the hash of the word after it only
        let (plain, signed) = (hashes("so 60 is it"), hashes("so -60 is it"));
        assert_eq!(plain.len(), signed.len());
        assert_eq!(plain[0], signed[0]);
        assert_ne!(plain[1], signed[1]);
        assert_eq!(plain[2..], signed[2..]);
    }

    #[test]
    fn marks_reach_words_across_the_fast_path_blocks() {
        // marks before, inside and after 64-byte blocks, before commands and long words
        let base = "a".repeat(61);
        for sep in ["-", " - ", "=", "<=", "+ ", "\u{2212}"] {
            for tail in ["7", "\\frac12", "abcdefghijklmnopqrstuvwxyz", "é"] {
                let text = format!("{base} {sep}{tail} and so on {sep} 5 then more words here");
                let text = nfkc(&text);
                assert_eq!(fast_words(&text), reference_words(&text), "{text:?}");
                let unsigned =
                    nfkc(&format!("{base} {tail} and so on 5 then more words here")).into_owned();
                let hash_list = |t: &str| fast_words(t).iter().map(|w| w.hash).collect::<Vec<_>>();
                assert_ne!(hash_list(&text), hash_list(&unsigned), "{text:?}");
            }
        }
    }

    #[test]
    fn dfrac_and_frac_hash_alike() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        words("\\dfrac{1}{2}", &mut a);
        words("\\frac{1}{2}", &mut b);
        let ha: Vec<u64> = a.iter().map(|w| w.hash).collect();
        let hb: Vec<u64> = b.iter().map(|w| w.hash).collect();
        assert_eq!(ha, hb);
    }

    #[test]
    fn case_and_width_do_not_change_word_hashes() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        words("Natalia SOLD clips", &mut a);
        words("natalia ｓｏｌｄ Clips", &mut b);
        assert_eq!(
            a.iter().map(|w| w.hash).collect::<Vec<_>>(),
            b.iter().map(|w| w.hash).collect::<Vec<_>>()
        );
    }

    #[test]
    fn unspaced_scripts_give_one_word_per_character() {
        assert_eq!(
            word_texts("小明有5个苹果"),
            ["小", "明", "有", "5", "个", "苹", "果"]
        );
        assert_eq!(word_texts("Привет, мир"), ["привет", "мир"]);
        assert_eq!(word_texts("ثلاثة تفاحات"), ["ثلاثة", "تفاحات"]);
    }

    /// Text made of pieces that exercise every tokenizer branch: ASCII words shorter and longer
    /// than eight bytes, separators, LaTeX commands (dropped, renamed, kept), digits after a
    /// backslash, accented and upper-case non-ASCII letters, unspaced scripts, full-width forms.
    fn tokenizer_text() -> impl proptest::strategy::Strategy<Value = String> {
        let pieces = proptest::sample::select(vec![
            "a",
            "Z",
            "7",
            "word",
            "Natalia",
            "abcdefgh",
            "ABCDEFGHIJKLMNOPQ",
            "x1y2z3w4v5",
            " ",
            "  ",
            ",",
            ". ",
            "\\",
            "\\dfrac",
            "\\left",
            "\\frac",
            "\\Alpha",
            "\\2",
            "{",
            "}",
            "$",
            "-",
            "=",
            "<",
            ">",
            "+",
            " = -",
            "≤",
            "≥",
            "≠",
            "−",
            "±",
            "\n",
            "\t",
            "é",
            "É",
            "ß",
            "ö",
            "Ñandú",
            "小",
            "明",
            "カ",
            "한",
            "ｓ",
            "１",
            "İ",
            "ǅ",
            "\u{301}",
            "ัน",
            "—",
            "…",
            "١٢",
            "Ωmega",
            "café",
            "naïve",
            "x\u{300}",
            "¾",
            "\u{a0}",
            "ﬁ",
            "e\u{301}\u{327}",
            "\u{327}",
            "\u{1100}",
            "\u{1161}",
            "\u{11a8}",
            "Å",
            "\u{212b}",
            "ｶﾞ",
            "ﾞ",
            "²",
            "㎏",
            "\u{fb2c}",
            "\u{5bc}",
        ]);
        use proptest::strategy::Strategy;
        proptest::collection::vec(pieces, 0..160).prop_map(|v| v.concat())
    }

    /// Words of an NFKC text by the fast tokenizer.
    fn fast_words(text: &str) -> Vec<Word> {
        let mut out = Vec::new();
        words_of_nfkc(text, &mut out);
        out
    }

    /// Words of an NFKC text by the byte-at-a-time reference tokenizer.
    fn reference_words(text: &str) -> Vec<Word> {
        let mut out = Vec::new();
        words_of_nfkc_reference(text, &mut out);
        out
    }

    /// `words_nfkc` (normalize while tokenizing): its normalized text and words, and the
    /// words of the two-step `words`.
    fn fused_and_two_step(text: &str) -> (String, Vec<Word>, Vec<Word>) {
        let mut fused = Vec::new();
        let mut reference = Vec::new();
        let normalized = words_nfkc(text, &mut fused).into_owned();
        words(text, &mut reference);
        (normalized, fused, reference)
    }

    proptest::proptest! {
        #[test]
        fn fast_tokenizer_equals_the_byte_at_a_time_tokenizer(text in tokenizer_text()) {
            let text = nfkc(&text);
            proptest::prop_assert_eq!(fast_words(&text), reference_words(&text));
        }

        #[test]
        fn fast_tokenizer_equals_reference_on_mostly_ascii_text(
            text in "[a-zA-Z0-9 ,.()=+<>\\-\\\\\n]{0,400}(é|小|≤|\\\\frac)?[a-zA-Z0-9 ,.=-]{0,200}"
        ) {
            proptest::prop_assert_eq!(fast_words(&text), reference_words(&text));
        }

        #[test]
        fn fast_tokenizer_equals_reference_on_latex_heavy_text(
            text in "(\\\\?[a-zA-Z0-9]{0,12}[ ,{}=<>+\\-\\\\]{0,2}){0,60}"
        ) {
            proptest::prop_assert_eq!(fast_words(&text), reference_words(&text));
        }

        #[test]
        fn fast_tokenizer_equals_reference_on_long_words(
            text in "([a-zA-Z0-9]{0,150}[ ,.\\\\]){0,6}(é|小)?[a-zA-Z0-9]{0,90}"
        ) {
            proptest::prop_assert_eq!(fast_words(&text), reference_words(&text));
        }

        #[test]
        fn fast_tokenizer_equals_reference_on_any_string(text in "\\PC{0,80}") {
            let text = nfkc(&text);
            proptest::prop_assert_eq!(fast_words(&text), reference_words(&text));
        }
    }

    proptest::proptest! {
        #[test]
        fn classify64_equals_the_swar_classifier(bytes in proptest::collection::vec(proptest::num::u8::ANY, 64..80), at in 0usize..16) {
            let at = at.min(bytes.len() - 64);
            proptest::prop_assert_eq!(classify64(&bytes, at), classify64_swar(&bytes, at));
        }
    }

    /// [`classify64`] byte by byte.
    fn classify_reference(bytes: &[u8], at: usize) -> Classes {
        let bit = |f: &dyn Fn(u8) -> bool| {
            (0..64).fold(0u64, |m, k| m | (u64::from(f(bytes[at + k])) << k))
        };
        Classes {
            alnum: bit(&|b| b.is_ascii_alphanumeric()),
            letter: bit(&|b| b.is_ascii_alphabetic()),
            non_ascii: bit(&|b| b >= 0x80),
            backslash: bit(&|b| b == b'\\'),
            marks: bit(&|b| ascii_mark(b) != 0),
        }
    }

    #[test]
    fn classify64_equals_the_swar_classifier_on_every_byte_value() {
        for first in (0..=255u8).step_by(64) {
            let bytes: Vec<u8> = (0..64).map(|k| first.wrapping_add(k)).collect();
            assert_eq!(classify64(&bytes, 0), classify_reference(&bytes, 0));
            assert_eq!(classify64_swar(&bytes, 0), classify_reference(&bytes, 0));
        }
        for first in (0..=255u8).step_by(64) {
            let bytes: Vec<u8> = (0..64).map(|k| first.wrapping_add(k)).collect();
            assert_eq!(classify64(&bytes, 0), classify64_swar(&bytes, 0), "{first}");
            let mut each = [b'a'; 64];
            for b in 0..=255u8 {
                each[(b % 64) as usize] = b;
                assert_eq!(classify64(&each, 0), classify64_swar(&each, 0), "byte {b}");
            }
        }
    }

    #[test]
    fn fast_tokenizer_equals_reference_on_real_benchmark_text() {
        for name in ["gsm8k", "math500", "humaneval"] {
            let bench = crate::benchmarks::builtin(name).unwrap().load().unwrap();
            for item in &bench.items {
                let text = nfkc(&item.problem);
                assert_eq!(
                    fast_words(&text),
                    reference_words(&text),
                    "{name} {}",
                    item.id
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn nfkc_by_stretches_equals_nfkc_of_the_whole_text(text in tokenizer_text()) {
            let whole: String = text.nfkc().collect();
            proptest::prop_assert_eq!(nfkc_by_stretches(&text), whole.clone());
            proptest::prop_assert_eq!(nfkc(&text).into_owned(), whole);
        }

        #[test]
        fn words_nfkc_equals_words_of_the_nfkc_text(text in tokenizer_text()) {
            let (normalized, fused, reference) = fused_and_two_step(&text);
            proptest::prop_assert_eq!(&normalized, &nfkc(&text));
            proptest::prop_assert_eq!(fused, reference);
        }

        #[test]
        fn words_nfkc_equals_words_on_any_string(text in "\\PC{0,80}") {
            let (normalized, fused, reference) = fused_and_two_step(&text);
            proptest::prop_assert_eq!(&normalized, &nfkc(&text));
            proptest::prop_assert_eq!(fused, reference);
        }

        #[test]
        fn hash_sink_gets_the_hashes_of_the_word_sink(text in tokenizer_text()) {
            let mut ws = Vec::new();
            let mut hashes: Vec<u64> = Vec::new();
            let a = words_nfkc(&text, &mut ws).into_owned();
            let b = words_nfkc_into(&text, &mut hashes).into_owned();
            proptest::prop_assert_eq!(a, b);
            proptest::prop_assert_eq!(hashes, ws.iter().map(|w| w.hash).collect::<Vec<_>>());
        }

        #[test]
        fn quick_check_by_stretches_equals_the_whole_text_check(text in tokenizer_text()) {
            proptest::prop_assert_eq!(nfkc_quick_check(&text), is_nfkc_quick(text.chars()));
        }
    }

    #[test]
    fn hashes_differ_for_different_words() {
        assert_ne!(hash_word("abc"), hash_word("abd"));
        assert_ne!(hash128(b"abc"), hash128(b"abd"));
        assert_eq!(hash_bytes(b"same text"), hash_bytes(b"same text"));
    }
}
