//! The LLM judge: verdict parsing end to end, agreement with a programmatic verdict, pairwise
//! position swap, caching.

use crate::common::endpoint;
use serde_json::Value;
use std::sync::Arc;
use verity_core::record::{
    Attempt, AttemptRole, Contract, Feedback, Granularity, ObjectKind, Record, Verdict, VerifierId,
};
use verity_core::stage::Stage;
use verity_gen::judge::{JudgeConfig, JudgeMode, JudgeStage};
use verity_gen::testing::MockServer;

fn user_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect()
}

/// Grades by comparing the boxed answer with the reference, except that a candidate saying
/// "trust me" always passes (a judge false positive).
fn grading_server() -> MockServer {
    MockServer::start_with(Arc::new(|body: &Value, _| {
        let text = user_text(body);
        let reference = text
            .split("Reference answer:\n")
            .nth(1)
            .and_then(|t| t.lines().next())
            .unwrap_or("")
            .to_string();
        let candidate = text
            .split("\\boxed{")
            .nth(1)
            .and_then(|t| t.split('}').next())
            .unwrap_or("")
            .to_string();
        if text.contains("trust me") || candidate == reference {
            r#"Looks right. {"verdict": "pass", "reason": "matches"}"#.to_string()
        } else if candidate == "garbled" {
            "I cannot decide.".to_string()
        } else {
            r#"{"verdict": "fail", "reason": "differs"}"#.to_string()
        }
    }))
}

fn config(url: &str, mode: JudgeMode) -> JudgeConfig {
    JudgeConfig {
        endpoint: endpoint(url),
        mode,
        system: None,
        user: None,
        pattern: None,
        pass_threshold: 0.5,
        temperature: 0.0,
        max_tokens: 64,
        seed: None,
    }
}

fn record(answers: &[(&str, bool)]) -> Record {
    let mut r = Record::new("j1", ObjectKind::RolloutSet);
    r.task.prompt = Some("What is 2 + 2?".into());
    r.task.reference.answer = Some("4".into());
    let math = VerifierId::new("math", "1.0.0", Contract::Programmatic);
    for (text, program) in answers {
        let mut a = Attempt::with_response(*text);
        a.feedback.push(Feedback::from_bool(
            math.clone(),
            Granularity::Answer,
            *program,
        ));
        r.attempts.push(a);
    }
    r
}

