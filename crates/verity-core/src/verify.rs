//! The verifier interface: turn an attempt at a task into feedback.
//!
//! A verifier is versioned: [`Verifier::id`] goes into every [`Feedback`] it writes, into the
//! ledger and into the release card. Implementations live in their own crates
//! (`verity-math` for `math`/`exact`/`choice`/`regex`, `verity-sandbox` for `code`/`command`).
//!
//! Who drives: the `verify` stage calls [`verify_record`] on every record, in parallel, so
//! implementations must be `Send + Sync` and must bound their own time (a pathological input
//! yields [`Verdict::Unknown`] with a reason in `detail`, never a hang). A record-level problem
//! that makes verification impossible (no reference answer, no tests) is also an `Unknown`
//! verdict with a reason: it is data, not an error.

use crate::record::{
    Attempt, AttemptRole, Feedback, Granularity, Record, Task, Verdict, VerifierId,
};
use serde_json::json;

/// A versioned checker that produces feedback for attempts.
pub trait Verifier: Send + Sync {
    /// Name, version and contract; written into every feedback.
    fn id(&self) -> VerifierId;

    /// Check one attempt of a task. Returns at least one feedback: the attempt-level verdict
    /// first, optionally followed by finer-grained feedback (per test, per step).
    fn verify(&self, task: &Task, attempt: &Attempt) -> Vec<Feedback>;

    /// When a record has no attempts, the attempt to verify instead (for instance the
    /// dataset's own canonical solution for a code task). Default: none.
    fn reference_attempt(&self, _task: &Task) -> Option<Attempt> {
        None
    }
}

/// Outcome counts of verifying one record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyCounts {
    /// Attempts checked.
    pub attempts: u64,
    /// Attempt-level pass verdicts.
    pub pass: u64,
    /// Attempt-level fail verdicts.
    pub fail: u64,
    /// Attempt-level unknown verdicts.
    pub unknown: u64,
}

impl VerifyCounts {
    /// Add another count.
    pub fn add(&mut self, other: VerifyCounts) {
        self.attempts += other.attempts;
        self.pass += other.pass;
        self.fail += other.fail;
        self.unknown += other.unknown;
    }
}

/// Add the record's reference solution as an attempt (role `reference`), so verifying it checks
/// the solution against the reference answer: a failing one marks a mislabelled item. Returns
/// false (and adds nothing) when there is no reference solution or it is already an attempt.
pub fn add_solution_attempt(record: &mut Record) -> bool {
    let Some(solution) = record
        .task
        .reference
        .solution
        .as_ref()
        .filter(|s| !s.trim().is_empty())
    else {
        return false;
    };
    if record
        .attempts
        .iter()
        .any(|a| a.role == AttemptRole::Reference)
    {
        return false;
    }
    let mut attempt = Attempt::with_response(solution.clone());
    attempt.role = AttemptRole::Reference;
    record.attempts.push(attempt);
    true
}

/// Verify every attempt of `record` with `verifier`, appending the feedback. A record with no
/// attempts gets the verifier's [`Verifier::reference_attempt`] (role `reference`) when there is
/// one; otherwise nothing is checked.
pub fn verify_record(verifier: &dyn Verifier, record: &mut Record) -> VerifyCounts {
    let mut counts = VerifyCounts::default();
    if record.attempts.is_empty() {
        if let Some(mut attempt) = verifier.reference_attempt(&record.task) {
            attempt.role = AttemptRole::Reference;
            record.attempts.push(attempt);
        }
    }
    let id = verifier.id();
    for attempt in &mut record.attempts {
        let mut feedback = verifier.verify(&record.task, attempt);
        if feedback.is_empty() {
            feedback.push(
                Feedback::new(id.clone(), Granularity::Answer, Verdict::Unknown)
                    .with_detail(json!({"reason": "verifier returned no feedback"})),
            );
        }
        counts.attempts += 1;
        match feedback[0].passed() {
            Some(true) => counts.pass += 1,
            Some(false) => counts.fail += 1,
            None => counts.unknown += 1,
        }
        attempt.feedback.extend(feedback);
    }
    let stage = format!("verify:{}", id.label());
    if !record.lineage.stages.contains(&stage) {
        record.lineage.stages.push(stage);
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Contract, ObjectKind};

    struct Equals;
    impl Verifier for Equals {
        fn id(&self) -> VerifierId {
            VerifierId::new("equals", "0.0.1", Contract::Programmatic)
        }
        fn verify(&self, task: &Task, attempt: &Attempt) -> Vec<Feedback> {
            let ok = task.reference.answer.is_some() && task.reference.answer == attempt.answer;
            vec![Feedback::from_bool(self.id(), Granularity::Answer, ok)]
        }
    }

    #[test]
    fn a_reference_solution_is_verified_against_the_reference_answer() {
        let mut record = Record::new("r", ObjectKind::PromptAnswer);
        assert!(!add_solution_attempt(&mut record));
        record.task.reference.solution = Some("2 and 2 make 5".into());
        record.task.reference.answer = Some("4".into());
        assert!(add_solution_attempt(&mut record));
        assert!(!add_solution_attempt(&mut record), "added once");
        assert_eq!(record.attempts.len(), 1);
        assert_eq!(record.attempts[0].role, AttemptRole::Reference);
        assert_eq!(
            record.attempts[0].response.as_deref(),
            Some("2 and 2 make 5")
        );
    }

    #[test]
    fn verify_record_appends_feedback_and_counts() {
        let mut record = Record::new("r", ObjectKind::RolloutSet);
        record.task.reference.answer = Some("4".into());
        for answer in ["4", "5", "4"] {
            record.attempts.push(Attempt {
                answer: Some(answer.into()),
                ..Attempt::default()
            });
        }
        let counts = verify_record(&Equals, &mut record);
        assert_eq!(counts.attempts, 3);
        assert_eq!(counts.pass, 2);
        assert_eq!(counts.fail, 1);
        assert_eq!(record.attempts[1].feedback[0].verdict, Verdict::Fail);
        assert_eq!(
            record.lineage.stages,
            vec!["verify:equals@0.0.1".to_string()]
        );
    }
}
