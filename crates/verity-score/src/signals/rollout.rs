//! Per-task rollout statistics: which verdict counts, pass rate, the unbiased pass@k estimator,
//! majority vote and the difficulty band.
//!
//! pass@k follows Chen et al. 2021 ("Evaluating Large Language Models Trained on Code",
//! section 2.1): with `n` graded samples of which `c` pass,
//! `pass@k = 1 - C(n-c, k) / C(n, k)`, computed in the numerically stable product form
//! `1 - prod_{i=n-c+1}^{n} (1 - k/i)`. It is defined only for `k <= n`.
//!
//! The band is relative to the model that produced the rollouts and to the verifier that graded
//! them: "hard" here means "this model rarely passed under this verifier", not "hard" in general.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use verity_core::record::{
    Attempt, AttemptRole, Feedback, Granularity, Signals, Verdict, VerifierId,
};

/// Which feedback counts as the pass/fail verdict of an attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum VerifierChoice {
    /// verity's own latest pass/fail verdict, else the latest imported pass/fail verdict, else
    /// verity's own latest score (score > 0 passes). Imported scalar scores (reward-model
    /// outputs) never count unless named.
    #[default]
    Auto,
    /// The latest verdict of the verifier with this name (own or imported).
    Named(String),
}

impl VerifierChoice {
    /// `None` / `"auto"` -> [`VerifierChoice::Auto`], anything else -> named.
    pub fn parse(name: Option<&str>) -> VerifierChoice {
        match name {
            None | Some("auto") | Some("") => VerifierChoice::Auto,
            Some(name) => VerifierChoice::Named(name.to_string()),
        }
    }

    /// The feedback that decides pass/fail for `attempt`, with its verdict.
    pub fn verdict<'a>(&self, attempt: &'a Attempt) -> Option<(bool, &'a Feedback)> {
        let usable = |f: &&Feedback| {
            f.step.is_none() && f.granularity != Granularity::Step && f.passed().is_some()
        };
        let pick = match self {
            VerifierChoice::Named(name) => attempt
                .feedback
                .iter()
                .rev()
                .filter(usable)
                .find(|f| &f.verifier.name == name),
            VerifierChoice::Auto => {
                // Pass/fail verdicts first (own, then imported); a scalar score (a reward-model
                // output) is a verdict only when it is verity's own.
                let binary = |f: &&Feedback| matches!(f.verdict, Verdict::Pass | Verdict::Fail);
                let all = || attempt.feedback.iter().rev().filter(usable);
                all()
                    .filter(binary)
                    .find(|f| !f.verifier.imported)
                    .or_else(|| all().find(binary))
                    .or_else(|| all().find(|f| !f.verifier.imported))
            }
        };
        pick.and_then(|f| f.passed().map(|p| (p, f)))
    }
}

/// Unbiased pass@k for `n` samples with `c` correct (Chen et al. 2021). `None` when `k > n` or
/// `k == 0` or `c > n`.
pub fn pass_at_k(n: u64, c: u64, k: u64) -> Option<f64> {
    if k == 0 || k > n || c > n {
        return None;
    }
    if n - c < k {
        return Some(1.0);
    }
    let mut prod = 1.0f64;
    for i in (n - c + 1)..=n {
        prod *= 1.0 - k as f64 / i as f64;
    }
    Some(1.0 - prod)
}

/// The difficulty band names, in order.
pub const BANDS: [&str; 6] = ["0", "(0,0.25]", "(0.25,0.5]", "(0.5,0.75]", "(0.75,1)", "1"];

/// The band of a pass rate: `0`, `(0,0.25]`, `(0.25,0.5]`, `(0.5,0.75]`, `(0.75,1)`, `1`.
pub fn band(pass_rate: f64) -> &'static str {
    if pass_rate <= 0.0 {
        BANDS[0]
    } else if pass_rate <= 0.25 {
        BANDS[1]
    } else if pass_rate <= 0.5 {
        BANDS[2]
    } else if pass_rate <= 0.75 {
        BANDS[3]
    } else if pass_rate < 1.0 {
        BANDS[4]
    } else {
        BANDS[5]
    }
}

/// Accepts a band by its name or an alias (`unsolved`=0, `hard`=(0,0.25], `medium`=(0.25,0.5],
/// `easy`=(0.5,0.75], `very_easy`=(0.75,1), `solved`=1).
pub fn parse_band(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if let Some(b) = BANDS.iter().find(|b| **b == name) {
        return Some(b);
    }
    let index = match name {
        "unsolved" | "zero" => 0,
        "hard" => 1,
        "medium" => 2,
        "easy" => 3,
        "very_easy" => 4,
        "solved" | "one" => 5,
        _ => return None,
    };
    Some(BANDS[index])
}

/// One attempt's contribution to a task's statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptOutcome {
    /// Verdict under the chosen verifier, if any.
    pub passed: Option<bool>,
    /// The normalized final answer, if any.
    pub answer: Option<String>,
    /// Label of the verifier whose verdict counted.
    pub verifier: Option<String>,
}

