//! verity's math verifier and the simple verifiers that share its extraction machinery.
//!
//! What it does: given a gold answer (bare, or a full solution) and a model response, extracts
//! both final answers ([`extract`]), parses them into expression trees ([`parse`]) and decides
//! mathematical equivalence ([`equiv`]) with a per-pair step budget. The verdict is
//! `equivalent`, `not_equivalent` or `unknown` (with a reason), and the extraction rule that
//! fired on each side is reported. [`simple`] holds the `exact`, `choice` and `regex`
//! verifiers.
//!
//! Why: RLVR and rejection sampling live or die on the answer checker; this one is exact where
//! it can be (big rationals), symbolic where it must be (randomized evaluation), never hangs,
//! and runs about two orders of magnitude faster than Python graders.
//!
//! Known failure modes: see the module docs of [`extract`] (last-number fallback) and
//! [`equiv`] (randomized evaluation, no assumptions about variables). Every disagreement with
//! public graders' test suites is listed in `tests/data/DISAGREEMENTS.md`.
//!
//! ```
//! use verity_math::{check, MathOptions, Verdict};
//! let r = check("\\frac{3}{4}", "So the answer is $\\boxed{0.75}$.", &MathOptions::default());
//! assert_eq!(r.verdict, Verdict::Equivalent);
//! assert_eq!(r.pred.rule, verity_math::extract::Rule::Boxed);
//! ```
//!
//! Constructors for the verifiers (identity + options): [`MathVerifier::new`],
//! [`simple::ExactVerifier::new`], [`simple::ChoiceVerifier::new`],
//! [`simple::RegexVerifier::new`].

#![deny(missing_docs)]

pub mod ast;
pub mod budget;
pub mod equiv;
pub mod eval;
pub mod extract;
pub mod parse;
pub mod simple;
#[cfg(feature = "core")]
pub mod verifier;

pub use equiv::{equivalent, EquivOptions, Outcome, PercentPolicy, Verdict};
pub use extract::{extract_gold, extract_pred, ExtractOptions, Extracted, Rule, UnclosedThink};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Name of the math verifier (goes into every feedback it writes).
pub const MATH_NAME: &str = "math";
/// Version of the math verifier. Bump on any change that can flip a verdict.
pub const MATH_VERSION: &str = "1.1.0";

/// Options of the math verifier.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MathOptions {
    /// Extraction options for the prediction.
    pub extract: ExtractOptions,
    /// Equivalence options.
    pub equiv: EquivOptions,
}

/// A checked pair: verdict, reason and both extracted answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    /// Verdict.
    pub verdict: Verdict,
    /// Reason (set for `unknown`, sometimes for `not_equivalent`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Extracted gold answer.
    pub gold: Extracted,
    /// Extracted predicted answer.
    pub pred: Extracted,
}

/// Check one pair: `gold` is a bare answer or a solution, `pred` a model response.
pub fn check(gold: &str, pred: &str, opts: &MathOptions) -> Checked {
    let g = extract_gold(gold, &opts.extract);
    let p = extract_pred(pred, &opts.extract);
    let out = match (&g.answer, &p.answer) {
        (None, _) => Outcome {
            verdict: Verdict::Unknown,
            reason: Some("no gold answer".into()),
        },
        (Some(_), None) => Outcome {
            verdict: Verdict::NotEquivalent,
            reason: Some("no answer extracted from the prediction".into()),
        },
        (Some(ga), Some(_)) if !p.alternatives.is_empty() => {
            // alternative forms ("\boxed{a} or \boxed{b}"): every one must be equivalent
            let mut out = Outcome {
                verdict: Verdict::Equivalent,
                reason: None,
            };
            for alt in &p.alternatives {
                let o = equivalent(ga, alt, &opts.equiv);
                if o.verdict != Verdict::Equivalent {
                    out = o;
                    break;
                }
            }
            out
        }
        (Some(ga), Some(pa)) => equivalent(ga, pa, &opts.equiv),
    };
    Checked {
        verdict: out.verdict,
        reason: out.reason,
        gold: g,
        pred: p,
    }
}

/// Check many pairs in parallel (rayon; order preserved).
pub fn check_batch<S: AsRef<str> + Sync>(pairs: &[(S, S)], opts: &MathOptions) -> Vec<Checked> {
    pairs
        .par_iter()
        .map(|(g, p)| check(g.as_ref(), p.as_ref(), opts))
        .collect()
}

/// The `math` verifier: identity plus options.
#[derive(Debug, Clone, Default)]
pub struct MathVerifier {
    /// Options.
    pub options: MathOptions,
}

impl MathVerifier {
    /// A math verifier with the given options.
    pub fn new(options: MathOptions) -> Self {
        MathVerifier { options }
    }
    /// `math`
    pub fn name(&self) -> &'static str {
        MATH_NAME
    }
    /// Version string.
    pub fn version(&self) -> &'static str {
        MATH_VERSION
    }
    /// Check one pair.
    pub fn check(&self, gold: &str, pred: &str) -> Checked {
        check(gold, pred, &self.options)
    }
}
