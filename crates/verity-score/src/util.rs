//! Small deterministic helpers: a stable 64-bit hash, seeded ordering and text normalization.
//!
//! Why hand-written: selection and splits must give the same answer on every platform and every
//! release for the same seed, so they cannot depend on `std`'s randomized `HashMap` hasher or on
//! an external RNG whose stream may change between versions.

/// A stable 64-bit hash of `bytes` with `seed` (FNV-1a over 8-byte words, finished with the
/// SplitMix64 mixer). Not cryptographic; stable across platforms and versions.
pub fn hash64(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ mix64(seed);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(0x0100_0000_01b3);
        h = h.rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    mix64(h ^ bytes.len() as u64)
}

/// SplitMix64 finalizer: a bijective 64-bit mixer.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Normalize problem text for grouping: lowercase, keep letters and digits, collapse everything
/// else to single spaces. `"What is 2+2?"` and `" what  is 2 + 2 "` give the same key.
pub fn normalize_problem(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            for l in c.to_lowercase() {
                out.push(l);
            }
        } else {
            space = true;
        }
    }
    out
}

/// Normalize a final answer for majority voting and consistency checks: strip `$`, spaces,
/// `\left`/`\right`, `\!`, a trailing period, `\text{...}` wrappers kept as their content, and
/// surrounding braces. A conservative string normalization, not mathematical equivalence
/// (`1/2` and `\frac{1}{2}` stay different).
pub fn normalize_answer(answer: &str) -> String {
    // A text holding none of the patterns is left unchanged by every replacement.
    if !has_replaced_pattern(answer.as_bytes()) {
        return finish_answer(answer.chars());
    }
    let replaced = answer
        .replace("\\left", "")
        .replace("\\right", "")
        .replace("\\!", "")
        .replace("\\,", "")
        .replace("dfrac", "frac")
        .replace("tfrac", "frac");
    finish_answer(replaced.chars())
}

/// Whether `b` holds one of the patterns [`normalize_answer`] replaces (`\left`, `\right`,
/// `\!`, `\,`, `dfrac`, `tfrac`); one pass, no searcher to build (answers are short).
fn has_replaced_pattern(b: &[u8]) -> bool {
    b.iter().enumerate().any(|(i, &c)| {
        let rest = &b[i + 1..];
        match c {
            b'\\' => {
                rest.starts_with(b"left")
                    || rest.starts_with(b"right")
                    || rest.starts_with(b"!")
                    || rest.starts_with(b",")
            }
            b'd' | b't' => rest.starts_with(b"frac"),
            _ => false,
        }
    })
}

/// The rest of [`normalize_answer`] after the replacements.
fn finish_answer(chars: std::str::Chars<'_>) -> String {
    let mut s: String = chars.filter(|c| !c.is_whitespace() && *c != '$').collect();
    while s.ends_with('.') {
        s.pop();
    }
    if let Some(inner) = s.strip_prefix("\\text{").and_then(|r| r.strip_suffix('}')) {
        s = inner.to_string();
    }
    while s.starts_with('{') && s.ends_with('}') && s.len() >= 2 {
        s = s[1..s.len() - 1].to_string();
    }
    s
}

/// The content of the last `\boxed{...}` (or `\fbox{...}`) in `text`, braces balanced.
pub fn last_boxed(text: &str) -> Option<&str> {
    let start = text.rfind("\\boxed").or_else(|| text.rfind("\\fbox"))?;
    let rest = &text[start..];
    let open = rest.find('{')?;
    // Only whitespace may stand between the command and its brace.
    let command_len = if rest.starts_with("\\boxed") { 6 } else { 5 };
    if !rest[command_len..open].trim().is_empty() {
        return None;
    }
    let body = &rest[open + 1..];
    let mut depth = 1usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&body[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// Quantile (nearest-rank on a sorted slice); `None` when empty.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_seeded() {
        assert_eq!(hash64(1, b"abc"), hash64(1, b"abc"));
        assert_ne!(hash64(1, b"abc"), hash64(2, b"abc"));
        assert_ne!(hash64(1, b"abc"), hash64(1, b"abd"));
        assert_ne!(hash64(0, b""), hash64(0, b"\0"));
    }

    #[test]
    fn problem_normalization_ignores_case_space_punctuation() {
        assert_eq!(normalize_problem("What is 2+2?"), "what is 2 2");
        assert_eq!(normalize_problem("  what IS 2 + 2 "), "what is 2 2");
        assert_eq!(normalize_problem(""), "");
    }

    #[test]
    fn boxed_extraction_balances_braces() {
        assert_eq!(last_boxed(r"so \boxed{\frac{1}{2}}."), Some(r"\frac{1}{2}"));
        assert_eq!(last_boxed(r"\boxed{1} then \boxed{2}"), Some("2"));
        assert_eq!(last_boxed(r"\boxed{unclosed"), None);
        assert_eq!(last_boxed("none"), None);
    }

    #[test]
    fn answer_normalization() {
        assert_eq!(normalize_answer(r"$\dfrac{1}{2}$."), r"\frac{1}{2}");
        // The shortcut for answers without a replaced pattern gives what the full
        // replacements give.
        for a in [
            "18",
            " 18. ",
            "$5$",
            "{ {x} }",
            "60.0",
            "\\$55.00",
            "dfrac12",
            "3 frac",
            "left",
            "\\text{Monday}.",
            "\\left(1,2\\right)",
            "1\\,000",
            "é ü",
            "",
            "{",
            "..",
        ] {
            assert_eq!(normalize_answer(a), full_replacements(a), "{a:?}");
        }
        assert_eq!(normalize_answer(r"\text{Monday}"), "Monday");
        assert_eq!(normalize_answer("{ 18 }"), "18");
    }

    fn full_replacements(a: &str) -> String {
        finish_answer(
            a.replace("\\left", "")
                .replace("\\right", "")
                .replace("\\!", "")
                .replace("\\,", "")
                .replace("dfrac", "frac")
                .replace("tfrac", "frac")
                .chars(),
        )
    }

    proptest::proptest! {
        /// The pattern check never skips a replacement that would change the answer: texts
        /// made of pattern fragments (so near misses and overlaps are common).
        #[test]
        fn answer_normalization_equals_the_full_replacements(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\\", "left", "right", "!", ",", "d", "t", "frac", "fra", "\\lef", "righ",
                    "{", "}", "$", " ", ".", "1", "x", "é", "\\text{",
                ]),
                0..12,
            )
        ) {
            let a: String = parts.concat();
            proptest::prop_assert_eq!(normalize_answer(&a), full_replacements(&a), "{:?}", a);
        }
    }
}
