//! One pass over a text's bytes for the signals that look at every byte.
//!
//! What it does: reads the text eight bytes at a time and writes two bitmaps (bit `i % 64` of
//! word `i / 64` describes byte `i`): which bytes belong to a whitespace character (the words
//! that token counting and repetition use) and which bytes are ASCII letters or digits (the word
//! boundaries of the reflection markers); it also counts the ASCII letters (the script mix) and
//! says whether the text has any non-ASCII byte.
//!
//! Why: these used to be four separate passes (whitespace bitmap, a lowercased copy for the
//! marker automaton, the automaton itself, the letter count); one load per eight bytes now
//! serves all of them.
//!
//! Known failure modes: none; every byte value is classified exactly (tests compare each bitmap
//! with a byte-by-byte definition).

/// Bitmaps and counts of one text, see [`scan`].
#[derive(Debug, Default)]
pub struct Masks {
    /// Bit set: the byte belongs to a whitespace character (`char::is_whitespace`); bytes past
    /// the end count as whitespace.
    pub ws: Vec<u64>,
    /// Bit set: the byte is an ASCII letter or digit.
    pub alnum: Vec<u64>,
    /// Bit set: the byte starts a non-ASCII character (a byte >= 0xC0).
    pub lead: Vec<u64>,
    /// Bytes inside non-ASCII characters (0x80..=0xBF): the text has `len - continuation`
    /// characters.
    pub continuation: u64,
    /// ASCII letters in the text.
    pub ascii_letters: u64,
    /// The text is all ASCII.
    pub ascii: bool,
}

use verity_core::bytes::{ascii_alnum8, ascii_letter8, ascii_ws8, load8, pack8, HIGH};

/// Byte classes of a 64-byte block, one bit per byte (bit k: byte k).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Block {
    /// ASCII whitespace.
    ws: u64,
    /// ASCII letter or digit (only when asked for).
    alnum: u64,
    /// ASCII letter.
    letter: u64,
    /// Not ASCII.
    non_ascii: u64,
    /// A continuation byte of a non-ASCII character (0x80..=0xBF).
    cont: u64,
}

/// The [`Block`] of 64 bytes.
///
/// SSE2 (part of the x86_64 baseline) with the primitives of `verity_core::bytes::sse2`:
/// 16 bytes per compare, the bits straight from `movemask`; equal to [`classify64_swar`]
/// (tested).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify64<const ALNUM: bool>(block: &[u8]) -> Block {
    use verity_core::bytes::sse2::{
        ascii_digit, ascii_letter, ascii_ws, bits16, continuation, load16, or,
    };
    let mut c = Block::default();
    for k in 0..4 {
        let v = load16(block, 16 * k);
        let letter = ascii_letter(v);
        let mask = |m| bits16(m) << (16 * k);
        c.ws |= mask(ascii_ws(v));
        c.letter |= mask(letter);
        c.non_ascii |= mask(v);
        c.cont |= mask(continuation(v));
        if ALNUM {
            c.alnum |= mask(or(letter, ascii_digit(v)));
        }
    }
    c
}

/// [`classify64`] without SIMD (other targets).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn classify64<const ALNUM: bool>(block: &[u8]) -> Block {
    classify64_swar(block)
}

/// [`classify64`] eight bytes at a time in general-purpose registers (`alnum` always set).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn classify64_swar(block: &[u8]) -> Block {
    let mut c = Block::default();
    for k in 0..8 {
        let x = load8(block, 8 * k);
        c.letter |= pack8(ascii_letter8(x)) << (8 * k);
        c.non_ascii |= pack8(x & HIGH) << (8 * k);
        // Bit 7 set and bit 6 clear.
        c.cont |= pack8(x & !(x << 1) & HIGH) << (8 * k);
        c.ws |= pack8(ascii_ws8(x)) << (8 * k);
        c.alnum |= pack8(ascii_alnum8(x)) << (8 * k);
    }
    c
}

/// Scan `text` into `masks` (its buffers are reused).
pub fn scan(text: &str, masks: &mut Masks) {
    scan_with::<true>(text, masks);
}

/// [`scan`] without the alphanumeric bitmap (`masks.alnum` is left empty), for callers that
/// find word boundaries of their own.
pub fn scan_whitespace(text: &str, masks: &mut Masks) {
    scan_with::<false>(text, masks);
}

#[inline(always)]
fn scan_with<const ALNUM: bool>(text: &str, masks: &mut Masks) {
    let b = text.as_bytes();
    masks.ws.clear();
    masks.alnum.clear();
    masks.lead.clear();
    let mut letters = 0u64;
    let mut high = 0u64;
    let mut cont = 0u64;
    let mut blocks = b.chunks_exact(64);
    for block in &mut blocks {
        let c = classify64::<ALNUM>(block);
        letters += u64::from(c.letter.count_ones());
        high |= c.non_ascii;
        cont += u64::from(c.cont.count_ones());
        masks.ws.push(c.ws);
        masks.lead.push(c.non_ascii & !c.cont);
        if ALNUM {
            masks.alnum.push(c.alnum);
        }
    }
    // Bit 63 of `high` (what the tail loop below sets) says whether any byte was non-ASCII.
    high = if high != 0 { HIGH } else { 0 };
    let rest = blocks.remainder();
    let mut ws = u64::MAX;
    let mut alnum = 0u64;
    let mut lead = 0u64;
    for (k, &c) in rest.iter().enumerate() {
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            ws &= !(1u64 << k);
        }
        if c.is_ascii_alphanumeric() {
            alnum |= 1u64 << k;
        }
        if c >= 0xc0 {
            lead |= 1u64 << k;
        }
        cont += u64::from(c & 0xc0 == 0x80);
        letters += u64::from(c.is_ascii_alphabetic());
        high |= u64::from(c) << 56;
    }
    masks.ws.push(ws);
    masks.lead.push(lead);
    if ALNUM {
        masks.alnum.push(alnum);
    }
    masks.ascii_letters = letters;
    masks.continuation = cont;
    masks.ascii = high & HIGH == 0;
    if !masks.ascii {
        mark_non_ascii_whitespace(text, &masks.lead, &mut masks.ws);
    }
}

