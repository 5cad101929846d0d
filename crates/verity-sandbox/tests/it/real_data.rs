//! Real datasets: HumanEval and MBPP canonical solutions pass; broken variants fail with the
//! right verdict; hand-written solutions to rllm-code LeetCode / Codeforces / CodeContests
//! problems pass and wrong ones fail.

use crate::common::{fixture, parallel_map, read_jsonl};
use serde_json::Value;
use verity_sandbox::{CodeRunner, HarnessOptions, Outcome, TestSuite};

fn humaneval_suite(row: &Value) -> TestSuite {
    TestSuite::Assert {
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
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), HarnessOptions::default());
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
