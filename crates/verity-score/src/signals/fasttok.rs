//! Exact, faster token counts for `cl100k_base`.
//!
//! What it does: splits text into the pieces of cl100k_base's pre-tokenizer
//! (`'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`)
//! with a hand-written scanner, and counts each piece's BPE tokens once per thread (a cache keyed
//! by the piece's bytes). The BPE itself is tiktoken's (via [`verity_core::tokens::Tokenizer`]).
//!
//! Why: token counting dominates `verity score`; the pre-tokenizer regex (with look-ahead, run
//! by a backtracking engine) is most of tiktoken's cost, and reasoning traces repeat the same
//! words thousands of times, so nearly every piece is a cache hit.
//!
//! Exactness: the scanner follows the pattern alternative by alternative, with the character
//! classes `\p{L}`, `\p{N}` and `\s` taken from `regex-syntax` (the Unicode tables of the regex
//! engine tiktoken runs), so non-ASCII text is split the same way. A cached count is the count
//! tiktoken gave the same bytes up to which ASCII digits they hold: cache keys replace every
//! ASCII digit by `0`, exact because digits only form pieces of their own, in groups of one to
//! three, and every such group is one cl100k token (checked when the counter is built; without
//! it keys keep their digits). Numbers then share a few keys instead of filling the cache. The one construct left to tiktoken is an apostrophe followed
//! by a non-ASCII character (case-insensitive `'s` also matches `'ſ`): the text is then cut into
//! segments after the last newline of each whitespace run (always a piece boundary) and the
//! segments the scanner declines are counted by tiktoken directly. Tests compare the pieces with
//! the pattern itself (run by `fancy-regex`) over the Unicode range, and the counts with
//! tiktoken's on real traces. Other tokenizers are counted by [`verity_core::tokens::Tokenizer`]
//! unchanged.
//!
//! Known failure modes: none known for cl100k_base; a tokenizer whose pattern differs must not
//! take this path (only `cl100k_base` does).

use super::reflection::{self, MarkerScan, GROUPS};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;
use verity_core::tokens::Tokenizer;

/// Slots in the per-thread table of short pieces (a power of two; 16 bytes each, 2 MiB).
const SLOTS: usize = 1 << 17;

/// Bits of the index of the small direct-mapped table in front of it.
const HOT_BITS: u32 = 15;

/// Slots of that table (512 KiB, half a core's L2 cache, next to the record being scored):
/// frequent pieces are found there without a trip to L3. (On 30k corpus traces 97.5% of the
/// lookups hit it; at 8k slots 92%, and every other lookup is a likely cache and TLB miss in
/// the 2 MiB table behind it.)
const HOT: usize = 1 << HOT_BITS;

/// The table is cleared when this many short pieces are cached (half full).
const SHORT_LIMIT: usize = SLOTS / 2;

/// Bound on cached long pieces (more than [`SHORT`] bytes) per thread; cleared when full.
const LONG_LIMIT: usize = 50_000;

/// Pieces of at most this many bytes are cached in the tables; longer ones in a map.
const SHORT: usize = 14;

/// Bit of a slot's second word set when a reflection marker may start in the cached text
/// ([`ReflectionMatcher::may_start_in`]; byte 14 of the key, always 0).
const MARKER_BIT: u64 = 1 << 48;

/// Bits of a slot's second word that hold the key (bytes 8..14 and the length).
const KEY_BITS: u64 = ((1 << 60) - 1) & !MARKER_BIT;

/// One cached short piece in 16 bytes (so a slot never straddles two cache lines): its bytes
/// 0..8, then its bytes 8..14 (bits 0..48), the marker bit (bit 48), its length (bits 56..60)
/// and its token count (bits 60..64; a piece has at most as many tokens as bytes, so at most
/// 14); `[0, 0]` = empty (a length is never 0). The marker bit is a function of the piece's
/// bytes that does not depend on its ASCII digits, so digit-blind keys share it safely.
#[derive(Clone, Copy, Default)]
#[repr(C, align(16))]
struct Slot([u64; 2]);

/// One lookup of the fused scan (24 bytes): a chunk `text[start..end]` of at most [`SHORT`]
/// bytes by its (digit-blind) key with its length in bits 56..60 of the second word (as the
/// cache compares it, never `[0, 0]`), or a piece counted by [`PieceCache::count`] (key
/// `[0, 0]`). Offsets fit 32 bits: longer texts do not take the fused scan.
#[derive(Clone, Copy)]
struct Step {
    key: [u64; 2],
    start: u32,
    end: u32,
}

impl Step {
    #[inline(always)]
    fn chunk(key: [u64; 2], start: usize, end: usize) -> Step {
        Step {
            key: [key[0], key[1] | ((end - start) as u64) << 56],
            start: start as u32,
            end: end as u32,
        }
    }

    #[inline(always)]
    fn piece(start: usize, end: usize) -> Step {
        Step {
            key: [0, 0],
            start: start as u32,
            end: end as u32,
        }
    }

    #[inline(always)]
    fn is_chunk(&self) -> bool {
        self.key[1] != 0
    }

    #[inline(always)]
    fn range(&self) -> (usize, usize) {
        (self.start as usize, self.end as usize)
    }
}

/// Per-thread cache from a pre-tokenized piece to its BPE token count.
///
/// Pieces of at most 14 bytes (nearly all of them in natural text) are keyed by their bytes
/// and length packed into two words in an open-addressing table, so a lookup is one multiply
/// and one or two slot comparisons, with no allocation; longer pieces go to a hash map of owned
/// strings. Keys hold the whole piece, so a hit returns exactly the count tiktoken gave that
/// piece.
struct PieceCache {
    /// Scratch list of the fused scan's lookups.
    steps: Vec<Step>,
    slots: Box<[Slot; SLOTS]>,
    hot: Box<[Slot; HOT]>,
    used: usize,
    long: HashMap<Box<str>, u32>,
}

/// [`MARKER_BIT`] when a reflection marker may start in `bytes`, else 0.
fn marker_bit(bytes: &[u8]) -> u64 {
    if reflection::matcher().may_start_in(bytes) {
        MARKER_BIT
    } else {
        0
    }
}

/// A zeroed table of `N` slots on the heap (fixed size, so indexing by a masked hash needs no
/// bounds check).
fn table<const N: usize>() -> Box<[Slot; N]> {
    match vec![Slot::default(); N].into_boxed_slice().try_into() {
        Ok(table) => table,
        Err(_) => unreachable!("the vector has N slots"),
    }
}

impl PieceCache {
    fn new() -> PieceCache {
        PieceCache {
            steps: Vec::new(),
            slots: table(),
            hot: table(),
            used: 0,
            long: HashMap::new(),
        }
    }