/// Call `f(at)` for the offset of every non-ASCII character of a text, given the `lead`
/// bitmap [`scan`] made of it.
#[inline]
pub fn for_each_non_ascii(lead: &[u64], mut f: impl FnMut(usize)) {
    for (block, &m) in lead.iter().enumerate() {
        let mut m = m;
        while m != 0 {
            f(block * 64 + m.trailing_zeros() as usize);
            m &= m - 1;
        }
    }
}

/// Set the bits of the non-ASCII whitespace characters of `text` in `ws`.
fn mark_non_ascii_whitespace(text: &str, lead: &[u64], ws: &mut [u64]) {
    let b = text.as_bytes();
    // Non-ASCII whitespace (U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F,
    // U+205F, U+3000) starts with one of these lead bytes.
    for_each_non_ascii(lead, |at| {
        if !matches!(b[at], 0xc2 | 0xe1 | 0xe2 | 0xe3) {
            return;
        }
        if let Some(c) = text.get(at..).and_then(|r| r.chars().next()) {
            if c.is_whitespace() {
                for i in at..at + c.len_utf8() {
                    ws[i / 64] |= 1u64 << (i % 64);
                }
            }
        }
    });
}

/// Call `f(at)` for every start of a run of set bits in `bitmap` (a bit set after a clear one;
/// the bit before the text counts as clear), in order.
#[inline(always)]
pub(crate) fn for_each_run_start(bitmap: &[u64], mut f: impl FnMut(usize)) {
    let mut carry = 0u64;
    for (block, &m) in bitmap.iter().enumerate() {
        let mut starts = m & !((m << 1) | carry);
        carry = m >> 63;
        while starts != 0 {
            f(block * 64 + starts.trailing_zeros() as usize);
            starts &= starts - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bit(bitmap: &[u64], i: usize) -> bool {
        bitmap[i / 64] >> (i % 64) & 1 == 1
    }

    fn check(text: &str) {
        let mut masks = Masks::default();
        scan(text, &mut masks);
        let mut ws_bytes = vec![false; text.len()];
        for (at, c) in text.char_indices() {
            if c.is_whitespace() {
                ws_bytes[at..at + c.len_utf8()].fill(true);
            }
        }
        for (i, &c) in text.as_bytes().iter().enumerate() {
            assert_eq!(bit(&masks.ws, i), ws_bytes[i], "ws at {i} of {text:?}");
            assert_eq!(
                bit(&masks.alnum, i),
                c.is_ascii_alphanumeric(),
                "alnum at {i} of {text:?}"
            );
        }
        // Past the end: whitespace, not alphanumeric.
        let total = masks.ws.len() * 64;
        for i in text.len()..total {
            assert!(
                bit(&masks.ws, i) && !bit(&masks.alnum, i),
                "{i} of {text:?}"
            );
        }
        let letters = text.bytes().filter(u8::is_ascii_alphabetic).count() as u64;
        assert_eq!(masks.ascii_letters, letters, "{text:?}");
        let mut leads = Vec::new();
        for_each_non_ascii(&masks.lead, |at| leads.push(at));
        let expected: Vec<usize> = text
            .char_indices()
            .filter(|(_, c)| !c.is_ascii())
            .map(|(at, _)| at)
            .collect();
        assert_eq!(leads, expected, "{text:?}");
        assert_eq!(
            text.len() as u64 - masks.continuation,
            text.chars().count() as u64,
            "{text:?}"
        );
        assert_eq!(masks.ascii, text.is_ascii(), "{text:?}");
    }

    #[test]
    fn every_byte_class_matches_its_definition() {
        let all: String = (0u8..128).map(char::from).collect();
        check(&all);
        check(&all.repeat(3));
        check("");
        check("Wait\u{a0}— 你好\u{3000}x\u{2028}y\u{85}z 0123456789 AZaz@[`{ /:");
        check(&"résumé\tnaïve 12 ".repeat(20));
    }

    proptest! {
        #[test]
        fn scan_equals_the_byte_definition(text in "(?s).{0,300}") {
            check(&text);
        }
    }

    #[test]
    fn block_classes_equal_the_portable_version() {
        // Every byte value in every lane.
        for first in 0..=255u8 {
            let block: Vec<u8> = (0..64u8)
                .map(|k| first.wrapping_add(k.wrapping_mul(5)))
                .collect();
            let portable = classify64_swar(&block);
            assert_eq!(classify64::<true>(&block), portable, "{block:?}");
            let no_alnum = classify64::<false>(&block);
            assert_eq!(
                (
                    no_alnum.ws,
                    no_alnum.letter,
                    no_alnum.non_ascii,
                    no_alnum.cont
                ),
                (
                    portable.ws,
                    portable.letter,
                    portable.non_ascii,
                    portable.cont
                )
            );
        }
    }

    #[test]
    fn run_starts_are_found_across_blocks() {
        let text = format!("{}ab cd{}e", " ".repeat(62), "-".repeat(70));
        let mut masks = Masks::default();
        scan(&text, &mut masks);
        let mut starts = Vec::new();
        for_each_run_start(&masks.alnum, |at| starts.push(at));
        assert_eq!(starts, vec![62, 65, 137]);
    }
}
