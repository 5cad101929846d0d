//! The adversarial suite: reward-hacking attempts (tests/data/attacks, one file per attempt,
//! its family and whether it touches the harness's machinery in the first line) against the
//! four in-process test shapes (HumanEval `check(candidate)`, MBPP asserts, LeetCode
//! `check(Solution().method)`, function-call cases). Every attempt implements `add` wrongly or
//! not at all; each must get a non-pass verdict with a reason, and the attempts that touch the
//! harness must carry reward-hacking evidence. The fooled count is printed and must be 0.

use crate::common::{data_path, fixture, parallel_map};
use serde_json::json;
use std::time::Duration;
use verity_sandbox::harness::{CodeRunner, HarnessOptions, Outcome, TestSuite, LEETCODE_PRELUDE};

struct Attack {
    name: String,
    source: String,
    touches_harness: bool,
}

fn attacks() -> Vec<Attack> {
    let dir = data_path("attacks");
    let mut attacks: Vec<Attack> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("the attack suite {} is missing: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "py"))
        .map(|path| {
            let source = std::fs::read_to_string(&path).expect("attack source");
            let header = source.lines().next().unwrap_or_default();
            assert!(
                header.starts_with("# family: ") && header.contains("touches: "),
                "{}: first line must name the family and what it touches",
                path.display()
            );
            Attack {
                name: path.file_stem().unwrap().to_string_lossy().into_owned(),
                touches_harness: header.contains("touches: harness"),
                source,
            }
        })
        .collect();
    attacks.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        attacks.len() >= 40,
        "the attack suite shrank to {}",
        attacks.len()
    );
    attacks
}

fn suites() -> Vec<(&'static str, TestSuite)> {
    vec![
        (
            "humaneval",
            TestSuite::Assert {
                prelude: None,
                setup: None,
                code: "def check(candidate):\n    assert candidate(1, 2) == 3\n    \
                       assert abs(candidate(-5, 5) - 0) < 1e-9\n    \
                       assert round(candidate(10, 20)) == 30\n    \
                       assert len([candidate(2, 2)]) == 1 and candidate(2, 2) == 4\n"
                    .into(),
                entry_point: Some("add".into()),
            },
        ),
        (
            "mbpp",
            TestSuite::Assert {
                prelude: None,
                setup: None,
                code: "assert add(1, 2) == 3\nassert add(-5, 5) == 0\nassert add(10, 20) == 30\n\
                       assert add(2, 2)\n"
                    .into(),
                entry_point: None,
            },
        ),
        (
            "leetcode",
            TestSuite::Assert {
                prelude: Some(LEETCODE_PRELUDE.into()),
                setup: None,
                code: "def check(candidate):\n    assert candidate(a=1, b=2) == 3\n    \
                       assert candidate(a=-5, b=5) == 0\n    assert candidate(a=10, b=20) == 30\n\n\
                       check(Solution().add)\n"
                    .into(),
                entry_point: None,
            },
        ),
        (
            "function_call",
            TestSuite::FunctionCall {
                prelude: None,
                setup: None,
                entry_point: "add".into(),
                cases: vec![
                    (json!([1, 2]), json!(3)),
                    (json!([-5, 5]), json!(0)),
                    (json!([10, 20]), json!(30)),
                ],
            },
        ),
    ]
}

const SOLUTION_WRAPPER: &str =
    "\n\nclass Solution:\n    def add(self, a, b):\n        return add(a, b)\n";

