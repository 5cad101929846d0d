//! Reference answers as the answer guard compares them.
//!
//! What it does: [`answer_key`] turns a reference answer into a 64-bit key. A number is keyed by
//! its value: an integer, a decimal or a fraction, with an optional sign and thousands
//! separators. `1/2`, `\frac{1}{2}`, `\dfrac12`, `0.5` and `.50` share a key, and so do `1000`,
//! `1,000` and `1\,000`, or `150` and `150.0`. A constant expression (numbers, `\pi`, `e`, `i`,
//! arithmetic, roots, powers, functions, logarithms, binomials, factorials; no free symbol) is
//! parsed and evaluated by verity-math and keyed by its value: exactly when it is rational
//! (`\sqrt{16}` and `4`; `2^{-1}` and `0.5`), else by its value to 12 significant digits
//! (`\sqrt{2}/2`, `\frac{\sqrt2}{2}` and `\frac{1}{\sqrt{2}}`). Any other answer is keyed by its
//! text, with whitespace and `$` removed and ASCII letters lowercased.
//!
//! Why: near-duplicate problems whose answers differ are different tasks (the guard refuses the
//! link), but the same answer written two ways is the same task.
//!
//! Known failure modes: expressions with free symbols (`x+1` and `1+x`), units
//! (`5\text{ cm}`), percentages, degrees, `\pm`, tuples, sets and intervals are compared as
//! text. An irrational value that is rational in fact (`\sqrt{2}^2`) is keyed by its rounded
//! float and does not meet `2`; two irrational answers equal to 12 significant digits share a
//! key. A comma is read as a thousands separator only between groups of three digits (`1,234`
//! is 1234; `1,2` stays text).

use crate::exact::exact_key;
use verity_math::ast::{Const, Node};
use verity_math::budget::Budget;
use verity_math::eval::{self, Point};
use verity_math::parse::parse;

/// The key the answer guard compares (0 for no answer or a blank one; never 0 otherwise).
pub fn answer_key(answer: Option<&str>) -> u64 {
    let Some(answer) = answer else { return 0 };
    let normalized: String = answer
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '$')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if normalized.is_empty() {
        return 0;
    }
    // Prefixes no answer text has after normalization (they hold a space).
    let key = match number_value(&normalized) {
        Some((num, den)) => exact_key(&format!("number {num}/{den}")),
        None => match expression_key(answer) {
            Some(value) => exact_key(&value),
            None => exact_key(&normalized),
        },
    };
    (key as u64) | 1
}

/// The value of a plain number as a reduced fraction (denominator > 0), from the normalized
/// answer text (no whitespace, no `$`); `None` for anything else or on overflow.
pub fn number_value(text: &str) -> Option<(i128, i128)> {
    // LaTeX thousands separators and spacing inside numbers (copied only when present).
    let text: std::borrow::Cow<str> =
        if text.contains("\\,") || text.contains("\\!") || text.contains("{,}") {
            text.replace("\\,", ",")
                .replace("\\!", "")
                .replace("{,}", ",")
                .into()
        } else {
            text.into()
        };
    let (negative, body) = sign(&text);
    let (num, den) = if let Some(rest) = strip_frac(body) {
        let (top, bottom) = frac_parts(rest)?;
        divide(signed_decimal(top)?, signed_decimal(bottom)?)?
    } else if let Some((top, bottom)) = body.split_once('/') {
        divide(signed_decimal(top)?, signed_decimal(bottom)?)?
    } else {
        decimal(body)?
    };
    Some(if negative {
        (num.checked_neg()?, den)
    } else {
        (num, den)
    })
}

/// Longest answer parsed as an expression (longer ones are compared as text).
const MAX_EXPRESSION: usize = 256;

/// Parse and evaluation steps allowed per answer (verity-math's budget for one answer).
const EXPRESSION_STEPS: u64 = 20_000;

