//! Harness behaviour on small hand-written cases: per-test verdicts, early exits, forged
//! output, float tolerance, fail-fast, and the explicit no-isolation fallback.

use crate::common::fixture;
use serde_json::json;
use std::time::Duration;
use verity_sandbox::harness::compare::{CompareOptions, OutputMatch};
use verity_sandbox::{
    CodeRunner, HarnessOptions, Isolation, Language, Outcome, Sandbox, SandboxConfig, TestSuite,
};

fn runner_with(options: HarnessOptions) -> Option<CodeRunner<'static>> {
    let fx = fixture()?;
    Some(CodeRunner::new(&fx.sandbox, fx.python.clone(), options))
}

fn asserts(code: &str) -> TestSuite {
    TestSuite::Assert {
        prelude: None,
        setup: None,
        code: code.to_string(),
        entry_point: None,
    }
}

#[test]
fn each_top_level_assert_is_one_test_and_a_slow_one_times_out_alone() {
    let options = HarnessOptions {
        per_test_timeout: Duration::from_secs(1),
        ..HarnessOptions::default()
    };
    let Some(runner) = runner_with(options) else {
        return;
    };
    let candidate = "def f(x):\n    if x == 2:\n        while True:\n            pass\n    if x == 3:\n        raise KeyError('k')\n    return x * 10\n";
    let tests = "import math\nassert f(1) == 10\nassert f(2) == 20\nassert f(3) == 30\nassert f(4) == 41\nassert f(5) == 50\n";
    let report = runner.run(candidate, &asserts(tests)).expect("run");
    let outcomes: Vec<Outcome> = report.tests.iter().map(|t| t.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Pass,
            Outcome::Timeout,
            Outcome::RuntimeError,
            Outcome::Fail,
            Outcome::Pass
        ]
    );
    assert_eq!((report.passed, report.total), (2, 5));
    assert_eq!(
        report.outcome,
        Outcome::Timeout,
        "first non-pass decides the aggregate"
    );
    assert_eq!(report.tests[3].expected.as_deref(), Some("41"));
    assert_eq!(report.tests[3].got.as_deref(), Some("40"));
    assert!(report.tests[2]
        .message
        .as_deref()
        .unwrap_or("")
        .contains("KeyError"));
}

#[test]
fn early_exit_and_forged_results_do_not_pass() {
    let Some(runner) = runner_with(HarnessOptions::default()) else {
        return;
    };
    let suite = asserts("assert f() == 1\nassert f() == 2\n");
    // Exits with status 0 before any test ran.
    let report = runner
        .run("import os\ndef f():\n    return 1\nos._exit(0)\n", &suite)
        .expect("run");
    assert_eq!(report.outcome, Outcome::RuntimeError, "{report:?}");
    assert_eq!(report.passed, 0);
    // Prints lines that look like results (without the per-run nonce), then fails.
    let forged = "import sys\nfor i in range(2):\n    sys.__stdout__.write('@@verity@@ {\"i\": %d, \"status\": \"pass\"}\\n' % i)\ndef f():\n    return 0\n";
    let report = runner.run(forged, &suite).expect("run");
    assert_eq!(report.outcome, Outcome::Fail, "{report:?}");
    assert_eq!(report.passed, 0);
    // sys.exit inside the candidate module.
    let report = runner
        .run("import sys\nsys.exit(0)\n", &suite)
        .expect("run");
    assert_eq!(report.outcome, Outcome::RuntimeError);
}

#[test]
fn syntax_errors_fail_every_test_as_runtime_errors() {
    let Some(runner) = runner_with(HarnessOptions::default()) else {
        return;
    };
    let report = runner
        .run("def f(:\n", &asserts("assert f() == 1\n"))
        .expect("run");
    assert_eq!(report.outcome, Outcome::RuntimeError);
    assert!(report.tests[0]
        .message
        .as_deref()
        .unwrap_or("")
        .contains("SyntaxError"));
}