    /// The slot of `key` (`len <= SHORT` bytes): `Ok(second word of the slot)` when cached
    /// (the count is its top four bits, see [`Slot`]), else `Err(free slot)`.
    #[inline(always)]
    fn find(&mut self, key: [u64; 2], len: usize) -> Result<u64, usize> {
        self.find_keyed([key[0], key[1] | (len as u64) << 56])
    }

    /// [`PieceCache::find`] with the length already in the key's bits 56..60.
    #[inline(always)]
    fn find_keyed(&mut self, key: [u64; 2]) -> Result<u64, usize> {
        let hi = key[1];
        let h = (key[0] ^ hi.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let hot = (h >> (64 - HOT_BITS)) as usize & (HOT - 1);
        let slot = self.hot[hot];
        if slot.0[0] == key[0] && slot.0[1] & KEY_BITS == hi {
            return Ok(slot.0[1]);
        }
        self.find_behind(key, hi, h, hot)
    }

    /// [`PieceCache::find`] past the front table (the key with its length is `[key[0], hi]`,
    /// its hash `h`, its front slot `hot`).
    #[inline(never)]
    fn find_behind(&mut self, key: [u64; 2], hi: u64, h: u64, hot: usize) -> Result<u64, usize> {
        let mask = SLOTS - 1;
        let mut at = (h >> 47) as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot.0[1] == 0 {
                return Err(at);
            }
            if slot.0[0] == key[0] && slot.0[1] & KEY_BITS == hi {
                self.hot[hot] = slot;
                return Ok(slot.0[1]);
            }
            at = (at + 1) & mask;
        }
    }

    /// Cache `n` tokens for `key` in the free slot `at` found by [`PieceCache::find`], with
    /// the [`marker_bit`] of the bytes the key was loaded from.
    fn insert(&mut self, at: usize, key: [u64; 2], len: usize, n: usize, marker: u64) {
        let mut at = at;
        if self.used >= SHORT_LIMIT {
            self.slots.fill(Slot::default());
            self.hot.fill(Slot::default());
            self.used = 0;
            at = match self.find(key, len) {
                Ok(_) => return,
                Err(free) => free,
            };
        }
        // A piece has at most as many tokens as bytes; clamp anyway so a count never spills
        // into the key bits (then the slot is simply not written).
        if n > SHORT {
            return;
        }
        self.slots[at] = Slot([
            key[0],
            key[1] | marker | (len as u64) << 56 | (n as u64) << 60,
        ]);
        self.used += 1;
    }

    /// Token count of the piece `text[i..end]`, from the cache or from `tokenizer`.
    #[inline]
    fn count(
        &mut self,
        tokenizer: &Tokenizer,
        canon: bool,
        text: &str,
        i: usize,
        end: usize,
    ) -> usize {
        let len = end - i;
        if len > SHORT {
            return self.count_long(tokenizer, &text[i..end]);
        }
        let key = load_key(text.as_bytes(), i, len, canon);
        match self.find(key, len) {
            Ok(bits) => (bits >> 60) as usize,
            Err(at) => {
                let n = tokenizer.count(&text[i..end]);
                self.insert(at, key, len, n, marker_bit(&text.as_bytes()[i..end]));
                n
            }
        }
    }

    #[cold]
    fn count_long(&mut self, tokenizer: &Tokenizer, piece: &str) -> usize {
        if let Some(&n) = self.long.get(piece) {
            return n as usize;
        }
        let n = tokenizer.count(piece);
        if self.long.len() >= LONG_LIMIT {
            self.long.clear();
        }
        self.long.insert(piece.into(), n as u32);
        n
    }
}

/// The `len <= 16` bytes at `s[i..]`, zero-padded, as two little-endian words; with `canon`,
/// every ASCII digit replaced by `0` (see [`digits_are_single_tokens`]).
#[inline]
fn load_key(s: &[u8], i: usize, len: usize, canon: bool) -> [u64; 2] {
    let [lo, hi] = load_bytes(s, i, len);
    if canon {
        [zero_digits(lo), zero_digits(hi)]
    } else {
        [lo, hi]
    }
}

/// `x` with every byte that is an ASCII digit replaced by `b'0'` (SWAR, no carries between
/// bytes).
#[inline(always)]
fn zero_digits(x: u64) -> u64 {
    let digit = verity_core::bytes::ascii_digit8(x);
    let mask = (digit >> 7).wrapping_mul(0xff);
    (x & !mask) | (0x3030_3030_3030_3030 & mask)
}

/// Whether every string of one to three ASCII digits is a single token of `tokenizer`. Then
/// the token count of any text is unchanged when its ASCII digits are replaced by `0`: digits
/// only ever form pieces of their own (`\p{N}{1,3}+` splits a run into groups of three from
/// the left, whatever the digits are), so the cache can key pieces and chunks by their
/// digit-blind bytes and numbers stop crowding out words. True for cl100k_base; checked once.
fn digits_are_single_tokens(tokenizer: &Tokenizer) -> bool {
    (1..=3u32).all(|width| {
        (0..10u32.pow(width))
            .all(|n| tokenizer.count(&format!("{n:0width$}", width = width as usize)) == 1)
    })
}

/// Masks keeping the first `len` bytes of two little-endian words, by `len` (0..=16).
const KEEP: [[u64; 2]; 17] = {
    let mut masks = [[0u64; 2]; 17];
    let mut len = 0;
    while len <= 16 {
        let lo = if len >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * len)) - 1
        };
        let hi = if len >= 16 {
            u64::MAX
        } else if len <= 8 {
            0
        } else {
            (1u64 << (8 * (len - 8))) - 1
        };
        masks[len] = [lo, hi];
        len += 1;
    }
    masks
};

/// The `len <= 16` bytes at `s[i..]`, zero-padded, as two little-endian words.
#[inline]
pub(crate) fn load_bytes(s: &[u8], i: usize, len: usize) -> [u64; 2] {
    if let Some(window) = s.get(i..i + 16) {
        let lo = u64::from_le_bytes([
            window[0], window[1], window[2], window[3], window[4], window[5], window[6], window[7],
        ]);
        let hi = u64::from_le_bytes([
            window[8], window[9], window[10], window[11], window[12], window[13], window[14],
            window[15],
        ]);
        let [keep_lo, keep_hi] = KEEP[len];
        [lo & keep_lo, hi & keep_hi]
    } else {
        let mut w = [0u8; 16];
        w[..len].copy_from_slice(&s[i..i + len]);
        [
            u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]),
            u64::from_le_bytes([w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]]),
        ]
    }
}

thread_local! {
    static CACHE: RefCell<PieceCache> = RefCell::new(PieceCache::new());
    /// The cache of the chunked path (`o200k_base`): counts differ between tokenizers, so
    /// each has its own.
    static CHUNK_CACHE: RefCell<PieceCache> = RefCell::new(PieceCache::new());
}

/// Character classes of the pre-tokenizer pattern.
const LETTER: u8 = 0;
const NUMBER: u8 = 1;
/// `\r` or `\n` (whitespace).
const NEWLINE: u8 = 2;
/// Whitespace other than `\r` and `\n`.
const SPACE: u8 = 3;
/// Neither a letter, a number nor whitespace.
const OTHER: u8 = 4;