/// The value of a constant expression as a key: `number a/b` when it is rational (the key of a
/// plain number of that value), else `real x` or `complex x y` with 12 significant digits;
/// `None` when `answer` does not parse, is not constant ([`is_constant`]), or has no finite
/// value.
fn expression_key(answer: &str) -> Option<String> {
    let answer = answer.trim();
    if answer.len() > MAX_EXPRESSION || !answer.bytes().any(|b| b.is_ascii_digit() || b == b'\\') {
        return None;
    }
    let budget = Budget::new(EXPRESSION_STEPS);
    let node = parse(answer, &budget).ok()?;
    if !is_constant(&node) {
        return None;
    }
    let point = Point::default();
    if let Ok(Some(q)) = eval::exact(&node, &point, &budget) {
        return Some(format!("number {}/{}", q.numer(), q.denom()));
    }
    let v = eval::float(&node, &point, &budget).ok()?;
    if !v.is_finite() {
        return None;
    }
    // `+ 0.0` turns -0 into 0.
    let (re, im) = (v.re + 0.0, v.im + 0.0);
    Some(if im == 0.0 {
        format!("real {re:.11e}")
    } else {
        format!("complex {re:.11e} {im:.11e}")
    })
}

/// Whether `node` is a constant expression: numbers, `\pi`, `e` and `i` under arithmetic,
/// powers, functions, logarithms, binomials and factorials (no symbol, text, percentage,
/// degree, `\pm`, list, set, relation or infinity).
fn is_constant(node: &Node) -> bool {
    match node {
        Node::Num { .. } => true,
        Node::Const(c) => !matches!(c, Const::Inf),
        Node::Add(items) | Node::Mul(items) => items.iter().all(is_constant),
        Node::Neg(a) | Node::Func(_, a) | Node::Factorial(a) => is_constant(a),
        Node::Div(a, b) | Node::Pow(a, b) | Node::Binom(a, b) => is_constant(a) && is_constant(b),
        Node::Log(a, base) => is_constant(a) && base.as_deref().is_none_or(is_constant),
        _ => false,
    }
}

/// A leading `-` or `+` (`-` is negative), and the rest.
fn sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

/// The rest after `\frac`, `\dfrac` or `\tfrac`.
fn strip_frac(text: &str) -> Option<&str> {
    ["\\frac", "\\dfrac", "\\tfrac"]
        .iter()
        .find_map(|p| text.strip_prefix(p))
}

/// The two arguments of a fraction command: `{a}{b}`, or two single characters (`\frac12`).
fn frac_parts(rest: &str) -> Option<(&str, &str)> {
    if let Some(r) = rest.strip_prefix('{') {
        let (top, r) = r.split_once('}')?;
        let r = r.strip_prefix('{')?;
        let (bottom, r) = r.split_once('}')?;
        return r.is_empty().then_some((top, bottom));
    }
    let b = rest.as_bytes();
    (b.len() == 2 && b.iter().all(u8::is_ascii_digit)).then(|| (&rest[..1], &rest[1..]))
}

/// `a / b` reduced, with a positive denominator; `None` when `b` is 0 or on overflow.
fn divide((an, ad): (i128, i128), (bn, bd): (i128, i128)) -> Option<(i128, i128)> {
    if bn == 0 {
        return None;
    }
    let mut num = an.checked_mul(bd)?;
    let mut den = ad.checked_mul(bn)?;
    if den < 0 {
        num = num.checked_neg()?;
        den = den.checked_neg()?;
    }
    Some(reduce(num, den))
}

/// A decimal with an optional sign.
fn signed_decimal(text: &str) -> Option<(i128, i128)> {
    let (negative, body) = sign(text);
    let (num, den) = decimal(body)?;
    Some(if negative {
        (num.checked_neg()?, den)
    } else {
        (num, den)
    })
}

