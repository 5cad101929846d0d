//! ASCII byte classes, eight bytes (SWAR) or sixteen bytes (SSE2) at a time.
//!
//! What it does: tells which bytes of a word are ASCII letters, digits, whitespace or a given
//! byte, as the high bit of each byte (SWAR, [`ascii_letter8`] and the like) or as an SSE2 byte
//! mask ([`sse2`]), and packs those flags into one bit per byte ([`pack8`], [`sse2::bits16`]).
//!
//! Why: the signal scan of `verity score` and the text normaliser of `verity dedup` both
//! classify every byte of every text; they share these primitives rather than keep two copies
//! of the same bit tricks.
//!
//! Known failure modes: none; every function is exact for all 256 byte values in every position
//! (tested exhaustively against the `u8` methods). SSE2 is part of the x86_64 baseline; other
//! targets use the SWAR functions.

/// Bit 7 of every byte.
pub const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bits 0..7 of every byte.
pub const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// Bit 0 of every byte (times a byte value: that byte in every lane).
pub const ONES: u64 = 0x0101_0101_0101_0101;

/// Eight bytes of `bytes` from `at`, little-endian (panics past the end).
#[inline(always)]
pub fn load8(bytes: &[u8], at: usize) -> u64 {
    let w = &bytes[at..at + 8];
    u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
}

/// High bit of each byte set iff that byte of `y` (bytes below 0x80) is in `lo..=hi` (both
/// ASCII, `lo <= hi`). No carries cross bytes: the sums stay below 0x100 per byte.
#[inline(always)]
fn range7(y: u64, lo: u8, hi: u8) -> u64 {
    (y + ONES * u64::from(0x80 - lo)) & !(y + ONES * u64::from(0x7f - hi))
}

/// High bit of each byte of `x` set iff the byte is in `lo..=hi` (both ASCII).
#[inline(always)]
fn in_ascii_range8(x: u64, lo: u8, hi: u8) -> u64 {
    range7(x & LOW7, lo, hi) & !x & HIGH
}

/// High bit of each byte of `x` set iff the byte is an ASCII letter.
#[inline(always)]
pub fn ascii_letter8(x: u64) -> u64 {
    // (byte | 0x20) in 'a'..='z' (setting bit 5 keeps the high bit: non-ASCII stays out).
    in_ascii_range8(x | (ONES * 0x20), b'a', b'z')
}

/// High bit of each byte of `x` set iff the byte is an ASCII digit.
#[inline(always)]
pub fn ascii_digit8(x: u64) -> u64 {
    in_ascii_range8(x, b'0', b'9')
}

/// High bit of each byte of `x` set iff the byte is an ASCII letter or digit.
#[inline(always)]
pub fn ascii_alnum8(x: u64) -> u64 {
    // Both ranges on one masked copy (dedup's tokenizer runs this on every 8 bytes).
    let y = x & LOW7;
    (range7(y, b'0', b'9') | range7(y | (ONES * 0x20), b'a', b'z')) & !x & HIGH
}

/// High bit of each byte of `x` set iff the byte equals `b`.
#[inline(always)]
pub fn eq8(x: u64, b: u8) -> u64 {
    let v = x ^ (ONES * u64::from(b));
    !((((v & LOW7) + LOW7) | v) | LOW7)
}

/// High bit of each byte of `x` set iff the byte is ASCII whitespace (`\t \n \x0b \x0c \r` or
/// space).
#[inline(always)]
pub fn ascii_ws8(x: u64) -> u64 {
    eq8(x, b' ') | in_ascii_range8(x, b'\t', b'\r')
}

