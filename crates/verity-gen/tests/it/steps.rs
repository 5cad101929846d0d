//! Math-Shepherd step labels against a mock completer.

use crate::common::endpoint;
use serde_json::Value;
use std::sync::Arc;
use verity_core::record::{
    Attempt, Contract, Feedback, Granularity, ObjectKind, Record, StepLabel, Task, VerifierId,
};
use verity_core::stage::Stage;
use verity_core::verify::Verifier;
use verity_gen::steps::{Estimate, StepLabelConfig, StepLabelStage};
use verity_gen::testing::MockServer;

/// Passes when the text's last `\boxed{..}` equals the reference answer.
struct Boxed;
impl Verifier for Boxed {
    fn id(&self) -> VerifierId {
        VerifierId::new("boxed", "0.1.0", Contract::Programmatic)
    }
    fn verify(&self, task: &Task, attempt: &Attempt) -> Vec<Feedback> {
        let text = attempt.full_text();
        let got = text
            .rsplit("\\boxed{")
            .next()
            .filter(|_| text.contains("\\boxed{"))
            .and_then(|t| t.split('}').next());
        let ok = got.is_some() && got == task.reference.answer.as_deref();
        vec![Feedback::from_bool(self.id(), Granularity::Answer, ok)]
    }
}

/// Completes correctly (\boxed{12}) when the prefix does not contain "WRONG"; after a wrong
/// step, completes correctly only for seed 0 + sample 0 of... never.
fn completer() -> MockServer {
    MockServer::start_with(Arc::new(|body: &Value, _| {
        let text = body["messages"].to_string();
        if text.contains("WRONG") {
            "so the answer is \\boxed{13}".into()
        } else {
            "so the answer is \\boxed{12}".into()
        }
    }))
}

fn config(url: &str) -> StepLabelConfig {
    StepLabelConfig {
        endpoint: endpoint(url),
        verifier: "boxed".into(),
        completions: 3,
        temperature: 0.7,
        max_tokens: 64,
        seed: Some(1),
        max_steps: 12,
        estimate: Estimate::Hard,
        soft_threshold: 0.5,
        system: None,
        user: None,
    }
}

fn record() -> Record {
    let mut r = Record::new("s1", ObjectKind::PromptTraceAnswer);
    r.task.prompt = Some("3 boxes of 4 apples: how many apples?".into());
    r.task.reference.answer = Some("12".into());
    r.attempts.push(Attempt::with_response(
        "There are 3 boxes.\n\nEach has 4 apples.\n\nWRONG: 3 + 4 = 7.\n\nSo \\boxed{7}.",
    ));
    r
}

#[test]
fn steps_are_labelled_by_their_completions_and_the_last_by_the_answer() {
    let server = completer();
    let dir = tempfile::tempdir().unwrap();
    let stage = StepLabelStage::new(
        &config(&server.url()),
        Arc::new(Boxed),
        dir.path(),
        &dir.path().join("c.sqlite"),
    )
    .unwrap();
    let out = stage.process(0, vec![record()]).unwrap();
    let r = &out.kept[0];
    assert_eq!(r.object, ObjectKind::StepLabeledTrace);
    let steps = &r.attempts[0].steps;
    assert_eq!(steps.len(), 4);
    let labels: Vec<StepLabel> = steps.iter().map(|s| s.label.unwrap()).collect();
    assert_eq!(
        labels,
        vec![
            StepLabel::Good,
            StepLabel::Good,
            StepLabel::Bad,
            StepLabel::Bad
        ]
    );
    assert_eq!(steps[0].score, Some(1.0));
    assert_eq!(steps[2].score, Some(0.0));
    // 3 prefixes x 3 completions; the last step needs no request.
    assert_eq!(server.completions(), 9);
    let step_feedback: Vec<&Feedback> = r.attempts[0]
        .feedback
        .iter()
        .filter(|f| f.granularity == Granularity::Step)
        .collect();
    assert_eq!(step_feedback.len(), 4);
    assert_eq!(step_feedback[2].step, Some(2));
    assert!(step_feedback[0].verifier.version.contains("m3"));
    let s = stage.summary_value();
    assert_eq!(
        (s["steps"].as_u64(), s["good_steps"].as_u64()),
        (Some(4), Some(2))
    );
    // Rerun from the cache: no request.
    let again = StepLabelStage::new(
        &config(&server.url()),
        Arc::new(Boxed),
        dir.path(),
        &dir.path().join("c.sqlite"),
    )
    .unwrap();
    let out2 = again.process(0, vec![record()]).unwrap();
    assert_eq!(server.completions(), 9);
    assert_eq!(out2.kept[0].attempts[0].steps, *steps);
}

#[test]
fn a_record_without_solution_text_is_rejected() {
    let server = completer();
    let dir = tempfile::tempdir().unwrap();
    let stage = StepLabelStage::new(
        &config(&server.url()),
        Arc::new(Boxed),
        dir.path(),
        &dir.path().join("c.sqlite"),
    )
    .unwrap();
    let mut r = record();
    r.attempts.clear();
    let out = stage.process(0, vec![r]).unwrap();
    assert_eq!(out.rejected[0].reason, "step_label:no_solution_text");
}