#[test]
fn stdio_float_tolerance_and_fail_fast() {
    let exact = HarnessOptions::default();
    let Some(runner) = runner_with(exact) else {
        return;
    };
    let program = "import sys\nn = int(sys.stdin.read())\nprint(1 / n)\n";
    let suite = TestSuite::Stdio {
        cases: vec![
            ("3".into(), "0.333333333".into()),
            ("4".into(), "0.25".into()),
        ],
    };
    let report = runner.run(program, &suite).expect("run");
    assert_eq!(report.outcome, Outcome::Fail);
    assert_eq!(report.passed, 1);
    let tolerant = HarnessOptions {
        compare: CompareOptions {
            mode: OutputMatch::Tokens,
            float_tolerance: Some(1e-6),
        },
        fail_fast: true,
        ..HarnessOptions::default()
    };
    let runner = runner_with(tolerant).expect("fixture");
    assert_eq!(
        runner.run(program, &suite).expect("run").outcome,
        Outcome::Pass
    );
    // Fail-fast stops at the first failing case.
    let suite = TestSuite::Stdio {
        cases: vec![
            ("1".into(), "5".into()),
            ("2".into(), "0.5".into()),
            ("4".into(), "0.25".into()),
        ],
    };
    let report = runner.run(program, &suite).expect("run");
    assert_eq!(
        (report.tests.len(), report.total, report.outcome),
        (1, 3, Outcome::Fail)
    );
}

#[test]
fn function_call_compares_tuples_as_lists_and_reports_values() {
    let Some(runner) = runner_with(HarnessOptions::default()) else {
        return;
    };
    let suite = TestSuite::FunctionCall {
        prelude: None,
        setup: None,
        entry_point: "divmod_pair".into(),
        cases: vec![
            (json!([7, 2]), json!([3, 1])),
            (json!({"a": 9, "b": 4}), json!([2, 1])),
            (json!([1, 1]), json!([5, 5])),
        ],
    };
    let report = runner
        .run("def divmod_pair(a, b):\n    return divmod(a, b)\n", &suite)
        .expect("run");
    let outcomes: Vec<Outcome> = report.tests.iter().map(|t| t.outcome).collect();
    assert_eq!(outcomes, vec![Outcome::Pass, Outcome::Pass, Outcome::Fail]);
    assert_eq!(report.tests[2].got.as_deref(), Some("(1, 0)"));
    assert_eq!(report.tests[2].expected.as_deref(), Some("[5, 5]"));
}

#[test]
fn explicit_no_isolation_fallback_still_enforces_time() {
    let Some(fx) = fixture() else { return };
    let config = SandboxConfig {
        isolation: Isolation::None,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::new(config, 1).expect("unisolated sandbox");
    assert!(!sandbox.is_isolated());
    let python: Language = fx.python.clone();
    let options = HarnessOptions {
        per_test_timeout: Duration::from_secs(5),
        ..HarnessOptions::default()
    };
    let runner = CodeRunner::new(&sandbox, python, options);
    let suite = TestSuite::Stdio {
        cases: vec![("2 3".into(), "5".into())],
    };
    let report = runner
        .run("a, b = map(int, input().split())\nprint(a + b)\n", &suite)
        .expect("run");
    assert_eq!(report.outcome, Outcome::Pass);
    assert!(!report.isolated);
    let report = runner
        .run(
            "import subprocess\nsubprocess.Popen(['sleep', '100'])\nwhile True:\n    pass\n",
            &suite,
        )
        .expect("run");
    assert_eq!(report.outcome, Outcome::Timeout);
    let report = runner
        .run("print(1)\n", &asserts("assert True\n"))
        .expect("run");
    assert_eq!(report.outcome, Outcome::Pass, "{report:?}");
}

#[test]
fn apps_style_wrapped_outputs_are_opt_in() {
    let suite = TestSuite::FunctionCall {
        prelude: None,
        setup: None,
        entry_point: "add".into(),
        cases: vec![(json!([1, 2]), json!([3]))],
    };
    let program = "def add(a, b):\n    return a + b\n";
    let Some(strict) = runner_with(HarnessOptions::default()) else {
        return;
    };
    assert_eq!(
        strict.run(program, &suite).expect("run").outcome,
        Outcome::Fail
    );
    let apps = runner_with(HarnessOptions {
        unwrap_singleton_outputs: true,
        ..HarnessOptions::default()
    })
    .expect("fixture");
    assert_eq!(
        apps.run(program, &suite).expect("run").outcome,
        Outcome::Pass
    );
}