/// The high bits of the eight bytes of `m` packed into the low eight bits (byte k -> bit k).
#[inline(always)]
pub fn pack8(m: u64) -> u64 {
    ((m >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// The same classes sixteen bytes at a time: every function returns a byte mask (0xFF where the
/// byte is in the class); [`bits16`] turns a mask into one bit per byte.
#[cfg(target_arch = "x86_64")]
pub mod sse2 {
    pub use safe_arch::m128i;
    use safe_arch::{
        add_i8_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, cmp_lt_mask_i8_m128i, move_mask_i8_m128i,
        set_i64_m128i, set_splat_i8_m128i,
    };

    /// Sixteen bytes of `bytes` from `at` (panics past the end).
    #[inline(always)]
    pub fn load16(bytes: &[u8], at: usize) -> m128i {
        set_i64_m128i(
            super::load8(bytes, at + 8) as i64,
            super::load8(bytes, at) as i64,
        )
    }

    /// The bytes of `v` in `lo..lo + len` (any `lo`; `len` 1..=128).
    #[inline(always)]
    pub fn in_range(v: m128i, lo: u8, len: u8) -> m128i {
        // Shifted so the range starts at i8::MIN: one signed compare.
        cmp_lt_mask_i8_m128i(
            add_i8_m128i(v, set_splat_i8_m128i(0x80u8.wrapping_sub(lo) as i8)),
            set_splat_i8_m128i((0x80u8.wrapping_add(len)) as i8),
        )
    }

    /// The bytes of `v` equal to `b`.
    #[inline(always)]
    pub fn eq(v: m128i, b: u8) -> m128i {
        cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b as i8))
    }

    /// Either mask.
    #[inline(always)]
    pub fn or(a: m128i, b: m128i) -> m128i {
        bitor_m128i(a, b)
    }

    /// The ASCII letters of `v`.
    #[inline(always)]
    pub fn ascii_letter(v: m128i) -> m128i {
        in_range(or(v, set_splat_i8_m128i(0x20)), b'a', 26)
    }

    /// The ASCII digits of `v`.
    #[inline(always)]
    pub fn ascii_digit(v: m128i) -> m128i {
        in_range(v, b'0', 10)
    }

    /// The ASCII whitespace of `v` (`\t \n \x0b \x0c \r` or space).
    #[inline(always)]
    pub fn ascii_ws(v: m128i) -> m128i {
        or(in_range(v, b'\t', 5), eq(v, b' '))
    }

    /// The continuation bytes of `v` (0x80..=0xBF).
    #[inline(always)]
    pub fn continuation(v: m128i) -> m128i {
        in_range(v, 0x80, 0x40)
    }

    /// One bit per byte of a mask (or of the high bits of any vector: the non-ASCII bytes),
    /// byte k -> bit k.
    #[inline(always)]
    pub fn bits16(m: m128i) -> u64 {
        u64::from(move_mask_i8_m128i(m) as u32 & 0xffff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value in every position of a word of otherwise mixed bytes.
    fn words() -> impl Iterator<Item = [u8; 16]> {
        (0..=255u8).flat_map(|b| {
            (0..16).map(move |at| {
                let mut w = *b"a Z\t0\x80\xff9~\n{`/:@\xc3";
                w[at] = b;
                w
            })
        })
    }

    fn flags(bytes: &[u8], f: impl Fn(u8) -> bool) -> u64 {
        bytes
            .iter()
            .enumerate()
            .map(|(k, &b)| u64::from(f(b)) << k)
            .sum()
    }

    #[test]
    fn swar_classes_are_exact() {
        let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
        for w in words() {
            for half in [&w[..8], &w[8..]] {
                let x = load8(half, 0);
                assert_eq!(
                    pack8(ascii_letter8(x)),
                    flags(half, |b| b.is_ascii_alphabetic())
                );
                assert_eq!(pack8(ascii_digit8(x)), flags(half, |b| b.is_ascii_digit()));
                assert_eq!(
                    pack8(ascii_alnum8(x)),
                    flags(half, |b| b.is_ascii_alphanumeric())
                );
                assert_eq!(pack8(ascii_ws8(x)), flags(half, ws));
                assert_eq!(pack8(eq8(x, b'\\')), flags(half, |b| b == b'\\'));
                assert_eq!(pack8(eq8(x, 0xff)), flags(half, |b| b == 0xff));
                // Only the high bits are ever set.
                assert_eq!(ascii_alnum8(x) & !HIGH, 0);
                assert_eq!(ascii_ws8(x) & !HIGH, 0);
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn sse2_classes_are_exact() {
        use sse2::*;
        let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
        for w in words() {
            let v = load16(&w, 0);
            assert_eq!(
                bits16(ascii_letter(v)),
                flags(&w, |b| b.is_ascii_alphabetic())
            );
            assert_eq!(bits16(ascii_digit(v)), flags(&w, |b| b.is_ascii_digit()));
            assert_eq!(bits16(ascii_ws(v)), flags(&w, ws));
            assert_eq!(bits16(continuation(v)), flags(&w, |b| b & 0xc0 == 0x80));
            assert_eq!(bits16(eq(v, b'\\')), flags(&w, |b| b == b'\\'));
            assert_eq!(bits16(v), flags(&w, |b| b >= 0x80));
            assert_eq!(bits16(in_range(v, 0xc0, 0x40)), flags(&w, |b| b >= 0xc0));
        }
    }
}