/// An unsigned decimal: digits (with thousands separators), an optional point and fraction
/// digits; at least one digit. As a reduced fraction.
fn decimal(text: &str) -> Option<(i128, i128)> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if (whole.is_empty() && fraction.is_empty()) || !fraction.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole = grouped_digits(whole)?;
    // At most 30 digits in all: the value and the products in `divide` stay within i128.
    if whole.len() + fraction.len() > 30 {
        return None;
    }
    let mut num: i128 = 0;
    for c in whole.bytes().chain(fraction.bytes()) {
        num = num * 10 + i128::from(c - b'0');
    }
    let den = 10i128.pow(fraction.len() as u32);
    Some(reduce(num, den))
}

/// The digits of `text` without thousands separators: plain digits, or groups of three after
/// a first group of one to three, separated by commas. Empty text gives empty digits.
fn grouped_digits(text: &str) -> Option<String> {
    if text.bytes().all(|c| c.is_ascii_digit()) {
        return Some(text.to_string());
    }
    let mut groups = text.split(',');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut digits = first.to_string();
    for group in groups {
        if group.len() != 3 || !group.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.push_str(group);
    }
    Some(digits)
}

fn reduce(num: i128, den: i128) -> (i128, i128) {
    let g = gcd(num.unsigned_abs(), den.unsigned_abs()).max(1) as i128;
    (num / g, den / g)
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        answer_key(Some(a)) == answer_key(Some(b))
    }

    #[test]
    fn numbers_are_keyed_by_value() {
        for (a, b) in [
            ("1/2", "\\frac{1}{2}"),
            ("0.5", "\\dfrac12"),
            (".50", "\\tfrac{1}{2}"),
            ("$\\frac {1}{2}$", "1 / 2"),
            ("-\\frac{1}{2}", "\\frac{-1}{2}"),
            ("-0.5", "1/-2"),
            ("1000", "1,000"),
            ("1\\,000", "1{,}000"),
            ("150", "150.0"),
            ("+7", "7"),
            ("5.", "5"),
            ("2.5", "5/2"),
            ("\\frac{1.5}{3}", "0.5"),
            ("1,234,567", "1234567"),
        ] {
            assert!(same(a, b), "{a:?} and {b:?} are the same number");
        }
    }

    #[test]
    fn other_values_and_other_answers_stay_apart() {
        for (a, b) in [
            ("1/2", "2/1"),
            ("0.5", "5"),
            ("7", "-7"),
            ("1,2", "12"),
            ("12,34", "1234"),
            ("x=5", "5"),
            ("\\sqrt{2}", "2"),
            ("5\\%", "5"),
            ("(1,2)", "(2,1)"),
            ("1/0", "0"),
        ] {
            assert!(!same(a, b), "{a:?} and {b:?} differ");
        }
        // Text answers: whitespace, `$` and case ignored, as before.
        assert!(same("$\\text{Monday}$", "\\text{ monday }"));
        assert!(!same("Monday", "Tuesday"));
    }

    #[test]
    fn constant_expressions_are_keyed_by_value() {
        for (a, b) in [
            ("\\sqrt{2}/2", "\\frac{\\sqrt{2}}{2}"),
            ("\\frac{\\sqrt2}2", "\\frac{1}{\\sqrt{2}}"),
            ("\\sqrt{16}", "4"),
            ("2^{-1}", "0.5"),
            ("\\binom{5}{2}", "10"),
            ("3!", "6"),
            ("2\\pi", "\\pi \\cdot 2"),
            ("\\frac{\\pi}{2}", "\\pi/2"),
            ("2\\sqrt{3}", "\\sqrt{12}"),
            ("$-\\frac{\\sqrt{3}}{2}$", "-\\frac{1}{2}\\sqrt{3}"),
            ("\\log_2 8", "3"),
            ("1+2i", "2i+1"),
        ] {
            assert!(same(a, b), "{a:?} and {b:?} are one value");
        }
        for (a, b) in [
            ("\\sqrt{2}", "\\sqrt{3}"),
            ("\\pi", "3.14"),
            ("\\frac{1}{3}", "0.333"),
            ("2\\pi", "-2\\pi"),
            ("1+2i", "1-2i"),
            ("\\sqrt{2}", "\\sqrt{2}x"),
            ("x+1", "1+x"),
            ("\\pm\\sqrt{2}", "\\sqrt{2}"),
            ("\\infty", "-\\infty"),
        ] {
            assert!(!same(a, b), "{a:?} and {b:?} differ");
        }
        // Not constant or not finite: no value key.
        for text in [
            "x+1",
            "\\infty",
            "1/0",
            "(1,2)",
            "5\\%",
            "x=5",
            "\\text{odd}",
            "e",
        ] {
            assert_eq!(expression_key(text), None, "{text:?}");
        }
        assert_eq!(expression_key("\\sqrt{4}").as_deref(), Some("number 2/1"));
        assert_eq!(
            expression_key("\\sqrt{2}").as_deref(),
            Some("real 1.41421356237e0")
        );
        // Huge or deeply nested input stays within the budget: no value, no hang.
        let nested = format!("{}1{}", "\\sqrt{".repeat(5000), "}".repeat(5000));
        assert_eq!(expression_key(&nested), None);
        let power = "9^{9^{9^{9^{9}}}}";
        let _ = answer_key(Some(power));
    }

    #[test]
    fn number_values_are_reduced_fractions() {
        assert_eq!(number_value("0.25"), Some((1, 4)));
        assert_eq!(number_value("-\\frac{6}{4}"), Some((-3, 2)));
        assert_eq!(number_value("\\frac{2}{-4}"), Some((-1, 2)));
        assert_eq!(number_value("0"), Some((0, 1)));
        assert_eq!(number_value("-0"), Some((0, 1)));
        assert_eq!(number_value("1/0"), None);
        assert_eq!(number_value("."), None);
        assert_eq!(number_value(""), None);
        assert_eq!(number_value("1e5"), None);
        assert_eq!(
            number_value(&"9".repeat(40)),
            None,
            "too long: compared as text"
        );
        assert_eq!(number_value("\\frac{1}{2}x"), None);
    }

    proptest::proptest! {
        /// Any text gets a key without a panic, and a number's key is its value's: written as
        /// a decimal or as a fraction over a power of ten, it keys the same.
        #[test]
        fn keys_never_panic_and_numbers_match_their_fractions(
            text in "[-+0-9.,/{}\\\\a-z$ ]{0,16}",
            whole in 0u64..1_000_000,
            cents in 0u64..100,
        ) {
            let _ = answer_key(Some(&text));
            let decimal = format!("{whole}.{cents:02}");
            let fraction = format!("\\frac{{{}}}{{100}}", whole * 100 + cents);
            proptest::prop_assert!(same(&decimal, &fraction), "{} vs {}", decimal, fraction);
        }

        /// LaTeX made of expression fragments gets a key without a panic; a constant
        /// expression keys the same written in another order and form, and not as another value.
        #[test]
        fn expressions_key_by_value(
            fragments in proptest::collection::vec(proptest::sample::select(vec![
                "\\frac", "\\sqrt", "\\binom", "\\pi", "\\log_", "{", "}", "(", ")", "^",
                "-", "+", "/", "!", "2", "7", "0", ".", "i", "e", "x", "\\cdot", " ",
            ]), 0..32),
            a in -50i64..50,
            b in 1i64..20,
            c in 0i64..200,
        ) {
            let _ = answer_key(Some(&fragments.concat()));
            let x = format!("\\frac{{{a}}}{{{b}}}+\\sqrt{{{c}}}");
            let y = format!("\\sqrt{{{c}}}+({a})/{b}");
            proptest::prop_assert!(same(&x, &y), "{} vs {}", x, y);
            let z = format!("\\frac{{{a}}}{{{b}}}+\\sqrt{{{}}}", c + 1);
            proptest::prop_assert!(!same(&x, &z), "{} vs {}", x, z);
        }
    }

    #[test]
    fn blank_answers_have_no_key() {
        assert_eq!(answer_key(Some("  ")), 0);
        assert_eq!(answer_key(Some("$$")), 0);
        assert_eq!(answer_key(None), 0);
        assert_ne!(answer_key(Some("0")), 0);
    }
}