impl AttemptOutcome {
    /// The outcome of `attempt` under `choice`.
    pub fn of(attempt: &Attempt, choice: &VerifierChoice) -> AttemptOutcome {
        let verdict = choice.verdict(attempt);
        AttemptOutcome {
            passed: verdict.map(|(p, _)| p),
            answer: attempt
                .answer
                .as_deref()
                .filter(|a| !a.trim().is_empty())
                .map(crate::util::normalize_answer)
                .or_else(|| {
                    attempt
                        .response
                        .as_deref()
                        .and_then(crate::util::last_boxed)
                        .map(crate::util::normalize_answer)
                }),
            verifier: verdict.map(|(_, f)| verifier_label(&f.verifier)),
        }
    }
}

/// `name@version`, with `(imported)` for grades that came with the data.
pub fn verifier_label(id: &VerifierId) -> String {
    if id.imported {
        format!("{} (imported)", id.name)
    } else {
        id.label()
    }
}

/// Whether an attempt is a model rollout (reference solutions are not).
pub fn is_rollout(attempt: &Attempt) -> bool {
    attempt.role != AttemptRole::Reference
}

/// Task-level statistics of a set of attempts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskStats {
    /// Attempts (rollouts) at the task.
    pub attempts: u64,
    /// Attempts with a verdict under the chosen verifier.
    pub graded: u64,
    /// Passing attempts.
    pub passes: u64,
    /// Verifiers whose verdicts counted, with counts.
    pub verifiers: BTreeMap<String, u64>,
    /// Normalized answers with counts.
    pub answers: BTreeMap<String, u64>,
    /// Per normalized answer: (passes, fails) of attempts giving it.
    pub answer_verdicts: BTreeMap<String, (u64, u64)>,
}

impl TaskStats {
    /// Add one attempt outcome (its strings move into the maps).
    pub fn add(&mut self, outcome: AttemptOutcome) {
        self.attempts += 1;
        if let Some(passed) = outcome.passed {
            self.graded += 1;
            if passed {
                self.passes += 1;
            }
        }
        if let Some(v) = outcome.verifier {
            *self.verifiers.entry(v).or_insert(0) += 1;
        }
        if let Some(a) = outcome.answer {
            *self.answers.entry(a.clone()).or_insert(0) += 1;
            let entry = self.answer_verdicts.entry(a).or_insert((0, 0));
            match outcome.passed {
                Some(true) => entry.0 += 1,
                Some(false) => entry.1 += 1,
                None => {}
            }
        }
    }

    /// Pass rate over graded attempts.
    pub fn pass_rate(&self) -> Option<f64> {
        (self.graded > 0).then(|| self.passes as f64 / self.graded as f64)
    }

    /// The majority answer (ties broken by the lexicographically smallest answer) and its count.
    pub fn majority(&self) -> Option<(&str, u64)> {
        let mut best: Option<(&str, u64)> = None;
        for (answer, &count) in &self.answers {
            if best.is_none_or(|(_, c)| count > c) {
                best = Some((answer, count));
            }
        }
        best
    }

    /// Write the task-level signals into `signals`; reasons for absent signals go to
    /// `signals.absent`.
    pub fn write(&self, ks: &[u64], signals: &mut Signals) {
        let mut absent = signals
            .remove("absent")
            .and_then(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .unwrap_or_default();
        // On a record without any of these signals yet (the usual case) they are appended
        // without a search; on a record scored before, each one replaces its old value.
        const WRITTEN: [&str; 11] = [
            "attempts",
            "graded",
            "passes",
            "pass_rate",
            "band",
            "pass_at_k",
            "verifier",
            "majority_answer",
            "majority_agreement",
            "majority_passed",
            "absent",
        ];
        let fresh = !WRITTEN.iter().any(|name| signals.contains_key(name));
        let mut set = |name: &'static str, value: Value| {
            if fresh {
                signals.push(name, value);
            } else {
                signals.insert(name.into(), value);
            }
        };
        set("attempts", json!(self.attempts));
        set("graded", json!(self.graded));
        if self.attempts == 0 {
            absent.insert("pass_rate".into(), json!("the record has no attempts"));
        } else if self.graded == 0 {
            absent.insert(
                "pass_rate".into(),
                json!("no attempt has a pass/fail verdict from the chosen verifier"),
            );
        }
        if let Some(rate) = self.pass_rate() {
            set("passes", json!(self.passes));
            set("pass_rate", json!(round6(rate)));
            set("band", json!(band(rate)));
            let mut at_k = Map::new();
            for &k in ks {
                if let Some(v) = pass_at_k(self.graded, self.passes, k) {
                    at_k.insert(k.to_string(), json!(round6(v)));
                }
            }
            set("pass_at_k", Value::Object(at_k));
            if self.verifiers.len() == 1 {
                if let Some(v) = self.verifiers.keys().next() {
                    set("verifier", json!(v));
                }
            } else {
                set("verifier", json!(self.verifiers));
            }
        }
        match self.majority() {
            Some((answer, count)) => {
                let answered: u64 = self.answers.values().sum();
                set("majority_answer", json!(answer));
                set(
                    "majority_agreement",
                    json!(round6(count as f64 / answered as f64)),
                );
                if let Some(&(p, f)) = self.answer_verdicts.get(answer) {
                    if p + f > 0 {
                        set("majority_passed", json!(p > 0 && f == 0));
                    }
                }
            }
            None if self.attempts > 0 => {
                absent.insert(
                    "majority_answer".into(),
                    json!("no attempt states a final answer"),
                );
            }
            None => {}
        }
        if !absent.is_empty() {
            set("absent", Value::Object(absent));
        }
    }
}

