//! The `code` and `command` verifiers through verity-core's `Verifier` trait and records.

use crate::common::{fixture, read_jsonl};
use serde_json::json;
use verity_core::record::{
    Attempt, AttemptRole, Contract, Granularity, ObjectKind, Record, Step, TestCase, TestKind,
    Tests, Verdict,
};
use verity_core::verify::{verify_record, Verifier};
use verity_sandbox::{CodeVerifier, CodeVerifierOptions, CommandVerifier, CommandVerifierOptions};

fn code_verifier() -> Option<CodeVerifier> {
    fixture()?;
    Some(CodeVerifier::new(CodeVerifierOptions::default()).expect("code verifier"))
}

fn humaneval_record(row: &serde_json::Value) -> Record {
    let mut record = Record::new(row["task_id"].as_str().expect("id"), ObjectKind::RolloutSet);
    record.task.prompt = Some(row["prompt"].as_str().expect("prompt").to_string());
    record.task.reference.solution = Some(
        row["canonical_solution"]
            .as_str()
            .expect("solution")
            .to_string(),
    );
    record.task.reference.tests = Some(Tests {
        kind: TestKind::Assert,
        language: "python".into(),
        code: Some(row["test"].as_str().expect("test").to_string()),
        entry_point: row["entry_point"].as_str().map(str::to_string),
        setup: None,
        cases: Vec::new(),
    });
    record
}

#[test]
fn code_verifier_checks_reference_solutions_of_records_without_attempts() {
    let Some(verifier) = code_verifier() else {
        return;
    };
    let id = verifier.id();
    assert_eq!(
        (id.name.as_str(), id.contract),
        ("code", Contract::Programmatic)
    );
    for row in read_jsonl("HumanEval.jsonl.gz").iter().take(12) {
        let mut record = humaneval_record(row);
        let counts = verify_record(&verifier, &mut record);
        assert_eq!(
            (counts.attempts, counts.pass),
            (1, 1),
            "{:?}",
            record.attempts[0].feedback
        );
        let attempt = &record.attempts[0];
        assert_eq!(attempt.role, AttemptRole::Reference);
        let feedback = &attempt.feedback[0];
        assert_eq!(
            feedback.verifier.label(),
            format!("code@{}", verity_sandbox::CODE_VERIFIER_VERSION)
        );
        assert_eq!(feedback.label.as_deref(), Some("pass"));
        assert_eq!(feedback.score, Some(1.0));
        let detail = feedback.detail.as_ref().expect("detail");
        assert_eq!(detail["isolation"], "namespaces");
        assert_eq!(detail["harness"], "assert");
    }
}

#[test]
fn code_verifier_grades_markdown_responses_and_reports_unknowns() {
    let Some(verifier) = code_verifier() else {
        return;
    };
    let rows = read_jsonl("HumanEval.jsonl.gz");
    let row = &rows[0]; // has_close_elements
    let mut record = humaneval_record(row);
    let good = format!(
        "Here is my solution:\n```python\n{}{}```\n",
        row["prompt"].as_str().expect("prompt"),
        row["canonical_solution"].as_str().expect("solution")
    );
    let wrong = "```python\ndef has_close_elements(numbers, threshold):\n    return False\n```\n";
    let crash =
        "```python\ndef has_close_elements(numbers, threshold):\n    return numbers[99]\n```\n";
    for text in [good.as_str(), wrong, crash, ""] {
        record.attempts.push(Attempt::with_response(text));
    }
    let counts = verify_record(&verifier, &mut record);
    assert_eq!((counts.pass, counts.fail, counts.unknown), (1, 2, 1));
    let labels: Vec<Option<&str>> = record
        .attempts
        .iter()
        .map(|a| a.feedback[0].label.as_deref())
        .collect();
    assert_eq!(
        labels,
        vec![Some("pass"), Some("fail"), Some("runtime_error"), None]
    );
    let unknown = &record.attempts[3].feedback[0];
    assert_eq!(unknown.verdict, Verdict::Unknown);
    assert!(unknown.detail.as_ref().expect("detail")["reason"]
        .as_str()
        .expect("reason")
        .contains("no response"));
    // No tests at all: unknown with a reason, not an error.
    let mut bare = Record::new("bare", ObjectKind::PromptAnswer);
    bare.attempts.push(Attempt::with_response("print(1)"));
    verify_record(&verifier, &mut bare);
    assert_eq!(bare.attempts[0].feedback[0].verdict, Verdict::Unknown);
}

