//! Real datasets: HumanEval and MBPP canonical solutions pass; broken variants fail with the
//! right verdict; hand-written solutions to rllm-code LeetCode / Codeforces / CodeContests
//! problems pass and wrong ones fail.

use crate::common::{fixture, parallel_map, read_jsonl};
use serde_json::Value;
use std::time::Duration;
use verity_sandbox::{CodeRunner, HarnessOptions, Outcome, TestSuite};

/// Generous limits: CI machines are slow and shared, and some canonical solutions are slow
/// (MBPP 123 needs ~3 s of CPU for `amicable_numbers_sum(9999)`).
fn generous() -> HarnessOptions {
    HarnessOptions {
        per_test_timeout: Duration::from_secs(60),
        total_timeout: Duration::from_secs(240),
        ..HarnessOptions::default()
    }
}

fn humaneval_suite(row: &Value) -> TestSuite {
    TestSuite::Assert {
        prelude: None,
        setup: None,
        code: row["test"].as_str().expect("test").to_string(),
        entry_point: row["entry_point"].as_str().map(str::to_string),
    }
}

fn humaneval_program(row: &Value, completion: &str) -> String {
    format!("{}{}", row["prompt"].as_str().expect("prompt"), completion)
}

#[test]
fn humaneval_canonical_solutions_all_pass() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), generous());
    let rows = read_jsonl("HumanEval.jsonl.gz");
    assert_eq!(rows.len(), 164);
    let reports = parallel_map(&rows, |row| {
        let program = humaneval_program(row, row["canonical_solution"].as_str().expect("solution"));
        runner.run(&program, &humaneval_suite(row)).expect("run")
    });
    let failed: Vec<String> = rows
        .iter()
        .zip(&reports)
        .filter(|(_, report)| report.outcome != Outcome::Pass)
        .map(|(row, report)| {
            format!(
                "{} -> {:?} {:?}",
                row["task_id"], report.outcome, report.tests
            )
        })
        .collect();
    eprintln!(
        "HumanEval canonical: {}/{} pass",
        rows.len() - failed.len(),
        rows.len()
    );
    assert!(failed.is_empty(), "canonical solutions failed: {failed:#?}");
    assert!(reports.iter().all(|r| r.isolated));
}

fn mbpp_suite(row: &Value) -> TestSuite {
    let tests: Vec<&str> = row["test_list"]
        .as_array()
        .expect("test_list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let setup = row["test_setup_code"]
        .as_str()
        .filter(|s| !s.trim().is_empty());
    TestSuite::Assert {
        prelude: None,
        setup: setup.map(str::to_string),
        code: tests.join("\n"),
        entry_point: None,
    }
}

#[test]
fn mbpp_canonical_solutions_pass() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), generous());
    let rows = read_jsonl("mbpp.jsonl.gz");
    assert_eq!(rows.len(), 974);
    let reports = parallel_map(&rows, |row| {
        runner
            .run(row["code"].as_str().expect("code"), &mbpp_suite(row))
            .expect("run")
    });
    let failed: Vec<String> = rows
        .iter()
        .zip(&reports)
        .filter(|(_, report)| report.outcome != Outcome::Pass)
        .map(|(row, report)| {
            format!(
                "{} -> {:?} {:?} {}",
                row["task_id"],
                report.outcome,
                report.tests.iter().find(|t| t.outcome != Outcome::Pass),
                report.stderr
            )
        })
        .collect();
    eprintln!(
        "MBPP canonical: {}/{} pass",
        rows.len() - failed.len(),
        rows.len()
    );
    for line in &failed {
        eprintln!("  {line}");
    }
    // Every test of every row ran (per-test granularity: MBPP rows have 3 asserts).
    assert!(
        reports.iter().all(|r| r.total >= 3),
        "per-test granularity lost"
    );
    assert!(
        failed.is_empty(),
        "{} canonical solutions failed",
        failed.len()
    );
}

fn read_json(name: &str) -> Value {
    let bytes = std::fs::read(crate::common::data_path(name)).expect("test data");
    if name.ends_with(".gz") {
        use std::io::Read;
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .expect("gzip");
        serde_json::from_str(&text).expect("json")
    } else {
        serde_json::from_slice(&bytes).expect("json")
    }
}

/// Overrides the entry point of a LeetCode `Solution` so it returns a wrong value.
fn leetcode_broken(solution: &str, entry_point: &str) -> String {
    format!(
        "{solution}\n\nclass Solution(Solution):\n    def {entry_point}(self, *args, **kwargs):\n        return '__wrong__'\n"
    )
}