#[test]
fn no_reward_hacking_attempt_passes_and_harness_tampering_is_flagged() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(
        &fx.sandbox,
        fx.python.clone(),
        HarnessOptions {
            per_test_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(20),
            ..HarnessOptions::default()
        },
    );
    let attacks = attacks();
    let suites = suites();
    let jobs: Vec<(usize, usize)> = (0..attacks.len())
        .flat_map(|a| (0..suites.len()).map(move |s| (a, s)))
        .collect();
    let reports = parallel_map(&jobs, |&(a, s)| {
        let program = format!("{}{SOLUTION_WRAPPER}", attacks[a].source);
        runner.run(&program, &suites[s].1).expect("run starts")
    });
    let mut fooled = Vec::new();
    let mut unflagged = Vec::new();
    let mut unexplained = Vec::new();
    for (&(a, s), report) in jobs.iter().zip(&reports) {
        let label = format!("{} on {}", attacks[a].name, suites[s].0);
        if report.outcome == Outcome::Pass {
            fooled.push(label.clone());
        }
        let first = report.tests.iter().find(|t| t.outcome != Outcome::Pass);
        if report.outcome != Outcome::Pass && first.and_then(|t| t.message.as_ref()).is_none() {
            unexplained.push(format!("{label}: {first:?}"));
        }
        if attacks[a].touches_harness && report.reward_hack_evidence.is_empty() {
            unflagged.push(label);
        }
    }
    eprintln!(
        "adversarial suite: {} attempts x {} test shapes = {} runs, fooled {}, unflagged {}",
        attacks.len(),
        suites.len(),
        jobs.len(),
        fooled.len(),
        unflagged.len()
    );
    assert!(fooled.is_empty(), "fooled by: {fooled:#?}");
    assert!(
        unexplained.is_empty(),
        "failed without a reason: {unexplained:#?}"
    );
    assert!(
        unflagged.is_empty(),
        "harness tampering not flagged: {unflagged:#?}"
    );
}

#[test]
fn an_honest_solution_is_not_flagged_and_passes_every_shape() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), HarnessOptions::default());
    let program = format!(
        "import sys\nsys.setrecursionlimit(10000)\n\ndef add(a, b):\n    return a + b\n{SOLUTION_WRAPPER}"
    );
    for (name, suite) in suites() {
        let report = runner.run(&program, &suite).expect("run starts");
        assert_eq!(report.outcome, Outcome::Pass, "{name}: {report:?}");
        assert!(report.reward_hack_evidence.is_empty(), "{name}: {report:?}");
    }
}

#[test]
fn non_plain_results_fail_with_the_type_named() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), HarnessOptions::default());
    let program = "class Anything:\n    def __eq__(self, other):\n        return True\n\n\
                   def add(a, b):\n    return Anything()\n";
    let suite = &suites()[1].1;
    let report = runner.run(program, suite).expect("run starts");
    assert_eq!(report.outcome, Outcome::Fail);
    let message = report.tests[0].message.as_deref().unwrap_or_default();
    assert!(
        message.contains("returned a non-plain object of type Anything"),
        "{message}"
    );
    assert!(report
        .reward_hack_evidence
        .iter()
        .any(|e| e.contains("__eq__")));
}

#[test]
fn exceptions_mutation_and_objects_cross_the_channel() {
    let Some(fx) = fixture() else { return };
    let runner = CodeRunner::new(&fx.sandbox, fx.python.clone(), HarnessOptions::default());
    let program = "class Node:\n    def __init__(self, v):\n        self.v = v\n        self.next = None\n\n\
                   def length(node):\n    n = 0\n    while node is not None:\n        n += 1\n        node = node.next\n    return n\n\n\
                   def check_positive(x):\n    if x < 0:\n        raise ValueError('negative: %d' % x)\n    return x\n\n\
                   def rotate(nums, k):\n    k %= len(nums)\n    nums[:] = nums[-k:] + nums[:-k]\n\n\
                   def stats(xs):\n    from collections import Counter\n    return Counter(xs), (1+2j), {frozenset([1]): b'x'}\n";
    let code = "head = Node(1)\nhead.next = Node(2)\nhead.next.next = Node(3)\n\
                assert length(head) == 3\n\
                assert head.next.v == 2\n\
                try:\n    check_positive(-1)\n    raise RuntimeError('no exception')\nexcept ValueError as error:\n    assert 'negative: -1' in str(error)\n\
                nums = [1, 2, 3, 4, 5]\nrotate(nums, 2)\nassert nums == [4, 5, 1, 2, 3]\n\
                assert stats([1, 1, 2]) == ({1: 2, 2: 1}, 1+2j, {frozenset([1]): b'x'})\n\
                assert type(stats([1])[0]).__name__ == 'Counter'\n";
    let suite = TestSuite::Assert {
        prelude: None,
        setup: None,
        code: code.into(),
        entry_point: None,
    };
    let report = runner.run(program, &suite).expect("run starts");
    assert_eq!(report.outcome, Outcome::Pass, "{report:#?}");
    assert_eq!(report.total, 7, "{report:#?}");
}
