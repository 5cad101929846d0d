//! The simple verifiers: `exact`, `choice` and `regex`.
//!
//! What it does: `exact` compares normalised strings of the extracted answers; `choice`
//! extracts a multiple-choice letter ("(B)", "Answer: B", "the answer is B) ...",
//! `\boxed{B}`) and compares letters; `regex` applies a user pattern (capture group 1, or the
//! group named `answer`) to the response and compares the capture with the gold answer, as a
//! normalised string or with math equivalence.
//! Why: many datasets (GPQA, MMLU, custom formats) do not need mathematical equivalence but
//! still need auditable extraction.
//! Known failure modes: `choice` takes the last letter-looking token when no anchor is found,
//! which can be an option the response rejected ("not (A)").

use crate::equiv::{equivalent, norm_text, EquivOptions, Verdict};
use crate::extract::{extract_gold, extract_pred, strip_think, ExtractOptions, Extracted, Rule};
use crate::Checked;
use regex::Regex;
use std::sync::LazyLock;

/// Name of the exact-match verifier.
pub const EXACT_NAME: &str = "exact";
/// Version of the exact-match verifier.
pub const EXACT_VERSION: &str = "1.0.0";
/// Name of the multiple-choice verifier.
pub const CHOICE_NAME: &str = "choice";
/// Version of the multiple-choice verifier.
pub const CHOICE_VERSION: &str = "1.0.0";
/// Name of the regex verifier.
pub const REGEX_NAME: &str = "regex";
/// Version of the regex verifier.
pub const REGEX_VERSION: &str = "1.0.0";

fn verdict(b: bool) -> Verdict {
    if b {
        Verdict::Equivalent
    } else {
        Verdict::NotEquivalent
    }
}

/// `exact`: normalised string equality of the extracted answers.
#[derive(Debug, Clone, Default)]
pub struct ExactVerifier {
    /// Extraction options (the same machinery as `math`).
    pub extract: ExtractOptions,
    /// Compare case-sensitively (default false).
    pub case_sensitive: bool,
}

impl ExactVerifier {
    /// An exact verifier.
    pub fn new(extract: ExtractOptions, case_sensitive: bool) -> Self {
        ExactVerifier {
            extract,
            case_sensitive,
        }
    }
    /// Check one pair.
    pub fn check(&self, gold: &str, pred: &str) -> Checked {
        let g = extract_gold(gold, &self.extract);
        let p = extract_pred(pred, &self.extract);
        let (v, reason) = match (&g.answer, &p.answer) {
            (None, _) => (Verdict::Unknown, Some("no gold answer".to_string())),
            (_, None) => (
                Verdict::NotEquivalent,
                Some("no answer extracted".to_string()),
            ),
            (Some(a), Some(b)) => {
                let eq = if self.case_sensitive {
                    norm_case(a) == norm_case(b)
                } else {
                    norm_text(a) == norm_text(b)
                };
                (verdict(eq), None)
            }
        };
        Checked {
            verdict: v,
            reason,
            gold: g,
            pred: p,
        }
    }
}