#[test]
fn code_verifier_runs_stdio_and_function_call_records() {
    let Some(verifier) = code_verifier() else {
        return;
    };
    let mut stdio = Record::new("cf-0", ObjectKind::RolloutSet);
    stdio.task.reference.tests = Some(Tests {
        kind: TestKind::Stdio,
        language: "python".into(),
        code: None,
        entry_point: None,
        setup: None,
        cases: vec![TestCase {
            input: json!("3\n1 9\n8 4\n5 5\n"),
            output: json!("1 9\n4 8\n5 5\n"),
        }],
    });
    stdio.attempts.push(Attempt::with_response(
        "```python\nfor _ in range(int(input())):\n    x, y = map(int, input().split())\n    print(min(x, y), max(x, y))\n```",
    ));
    stdio.attempts.push(Attempt::with_response(
        "```python\nfor _ in range(int(input())):\n    print(input())\n```",
    ));
    let counts = verify_record(&verifier, &mut stdio);
    assert_eq!((counts.pass, counts.fail), (1, 1));
    let detail = stdio.attempts[1].feedback[0]
        .detail
        .as_ref()
        .expect("detail");
    assert_eq!(detail["tests"][0]["outcome"], "fail");
    assert!(detail["tests"][0]["expected"]
        .as_str()
        .expect("expected")
        .contains("4 8"));

    let mut call = Record::new("lc", ObjectKind::RolloutSet);
    call.task.reference.tests = Some(Tests {
        kind: TestKind::FunctionCall,
        language: "python".into(),
        code: None,
        entry_point: Some("twoSum".into()),
        setup: None,
        cases: vec![
            TestCase {
                input: json!({"nums": [2, 7, 11, 15], "target": 9}),
                output: json!([0, 1]),
            },
            TestCase {
                input: json!([[3, 2, 4], 6]),
                output: json!([1, 2]),
            },
        ],
    });
    call.task.reference.solution = Some(
        "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n                return [seen[target - x], i]\n            seen[x] = i\n".into(),
    );
    let counts = verify_record(&verifier, &mut call);
    assert_eq!(counts.pass, 1, "{:?}", call.attempts[0].feedback);
    assert_eq!(
        call.attempts[0].feedback[0].detail.as_ref().expect("d")["total"],
        2
    );
}

fn checker_path() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/checkers/arith_steps.py")
}

#[test]
fn command_verifier_runs_the_example_checker_in_the_sandbox() {
    if fixture().is_none() {
        return;
    }
    let options = CommandVerifierOptions {
        command: vec![checker_path().to_string_lossy().into_owned()],
        ..CommandVerifierOptions::default()
    };
    let verifier = CommandVerifier::new(options).expect("command verifier");
    assert_eq!(
        verifier.id().label(),
        format!("command@{}", verity_sandbox::COMMAND_VERIFIER_VERSION)
    );
    let mut record = Record::new("arith", ObjectKind::StepLabeledTrace);
    record.task.prompt = Some("What is 12 * 7 + 5?".into());
    record.task.reference.answer = Some("89".into());
    let steps = |texts: &[&str]| {
        texts
            .iter()
            .map(|t| Step {
                text: t.to_string(),
                ..Step::default()
            })
            .collect()
    };
    record.attempts.push(Attempt {
        answer: Some("89".into()),
        steps: steps(&["12 * 7 = 84", "84 + 5 = 89", "The answer is 89."]),
        ..Attempt::default()
    });
    record.attempts.push(Attempt {
        answer: Some("90".into()),
        steps: steps(&["12 * 7 = 84", "84 + 5 = 90"]),
        ..Attempt::default()
    });
    let counts = verify_record(&verifier, &mut record);
    assert_eq!((counts.pass, counts.fail), (1, 1));
    let first = &record.attempts[0].feedback;
    assert_eq!(first.len(), 4);
    let step_labels: Vec<&str> = first[1..]
        .iter()
        .map(|f| f.label.as_deref().expect("label"))
        .collect();
    assert_eq!(step_labels, vec!["good", "good", "neutral"]);
    assert!(first[1..]
        .iter()
        .all(|f| f.granularity == Granularity::Step));
    let second = &record.attempts[1].feedback;
    assert_eq!(second[2].label.as_deref(), Some("bad"));
    let detail = second[0].detail.as_ref().expect("detail");
    assert_eq!(detail["gold"], 89.0);
    assert_eq!(detail["checker_sha256"].as_str().map(str::len), Some(64));
}

#[test]
fn command_verifier_turns_broken_checkers_into_unknown() {
    if fixture().is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("verity-sandbox-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cases = [
        (
            "crash.sh",
            "#!/bin/sh\necho oops >&2\nexit 3\n",
            "exited with code 3",
        ),
        (
            "silent.sh",
            "#!/bin/sh\ncat > /dev/null\necho not json\n",
            "no JSON object",
        ),
        (
            "net.sh",
            "#!/bin/sh\ncat > /dev/null\nexec python3 -c \"import socket; socket.socket()\"\n",
            "forbidden system call",
        ),
    ];
    for (name, body, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, body).expect("write");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let options = CommandVerifierOptions {
            command: vec![path.to_string_lossy().into_owned()],
            ..CommandVerifierOptions::default()
        };
        let verifier = CommandVerifier::new(options).expect("command verifier");
        let mut record = Record::new("x", ObjectKind::PromptAnswer);
        record.attempts.push(Attempt::with_response("anything"));
        verify_record(&verifier, &mut record);
        let feedback = &record.attempts[0].feedback[0];
        assert_eq!(feedback.verdict, Verdict::Unknown, "{name}");
        let reason = feedback.detail.as_ref().expect("detail")["reason"]
            .as_str()
            .expect("reason")
            .to_string();
        assert!(reason.contains(expected), "{name}: {reason}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
