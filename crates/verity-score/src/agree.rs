//! Verifier agreement: how often two verifiers give the same verdict on the same attempts.
//!
//! What it does: for every attempt that carries an attempt-level verdict from both verifiers
//! (the latest feedback of each name, e.g. verity's `math` and a grade imported with the data),
//! counts the 2×2 confusion table of pass/fail, the agreement rate and Cohen's kappa, and keeps
//! the disagreements (all of them, or the first `max_disagreements`) for review. Attempts where
//! either verdict is missing or has no pass/fail reading (`unknown`, a label) are counted apart,
//! never folded into agreement.
//!
//! Why: a verifier's false passes become rewards for wrong answers. Two independent verifiers
//! that disagree point at exactly the attempts where one of them is wrong; the rate is a
//! measured failure mode of the verifier, worth stating on the release card.
//!
//! Known failure modes: agreement is not correctness: two verifiers that share a blind spot
//! agree on it. Kappa is undefined (reported as `None`) when both verifiers give one verdict on
//! every attempt.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use verity_core::record::{Attempt, Feedback, Record};

/// Counts of one agreement audit between verifier `a` and verifier `b`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Name of the first verifier.
    pub a: String,
    /// Name of the second verifier.
    pub b: String,
    /// Attempts seen.
    pub attempts: u64,
    /// Both pass.
    pub both_pass: u64,
    /// `a` passes, `b` fails.
    pub a_pass_b_fail: u64,
    /// `a` fails, `b` passes.
    pub a_fail_b_pass: u64,
    /// Both fail.
    pub both_fail: u64,
    /// No verdict from `a` (absent, or not pass/fail).
    pub a_missing: u64,
    /// No verdict from `b` (absent, or not pass/fail).
    pub b_missing: u64,
}

/// One attempt on which the verifiers disagree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disagreement {
    /// Record id.
    pub id: String,
    /// Index of the attempt in the record.
    pub attempt: usize,
    /// `a`'s verdict (`true` = pass).
    pub a_pass: bool,
    /// `b`'s verdict.
    pub b_pass: bool,
    /// The task prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The reference answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The attempt's stated answer (e.g. the prediction the data's grader extracted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The end of the attempt's response (the part that holds the final answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_tail: Option<String>,
    /// `detail` of `a`'s feedback (for `math`: the answers it extracted).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub a_detail: Value,
    /// `detail` of `b`'s feedback.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub b_detail: Value,
}

/// Characters of the response kept in a [`Disagreement`].
pub const TAIL_CHARS: usize = 400;

/// The verdict of verifier `name` on `attempt`: the latest attempt-level feedback of that name
/// read as pass/fail.
pub fn verdict<'a>(attempt: &'a Attempt, name: &str) -> Option<(bool, &'a Feedback)> {
    let feedback = attempt.verdict_of(name)?;
    feedback.passed().map(|p| (p, feedback))
}

impl Agreement {
    /// An empty audit of `a` against `b`.
    pub fn new(a: impl Into<String>, b: impl Into<String>) -> Agreement {
        Agreement {
            a: a.into(),
            b: b.into(),
            ..Agreement::default()
        }
    }

    /// Count the attempts of `record`; the disagreements are returned.
    pub fn observe(&mut self, record: &Record) -> Vec<Disagreement> {
        let mut out = Vec::new();
        for (i, attempt) in record.attempts.iter().enumerate() {
            self.attempts += 1;
            let a = verdict(attempt, &self.a);
            let b = verdict(attempt, &self.b);
            let (Some((a_pass, a_fb)), Some((b_pass, b_fb))) = (a, b) else {
                self.a_missing += u64::from(a.is_none());
                self.b_missing += u64::from(b.is_none());
                continue;
            };
            match (a_pass, b_pass) {
                (true, true) => self.both_pass += 1,
                (false, false) => self.both_fail += 1,
                (true, false) => self.a_pass_b_fail += 1,
                (false, true) => self.a_fail_b_pass += 1,
            }
            if a_pass != b_pass {
                out.push(Disagreement {
                    id: record.id.clone(),
                    attempt: i,
                    a_pass,
                    b_pass,
                    prompt: record.problem_text().map(str::to_string),
                    reference: record.task.reference.answer.clone(),
                    answer: attempt.answer.clone(),
                    response_tail: attempt.response.as_deref().map(tail),
                    a_detail: a_fb.detail.clone().unwrap_or(Value::Null),
                    b_detail: b_fb.detail.clone().unwrap_or(Value::Null),
                });
            }
        }
        out
    }

    /// Add the counts of another audit of the same pair (parallel batches).
    pub fn merge(&mut self, other: &Agreement) {
        self.attempts += other.attempts;
        self.both_pass += other.both_pass;
        self.a_pass_b_fail += other.a_pass_b_fail;
        self.a_fail_b_pass += other.a_fail_b_pass;
        self.both_fail += other.both_fail;
        self.a_missing += other.a_missing;
        self.b_missing += other.b_missing;
    }

    /// Attempts with a pass/fail verdict from both verifiers.
    pub fn compared(&self) -> u64 {
        self.both_pass + self.a_pass_b_fail + self.a_fail_b_pass + self.both_fail
    }

    /// Attempts on which they disagree.
    pub fn disagreements(&self) -> u64 {
        self.a_pass_b_fail + self.a_fail_b_pass
    }

    /// Share of compared attempts with the same verdict (`None` when nothing was compared).
    pub fn rate(&self) -> Option<f64> {
        let n = self.compared();
        (n > 0).then(|| (self.both_pass + self.both_fail) as f64 / n as f64)
    }