/// The Unicode classes `\p{L}`, `\p{N}` and `\s` as sorted code point ranges, and the class
/// of every ASCII byte.
struct Classes {
    letter: Vec<(u32, u32)>,
    number: Vec<(u32, u32)>,
    space: Vec<(u32, u32)>,
    ascii: [u8; 128],
}

fn unicode_ranges(pattern: &str) -> Option<Vec<(u32, u32)>> {
    use regex_syntax::hir::{Class, HirKind};
    let hir = regex_syntax::parse(pattern).ok()?;
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => Some(
            class
                .ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end())))
                .collect(),
        ),
        _ => None,
    }
}

fn in_ranges(ranges: &[(u32, u32)], c: u32) -> bool {
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

impl Classes {
    fn build() -> Option<Classes> {
        let mut classes = Classes {
            letter: unicode_ranges(r"\p{L}")?,
            number: unicode_ranges(r"\p{N}")?,
            space: unicode_ranges(r"\s")?,
            ascii: [OTHER; 128],
        };
        for b in 0..128u8 {
            classes.ascii[usize::from(b)] = classes.of(u32::from(b));
        }
        Some(classes)
    }

    fn of(&self, c: u32) -> u8 {
        if c == u32::from(b'\r') || c == u32::from(b'\n') {
            NEWLINE
        } else if in_ranges(&self.space, c) {
            SPACE
        } else if in_ranges(&self.letter, c) {
            LETTER
        } else if in_ranges(&self.number, c) {
            NUMBER
        } else {
            OTHER
        }
    }

    /// Class and byte length of the character starting at byte `i` of `s`.
    #[inline(always)]
    fn at(&self, s: &str, i: usize) -> (u8, usize) {
        let b = s.as_bytes()[i];
        if b < 0x80 {
            (self.ascii[usize::from(b)], 1)
        } else {
            self.at_non_ascii(s, i)
        }
    }

    #[cold]
    #[inline(never)]
    fn at_non_ascii(&self, s: &str, i: usize) -> (u8, usize) {
        match s.get(i..).and_then(|rest| rest.chars().next()) {
            Some(c) => (self.of(u32::from(c)), c.len_utf8()),
            // Not reachable: the scan only stops on character boundaries.
            None => (OTHER, 1),
        }
    }

    #[inline(always)]
    fn class(&self, s: &str, i: usize) -> u8 {
        self.at(s, i).0
    }

    /// The end of the cl100k piece starting at byte `i` of `s` (a character boundary), or
    /// `None` where the scanner leaves the text to tiktoken (an apostrophe before a non-ASCII
    /// character).
    fn piece_end(&self, s: &str, i: usize) -> Option<usize> {
        let b = s.as_bytes();
        let n = b.len();
        // 1. Contractions, case-insensitive: '(?i:[sdmt]|ll|ve|re).
        if b[i] == b'\'' && i + 1 < n {
            let a = b[i + 1];
            if a >= 0x80 {
                return None;
            }
            let a = a.to_ascii_lowercase();
            if matches!(a, b's' | b'd' | b'm' | b't') {
                return Some(i + 2);
            }
            if i + 2 < n && matches!(a, b'l' | b'v' | b'r') {
                let c = b[i + 2];
                if c >= 0x80 {
                    return None;
                }
                let c = c.to_ascii_lowercase();
                if (a == b'l' && c == b'l') || (a == b'v' && c == b'e') || (a == b'r' && c == b'e')
                {
                    return Some(i + 3);
                }
            }
        }
        let (c0, l0) = self.at(s, i);
        // 2. [^\r\n\p{L}\p{N}]?+\p{L}++: an optional prefix, then letters.
        let mut j = i;
        if c0 == SPACE || c0 == OTHER {
            j += l0;
        }
        if j < n {
            let (c, l) = self.at(s, j);
            if c == LETTER {
                j += l;
                while j < n {
                    let (c, l) = self.at(s, j);
                    if c != LETTER {
                        break;
                    }
                    j += l;
                }
                return Some(j);
            }
        }
        // 3. \p{N}{1,3}+: one to three numbers.
        if c0 == NUMBER {
            let mut j = i + l0;
            for _ in 0..2 {
                if j >= n {
                    break;
                }
                let (c, l) = self.at(s, j);
                if c != NUMBER {
                    break;
                }
                j += l;
            }
            return Some(j);
        }
        // 4.  ?[^\s\p{L}\p{N}]++[\r\n]*+: optional space, a run of others, trailing newlines.
        let mut j = i;
        if b[i] == b' ' && i + 1 < n && self.class(s, i + 1) == OTHER {
            j += 1;
        }
        if j < n && self.class(s, j) == OTHER {
            while j < n {
                let (c, l) = self.at(s, j);
                if c != OTHER {
                    break;
                }
                j += l;
            }
            while j < n && (b[j] == b'\n' || b[j] == b'\r') {
                j += 1;
            }
            return Some(j);
        }
        // Whitespace: the run starting here, its last newline and its last character.
        let mut run = i;
        let mut after_newline = None;
        let mut last = i;
        while run < n {
            let (c, l) = self.at(s, run);
            if c != SPACE && c != NEWLINE {
                break;
            }
            if c == NEWLINE {
                after_newline = Some(run + l);
            }
            last = run;
            run += l;
        }
        if run == i {
            // Not reachable (every character is a letter, number, other or whitespace); take
            // one character so the scan always advances.
            return Some(i + l0);
        }
        // 5. \s++$: whitespace to the end of the text.
        if run == n {
            return Some(n);
        }
        // 6. \s*[\r\n]: whitespace up to and including its last newline.
        if let Some(end) = after_newline {
            return Some(end);
        }
        // 7. \s+(?!\S): all but the last whitespace character (followed by a non-space).
        if last > i {
            return Some(last);
        }
        // 8. \s: one whitespace character.
        Some(i + l0)
    }
}

/// Start of the chunk of the word starting at `s`: the whitespace character before the word,
/// unless it is a newline (then the word itself).
#[inline]
fn chunk_start(b: &[u8], s: usize) -> usize {
    if s == 0 {
        return 0;
    }
    let last = b[s - 1];
    if last == b'\n' || last == b'\r' {
        s
    } else if last < 0x80 {
        s - 1
    } else {
        let mut k = s - 1;
        while k > 0 && b[k] & 0xc0 == 0x80 {
            k -= 1;
        }
        k
    }
}

fn classes() -> Option<&'static Classes> {
    static CELL: OnceLock<Option<Classes>> = OnceLock::new();
    CELL.get_or_init(Classes::build).as_ref()
}