fn leetcode_entry_point(test_code: &str) -> String {
    let last = test_code.trim().lines().last().expect("check line");
    last.trim()
        .trim_start_matches("check(Solution().")
        .trim_end_matches(')')
        .to_string()
}

#[test]
fn rllm_leetcode_reference_solutions_pass_assert_harness_and_broken_ones_fail() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), generous());
    let rows = read_json("rllm_leetcode_test.json.gz");
    let rows = rows.as_array().expect("array").clone();
    assert_eq!(rows.len(), 200);
    let suite = |row: &Value| TestSuite::Assert {
        prelude: Some(verity_sandbox::harness::LEETCODE_PRELUDE.to_string()),
        setup: None,
        code: row["tests"]["functional"]
            .as_str()
            .expect("tests")
            .to_string(),
        entry_point: None,
    };
    let reports = parallel_map(&rows, |row| {
        runner
            .run(row["solutions"].as_str().expect("solution"), &suite(row))
            .expect("run")
    });
    let failed: Vec<String> = reports
        .iter()
        .enumerate()
        .filter(|(_, r)| r.outcome != Outcome::Pass)
        .map(|(i, r)| {
            format!(
                "{i}: {:?} {:?} {}",
                r.outcome,
                r.tests.iter().find(|t| t.outcome != Outcome::Pass),
                r.stderr
            )
        })
        .collect();
    eprintln!(
        "rllm LeetCode reference (assert harness): {}/{} pass",
        rows.len() - failed.len(),
        rows.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
    // Broken variants of the first 10: a wrong answer, reported as such.
    let broken = parallel_map(&rows[..10], |row| {
        let code = row["tests"]["functional"].as_str().expect("tests");
        let program = leetcode_broken(
            row["solutions"].as_str().expect("solution"),
            &leetcode_entry_point(code),
        );
        runner.run(&program, &suite(row)).expect("run")
    });
    for report in broken {
        assert_eq!(report.outcome, Outcome::Fail, "{report:?}");
    }
}

#[test]
fn rllm_leetcode_function_call_harness() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), generous());
    let rows = read_jsonl("rllm_leetcode_function_call.jsonl.gz");
    assert_eq!(rows.len(), 200);
    let suite = |row: &Value| TestSuite::FunctionCall {
        prelude: Some(verity_sandbox::harness::LEETCODE_PRELUDE.to_string()),
        setup: None,
        entry_point: row["entry_point"].as_str().expect("entry").to_string(),
        cases: row["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|case| (case["input"].clone(), case["output"].clone()))
            .collect(),
    };
    let reports = parallel_map(&rows, |row| {
        runner
            .run(row["solution"].as_str().expect("solution"), &suite(row))
            .expect("run")
    });
    let failed: Vec<String> = reports
        .iter()
        .zip(&rows)
        .filter(|(r, _)| r.outcome != Outcome::Pass)
        .map(|(r, row)| {
            format!(
                "{}: {:?} {:?}",
                row["index"],
                r.outcome,
                r.tests.iter().find(|t| t.outcome != Outcome::Pass)
            )
        })
        .collect();
    eprintln!(
        "rllm LeetCode reference (function-call harness): {}/{} pass",
        rows.len() - failed.len(),
        rows.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
    for report in &reports {
        assert_eq!(report.total, report.tests.len());
        assert!(report.total >= 1);
    }
    let broken = parallel_map(&rows[..10], |row| {
        let program = leetcode_broken(
            row["solution"].as_str().expect("solution"),
            row["entry_point"].as_str().expect("entry"),
        );
        runner.run(&program, &suite(row)).expect("run")
    });
    for report in broken {
        assert_eq!(report.outcome, Outcome::Fail);
        let first = &report.tests[0];
        assert_eq!(first.got.as_deref(), Some("'__wrong__'"), "{first:?}");
        assert!(first.expected.is_some());
    }
}

#[test]
fn rllm_codeforces_and_code_contests_written_solutions() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), generous());
    let items = read_json("rllm_stdio_sample.json");
    let items = items.as_array().expect("array");
    assert_eq!(items.len(), 6);
    let mut total_cases = 0;
    for item in items {
        let cases: Vec<(String, String)> = item["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| {
                (
                    c["input"].as_str().expect("in").to_string(),
                    c["output"].as_str().expect("out").to_string(),
                )
            })
            .collect();
        total_cases += cases.len();
        let suite = TestSuite::Stdio { cases };
        let good = runner
            .run(item["correct"].as_str().expect("correct"), &suite)
            .expect("run");
        assert_eq!(
            good.outcome,
            Outcome::Pass,
            "{} {}: {good:?}",
            item["dataset"],
            item["index"]
        );
        assert_eq!(good.passed, good.total);
        let bad = runner
            .run(item["wrong"].as_str().expect("wrong"), &suite)
            .expect("run");
        assert_eq!(
            bad.outcome,
            Outcome::Fail,
            "{} {}: {bad:?}",
            item["dataset"],
            item["index"]
        );
        let first_fail = bad
            .tests
            .iter()
            .find(|t| t.outcome == Outcome::Fail)
            .expect("a failing test");
        assert!(first_fail.expected.is_some() && first_fail.got.is_some());
    }
    assert!(total_cases > 70);
}

