use super::*;
use serde_json::json;
use verity_core::record::{Attempt, ObjectKind};

fn record() -> Record {
    let mut r = Record::new("r1", ObjectKind::RolloutSet);
    r.task.prompt = Some("What is 2+2?".into());
    r.task.domain = Some("math".into());
    r.task.source.dataset = Some("gsm8k".into());
    r.signals.insert("pass_rate".into(), json!(0.5));
    r.signals.insert("band".into(), json!("(0.25,0.5]"));
    let mut a = Attempt::with_response("4");
    a.signals.insert("truncated".into(), json!(false));
    a.signals.insert("tokens".into(), json!(120));
    r.attempts.push(a);
    r.meta.insert("level".into(), json!("Level 3"));
    r
}

fn eval(text: &str) -> Value {
    parse(text).unwrap().eval(&record())
}

#[test]
fn the_documented_example_works() {
    let e = parse("pass_rate > 0 and pass_rate < 0.8 and not truncated").unwrap();
    assert!(e.matches(&record()));
    let mut r = record();
    r.signals.insert("pass_rate".into(), json!(1.0));
    assert!(!e.matches(&r));
}

#[test]
fn paths_shorthands_and_functions() {
    assert_eq!(eval("signals.pass_rate"), json!(0.5));
    assert_eq!(eval("attempts[0].signals.tokens"), json!(120));
    assert_eq!(eval("attempt.signals.tokens >= 100"), json!(true));
    assert_eq!(
        eval("domain == 'math' and source in ['gsm8k', 'math']"),
        json!(true)
    );
    assert_eq!(eval("band == \"(0.25,0.5]\""), json!(true));
    assert_eq!(eval("len(problem)"), json!(12));
    assert_eq!(eval("contains(lower(level), 'level 3')"), json!(true));
    assert_eq!(eval("meta.level not in ['Level 1']"), json!(true));
    assert_eq!(eval("pass_rate * (1 - pass_rate)"), json!(0.25));
    assert_eq!(eval("-tokens + 20"), json!(-100.0));
    assert_eq!(eval("max(1, pass_rate, 3) == 3"), json!(true));
    assert_eq!(eval("round(1 / 3, 2)"), json!(0.33));
    assert_eq!(eval("has(nope) or has(tokens)"), json!(true));
    assert_eq!(eval("object == 'rollout_set' && !false"), json!(true));
}

#[test]
fn missing_fields_are_null_and_compare_false() {
    let e = parse("nope > 1").unwrap();
    let mut missing = Vec::new();
    assert_eq!(e.eval_with(&record(), &mut missing), json!(false));
    assert_eq!(missing, vec!["nope".to_string()]);
    assert_eq!(eval("nope == null"), json!(false));
    assert_eq!(eval("not nope"), json!(true));
    assert_eq!(eval("1 / 0"), Value::Null);
}

#[test]
fn parse_errors_point_at_the_column() {
    let err = |t: &str| match parse(t) {
        Err(crate::Error::Expr {
            column, message, ..
        }) => (column, message),
        other => panic!("expected error for {t}: {other:?}"),
    };
    assert_eq!(err("pass_rate = 1").0, 11);
    let (col, msg) = err("pass_rate > and x");
    assert_eq!(col, 13);
    assert!(msg.contains("and"), "{msg}");
    assert_eq!(err("len(x").0, 6);
    assert!(err("foo(1)").1.contains("unknown function"));
    assert_eq!(err("'abc").0, 1);
    assert_eq!(err("a ? b").0, 3);
    assert!(err("").1.contains("empty"));
    assert_eq!(err("(a > 1").0, 7);
    assert_eq!(err("a b").0, 3);
}
