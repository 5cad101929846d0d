//! [`verity_core::verify::Verifier`] implementations for `math`, `exact`, `choice`, `regex`.
//!
//! What it does: for each attempt, takes the text to check (the `response`, else the `trace`,
//! else the stated `answer`) and the gold (`reference.answer`, else `reference.solution`,
//! from which the final answer is extracted), runs the verifier and writes one answer-level
//! [`Feedback`] whose `detail` holds both extracted answers, the extraction rules that fired
//! and, for `unknown`/`fail`, the reason.
//! Why: `verity verify --verifier math` needs these to fill feedback on every attempt.
//! Known failure modes: an attempt with neither response, trace nor answer gets a `fail`
//! with reason "no answer extracted" (it produced nothing to check).

use crate::simple::{
    ChoiceVerifier, ExactVerifier, RegexVerifier, RegexVerifierError, CHOICE_NAME, CHOICE_VERSION,
    EXACT_NAME, EXACT_VERSION, REGEX_NAME, REGEX_VERSION,
};
use crate::{Checked, MathOptions, MathVerifier, Verdict, MATH_NAME, MATH_VERSION};
use serde_json::json;
use verity_core::record::Verdict as CoreVerdict;
use verity_core::record::{Attempt, Contract, Feedback, Granularity, Task, VerifierId};
use verity_core::verify::Verifier;

fn attempt_text(a: &Attempt) -> Option<&str> {
    a.response
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or(a.trace.as_deref().filter(|s| !s.trim().is_empty()))
        .or(a.answer.as_deref())
}

fn gold_text(t: &Task) -> Option<&str> {
    t.reference
        .answer
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or(t.reference.solution.as_deref())
}

fn feedback(id: VerifierId, c: &Checked) -> Feedback {
    let verdict = match c.verdict {
        Verdict::Equivalent => CoreVerdict::Pass,
        Verdict::NotEquivalent => CoreVerdict::Fail,
        Verdict::Unknown => CoreVerdict::Unknown,
    };
    let mut detail = json!({
        "gold": c.gold.answer,
        "gold_rule": c.gold.rule.as_str(),
        "pred": c.pred.answer,
        "rule": c.pred.rule.as_str(),
    });
    if let Some(r) = &c.reason {
        detail["reason"] = json!(r);
    }
    Feedback::new(id, Granularity::Answer, verdict).with_detail(detail)
}

fn run(
    id: VerifierId,
    task: &Task,
    attempt: &Attempt,
    check: impl Fn(&str, &str) -> Checked,
) -> Vec<Feedback> {
    let Some(gold) = gold_text(task) else {
        return vec![Feedback::new(id, Granularity::Answer, CoreVerdict::Unknown)
            .with_detail(json!({"reason": "task has no reference answer or solution"}))];
    };
    let pred = attempt_text(attempt).unwrap_or("");
    vec![feedback(id, &check(gold, pred))]
}

impl Verifier for MathVerifier {
    fn id(&self) -> VerifierId {
        VerifierId::new(MATH_NAME, MATH_VERSION, Contract::Programmatic)
    }
    fn verify(&self, task: &Task, attempt: &Attempt) -> Vec<Feedback> {
        run(self.id(), task, attempt, |g, p| self.check(g, p))
    }
}

impl Verifier for ExactVerifier {
    fn id(&self) -> VerifierId {
        VerifierId::new(EXACT_NAME, EXACT_VERSION, Contract::Programmatic)
    }
    fn verify(&self, task: &Task, attempt: &Attempt) -> Vec<Feedback> {
        run(self.id(), task, attempt, |g, p| self.check(g, p))
    }
}