    /// Cohen's kappa: agreement corrected for the agreement expected by chance from each
    /// verifier's pass rate. `None` when nothing was compared or chance agreement is 1 (both
    /// verifiers constant).
    pub fn kappa(&self) -> Option<f64> {
        let n = self.compared() as f64;
        if n == 0.0 {
            return None;
        }
        let observed = (self.both_pass + self.both_fail) as f64 / n;
        let a_pass = (self.both_pass + self.a_pass_b_fail) as f64 / n;
        let b_pass = (self.both_pass + self.a_fail_b_pass) as f64 / n;
        let chance = a_pass * b_pass + (1.0 - a_pass) * (1.0 - b_pass);
        (chance < 1.0).then(|| (observed - chance) / (1.0 - chance))
    }

    /// The summary as JSON (counts, rate, kappa).
    pub fn to_json(&self) -> Value {
        json!({
            "a": self.a,
            "b": self.b,
            "attempts": self.attempts,
            "compared": self.compared(),
            "confusion": {
                "both_pass": self.both_pass,
                "a_pass_b_fail": self.a_pass_b_fail,
                "a_fail_b_pass": self.a_fail_b_pass,
                "both_fail": self.both_fail,
            },
            "a_missing": self.a_missing,
            "b_missing": self.b_missing,
            "disagreements": self.disagreements(),
            "agreement_rate": self.rate(),
            "kappa": self.kappa(),
        })
    }

    /// One line for a release card's verifier failure modes: a measured fact.
    pub fn failure_mode(&self) -> String {
        format!(
            "measured: `{}` and `{}` disagree on {} of {} attempts ({} `{}` pass / `{}` fail, {} the reverse; kappa {})",
            self.a,
            self.b,
            self.disagreements(),
            self.compared(),
            self.a_pass_b_fail,
            self.a,
            self.b,
            self.a_fail_b_pass,
            self.kappa()
                .map_or_else(|| "undefined".to_string(), |k| format!("{k:.3}"))
        )
    }
}

/// The last [`TAIL_CHARS`] characters of `text`.
fn tail(text: &str) -> String {
    let n = text.chars().count();
    if n <= TAIL_CHARS {
        return text.to_string();
    }
    let skip = n - TAIL_CHARS;
    format!("…{}", text.chars().skip(skip).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_core::record::{Contract, Feedback, Granularity, ObjectKind, VerifierId};

    fn attempt(a: Option<bool>, b: Option<bool>) -> Attempt {
        let mut at = Attempt::with_response("r");
        if let Some(a) = a {
            at.feedback.push(Feedback::from_bool(
                VerifierId::new("math", "1", Contract::Programmatic),
                Granularity::Answer,
                a,
            ));
        }
        if let Some(b) = b {
            at.feedback.push(Feedback::from_bool(
                VerifierId::imported("score", Contract::Unknown),
                Granularity::Answer,
                b,
            ));
        }
        at
    }

    fn record(pairs: &[(Option<bool>, Option<bool>)]) -> Record {
        let mut r = Record::new("r1", ObjectKind::RolloutSet);
        r.attempts = pairs.iter().map(|(a, b)| attempt(*a, *b)).collect();
        r
    }

    #[test]
    fn confusion_rate_and_kappa_match_a_hand_computation() {
        // 20 pp, 5 pf, 10 fp, 15 ff: po = 0.7, pa = 0.5, pb = 0.6, pe = 0.5, kappa = 0.4
        let mut pairs = Vec::new();
        pairs.extend(std::iter::repeat_n((Some(true), Some(true)), 20));
        pairs.extend(std::iter::repeat_n((Some(true), Some(false)), 5));
        pairs.extend(std::iter::repeat_n((Some(false), Some(true)), 10));
        pairs.extend(std::iter::repeat_n((Some(false), Some(false)), 15));
        let mut agree = Agreement::new("math", "score");
        let found = agree.observe(&record(&pairs));
        assert_eq!(found.len(), 15);
        assert_eq!(
            (
                agree.both_pass,
                agree.a_pass_b_fail,
                agree.a_fail_b_pass,
                agree.both_fail
            ),
            (20, 5, 10, 15)
        );
        assert!((agree.rate().unwrap() - 0.7).abs() < 1e-12);
        assert!((agree.kappa().unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(found[0].attempt, 20);
        assert!(found[0].a_pass && !found[0].b_pass);
    }

    #[test]
    fn missing_verdicts_are_counted_apart() {
        let mut agree = Agreement::new("math", "score");
        let found = agree.observe(&record(&[
            (Some(true), None),
            (None, Some(false)),
            (None, None),
            (Some(true), Some(true)),
        ]));
        assert!(found.is_empty());
        assert_eq!(agree.attempts, 4);
        assert_eq!(agree.compared(), 1);
        assert_eq!((agree.a_missing, agree.b_missing), (2, 2));
        // one verdict everywhere: chance agreement is 1, kappa undefined
        assert_eq!(agree.kappa(), None);
        assert_eq!(agree.rate(), Some(1.0));
    }

    #[test]
    fn merge_adds_and_the_failure_mode_states_the_counts() {
        let mut a = Agreement::new("math", "score");
        a.observe(&record(&[
            (Some(true), Some(false)),
            (Some(true), Some(true)),
        ]));
        let mut b = Agreement::new("math", "score");
        b.observe(&record(&[(Some(false), Some(false))]));
        a.merge(&b);
        assert_eq!(a.compared(), 3);
        assert_eq!(a.disagreements(), 1);
        let line = a.failure_mode();
        assert!(line.starts_with("measured:"), "{line}");
        assert!(line.contains("disagree on 1 of 3 attempts"), "{line}");
    }

    #[test]
    fn the_tail_keeps_the_end() {
        let long = format!("{}END", "x".repeat(1000));
        let t = tail(&long);
        assert!(t.ends_with("END"));
        assert_eq!(t.chars().count(), TAIL_CHARS + 1);
    }
}
