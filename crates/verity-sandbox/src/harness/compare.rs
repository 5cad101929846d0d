//! Output comparison for stdin/stdout tests.
//!
//! What it does: compares a program's stdout with the expected output. The default
//! ([`OutputMatch::Tokens`]) splits both on whitespace and compares token by token, which
//! tolerates trailing spaces, blank lines and `\r\n` (the convention of competitive-programming
//! judges such as Codeforces and of the CodeContests/APPS graders). With a float tolerance,
//! tokens that both parse as numbers are compared with `|a - b| <= tol * max(1, |b|)`.
//!
//! Known failure modes: problems whose checker accepts several correct outputs (any valid
//! permutation, "print any") cannot be judged by comparison; they need a `command` checker.

use serde::{Deserialize, Serialize};

/// How stdout is compared with the expected output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputMatch {
    /// Whitespace-separated tokens must be equal (the default).
    #[default]
    Tokens,
    /// Lines must be equal after trimming trailing whitespace; trailing empty lines ignored.
    Lines,
    /// Byte-exact.
    Exact,
}

/// Comparison options.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Mode.
    pub mode: OutputMatch,
    /// Relative/absolute tolerance for numeric tokens (`None` = exact text).
    pub float_tolerance: Option<f64>,
}

fn tokens_equal(got: &str, expected: &str, tolerance: Option<f64>) -> bool {
    if got == expected {
        return true;
    }
    let Some(tolerance) = tolerance else {
        return false;
    };
    match (got.parse::<f64>(), expected.parse::<f64>()) {
        (Ok(a), Ok(b)) if a.is_finite() && b.is_finite() => {
            (a - b).abs() <= tolerance * b.abs().max(1.0)
        }
        _ => false,
    }
}

/// Whether `got` matches `expected` under `options`.
pub fn outputs_match(got: &str, expected: &str, options: CompareOptions) -> bool {
    match options.mode {
        OutputMatch::Exact => got == expected,
        OutputMatch::Lines => {
            let lines = |text: &str| -> Vec<String> {
                let mut lines: Vec<String> = text
                    .lines()
                    .map(|line| line.trim_end().to_string())
                    .collect();
                while lines.last().is_some_and(|line| line.is_empty()) {
                    lines.pop();
                }
                lines
            };
            let (got, expected) = (lines(got), lines(expected));
            got.len() == expected.len()
                && got.iter().zip(&expected).all(|(g, e)| {
                    g == e || {
                        let (gt, et): (Vec<&str>, Vec<&str>) = (
                            g.split_whitespace().collect(),
                            e.split_whitespace().collect(),
                        );
                        gt.len() == et.len()
                            && gt
                                .iter()
                                .zip(&et)
                                .all(|(a, b)| tokens_equal(a, b, options.float_tolerance))
                    }
                })
        }
        OutputMatch::Tokens => {
            let mut got = got.split_whitespace();
            let mut expected = expected.split_whitespace();
            loop {
                match (got.next(), expected.next()) {
                    (None, None) => return true,
                    (Some(a), Some(b)) if tokens_equal(a, b, options.float_tolerance) => {}
                    _ => return false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_tolerate_whitespace_but_not_different_values() {
        let options = CompareOptions::default();
        assert!(outputs_match("1 9\r\n4 8  \n\n", "1 9\n4 8", options));
        assert!(!outputs_match("1 9\n4 8", "1 9\n4 9", options));
        assert!(!outputs_match("1 9", "1 9 0", options));
    }

    #[test]
    fn float_tolerance_is_opt_in() {
        let exact = CompareOptions::default();
        let tolerant = CompareOptions {
            float_tolerance: Some(1e-6),
            ..CompareOptions::default()
        };
        assert!(!outputs_match("0.3333333", "0.333333333", exact));
        assert!(outputs_match("0.3333333", "0.333333333", tolerant));
        assert!(!outputs_match("0.34", "0.333333333", tolerant));
        assert!(outputs_match("2.000000", "2", tolerant));
    }

    #[test]
    fn lines_mode_keeps_line_structure() {
        let options = CompareOptions {
            mode: OutputMatch::Lines,
            float_tolerance: None,
        };
        assert!(outputs_match("a b  \nc\n\n", "a b\nc", options));
        assert!(!outputs_match("a b c", "a b\nc", options));
    }
}