fn norm_case(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

static CHOICE_ANCHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:answer|choice|option|correct option)\s*(?:is|:|=)?\s*(?:option|choice)?\s*[:\s]*[\(\[\*]*\s*(?:\\text\{|\\textbf\{|\\mathrm\{)?\s*\(?([A-Z])\b",
    )
    .unwrap_or_else(|_| unreachable!())
});
static PAREN_LETTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\(([A-Z])\)").unwrap_or_else(|_| unreachable!()));

/// `choice`: multiple-choice letter matching.
#[derive(Debug, Clone)]
pub struct ChoiceVerifier {
    /// Valid option letters (default `ABCDEFGHIJ`).
    pub letters: String,
    /// Extraction options used for think-block handling.
    pub extract: ExtractOptions,
}

impl Default for ChoiceVerifier {
    fn default() -> Self {
        ChoiceVerifier {
            letters: "ABCDEFGHIJ".into(),
            extract: ExtractOptions::default(),
        }
    }
}

impl ChoiceVerifier {
    /// A choice verifier accepting the given letters.
    pub fn new(letters: &str, extract: ExtractOptions) -> Self {
        ChoiceVerifier {
            letters: letters.to_ascii_uppercase(),
            extract,
        }
    }

    /// The letter a short answer string denotes (`B`, `(B)`, `B)`, `\text{(B)}`, `**B**`).
    pub fn letter_of(&self, s: &str) -> Option<char> {
        let t: String = s
            .replace("\\text", "")
            .replace("\\textbf", "")
            .replace("\\mathrm", "")
            .chars()
            .filter(|c| {
                !matches!(
                    c,
                    '(' | ')' | '[' | ']' | '{' | '}' | '*' | '$' | ' ' | '\\'
                )
            })
            .collect();
        let mut it = t.chars();
        let c = it.next()?.to_ascii_uppercase();
        let next = it.next();
        if self.letters.contains(c) && next.is_none_or(|n| !n.is_ascii_alphanumeric()) {
            return Some(c);
        }
        None
    }

    /// Extract the chosen letter from a response.
    pub fn extract(&self, text: &str) -> Extracted {
        let Some(body) = strip_think(text, &self.extract) else {
            return Extracted::none();
        };
        let body = body.trim();
        if let Some(c) = self.letter_of(body) {
            if body.len() <= 40 {
                return Extracted::new(c.to_string(), Rule::Letter);
            }
        }
        let bx = extract_pred(body, &self.extract);
        if bx.rule == Rule::Boxed {
            if let Some(c) = bx.answer.as_deref().and_then(|a| self.letter_of(a)) {
                return Extracted::new(c.to_string(), Rule::Boxed);
            }
        }
        if let Some(c) = CHOICE_ANCHOR
            .captures_iter(body)
            .filter_map(|m| m.get(1))
            .filter_map(|m| m.as_str().chars().next())
            .filter(|c| self.letters.contains(*c))
            .last()
        {
            return Extracted::new(c.to_string(), Rule::AnswerPhrase);
        }
        if let Some(c) = PAREN_LETTER
            .captures_iter(body)
            .filter_map(|m| m.get(1))
            .filter_map(|m| m.as_str().chars().next())
            .filter(|c| self.letters.contains(*c))
            .last()
        {
            return Extracted::new(c.to_string(), Rule::Letter);
        }
        Extracted::none()
    }

    /// Check one pair: `gold` is a letter (`B`, `(B)`).
    pub fn check(&self, gold: &str, pred: &str) -> Checked {
        let g = match self.letter_of(gold.trim()) {
            Some(c) => Extracted::new(c.to_string(), Rule::Letter),
            None => Extracted::none(),
        };
        let p = self.extract(pred);
        let (v, reason) = match (&g.answer, &p.answer) {
            (None, _) => (
                Verdict::Unknown,
                Some("gold is not an option letter".to_string()),
            ),
            (_, None) => (
                Verdict::NotEquivalent,
                Some("no option letter extracted".to_string()),
            ),
            (Some(a), Some(b)) => (verdict(a == b), None),
        };
        Checked {
            verdict: v,
            reason,
            gold: g,
            pred: p,
        }
    }
}

/// Error building a regex verifier.
#[derive(Debug, thiserror::Error)]
pub enum RegexVerifierError {
    /// The pattern does not compile.
    #[error("invalid --pattern regex")]
    Pattern(#[source] regex::Error),
    /// The pattern has no capture group.
    #[error("--pattern regex needs a capture group (group 1 or a group named `answer`)")]
    NoGroup,
}

/// `regex`: a user pattern with a capture group.
#[derive(Debug, Clone)]
pub struct RegexVerifier {
    re: Regex,
    /// Compare the capture with math equivalence (true) or normalised strings (false).
    pub math: bool,
    /// Equivalence options when `math` is set.
    pub equiv: EquivOptions,
    /// Extraction options used for think-block handling.
    pub extract: ExtractOptions,
}

impl RegexVerifier {
    /// Build from a pattern; the answer is capture group `answer` if present, else group 1.
    pub fn new(pattern: &str, math: bool) -> Result<Self, RegexVerifierError> {
        let re = Regex::new(pattern).map_err(RegexVerifierError::Pattern)?;
        if re.captures_len() < 2 {
            return Err(RegexVerifierError::NoGroup);
        }
        Ok(RegexVerifier {
            re,
            math,
            equiv: EquivOptions::default(),
            extract: ExtractOptions::default(),
        })
    }

    /// The last capture in the response.
    pub fn extract(&self, text: &str) -> Extracted {
        let Some(body) = strip_think(text, &self.extract) else {
            return Extracted::none();
        };
        let cap = self.re.captures_iter(body).last().and_then(|c| {
            c.name("answer")
                .or_else(|| c.get(1))
                .map(|m| m.as_str().to_string())
        });
        match cap {
            Some(a) => Extracted::new(a, Rule::Regex),
            None => Extracted::none(),
        }
    }

    /// Check one pair.
    pub fn check(&self, gold: &str, pred: &str) -> Checked {
        let g = extract_gold(gold, &self.extract);
        let p = self.extract(pred);
        let (v, reason) = match (&g.answer, &p.answer) {
            (None, _) => (Verdict::Unknown, Some("no gold answer".to_string())),
            (_, None) => (
                Verdict::NotEquivalent,
                Some("pattern did not match".to_string()),
            ),
            (Some(a), Some(b)) => {
                if self.math {
                    let o = equivalent(a, b, &self.equiv);
                    (o.verdict, o.reason)
                } else {
                    (verdict(norm_text(a) == norm_text(b)), None)
                }
            }
        };
        Checked {
            verdict: v,
            reason,
            gold: g,
            pred: p,
        }
    }
}