impl Verifier for ChoiceVerifier {
    fn id(&self) -> VerifierId {
        VerifierId::new(CHOICE_NAME, CHOICE_VERSION, Contract::Programmatic)
    }
    fn verify(&self, task: &Task, attempt: &Attempt) -> Vec<Feedback> {
        // the gold may be the option text: map it to its letter through `reference.choices`
        let mut gold = gold_text(task).map(str::to_string);
        if let Some(g) = &gold {
            if self.letter_of(g.trim()).is_none() {
                if let Some(k) = task
                    .reference
                    .choices
                    .iter()
                    .position(|c| c.trim() == g.trim())
                {
                    if let Some(letter) = self.letters.chars().nth(k) {
                        gold = Some(letter.to_string());
                    }
                }
            }
        }
        let Some(gold) = gold else {
            return vec![
                Feedback::new(self.id(), Granularity::Answer, CoreVerdict::Unknown)
                    .with_detail(json!({"reason": "task has no reference answer"})),
            ];
        };
        let pred = attempt_text(attempt).unwrap_or("");
        vec![feedback(self.id(), &self.check(&gold, pred))]
    }
}

impl Verifier for RegexVerifier {
    fn id(&self) -> VerifierId {
        VerifierId::new(REGEX_NAME, REGEX_VERSION, Contract::Programmatic)
    }
    fn verify(&self, task: &Task, attempt: &Attempt) -> Vec<Feedback> {
        run(self.id(), task, attempt, |g, p| self.check(g, p))
    }
}

/// The `math` verifier with default options, boxed for `verity verify`.
pub fn math_verifier(options: MathOptions) -> Box<dyn Verifier> {
    Box::new(MathVerifier::new(options))
}

/// The `exact` verifier (case-insensitive normalised match), boxed.
pub fn exact_verifier() -> Box<dyn Verifier> {
    Box::new(ExactVerifier::default())
}

/// The `choice` verifier (letters A-J), boxed.
pub fn choice_verifier() -> Box<dyn Verifier> {
    Box::new(ChoiceVerifier::default())
}

/// The `regex` verifier: `pattern` must have a capture group (group 1 or `answer`); `math`
/// compares the capture with math equivalence instead of a normalised string.
pub fn regex_verifier(pattern: &str, math: bool) -> Result<Box<dyn Verifier>, RegexVerifierError> {
    Ok(Box::new(RegexVerifier::new(pattern, math)?))
}

/// A verifier by name: `math`, `exact`, `choice` (`regex` needs a pattern: use
/// [`regex_verifier`]). `None` for other names.
pub fn verifier_by_name(name: &str) -> Option<Box<dyn Verifier>> {
    match name {
        "math" => Some(math_verifier(MathOptions::default())),
        "exact" => Some(exact_verifier()),
        "choice" => Some(choice_verifier()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_core::record::{ObjectKind, Record};
    use verity_core::verify::verify_record;

    #[test]
    fn math_verifier_fills_feedback_on_every_attempt() {
        let mut r = Record::new("r1", ObjectKind::RolloutSet);
        r.task.reference.answer = Some("\\frac{3}{4}".into());
        for resp in ["so $\\boxed{0.75}$", "the answer is 3/5", "<think>hmm"] {
            r.attempts.push(Attempt::with_response(resp));
        }
        let v = MathVerifier::default();
        let counts = verify_record(&v, &mut r);
        assert_eq!((counts.pass, counts.fail), (1, 2));
        let fb = &r.attempts[0].feedback[0];
        assert_eq!(fb.verifier.name, "math");
        assert_eq!(fb.verifier.version, MATH_VERSION);
        assert_eq!(fb.detail.as_ref().unwrap()["rule"], "boxed");
        assert_eq!(
            r.attempts[1].feedback[0].detail.as_ref().unwrap()["pred"],
            "3/5"
        );
    }

    #[test]
    fn choice_maps_option_text_to_letter() {
        let mut r = Record::new("r2", ObjectKind::PromptAnswer);
        r.task.reference.answer = Some("Paris".into());
        r.task.reference.choices = vec!["Rome".into(), "Paris".into(), "Oslo".into()];
        r.attempts
            .push(Attempt::with_response("I think the answer is (B) Paris."));
        let counts = verify_record(&ChoiceVerifier::default(), &mut r);
        assert_eq!(counts.pass, 1);
    }

    #[test]
    fn missing_reference_is_unknown() {
        let mut r = Record::new("r3", ObjectKind::PromptAnswer);
        r.attempts.push(Attempt::with_response("42"));
        let counts = verify_record(&*verifier_by_name("math").unwrap(), &mut r);
        assert_eq!(counts.unknown, 1);
    }
}
