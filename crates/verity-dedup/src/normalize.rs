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
//!   Each word is returned as a 64-bit hash plus its byte span in the (NFKC) text.
//!
//! # Why
//!
//! Duplicate and leaked problems differ in trivia (full-width digits, `\dfrac` vs `\frac`,
//! `\,` thin spaces, capitalisation, doubled spaces): the normalization removes exactly those,
//! so the exact key is stable and n-grams line up, while anything that can change a problem's
//! meaning (numbers, operators for the exact key) is kept.
//!
//! # Known failure modes
//!
//! - Word tokens ignore punctuation, so `3.5` and `3 5` tokenize alike, and `x+y`/`x-y` give the
//!   same words (the exact key keeps them apart; near-dup and n-gram matching do not).
//! - Lowercasing is Unicode simple-case per character; Turkish dotted/dotless i is not special.
//! - Scripts without spaces use one character per word, so their n-grams span fewer "words" of
//!   meaning than in English: a 13-gram is 13 characters.

use std::borrow::Cow;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

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
    match is_nfkc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => {
            let normalized: String = text.nfkc().collect();
            if normalized == text {
                Cow::Borrowed(text)
            } else {
                Cow::Owned(normalized)
            }
        }
    }
}

/// The exact-match key text (see the module docs for the rules).
pub fn normalize(text: &str) -> String {
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

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Final avalanche (murmur3 fmix64), so low and high bits of word hashes are both usable.
#[inline]
pub fn mix64(mut h: u64) -> u64 {
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

/// Split `text` into word tokens (see the module docs), appending to `out` (cleared first).
/// Offsets refer to the NFKC form of `text`; pass the result of [`nfkc`] when spans matter.
/// Texts longer than 4 GiB are cut at 4 GiB (spans are `u32`).
pub fn words(text: &str, out: &mut Vec<Word>) {
    out.clear();
    let text = nfkc(text);
    let text: &str = &text;
    let bytes = text.as_bytes();
    let limit = bytes.len().min(u32::MAX as usize);
    let mut i = 0usize;
    let mut hash = FNV_OFFSET;
    let mut start: Option<usize> = None;
    // Set when the current word started right after a backslash (a LaTeX command name).
    let mut command = false;
    let flush = |out: &mut Vec<Word>,
                 start: &mut Option<usize>,
                 hash: &mut u64,
                 command: &mut bool,
                 end: usize| {
        if let Some(s) = start.take() {
            let keep = if *command {
                let name = &text[s..end];
                !DROPPED_COMMANDS.contains(&name)
            } else {
                true
            };
            if keep {
                let name_hash =
                    if *command && (&text[s..end] == "dfrac" || &text[s..end] == "tfrac") {
                        hash_word("frac")
                    } else {
                        mix64(*hash)
                    };
                out.push(Word {
                    hash: name_hash,
                    start: s as u32,
                    end: end as u32,
                });
            }
        }
        *hash = FNV_OFFSET;
        *command = false;
    };
    while i < limit {
        let b = bytes[i];
        if b < 0x80 {
            if b.is_ascii_alphanumeric() {
                // A LaTeX command name is letters only: a digit ends it.
                if command && start.is_some() && b.is_ascii_digit() {
                    flush(out, &mut start, &mut hash, &mut command, i);
                }
                if start.is_none() {
                    start = Some(i);
                    command = i > 0 && bytes[i - 1] == b'\\' && b.is_ascii_alphabetic();
                }
                hash = (hash ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME);
            } else {
                flush(out, &mut start, &mut hash, &mut command, i);
            }
            i += 1;
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        let width = c.len_utf8();
        if c.is_alphanumeric() {
            if is_unspaced_script(c) {
                flush(out, &mut start, &mut hash, &mut command, i);
                let mut h = FNV_OFFSET;
                for l in c.to_lowercase() {
                    h = (h ^ u64::from(l as u32)).wrapping_mul(FNV_PRIME);
                }
                out.push(Word {
                    hash: mix64(h),
                    start: i as u32,
                    end: (i + width) as u32,
                });
            } else {
                if command {
                    flush(out, &mut start, &mut hash, &mut command, i);
                }
                if start.is_none() {
                    start = Some(i);
                }
                for l in c.to_lowercase() {
                    hash = (hash ^ u64::from(l as u32)).wrapping_mul(FNV_PRIME);
                }
            }
        } else {
            flush(out, &mut start, &mut hash, &mut command, i);
        }
        i += width;
    }
    flush(out, &mut start, &mut hash, &mut command, limit);
}

/// The hash [`words`] gives a single lowercase ASCII word.
pub fn hash_word(word: &str) -> u64 {
    let mut h = FNV_OFFSET;
    for b in word.bytes() {
        h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME);
    }
    mix64(h)
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
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    (u128::from(a) << 64) | u128::from(mix64(h ^ bytes.len() as u64))
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

    #[test]
    fn hashes_differ_for_different_words() {
        assert_ne!(hash_word("abc"), hash_word("abd"));
        assert_ne!(hash128(b"abc"), hash128(b"abd"));
        assert_eq!(hash_bytes(b"same text"), hash_bytes(b"same text"));
    }
}
