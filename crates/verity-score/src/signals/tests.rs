use super::*;
use serde_json::json;
use verity_core::record::{Contract, Feedback, Granularity, ObjectKind, VerifierId};

fn graded(response: &str, answer: &str, passed: bool) -> Attempt {
    let mut a = Attempt::with_response(response);
    a.answer = Some(answer.into());
    a.feedback.push(Feedback::from_bool(
        VerifierId::imported("score", Contract::Programmatic),
        Granularity::Answer,
        passed,
    ));
    a
}

#[test]
fn rollout_record_gets_task_and_attempt_signals() {
    let scorer = Scorer::new(ScoreOptions::default()).unwrap();
    let mut r = Record::new("t1", ObjectKind::RolloutSet);
    r.task.prompt = Some("2+2?".into());
    r.task.reference.answer = Some("4".into());
    r.attempts = vec![
        graded(r"2+2 is 4. \boxed{4}", "4", true),
        graded(r"Wait, 2+2 is 5. \boxed{5}", "5", false),
        graded(r"\boxed{4}", "4", true),
        graded(r"<think>hmm, 2+2", "", false),
    ];
    scorer.score_record(&mut r);
    let s = &r.signals;
    assert_eq!(s["attempts"], json!(4));
    assert_eq!(s["passes"], json!(2));
    assert_eq!(s["pass_rate"], json!(0.5));
    assert_eq!(s["band"], json!("(0.25,0.5]"));
    assert_eq!(s["pass_at_k"]["1"], json!(0.5));
    assert_eq!(s["pass_at_k"]["2"], json!(0.833333));
    assert_eq!(s["majority_answer"], json!("4"));
    assert_eq!(s["verifier"], json!("score (imported)"));
    assert_eq!(s["tokenizer"], json!("cl100k_base"));
    let last = &r.attempts[3].signals;
    assert_eq!(last["think"], json!("unclosed"));
    assert_eq!(last["truncated"], json!(true));
    assert_eq!(
        last["truncation_reasons"],
        json!(["unclosed_think", "no_final_answer"])
    );
    assert_eq!(r.attempts[1].signals["reflection"]["wait"], json!(1));
    assert_eq!(r.attempts[0].signals["answer_consistent"], json!(true));
    assert_eq!(r.attempts[0].signals["truncated"], json!(false));
    assert!(r.attempts[0].signals["tokens"].as_u64().unwrap() > 5);
}

#[test]
fn own_verifier_wins_over_imported_and_named_choice_is_honoured() {
    let mut a = graded("x", "4", false);
    a.feedback.push(Feedback::from_bool(
        VerifierId::new("math", "1.0.0", Contract::Programmatic),
        Granularity::Answer,
        true,
    ));
    let auto = VerifierChoice::Auto.verdict(&a).unwrap();
    assert!(auto.0);
    assert_eq!(auto.1.verifier.name, "math");
    let named = VerifierChoice::parse(Some("score")).verdict(&a).unwrap();
    assert!(!named.0);
    assert!(VerifierChoice::parse(Some("nope")).verdict(&a).is_none());
    // An imported reward-model score is not a verdict by default (Qwen2.5-Math `pred_score`).
    let mut b = graded("x", "4", false);
    b.feedback.push(
        Feedback::new(
            VerifierId::imported("pred_score", Contract::JudgmentRequired),
            Granularity::Scalar,
            verity_core::record::Verdict::Score,
        )
        .with_score(3.5),
    );
    assert_eq!(
        VerifierChoice::Auto.verdict(&b).unwrap().1.verifier.name,
        "score"
    );
    assert!(
        VerifierChoice::parse(Some("pred_score"))
            .verdict(&b)
            .unwrap()
            .0
    );
}