/// A token counter: the fast path for `cl100k_base`, cached chunks for `o200k_base`, the
/// plain tokenizer otherwise.
#[derive(Clone)]
pub struct TokenCounter {
    tokenizer: Tokenizer,
    fast: Option<&'static Classes>,
    /// Count whitespace-delimited chunks and the gaps between them through the tokenizer, with
    /// a cache ([`TokenCounter::count_chunks_cached`]); for tiktoken encodings whose pattern
    /// ends in `\s*[\r\n]+|\s+(?!\S)|\s+` and lets punctuation take the newlines after it.
    chunked: bool,
    /// Cache keys ignore which ASCII digits a text has ([`digits_are_single_tokens`]).
    canon: bool,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCounter")
            .field("tokenizer", &self.tokenizer)
            .field("fast", &self.fast.is_some())
            .finish()
    }
}

impl TokenCounter {
    /// A counter for `tokenizer`.
    pub fn new(tokenizer: Tokenizer) -> TokenCounter {
        let fast = if tokenizer.name() == "cl100k_base" {
            classes()
        } else {
            None
        };
        let chunked = fast.is_none() && tokenizer.name() == "o200k_base";
        let canon = match (fast.is_some(), chunked) {
            (true, _) => {
                static CL100K_DIGITS: OnceLock<bool> = OnceLock::new();
                *CL100K_DIGITS.get_or_init(|| digits_are_single_tokens(&tokenizer))
            }
            (false, true) => {
                static O200K_DIGITS: OnceLock<bool> = OnceLock::new();
                *O200K_DIGITS.get_or_init(|| digits_are_single_tokens(&tokenizer))
            }
            (false, false) => false,
        };
        TokenCounter {
            tokenizer,
            fast,
            chunked,
            canon,
        }
    }