/// Round to 6 decimals (keeps the JSON short and stable).
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binom(n: u64, k: u64) -> f64 {
        if k > n {
            return 0.0;
        }
        let mut r = 1.0f64;
        for i in 0..k {
            r = r * (n - i) as f64 / (i + 1) as f64;
        }
        r
    }

    #[test]
    fn pass_at_k_matches_direct_combinatorics() {
        for n in 1..=20u64 {
            for c in 0..=n {
                for k in 1..=n {
                    let direct = 1.0 - binom(n - c, k) / binom(n, k);
                    let got = pass_at_k(n, c, k).unwrap();
                    assert!(
                        (direct - got).abs() < 1e-9,
                        "n={n} c={c} k={k}: {direct} vs {got}"
                    );
                }
            }
        }
    }

    #[test]
    fn pass_at_k_published_and_edge_values() {
        // pass@1 is the plain pass rate.
        assert!((pass_at_k(200, 37, 1).unwrap() - 37.0 / 200.0).abs() < 1e-12);
        // Chen et al. use n=200 samples for k up to 100; with c=1 pass@100 = 100/200.
        assert!((pass_at_k(200, 1, 100).unwrap() - 0.5).abs() < 1e-12);
        // All correct, none correct.
        assert_eq!(pass_at_k(10, 10, 5), Some(1.0));
        assert_eq!(pass_at_k(10, 0, 5), Some(0.0));
        // n - c < k: every k-subset has a pass.
        assert_eq!(pass_at_k(10, 8, 3), Some(1.0));
        assert_eq!(pass_at_k(4, 1, 5), None);
        assert_eq!(pass_at_k(4, 1, 0), None);
        // Large n stays finite and in [0, 1] where the binomial form would overflow.
        let v = pass_at_k(5000, 3, 1000).unwrap();
        assert!(v > 0.0 && v < 1.0);
        assert!(
            (v - (1.0 - binom(4997, 1000) / binom(5000, 1000))).abs() < 1e-9
                || binom(5000, 1000).is_infinite()
        );
    }

    #[test]
    fn bands_cover_the_unit_interval() {
        assert_eq!(band(0.0), "0");
        assert_eq!(band(0.125), "(0,0.25]");
        assert_eq!(band(0.25), "(0,0.25]");
        assert_eq!(band(0.5), "(0.25,0.5]");
        assert_eq!(band(0.75), "(0.5,0.75]");
        assert_eq!(band(0.875), "(0.75,1)");
        assert_eq!(band(1.0), "1");
        assert_eq!(parse_band("hard"), Some("(0,0.25]"));
        assert_eq!(parse_band("(0.5,0.75]"), Some("(0.5,0.75]"));
        assert_eq!(parse_band("nope"), None);
    }

    #[test]
    fn majority_vote_and_stats() {
        let mut s = TaskStats::default();
        for (p, a) in [
            (Some(true), "4"),
            (Some(false), "5"),
            (Some(true), "4"),
            (None, "6"),
        ] {
            s.add(AttemptOutcome {
                passed: p,
                answer: Some(a.into()),
                verifier: p.map(|_| "math@1".to_string()),
            });
        }
        let mut m = Signals::new();
        s.write(&[1, 2, 8], &mut m);
        assert_eq!(m["attempts"], json!(4));
        assert_eq!(m["graded"], json!(3));
        assert_eq!(m["passes"], json!(2));
        assert_eq!(m["band"], json!("(0.5,0.75]"));
        assert_eq!(m["majority_answer"], json!("4"));
        assert_eq!(m["majority_agreement"], json!(0.5));
        assert_eq!(m["majority_passed"], json!(true));
        assert_eq!(m["verifier"], json!("math@1"));
        assert!(m["pass_at_k"].get("8").is_none(), "k > n is absent");
        // Written again (a record scored twice, with a signal of its own first): each signal
        // is replaced in place, none is repeated.
        let mut again = Signals::new();
        again.push("tokenizer", json!("cl100k_base"));
        s.write(&[1, 2, 8], &mut again);
        let once = again.clone();
        s.write(&[1, 2, 8], &mut again);
        assert_eq!(again, once);
        assert_eq!(again.len(), m.len() + 1);
        let empty = TaskStats::default();
        let mut m = Signals::new();
        empty.write(&[1], &mut m);
        assert!(m["absent"]["pass_rate"]
            .as_str()
            .unwrap()
            .contains("no attempts"));
    }
}
