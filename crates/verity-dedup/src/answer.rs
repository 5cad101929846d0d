//! Reference answers as the answer guard compares them.
//!
//! What it does: [`answer_key`] turns a reference answer into a 64-bit key. A number is keyed by
//! its value: an integer, a decimal or a fraction, with an optional sign and thousands
//! separators. `1/2`, `\frac{1}{2}`, `\dfrac12`, `0.5` and `.50` share a key, and so do `1000`,
//! `1,000` and `1\,000`, or `150` and `150.0`. A constant expression (numbers, `\pi`, `e`, `i`,
//! arithmetic, roots, powers, functions, logarithms, binomials, factorials; no free symbol) is
//! parsed and evaluated by verity-math and keyed by its value: exactly when it is rational
//! (`\sqrt{16}` and `4`; `2^{-1}` and `0.5`), else by its value to 12 significant digits
//! (`\sqrt{2}/2`, `\frac{\sqrt2}{2}` and `\frac{1}{\sqrt{2}}`). An expression in one to three
//! free symbols is keyed by their names and its values at three fixed points with mixed signs
//! (`x+1` and `1+x`; `(x+1)^2` and `x^2+2x+1`; not `x+1` and `y+1`). Any other answer is keyed by
//! its text, with whitespace and `$` removed and ASCII letters lowercased.
//!
//! Why: near-duplicate problems whose answers differ are different tasks (the guard refuses the
//! link), but the same answer written two ways is the same task.
//!
//! Known failure modes: a bare symbol (`A`), words (`odd` would parse as a product of symbols),
//! expressions in more than three symbols, units (`5\text{ cm}`), percentages, degrees, `\pm`,
//! tuples, sets and intervals are compared as text. A value that is rational at a point for one
//! spelling and computed in floating point for another (`\sqrt{2}^2` and `2`, `\sqrt{x^2}` and
//! `x`) keys apart; two irrational values equal to 12 significant digits, and two functions
//! equal at the three points, share a key. A comma is read as a thousands separator only
//! between groups of three digits (`1,234` is 1234; `1,2` stays text).

use crate::exact::exact_key;
use num_bigint::BigInt;
use num_rational::BigRational;
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

/// Most free symbols an expression is keyed over (more are compared as text).
const MAX_SYMBOLS: usize = 3;

/// Where an expression with free symbols is evaluated: point `j` gives its `k`-th symbol (in
/// name order) the value `POINTS[j][k]` (numerator, denominator). Rationals with mixed signs,
/// away from 0, 1 and each other, so functions that agree only on a region (`\sqrt{x^2}` and
/// `x`, `|x|` and `x`) or at small integers (`x^2` and `x`) get different keys.
const POINTS: [[(i64, i64); MAX_SYMBOLS]; 3] = [
    [(13, 7), (29, 11), (41, 17)],
    [(-5, 3), (23, 19), (-31, 23)],
    [(19, 13), (-37, 29), (43, 31)],
];

/// The value of an expression as a key, or `None` when `answer` does not parse, is not an
/// expression ([`is_expression`]) or has no finite value.
///
/// - Without free symbols: `number a/b` when the value is rational (the key of a plain number
///   of that value), else `real x` or `complex x y` with 12 significant digits.
/// - With one to [`MAX_SYMBOLS`] free symbols: the symbols' names and the values at the three
///   [`POINTS`], each exact when rational, so `x+1` and `1+x`, or `(x+1)^2` and `x^2+2x+1`,
///   share a key and `x+1` and `y+1` do not. A bare symbol (`A`, an option letter) and an
///   answer with a run of three letters outside a command (a word: `odd` parses as `o d d`)
///   stay text.
fn expression_key(answer: &str) -> Option<String> {
    let answer = answer.trim();
    if answer.len() > MAX_EXPRESSION {
        return None;
    }
    let digit_or_command = answer.bytes().any(|b| b.is_ascii_digit() || b == b'\\');
    let operator = answer.bytes().any(|b| b"+-*/^".contains(&b));
    if !digit_or_command && !operator {
        return None;
    }
    let budget = Budget::new(EXPRESSION_STEPS);
    let node = parse(answer, &budget).ok()?;
    if !is_expression(&node) {
        return None;
    }
    let mut symbols = Vec::new();
    node.symbols(&mut symbols);
    if symbols.is_empty() {
        return digit_or_command
            .then(|| value_key(&node, &Point::default(), &budget))
            .flatten();
    }
    if symbols.len() > MAX_SYMBOLS || matches!(node, Node::Sym(_)) || has_word(answer) {
        return None;
    }
    symbols.sort();
    let mut key = format!("function {}:", symbols.join(","));
    for values in &POINTS {
        let point = Point {
            vars: symbols
                .iter()
                .zip(values)
                .map(|(name, &(num, den))| {
                    let q = BigRational::new(BigInt::from(num), BigInt::from(den));
                    (name.clone(), q, num as f64 / den as f64)
                })
                .collect(),
            ..Point::default()
        };
        key.push(' ');
        key.push_str(&value_key(&node, &point, &budget)?);
    }
    Some(key)
}