#[test]
fn bad_input_gives_absent_signals_with_reasons() {
    let scorer = Scorer::new(ScoreOptions {
        tokenizer: None,
        ..ScoreOptions::default()
    })
    .unwrap();
    // No attempts, no reference.
    let mut r = Record::new("empty", ObjectKind::PromptAnswer);
    scorer.score_record(&mut r);
    assert!(r.signals["absent"]["pass_rate"]
        .as_str()
        .unwrap()
        .contains("no attempts"));
    assert!(r.signals["absent"]["reference"].is_string());
    assert!(r.signals.get("pass_rate").is_none());
    // Empty trace, ungraded.
    let mut r = Record::new("e2", ObjectKind::PromptTraceAnswer);
    r.attempts.push(Attempt {
        trace: Some(String::new()),
        ..Attempt::default()
    });
    scorer.score_record(&mut r);
    assert_eq!(r.attempts[0].signals["empty"], json!(true));
    assert!(r.attempts[0].signals["absent"]["text"].is_string());
    assert!(r.signals["absent"]["pass_rate"]
        .as_str()
        .unwrap()
        .contains("verdict"));
    assert!(
        r.attempts[0].signals.get("tokens").is_none(),
        "no tokenizer, no tokens"
    );
}

#[test]
fn summary_counts_bands_and_flags() {
    let scorer = Scorer::new(ScoreOptions {
        tokenizer: Some("whitespace".into()),
        ..ScoreOptions::default()
    })
    .unwrap();
    let mut summary = ScoreSummary::default();
    for passed in [true, false] {
        let mut r = Record::new("x", ObjectKind::PromptTraceAnswer);
        r.attempts.push(graded("<think>unfinished", "", passed));
        scorer.score_record(&mut r);
        summary.add(&r);
    }
    let j = summary.to_json();
    assert_eq!(j["bands"]["1"], json!(1));
    assert_eq!(j["bands"]["0"], json!(1));
    assert_eq!(j["flags"]["truncated"], json!(2));
    assert_eq!(
        j["flags"]["think_malformed"],
        json!(2),
        "an unclosed think block"
    );
    assert!(j["flags"].get("looping").is_none());
    // Absent signals of both levels: the attempts' and the records'.
    assert_eq!(
        j["absent"]["answer_consistent"]["the trace states no boxed answer"],
        json!(2)
    );
    assert_eq!(
        j["absent"]["majority_answer"]["no attempt states a final answer"],
        json!(2)
    );
    assert_eq!(j["verifiers"]["score (imported)"], json!(2));
    assert_eq!(j["tokens"], json!(2), "one whitespace token per attempt");
}

#[test]
fn fused_scan_gives_the_words_and_tokens_of_trace_and_response() {
    let scorer = Scorer::new(ScoreOptions::default()).unwrap();
    let trace = "Let me check: 3 × 4 = 12. Wait, let me check again: 3 × 4 = 12.\nSo far so good.";
    let response = "The answer is 12. The answer is \\boxed{12}.\n";
    let mut a = Attempt::with_response(response);
    a.trace = Some(trace.into());
    scorer.score_attempt(&mut a, false);
    let full = format!("{trace}\n{response}");
    let direct = text::repetition(&full, 4);
    let tok = Tokenizer::by_name("cl100k_base").unwrap();
    assert_eq!(a.signals["words"], json!(full.split_whitespace().count()));
    assert_eq!(a.signals["words"], json!(direct.words));
    assert_eq!(
        a.signals["repeat_ngram_ratio"],
        json!(round6(direct.ngram_ratio))
    );
    assert!(direct.ngram_ratio > 0.0);
    assert_eq!(a.signals["trace_tokens"], json!(tok.count(trace)));
    assert_eq!(a.signals["response_tokens"], json!(tok.count(response)));
    // Without a tokenizer the same words are counted.
    let plain = Scorer::new(ScoreOptions {
        tokenizer: None,
        ..ScoreOptions::default()
    })
    .unwrap();
    let mut b = Attempt::with_response(response);
    b.trace = Some(trace.into());
    plain.score_attempt(&mut b, false);
    assert_eq!(b.signals["words"], a.signals["words"]);
    assert_eq!(
        b.signals["repeat_ngram_ratio"],
        a.signals["repeat_ngram_ratio"]
    );
    assert!(b.signals.get("tokens").is_none());
}