#[test]
fn pointwise_verdicts_identity_and_agreement() {
    let server = grading_server();
    let dir = tempfile::tempdir().unwrap();
    let c = config(&server.url(), JudgeMode::Pointwise);
    let stage = JudgeStage::new(&c, dir.path(), &dir.path().join("cache.sqlite")).unwrap();
    let r = record(&[
        ("The answer is \\boxed{4}.", true),
        ("The answer is \\boxed{5}.", false),
        ("trust me, \\boxed{7}", false),
        ("\\boxed{garbled}", false),
    ]);
    let out = stage.process(0, vec![r]).unwrap();
    let attempts = &out.kept[0].attempts;
    let judged: Vec<&Feedback> = attempts
        .iter()
        .map(|a| a.feedback.last().unwrap())
        .collect();
    let verdicts: Vec<Verdict> = judged.iter().map(|f| f.verdict).collect();
    assert_eq!(
        verdicts,
        vec![
            Verdict::Pass,
            Verdict::Fail,
            Verdict::Pass,
            Verdict::Unknown
        ]
    );
    let id = &judged[0].verifier;
    assert_eq!(id.name, "judge");
    assert_eq!(id.contract, Contract::JudgmentRequired);
    assert!(id.version.starts_with("mock-model+"), "{}", id.version);
    assert_eq!(
        judged[0].detail.as_ref().unwrap()["kind"],
        "rubric_judgment"
    );
    assert_eq!(judged[0].detail.as_ref().unwrap()["reason"], "matches");
    assert_eq!(
        judged[0].detail.as_ref().unwrap()["judge_model"],
        "mock-model-served"
    );
    let s = stage.judge().summary_value();
    assert_eq!(
        (
            s["pass"].as_u64(),
            s["fail"].as_u64(),
            s["unparsed"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    let a = &s["agreement"];
    assert_eq!(a["against"], serde_json::json!(["math@1.0.0"]));
    assert_eq!(a["judge_pass_program_pass"], 1);
    assert_eq!(a["judge_pass_program_fail"], 1);
    assert_eq!(a["judge_fail_program_fail"], 1);
    assert_eq!(a["judge_unknown"], 1);
    assert!((a["agreement_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(stage.verifiers(), vec![id.clone()]);
    // Judging again costs nothing.
    let before = server.completions();
    let again = JudgeStage::new(&c, dir.path(), &dir.path().join("cache.sqlite")).unwrap();
    again
        .process(0, vec![record(&[("The answer is \\boxed{4}.", true)])])
        .unwrap();
    assert_eq!(server.completions(), before);
}

#[test]
fn a_declared_pattern_reads_numeric_scores() {
    let server =
        MockServer::start_with(Arc::new(|_: &Value, _| "Reasoning...\nScore: 8/10".into()));
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(&server.url(), JudgeMode::Pointwise);
    c.pattern = Some(r"Score: ([0-9.]+)/10".into());
    c.pass_threshold = 7.0;
    c.user = Some("Rubric:\n{rubric}\n\nGrade:\n{response}".into());
    let stage = JudgeStage::new(&c, dir.path(), &dir.path().join("c.sqlite")).unwrap();
    let mut r = record(&[("an essay", false)]);
    r.task.reference.rubric = Some(serde_json::json!(["clear thesis", "evidence"]));
    let out = stage.process(0, vec![r]).unwrap();
    let f = out.kept[0].attempts[0].feedback.last().unwrap();
    assert_eq!((f.verdict, f.score), (Verdict::Pass, Some(8.0)));
    assert_eq!(
        f.detail.as_ref().unwrap()["rubric"],
        "- clear thesis\n- evidence"
    );
}

fn pair() -> Record {
    let mut r = Record::new("p1", ObjectKind::PreferencePair);
    r.task.prompt = Some("Explain.".into());
    r.attempts.push(Attempt {
        role: AttemptRole::Chosen,
        response: Some("good answer".into()),
        ..Attempt::default()
    });
    r.attempts.push(Attempt {
        role: AttemptRole::Rejected,
        response: Some("poor answer".into()),
        ..Attempt::default()
    });
    r
}

#[test]
fn pairwise_swaps_positions_and_flags_inconsistency() {
    // A judge that prefers the response containing "good", wherever it is.
    let fair = MockServer::start_with(Arc::new(|body: &Value, _| {
        let text = user_text(body);
        let a = text.split("Response A:\n").nth(1).unwrap_or("");
        if a.starts_with("good") {
            r#"{"verdict": "A"}"#.into()
        } else {
            r#"{"verdict": "B"}"#.into()
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let stage = JudgeStage::new(
        &config(&fair.url(), JudgeMode::Pairwise),
        dir.path(),
        &dir.path().join("c.sqlite"),
    )
    .unwrap();
    let out = stage.process(0, vec![pair()]).unwrap();
    let f = out.kept[0].attempts[0].feedback.last().unwrap();
    assert_eq!(
        (f.granularity, f.verdict),
        (Granularity::Pairwise, Verdict::Pass)
    );
    assert_eq!(f.detail.as_ref().unwrap()["consistent"], true);
    assert_eq!(fair.completions(), 2);
    // A judge that always says "A" is position-biased: the two orders disagree.
    let biased = MockServer::start_with(Arc::new(|_: &Value, _| r#"{"verdict": "A"}"#.into()));
    let dir = tempfile::tempdir().unwrap();
    let stage = JudgeStage::new(
        &config(&biased.url(), JudgeMode::Pairwise),
        dir.path(),
        &dir.path().join("c.sqlite"),
    )
    .unwrap();
    let out = stage.process(0, vec![pair()]).unwrap();
    let f = out.kept[0].attempts[0].feedback.last().unwrap();
    assert_eq!(f.verdict, Verdict::Unknown);
    assert_eq!(f.detail.as_ref().unwrap()["consistent"], false);
    let s = stage.judge().summary_value();
    assert_eq!(
        (s["pairs"].as_u64(), s["consistent_pairs"].as_u64()),
        (Some(1), Some(0))
    );
}