/// The value of `node` at `point` as a key (see [`expression_key`]); `None` when it is not
/// finite or the budget runs out.
fn value_key(node: &Node, point: &Point, budget: &Budget) -> Option<String> {
    if let Ok(Some(q)) = eval::exact(node, point, budget) {
        return Some(format!("number {}/{}", q.numer(), q.denom()));
    }
    let v = eval::float(node, point, budget).ok()?;
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

/// Whether `text` has a run of three or more ASCII letters that is not the name of a command
/// (`\sqrt`): a word, which the parser would read as a product of symbols.
fn has_word(text: &str) -> bool {
    let mut run = 0;
    let mut command = false;
    for b in text.bytes() {
        if b.is_ascii_alphabetic() {
            run += 1;
            if run >= 3 && !command {
                return true;
            }
        } else {
            run = 0;
            command = b == b'\\';
        }
    }
    false
}

/// Whether `node` is an expression: numbers, free symbols, `\pi`, `e` and `i` under
/// arithmetic, powers, functions, logarithms, binomials and factorials (no text, percentage,
/// degree, `\pm`, list, set, relation or infinity).
fn is_expression(node: &Node) -> bool {
    match node {
        Node::Num { .. } | Node::Sym(_) => true,
        Node::Const(c) => !matches!(c, Const::Inf),
        Node::Add(items) | Node::Mul(items) => items.iter().all(is_expression),
        Node::Neg(a) | Node::Func(_, a) | Node::Factorial(a) => is_expression(a),
        Node::Div(a, b) | Node::Pow(a, b) | Node::Binom(a, b) => {
            is_expression(a) && is_expression(b)
        }
        Node::Log(a, base) => is_expression(a) && base.as_deref().is_none_or(is_expression),
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

    /// Every pair shares one key.
    fn all_same(pairs: &[(&str, &str)]) {
        for (a, b) in pairs {
            assert!(same(a, b), "{a:?} and {b:?} should share a key");
        }
    }

    /// No pair shares a key.
    fn all_apart(pairs: &[(&str, &str)]) {
        for (a, b) in pairs {
            assert!(!same(a, b), "{a:?} and {b:?} should differ");
        }
    }

    #[test]
    fn numbers_are_keyed_by_value() {
        all_same(&[
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
        ]);
    }

    #[test]
    fn other_values_and_other_answers_stay_apart() {
        all_apart(&[
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
        ]);
        // Text answers: whitespace, `$` and case ignored, as before.
        assert!(same("$\\text{Monday}$", "\\text{ monday }"));
        assert!(!same("Monday", "Tuesday"));
    }

    #[test]
    fn constant_expressions_are_keyed_by_value() {
        all_same(&[
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
        ]);
        all_apart(&[
            ("\\sqrt{2}", "\\sqrt{3}"),
            ("\\pi", "3.14"),
            ("\\frac{1}{3}", "0.333"),
            ("2\\pi", "-2\\pi"),
            ("1+2i", "1-2i"),
            ("\\sqrt{2}", "\\sqrt{2}x"),
            ("\\pm\\sqrt{2}", "\\sqrt{2}"),
            ("\\infty", "-\\infty"),
        ]);
        // Not constant or not finite: no value key.
        for text in ["\\infty", "1/0", "(1,2)", "5\\%", "x=5", "\\text{odd}", "e"] {
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
        // The same with free symbols: evaluated at three points, still within the budget.
        for text in [
            "(x+1)^{100000}",
            "(x+1)^{99999999999}",
            "x^{x^{x^{x^{x}}}}",
            "((x+1)^{1000})^{1000}",
            "\\binom{x}{100000}",
            "(x!)!",
            "(13x/7)^{2^{64}}",
        ] {
            let _ = answer_key(Some(text));
        }
    }

    #[test]
    fn expressions_with_symbols_are_keyed_by_their_values() {
        all_same(&[
            ("x+1", "1+x"),
            ("$2x$", "x \\cdot 2"),
            ("x+x", "2x"),
            ("\\frac{x}{2}", "0.5x"),
            ("(x+1)^2", "x^2+2x+1"),
            ("\\frac{a+b}{2}", "\\frac{b}{2}+\\frac{a}{2}"),
            ("2\\pi r", "2r\\pi"),
            ("\\sqrt{2}x", "x\\sqrt{2}"),
            ("\\frac{1}{x-1}", "\\frac{-1}{1-x}"),
            ("n(n+1)/2", "\\frac{n^2+n}{2}"),
        ]);
        all_apart(&[
            ("x+1", "y+1"),
            ("x+1", "x+2"),
            ("x^2", "x"),
            // Equal for positive x only: the points have mixed signs.
            ("\\sqrt{2x^2}", "\\sqrt{2}x"),
            ("2a", "2b"),
            ("x-y", "y-x"),
            ("\\frac{x}{2}", "\\frac{2}{x}"),
            ("x+1", "2"),
            // Words stay text: `odd` and `dod` would be the same product of symbols.
            ("odd", "dod"),
        ]);
        // A bare symbol (an option letter) and a word stay text; so do too many symbols and a
        // function that has no finite value at a point.
        for text in ["A", "x", "odd", "abc+1", "a+b+c+d", "\\frac{1}{(x-13/7)}"] {
            assert_eq!(expression_key(text), None, "{text:?}");
        }
        assert!(expression_key("x+1").is_some_and(|k| k.starts_with("function x: number 20/7 ")));
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

    proptest::proptest! {
        /// A polynomial in two symbols keys the same with its terms in another order, and not
        /// with another coefficient.
        #[test]
        fn polynomials_key_by_value(
            a in -20i64..20,
            b in -20i64..20,
            c in -20i64..20,
        ) {
            let x = format!("{a}x^2+({b})xy+({c})y");
            let y = format!("({c})y+({b})yx+x^2\\cdot({a})");
            proptest::prop_assert!(same(&x, &y), "{} vs {}", x, y);
            let z = format!("{a}x^2+({})xy+({c})y", b + 1);
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