    /// The tokenizer's canonical name.
    pub fn name(&self) -> &'static str {
        self.tokenizer.name()
    }

    /// Number of tokens in `text` (identical to [`Tokenizer::count`]).
    pub fn count(&self, text: &str) -> usize {
        let Some(classes) = self.fast else {
            return self.tokenizer.count(text);
        };
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some(n) = self.count_pieces(classes, &mut cache, text) {
                return n;
            }
            // Rare: cut into segments after the last newline of each whitespace run (piece
            // boundaries of the pattern) and let tiktoken count the segments the scanner
            // declines.
            let bytes = text.as_bytes();
            let mut total = 0usize;
            let mut start = 0usize;
            let mut i = 0usize;
            while i < bytes.len() {
                let b = bytes[i];
                i += 1;
                if b == b'\n' || b == b'\r' {
                    let mut j = i;
                    let mut more_newlines = false;
                    while j < bytes.len() {
                        let (c, l) = classes.at(text, j);
                        if c == NEWLINE {
                            more_newlines = true;
                            break;
                        }
                        if c != SPACE {
                            break;
                        }
                        j += l;
                    }
                    if !more_newlines {
                        total += self.segment(classes, &mut cache, &text[start..i]);
                        start = i;
                    }
                }
            }
            if start < bytes.len() {
                total += self.segment(classes, &mut cache, &text[start..]);
            }
            total
        })
    }

    fn segment(&self, classes: &Classes, cache: &mut PieceCache, seg: &str) -> usize {
        self.count_pieces(classes, cache, seg)
            .unwrap_or_else(|| self.tokenizer.count(seg))
    }

    /// Tokens of `text`: scan its pieces and sum their cached counts; `None` when the scanner
    /// declines a piece.
    fn count_pieces(&self, classes: &Classes, cache: &mut PieceCache, text: &str) -> Option<usize> {
        let mut total = 0usize;
        let mut i = 0;
        while i < text.len() {
            let end = classes.piece_end(text, i)?;
            total += cache.count(&self.tokenizer, self.canon, text, i, end);
            i = end;
        }
        Some(total)
    }

    /// Token count of `text`, and the hashes of its whitespace-separated words appended to
    /// `words` (the words [`super::text::repetition`] counts), from one scan; `ws` is the
    /// text's whitespace bitmap ([`super::scan::scan`]). The count equals
    /// [`TokenCounter::count`].
    ///
    /// How: the whitespace bitmap of the text gives its words; a word with the whitespace
    /// character before it (a "chunk", e.g. `" answer,"`) always starts at a piece boundary,
    /// and its pieces do not depend on what follows, unless it ends in a non-alphanumeric
    /// character before a newline (`[\r\n]*+` joins the newline to its last piece). Such
    /// chunks of at most 14 bytes are looked up whole in the cache; everything else (whitespace
    /// runs, long or newline-joined chunks) is scanned piece by piece in place.
    pub fn count_with_words(&self, text: &str, ws: &[u64], words: &mut Vec<u64>) -> usize {
        self.count_with_words_and_markers(text, ws, words, None).0
    }

    /// Whether [`TokenCounter::count_with_words_and_markers`] counts reflection markers on
    /// its fast path (the `cl100k_base` scanner).
    pub fn counts_markers(&self) -> bool {
        self.fast.is_some()
    }

    /// [`TokenCounter::count_with_words`], and with `markers`, the reflection markers of
    /// `text` added to them ([`ReflectionMatcher::count_into`]'s counts) from the same scan;
    /// the flag says whether they were (only on the fast path: otherwise the caller counts
    /// them itself).
    ///
    /// How: every cached piece or chunk carries a bit that says whether a marker may start in
    /// it ([`ReflectionMatcher::may_start_in`]); the lookups visit the text's ranges in order,
    /// and only those with the bit, and the pieces that are not cached whole, are matched.
    pub fn count_with_words_and_markers(
        &self,
        text: &str,
        ws: &[u64],
        words: &mut Vec<u64>,
        markers: Option<&mut [u32; GROUPS]>,
    ) -> (usize, bool) {
        let before = words.len();
        let Some(classes) = self.fast else {
            if self.chunked {
                let counted = CHUNK_CACHE.with(|cache| {
                    let mut cache = cache.borrow_mut();
                    self.count_chunks_cached(&mut cache, text, ws, words)
                });
                if let Some(n) = counted {
                    return (n, false);
                }
                words.truncate(before);
            }
            super::text::word_hashes_of(text, ws, words);
            return (self.tokenizer.count(text), false);
        };
        let mut scan = markers.as_ref().map(|_| MarkerScan {
            matcher: reflection::matcher(),
            next: 0,
            counts: [0; GROUPS],
        });
        let fused = CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            self.count_chunks(classes, &mut cache, text, ws, words, scan.as_mut())
        });
        match fused {
            Some(n) => {
                if let (Some(counts), Some(scan)) = (markers, scan) {
                    for (c, n) in counts.iter_mut().zip(scan.counts) {
                        *c += n;
                    }
                    return (n, true);
                }
                (n, false)
            }
            None => {
                words.truncate(before);
                super::text::word_hashes_of(text, ws, words);
                (self.count(text), false)
            }
        }
    }

    /// The fused scan. It walks the words (hashes for the repetition signal, chunk
    /// boundaries, pieces of the gaps between chunks). The common word (one space before it,
    /// short, not joined to a newline: 86% of the words of the benchmark corpus's traces, 87%
    /// of Sky-T1's) is looked up on the spot; the others (line starts and ends, runs of
    /// whitespace, long words) list their lookups as [`Step`]s, made back to back before the
    /// next common word, so the branches of the rare cases stay out of the common word's path.
    /// (Listing every lookup and making them in a second pass, as before, cost 8% more on the
    /// fused microbenchmark.)
    fn count_chunks(
        &self,
        classes: &Classes,
        cache: &mut PieceCache,
        text: &str,
        ws: &[u64],
        words: &mut Vec<u64>,
        mut markers: Option<&mut MarkerScan>,
    ) -> Option<usize> {
        /// Lookups listed before they are made (bounds the list on huge texts).
        const BATCH: usize = 128;
        if u32::try_from(text.len()).is_err() {
            // Step offsets are 32-bit: a text of 4 GiB or more is counted piece by piece.
            return None;
        }
        let b = text.as_bytes();
        let mut steps = std::mem::take(&mut cache.steps);
        steps.clear();
        let mut pos = 0usize;
        let mut total = 0usize;
        let walked = super::text::for_each_word(ws, |s, e| {
            // The common word: one space before it, where the last lookup ended, at most
            // `SHORT` bytes with the space, and not joined to a newline after it (see below).
            // Its chunk `text[s - 1..e]` is looked up now, after the lookups listed before it
            // (the marker ranges are visited in order).
            let len = e + 1 - s;
            if pos + 1 == s
                && b[pos] == b' '
                && len <= SHORT
                && !(e < b.len()
                    && matches!(b[e], b'\n' | b'\r')
                    && !b[e - 1].is_ascii_alphanumeric())
            {
                if !steps.is_empty() {
                    total += self.resolve(classes, cache, text, &steps, markers.as_deref_mut())?;
                    steps.clear();
                }
                let [lo, hi] = load_bytes(b, pos, len);
                words.push(super::text::short_word_hash(lo, hi, len));
                let key = if self.canon {
                    [zero_digits(lo), zero_digits(hi)]
                } else {
                    [lo, hi]
                };
                let step = Step::chunk(key, pos, e);
                total += self.chunk_step(classes, cache, text, &step, &mut markers)?;
                pos = e;
                return Some(());
            }
            if steps.len() >= BATCH {
                total += self.resolve(classes, cache, text, &steps, markers.as_deref_mut())?;
                steps.clear();
            }
            let c = chunk_start(b, s);
            let len = e - c;
            let raw = (len <= SHORT).then(|| load_bytes(b, c, len));
            // A chunk of one ASCII whitespace character and the word: its bytes, loaded once,
            // give both the cache key and the word's hash (that character made a space, see
            // `word_hash`).
            words.push(match raw {
                Some([lo, hi]) if c + 1 == s => {
                    super::text::short_word_hash((lo & !0xff) | 0x20, hi, len)
                }
                _ => super::text::word_hash(b, s, e),
            });
            // The gap before the chunk. Newlines alone (the usual line break) are one piece
            // (`\s*[\r\n]`: the word follows), looked up whole like a chunk.
            if pos < c && c - pos <= SHORT && b[pos..c].iter().all(|&x| x == b'\n' || x == b'\r') {
                steps.push(Step::chunk(load_bytes(b, pos, c - pos), pos, c));
                pos = c;
            }
            while pos < c {
                let end = classes.piece_end(text, pos)?;
                steps.push(Step::piece(pos, end));
                pos = end;
            }
            // A chunk that ends in ASCII punctuation right before a newline: its last piece
            // takes the whole newline run (`[\r\n]*+`), and the piece boundary after the run
            // does not depend on what follows, so the chunk with its newlines is looked up
            // whole (the common line end `" next.\n"`).
            let (end, raw) = if e < b.len()
                && matches!(b[e], b'\n' | b'\r')
                && !b[e - 1].is_ascii_alphanumeric()
            {
                let mut end = e;
                while end < b.len() && matches!(b[end], b'\n' | b'\r') {
                    end += 1;
                }
                let punct = b[e - 1].is_ascii();
                let raw = (punct && end - c <= SHORT).then(|| load_bytes(b, c, end - c));
                (end, raw)
            } else {
                (e, raw)
            };
            if let (true, Some([lo, hi])) = (pos == c, raw) {
                let key = if self.canon {
                    [zero_digits(lo), zero_digits(hi)]
                } else {
                    [lo, hi]
                };
                steps.push(Step::chunk(key, c, end));
                pos = end;
            }
            Some(())
        });
        let result = walked.and_then(|()| {
            while pos < b.len() {
                let end = classes.piece_end(text, pos)?;
                steps.push(Step::piece(pos, end));
                pos = end;
            }
            Some(total + self.resolve(classes, cache, text, &steps, markers)?)
        });
        cache.steps = steps;
        result
    }

    /// Token count of `text` (and its word hashes appended to `words`) for a tokenizer
    /// without a scanner of its own: the text is cut into chunks (a whitespace-delimited word
    /// with the whitespace character before it, unless that is a newline) and the whitespace
    /// gaps between them, and each is counted by the tokenizer through the cache.
    ///
    /// Exact because no piece of the pattern crosses a cut: whitespace pieces stop before the
    /// last whitespace character ahead of a word (`\s+(?!\S)`) or at a newline
    /// (`\s*[\r\n]+`), so that character starts the chunk's first piece; a word's last piece
    /// ends with the word, except a punctuation piece right before a newline, which takes the
    /// newline run and any slashes after it (`[\r\n/]*`): the chunk then takes them too (and the
    /// next word goes on from there). A word ending in a non-ASCII
    /// character right before a newline (is it a letter or punctuation?) is not decided here:
    /// `None`, and the caller counts the whole text.
    fn count_chunks_cached(
        &self,
        cache: &mut PieceCache,
        text: &str,
        ws: &[u64],
        words: &mut Vec<u64>,
    ) -> Option<usize> {
        let b = text.as_bytes();
        let mut pos = 0usize;
        let mut total = 0usize;
        super::text::for_each_word(ws, |s, e| {
            words.push(super::text::word_hash(b, s, e));
            if e <= pos {
                // Taken whole by the punctuation piece before it (see below).
                return Some(());
            }
            // A word partly taken by that piece goes on from where the piece ended.
            let c = chunk_start(b, s).max(pos);
            if pos < c {
                total += cache.count(&self.tokenizer, self.canon, text, pos, c);
            }
            let mut end = e;
            if e < b.len() && matches!(b[e], b'\n' | b'\r') {
                let last = b[e - 1];
                if last >= 0x80 {
                    return None;
                }
                if !last.is_ascii_alphanumeric() {
                    // o200k's punctuation piece ends in `[\r\n/]*`: the newlines, and slashes
                    // after them (`;\n\n// comment`), which may run into the next word.
                    while end < b.len() && matches!(b[end], b'\n' | b'\r' | b'/') {
                        end += 1;
                    }
                }
            }
            total += cache.count(&self.tokenizer, self.canon, text, c, end);
            pos = end;
            Some(())
        })?;
        if pos < b.len() {
            total += cache.count(&self.tokenizer, self.canon, text, pos, b.len());
        }
        Some(total)
    }

    /// The token total of the steps of [`TokenCounter::count_chunks`]; with `markers`, the
    /// reflection markers of the steps' ranges counted on the way (the steps cover the text
    /// in order).
    fn resolve(
        &self,
        classes: &Classes,
        cache: &mut PieceCache,
        text: &str,
        steps: &[Step],
        mut markers: Option<&mut MarkerScan>,
    ) -> Option<usize> {
        let mut total = 0usize;
        // The common step (a chunk found in the cache, no marker in it) stays in this loop;
        // the others leave it.
        for step in steps {
            if step.is_chunk() {
                total += self.chunk_step(classes, cache, text, step, &mut markers)?;
            } else {
                total += self.piece_step(cache, text, step, &mut markers);
            }
        }
        Some(total)
    }

    /// Tokens of a chunk step (and its markers), from the cache or counted.
    #[inline(always)]
    fn chunk_step(
        &self,
        classes: &Classes,
        cache: &mut PieceCache,
        text: &str,
        step: &Step,
        markers: &mut Option<&mut MarkerScan>,
    ) -> Option<usize> {
        match cache.find_keyed(step.key) {
            Ok(bits) => {
                if bits & MARKER_BIT != 0 {
                    if let Some(m) = markers.as_deref_mut() {
                        let (start, end) = step.range();
                        m.range(text.as_bytes(), start, end);
                    }
                }
                Some((bits >> 60) as usize)
            }
            Err(_) => self.missed_chunk(classes, cache, text, step, markers),
        }
    }

    /// Tokens of a chunk step not in the cache (counted piece by piece, then cached).
    #[inline(never)]
    fn missed_chunk(
        &self,
        classes: &Classes,
        cache: &mut PieceCache,
        text: &str,
        step: &Step,
        markers: &mut Option<&mut MarkerScan>,
    ) -> Option<usize> {
        let (start, end) = step.range();
        let len = end - start;
        let key = [step.key[0], step.key[1] & !(0xf << 56)];
        let chunk = &text[start..end];
        let mut n = 0;
        let mut i = 0;
        while i < chunk.len() {
            let end = classes.piece_end(chunk, i)?;
            n += cache.count(&self.tokenizer, self.canon, chunk, i, end);
            i = end;
        }
        let marker = marker_bit(chunk.as_bytes());
        // The pieces may have taken the free slot: look again.
        if let Err(at) = cache.find_keyed(step.key) {
            cache.insert(at, key, len, n, marker);
        }
        if let (Some(m), true) = (markers.as_deref_mut(), marker != 0) {
            m.range(text.as_bytes(), start, end);
        }
        Some(n)
    }

    /// Tokens of a piece step (and its markers).
    #[inline(never)]
    fn piece_step(
        &self,
        cache: &mut PieceCache,
        text: &str,
        step: &Step,
        markers: &mut Option<&mut MarkerScan>,
    ) -> usize {
        let (start, end) = step.range();
        if let Some(m) = markers.as_deref_mut() {
            // A phrase starts with an ASCII letter: most pieces here (whitespace, digits,
            // punctuation) cannot hold one.
            if text.as_bytes()[start..end]
                .iter()
                .any(u8::is_ascii_alphabetic)
            {
                m.range(text.as_bytes(), start, end);
            }
        }
        cache.count(&self.tokenizer, self.canon, text, start, end)
    }

    /// The pieces of `text` as byte ranges (`None` where the scanner declines); for tests.
    #[doc(hidden)]
    pub fn pieces(&self, text: &str) -> Option<Vec<(usize, usize)>> {
        let classes = self.fast?;
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let end = classes.piece_end(text, i)?;
            out.push((i, end));
            i = end;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_tiktoken_on_tricky_text() {
        let tok = Tokenizer::by_name("cl100k_base").unwrap();
        let fast = TokenCounter::new(tok.clone());
        let cases = [
            "",
            " ",
            "   ",
            "\n",
            "hello world",
            "  hello   world  ",
            "I'm sure they'll say it's theirs, WE'RE 'S 'sam'",
            "12345 1234567 x1y22z333",
            "a.\n\n  b",
            "x.\n \n b\n",
            "$\\frac{3}{4}$ = 0.75!!\n\n\n",
            "\t\tdef f(x):\n\t\treturn x**2  \r\n\r\n",
            "end with spaces   ",
            "a \x0b b \x0c c",
            "Wait... let me re-check: 3 + 4 = 7?? (yes)\n",
            "mixed π and 你好 and — dashes\n next line ok",
            "'",
            "'ll",
            " ' x",
            "!!!\n\n\nabc",
            "<think>\nSo the answer is \\boxed{42}.\n</think>\n\nThe answer is 42.",
        ];
        for case in cases {
            assert_eq!(fast.count(case), tok.count(case), "{case:?}");
        }
        // The same texts again: every piece is now served from the cache.
        for case in cases {
            assert_eq!(fast.count(case), tok.count(case), "cached: {case:?}");
        }
        // Whitespace has no fast path: the plain tokenizer counts.
        let ws = TokenCounter::new(Tokenizer::by_name("whitespace").unwrap());
        assert_eq!(ws.count("a b  c"), 3);
    }

    #[test]
    fn line_ends_with_their_newlines_stay_exact() {
        let tok = Tokenizer::by_name("cl100k_base").unwrap();
        let fast = TokenCounter::new(tok.clone());
        let texts = [
            "So far so good.\nMoving on.\n\nNext: x = 3;\r\n\r\ny",
            "end.\n\n\n  next line!\n \n\tok",
            "students'\nit's\n(yes)\n[no]\r\r\n{maybe}\n",
            "café.\nnaïve\n’\nbar—\nbaz…\n",
            "......................\nshort.\n0123456789012.\n01234567890123.\n",
            " =\n=\n ==\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nx",
            "last.\n",
            "last.\n\n",
        ];
        for round in 0..2 {
            for text in texts {
                assert_eq!(fast.count(text), tok.count(text), "round {round}: {text:?}");
                check_fused(&fast, &tok, text);
            }
        }
    }

    #[test]
    fn digit_blind_cache_keys_stay_exact() {
        let tok = Tokenizer::by_name("cl100k_base").unwrap();
        assert!(
            digits_are_single_tokens(&tok),
            "cl100k: 0..999 are single tokens"
        );
        let fast = TokenCounter::new(tok.clone());
        assert!(fast.canon);
        assert_eq!(
            zero_digits(u64::from_le_bytes(*b"a1Z9 0/:")),
            u64::from_le_bytes(*b"a0Z0 0/:")
        );
        // Texts that share digit-blind keys with each other (and with what the cache already
        // holds) but not their digits: every count must still be tiktoken's.
        let cases = [
            " 13489,",
            " 99999,",
            " 00000,",
            "$287",
            "$100",
            "3.14159",
            "2.71828",
            "1,234,567.89",
            "x1y22z333",
            "x9y00z999",
            "12345678901234567890",
            "0",
            "00",
            "000",
            "0000",
            "\\frac{3944}{34} = 116",
            "\\frac{1000}{10} = 999",
            "١٢٣ ٤٥٦",
            "²³ 12²",
            "id_42: 7e-3 0x1F 1e10",
            " 2024-11-26 12:34:56",
        ];
        for round in 0..2 {
            for case in cases {
                assert_eq!(fast.count(case), tok.count(case), "round {round}: {case:?}");
                let text = format!("We compute {case} and then{case}\n{case}!\n");
                assert_eq!(
                    fast.count(&text),
                    tok.count(&text),
                    "round {round}: {text:?}"
                );
                check_fused(&fast, &tok, &text);
            }
        }
    }

    #[test]
    fn long_pieces_and_a_full_cache_stay_exact() {
        let tok = Tokenizer::by_name("cl100k_base").unwrap();
        let fast = TokenCounter::new(tok.clone());
        // Pieces longer than 14 bytes go through the map of long pieces.
        let long = "internationalization ------------------------ \\\\\\\\\\\\\\\\\\\\\n                        x\n";
        assert_eq!(fast.count(long), tok.count(long));
        assert_eq!(fast.count(long), tok.count(long));
        // More distinct short pieces than the table keeps: it is cleared and refilled.
        let mut text = String::new();
        for n in 0..(SHORT_LIMIT + 5_000) {
            let mut m = n;
            text.push(' ');
            loop {
                text.push((b'a' + (m % 26) as u8) as char);
                m /= 26;
                if m == 0 {
                    break;
                }
            }
        }
        let expected = tok.count(&text);
        assert_eq!(fast.count(&text), expected);
        assert_eq!(fast.count(&text), expected);
        let tail = &text[text.len() - 20_000..];
        assert_eq!(fast.count(tail), tok.count(tail));
    }

    #[test]
    fn pieces_and_chunks_around_the_table_limit_stay_exact() {
        let tok = Tokenizer::by_name("cl100k_base").unwrap();
        let fast = TokenCounter::new(tok.clone());
        // Words and chunks of 13 to 18 bytes (the tables hold up to 15), with and without the
        // space before them, numbers and punctuation of the same lengths, cold then warm.
        let mut text = String::new();
        for len in 12..=18 {
            let word: String = (0..len)
                .map(|k| (b'a' + (k * 7 % 26) as u8) as char)
                .collect();
            let digits: String = (0..len).map(|k| (b'0' + (k % 10) as u8) as char).collect();
            text.push_str(&format!(
                "{word} x{word}\n{word}, {digits} {}!\n",
                "-".repeat(len)
            ));
        }
        for _ in 0..2 {
            assert_eq!(fast.count(&text), tok.count(&text));
            let (mut words, mut masks) = (Vec::new(), super::super::scan::Masks::default());
            assert_eq!(
                {
                    super::super::scan::scan(&text, &mut masks);
                    fast.count_with_words(&text, &masks.ws, &mut words)
                },
                tok.count(&text)
            );
            for line in text.lines() {
                assert_eq!(fast.count(line), tok.count(line), "{line:?}");
            }
        }
    }

    /// cl100k_base's pre-tokenizer pattern, as tiktoken-rs compiles it.
    const CL100K_PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

    fn regex_pieces(re: &fancy_regex::Regex, text: &str) -> Vec<(usize, usize)> {
        re.find_iter(text)
            .map(|m| {
                let m = m.unwrap();
                (m.start(), m.end())
            })
            .collect()
    }

    #[test]
    fn pieces_equal_the_pattern_over_unicode() {
        let re = fancy_regex::Regex::new(CL100K_PATTERN).unwrap();
        let fast = TokenCounter::new(Tokenizer::by_name("cl100k_base").unwrap());
        // Every code point up to U+33FF and a sample above (letters, numbers, marks, spaces,
        // symbols of many scripts), each in several contexts.
        let mut chars: Vec<char> = (0x80u32..0x3400).filter_map(char::from_u32).collect();
        chars.extend(
            (0x3400u32..0x11_0000)
                .step_by(97)
                .filter_map(char::from_u32),
        );
        chars.extend([
            '\u{85}', '\u{a0}', '\u{1680}', '\u{2028}', '\u{202f}', '\u{3000}',
        ]);
        let mut checked = 0;
        for group in chars.chunks(48) {
            let mut text = String::new();
            for (k, &c) in group.iter().enumerate() {
                match k % 6 {
                    0 => text.push_str(&format!("a{c}b {c}{c}1{c}23456 ")),
                    1 => text.push_str(&format!("{c} x  {c}\n{c}\n\n {c}. ")),
                    2 => text.push_str(&format!("It{c}s {c}{c}{c} 12{c}3  \t{c}")),
                    3 => text.push_str(&format!("{c}{c}\r\n  {c}word{c}!! {c}")),
                    4 => text.push_str(&format!("x {c}? {c}{c}  y\n \n{c} ")),
                    _ => text.push_str(&format!("'s{c} {c}'ll {c}9{c}9 ")),
                }
            }
            let mid = (0..=text.len() / 2)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            for t in [text.as_str(), text.trim_end(), &text[..mid]] {
                let expected = regex_pieces(&re, t);
                assert_eq!(fast.pieces(t).as_deref(), Some(&expected[..]), "{t:?}");
                checked += expected.len();
            }
        }
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn apostrophe_before_non_ascii_is_left_to_tiktoken() {
        let tok = Tokenizer::by_name("cl100k_base").unwrap();
        let fast = TokenCounter::new(tok.clone());
        for text in [
            "it'ſ here\nand 'é then\n\n'ŀl x",
            "'ſ",
            "a\n 'Ｓ b \n  c'ſ",
            "don'ſ\r\n\r\n  next line's fine'",
        ] {
            assert!(fast.pieces(text).is_none(), "{text:?}");
            assert_eq!(fast.count(text), tok.count(text), "{text:?}");
        }
    }

    /// Checks `count_with_words` against tiktoken and the plain word split.
    fn check_fused(fast: &TokenCounter, tok: &Tokenizer, text: &str) {
        let mut words = vec![7];
        let mut masks = super::super::scan::Masks::default();
        super::super::scan::scan_whitespace(text, &mut masks);
        let mut markers = [1u32; GROUPS];
        let (n, counted) =
            fast.count_with_words_and_markers(text, &masks.ws, &mut words, Some(&mut markers));
        assert_eq!(n, tok.count(text), "{text:?}");
        // The markers come from the same scan on the cl100k_base path, unless the scanner
        // declines the text (only ever for an apostrophe before a non-ASCII character).
        if fast.pieces(text).is_some() {
            assert_eq!(counted, fast.counts_markers(), "{text:?}");
        }
        let mut expected_markers = reflection::matcher().count(text);
        if counted {
            for c in &mut expected_markers {
                *c += 1;
            }
            assert_eq!(markers, expected_markers, "{text:?}");
        } else {
            assert_eq!(markers, [1; GROUPS], "{text:?}");
        }
        let mut expected = vec![7];
        super::super::text::word_hashes(text, &mut expected, &mut masks);
        assert_eq!(words, expected, "{text:?}");
        assert_eq!(words.len() - 1, text.split_whitespace().count());
    }

    #[test]
    fn fused_markers_equal_the_matcher() {
        let tok = Tokenizer::by_name("cl100k_base").unwrap();
        let fast = TokenCounter::new(tok.clone());
        for text in [
            "Wait, let me double-check. Hmm... awaited waiting. But wait: actually no.",
            "wait",
            "go",
            "i",
            "I made a mistake.\nGo back, go\nback; on second thought (wait)[hmm]{actually}",
            "\"let me check\"—wait…hmm_wait 3wait wait3 é wait x=wait (Let's verify).\n",
            "Alternatively,\nalternatively\tON SECOND THOUGHT let me re-examine backtracking",
            "That's wrong!\n\nthat is not right\r\nthat's incorrect. This is wrong; start over",
            "let me\ncheck but\twait hmmmm hmm hmmm doublecheck double check double-check.\n",
            "averyveryverylongwordthenwait wait-wait-wait,wait;wait:wait!wait?\nwait",
        ] {
            for _ in 0..2 {
                check_fused(&fast, &tok, text);
                check_fused(&fast, &tok, &text.repeat(5));
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// Random mixes of marker words, their parts and neighbours: the fused scan counts the
        /// markers the matcher counts, with the tokens tiktoken counts.
        #[test]
        fn fused_markers_equal_the_matcher_on_random_text(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "wait", "Wait", "but", "BUT wait", "hmm", "m", "let me", " check", "let's",
                "double", "-check", "that's", " wrong", "that is not right", "go back", "go",
                "on second thought", "on", "actually", "i made a mistake", "i", "a",
                "alternatively", "start over", "backtrack", "verify", "re-examine",
                " ", "  ", "\n", "\n\n", "\t", "\u{a0}", ".", ",", ".\n", "x", "7", "42",
                "é", "_", "'", "\"", "(", "—", "averyveryverylongword",
            ]), 0..50)
        ) {
            let tok = Tokenizer::by_name("cl100k_base").unwrap();
            let fast = TokenCounter::new(tok.clone());
            let text: String = parts.concat();
            check_fused(&fast, &tok, &text);
        }
    }

    #[test]
    fn fused_count_and_words_equal_tiktoken_and_split_whitespace() {
        fused_equals_tiktoken("cl100k_base");
    }

    #[test]
    fn chunked_o200k_count_and_words_equal_tiktoken_and_split_whitespace() {
        let fast = TokenCounter::new(Tokenizer::by_name("o200k_base").unwrap());
        assert!(fast.chunked && fast.canon);
        fused_equals_tiktoken("o200k_base");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Random mixes of words, digits, punctuation, whitespace runs with newlines, and
        /// non-ASCII letters, marks and punctuation: the chunked count is tiktoken's.
        #[test]
        fn chunked_o200k_count_equals_tiktoken_on_random_text(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "word", "Word", "WORD", "camelCase", "x", "I'm", "they'LL", "12", "3456789",
                "//", "/*", ";", "{", "}", "-->",
                "a1b2", ".", ",", "!?", "...", "(", ")", "/", "//", "'", "\"", "$\\frac{1}{2}$",
                " ", "  ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\u{a0}", "\u{3000}",
                "\u{2028}", "\u{85}", "é", "naïve", "e\u{301}", "日本語", "。", "、", "”", "“",
                "×", "–", "’", "¾", "€", "😀", "Ωmega", "ß", "İ",
            ]), 0..60)
        ) {
            let tok = Tokenizer::by_name("o200k_base").unwrap();
            let fast = TokenCounter::new(tok.clone());
            let text: String = parts.concat();
            let mut words = Vec::new();
            let mut masks = super::super::scan::Masks::default();
            super::super::scan::scan(&text, &mut masks);
            proptest::prop_assert_eq!(fast.count_with_words(&text, &masks.ws, &mut words), tok.count(&text), "{:?}", text);
        }
    }

    fn fused_equals_tiktoken(name: &str) {
        let tok = Tokenizer::by_name(name).unwrap();
        let fast = TokenCounter::new(tok.clone());
        let texts = [
            "",
            "   ",
            "word",
            " lead",
            "trail ",
            "a.\n\nb c,\nd!!\r\n e?\n\n\n f:\n  g",
            "x.\n \n b\n",
            "It's 'S they'll\n'd\tx\u{a0}y\u{3000}z \u{2028}w \u{85}v",
            "$\\frac{3944}{34} = 116$, which we will use next.\n2. Nik has 30 = .44 inches",
            "a     b\t\t\tc \n  \n\t d",
            "internationalization-and-localization, thoroughly-hyphenated-words!\n",
            "3 × 4 = 12 – so ’tis ¾ €5\n\n<think>\nSo \\boxed{42}.\n</think>\n",
            "don'ſ\r\n\r\n  next line's fine'",
            "end with newline after punct:\n",
            "  private java.util.List<Activity> activities;\n\n// Additional Functionality\n",
            "x;\n//y\nz{\n\n/*c*/ w.\n/\n/ v;\n\n//",
            "10000000 200000000003 x1y22z333\n",
        ];
        for _ in 0..2 {
            for t in texts {
                check_fused(&fast, &tok, t);
            }
        }
        // Every context of the Unicode sweep above.
        let mut chars: Vec<char> = (0x80u32..0x3400).filter_map(char::from_u32).collect();
        chars.extend(
            (0x3400u32..0x11_0000)
                .step_by(389)
                .filter_map(char::from_u32),
        );
        for group in chars.chunks(64) {
            let mut text = String::new();
            for &c in group {
                text.push_str(&format!("a{c}b {c}{c}1{c}23 {c}.\n{c} x{c}\n\n{c}'s {c}"));
            }
            check_fused(&fast, &tok, &text);
        }
    }

    #[test]
    fn whitespace_class_is_char_is_whitespace() {
        let classes = classes().unwrap();
        for c in (0u32..0x11_0000).filter_map(char::from_u32) {
            let ws = matches!(classes.of(u32::from(c)), SPACE | NEWLINE);
            assert_eq!(ws, c.is_whitespace(), "{c:?}");
        }
    }
}