/// Deliberately broken HumanEval programs fail, each with the verdict its breakage implies.
#[test]
fn humaneval_broken_variants_get_the_right_verdict() {
    let Some(fx) = fixture() else { return };
    let options = HarnessOptions {
        per_test_timeout: std::time::Duration::from_secs(2),
        total_timeout: std::time::Duration::from_secs(20),
        ..HarnessOptions::default()
    };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), options);
    let rows = read_jsonl("HumanEval.jsonl.gz");
    let variants: [(&str, Outcome); 5] = [
        ("    return '__wrong__'\n", Outcome::Fail),
        ("    raise ValueError('broken')\n", Outcome::RuntimeError),
        ("    while True:\n        pass\n", Outcome::Timeout),
        (
            "    x = bytearray(8 << 30)\n    return x\n",
            Outcome::MemoryLimit,
        ),
        ("    return (\n", Outcome::RuntimeError),
    ];
    // Tasks whose tests compare the result with `==` (so a wrong value is a plain failure).
    let tasks = [
        "HumanEval/0",
        "HumanEval/2",
        "HumanEval/12",
        "HumanEval/23",
        "HumanEval/55",
    ];
    for task in tasks {
        let row = rows.iter().find(|r| r["task_id"] == task).expect("task");
        for (completion, expected) in &variants {
            let report = runner
                .run(&humaneval_program(row, completion), &humaneval_suite(row))
                .expect("run");
            assert_eq!(
                report.outcome, *expected,
                "{task} {completion:?}: {report:?}"
            );
        }
    }
    // All 164 with a wrong return value: none passes.
    let reports = parallel_map(&rows, |row| {
        runner
            .run(
                &humaneval_program(row, "    return '__wrong__'\n"),
                &humaneval_suite(row),
            )
            .expect("run")
    });
    let passing: Vec<&Value> = rows
        .iter()
        .zip(&reports)
        .filter(|(_, r)| r.outcome == Outcome::Pass)
        .map(|(row, _)| &row["task_id"])
        .collect();
    assert!(passing.is_empty(), "wrong programs passed: {passing:?}");
    let fails = reports
        .iter()
        .filter(|r| r.outcome == Outcome::Fail)
        .count();
    eprintln!(
        "HumanEval wrong-value variants: {fails} fail, {} runtime error",
        reports.len() - fails
    );
}

/// Deliberately broken MBPP programs: a stub returning a wrong value fails every assert with
/// expected/got recorded.
#[test]
fn mbpp_broken_variants_fail_with_values() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), generous());
    let rows = read_jsonl("mbpp.jsonl.gz");
    let sample: Vec<Value> = rows.iter().take(60).cloned().collect();
    let reports = parallel_map(&sample, |row| {
        let first = row["test_list"][0].as_str().expect("test");
        let name = first
            .trim_start_matches("assert")
            .trim()
            .split('(')
            .next()
            .expect("name")
            .trim()
            .to_string();
        let stub = format!("def {name}(*args, **kwargs):\n    return '__wrong__'\n");
        runner.run(&stub, &mbpp_suite(row)).expect("run")
    });
    let mut with_values = 0;
    for report in &reports {
        assert_ne!(report.outcome, Outcome::Pass, "{report:?}");
        assert_eq!(report.total, 3);
        if report
            .tests
            .iter()
            .any(|t| t.got.as_deref() == Some("'__wrong__'"))
        {
            with_values += 1;
        }
    }
    assert!(
        with_values >= 40,
        "only {with_values} reports carry expected/got"
    );
}
