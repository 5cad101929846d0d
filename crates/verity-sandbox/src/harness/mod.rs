//! Harnesses: turn a candidate program and a test suite into sandboxed runs and per-test
//! verdicts.
//!
//! What it does: three harnesses, one per way code datasets state their tests.
//! - **Assert-style** ([`TestSuite::Assert`]; HumanEval, MBPP, the LeetCode `check(candidate)`
//!   tests of rllm): the candidate is executed, then every top-level statement of the test code
//!   that is not a definition/import/assignment counts as one test (so MBPP's three asserts are
//!   three tests, HumanEval's `check(entry_point)` is one). When the test code defines
//!   `check` but never calls it (HumanEval), `check(<entry_point>)` is appended. A failing
//!   `assert a == b` reports the two values (truncated).
//! - **stdin/stdout** ([`TestSuite::Stdio`]; Codeforces, CodeContests, APPS, LiveCodeBench): one
//!   sandboxed process per case, stdout compared with [`compare::outputs_match`].
//! - **function-call** ([`TestSuite::FunctionCall`]; APPS/TACO `fn_name` style): the entry point
//!   (a function, or a method of `Solution`) is called with each case's input — a JSON array
//!   is positional arguments, an object keyword arguments, anything else one argument — and the
//!   result compared with the expected output (tuples as lists; optional float tolerance).
//!
//! **Judge separation** (assert-style and function-call): the tests never run where the
//! candidate runs. Two processes in two sandboxes ([`Sandbox::run_pair`]) are connected by a
//! private socket: the candidate's side (`server.py`) holds only the candidate and answers
//! calls; the judge (`judge.py`) holds the tests, the expected values and the result channel
//! (its stdout, lines tagged with a per-run nonce). Each name the candidate defines is a proxy in
//! the judge; arguments and results cross as plain data (None, bool, int, float, str, bytes,
//! lists, tuples, dicts, sets; LeetCode `ListNode`/`TreeNode` as structure) rebuilt on the
//! receiving side, so an object with a rigged `__eq__`, a patched module or a forged result
//! line in the candidate's process cannot reach the verdict; a non-plain result fails
//! ("returned a non-plain object of type X"). Exceptions cross as type and message (builtin
//! types are rebuilt as themselves, so tests expecting `ValueError` work). Objects made by
//! calling a candidate class (`Solution()`, MBPP's `Node`) stay in the candidate's process and
//! are used through handles; in-place changes to list, dict and set arguments are copied back
//! (LeetCode "modify nums in-place"). The judge also records evidence of reward hacking
//! ([`AttemptReport::reward_hack_evidence`]): a static scan of the candidate's source and
//! audit events of its process.
//!
//! Known failure modes: values that are not plain data (generators, numpy scalars, callables
//! passed as arguments) cannot cross and fail the test with that reason; a candidate that ignores
//! its per-call timer makes every later test of the attempt fail as a timeout ("stopped
//! answering"). A test that swallows `BaseException` defeats the judge's per-test timer; the
//! wall-clock limit of the whole run then applies.

pub mod compare;
pub mod compile;
pub mod contest;

use crate::language::Language;
use crate::sandbox::{Limits, RunOutput, RunSpec, Sandbox, SandboxError, SandboxFile, Termination};
use compare::CompareOptions;
use compile::CompileCache;
pub use contest::{Checker, ContestCase, ContestSuite};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The judge of the in-process harnesses: holds the tests, reaches the candidate through the
/// channel (runs in a sandbox of its own).
pub const PYTHON_JUDGE: &str = include_str!("judge.py");
/// The candidate's side of the in-process harnesses: loads the candidate and answers the
/// judge's calls (runs in the candidate's sandbox, holds nothing of the tests).
pub const PYTHON_SERVER: &str = include_str!("server.py");
/// The plain-data codec and message framing shared by the judge and the candidate's side.
pub const PYTHON_PLAIN: &str = include_str!("plain.py");

/// Imports that LeetCode's Python environment provides implicitly (`List`, `Optional`,
/// `collections`, `heapq`, ...). Use as the `setup` of LeetCode-style tests; never added
/// implicitly (it would hide a candidate's missing import on other datasets).
pub const LEETCODE_PRELUDE: &str = "from typing import *\n\
from collections import *\n\
from functools import *\n\
from itertools import *\n\
from heapq import *\n\
from bisect import *\n\
from math import *\n\
from string import ascii_lowercase, ascii_uppercase, ascii_letters, digits\n\
from copy import deepcopy\n\
from operator import itemgetter, sub\n\
from os.path import commonprefix\n\
import sys, copy\n\
import collections, functools, itertools, heapq, bisect, math, string, re, operator, random\n\
inf = float('inf')\n\
class ListNode:\n    def __init__(self, val=0, next=None):\n        self.val = val\n        self.next = next\n\
class TreeNode:\n    def __init__(self, val=0, left=None, right=None):\n        self.val = val\n        self.left = left\n        self.right = right\n";

/// The outcome of one test, or of a whole attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Correct.
    Pass,
    /// Wrong answer (output or assertion).
    Fail,
    /// The program raised, crashed or exited with an error.
    RuntimeError,
    /// Wall-clock or CPU limit.
    Timeout,
    /// Memory limit (`MemoryError`, address-space limit).
    MemoryLimit,
    /// Printed more than the output cap.
    OutputLimit,
    /// Called a system call the sandbox forbids (killed by seccomp).
    SandboxViolation,
    /// The program did not compile (compiled languages).
    CompileError,
}

impl Outcome {
    /// Snake-case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::RuntimeError => "runtime_error",
            Outcome::Timeout => "timeout",
            Outcome::MemoryLimit => "memory_limit",
            Outcome::OutputLimit => "output_limit",
            Outcome::SandboxViolation => "sandbox_violation",
            Outcome::CompileError => "compile_error",
        }
    }
}

/// The result of one test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// 0-based test index.
    pub index: usize,
    /// Test name (the assert statement, the call, `case N`).
    pub name: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Error message or reason (truncated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Expected value or output (truncated), for a wrong answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Actual value or output (truncated), for a wrong answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub got: Option<String>,
}

/// Which harness ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HarnessKind {
    /// Assert-style.
    Assert,
    /// stdin/stdout.
    Stdio,
    /// Function call.
    FunctionCall,
}

/// The verdict on one attempt: aggregate plus every test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptReport {
    /// Aggregate outcome: `pass` when every test passed (and there was at least one); otherwise
    /// the outcome of the first test that did not pass.
    pub outcome: Outcome,
    /// Tests passed.
    pub passed: usize,
    /// Tests in the suite.
    pub total: usize,
    /// Per-test results, in order (with fail-fast, only the tests that ran).
    pub tests: Vec<TestResult>,
    /// Harness used.
    pub harness: HarnessKind,
    /// Tail of the program's stderr (truncated), when something went wrong.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr: String,
    /// Total wall time of the sandboxed runs, milliseconds.
    pub wall_ms: u64,
    /// Whether the runs were isolated.
    pub isolated: bool,
    /// Evidence that the candidate reached for the harness's machinery (frames, `gc`,
    /// tracing, `ctypes`, patched modules, constant `__eq__`, exits, harness paths); empty
    /// when none was seen. Verdicts never depend on it: it flags the attempt for review.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reward_hack_evidence: Vec<String>,
}

impl AttemptReport {
    /// Fraction of tests passed (0 when there are none).
    pub fn pass_fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.passed as f64 / self.total as f64
        }
    }
}

/// A test suite in one of the three shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum TestSuite {
    /// Test code run after the candidate.
    Assert {
        /// Code run before the candidate (an environment's implicit imports, such as
        /// [`LEETCODE_PRELUDE`]).
        prelude: Option<String>,
        /// Test setup (MBPP `test_setup_code`): its top-level imports run before the candidate,
        /// the rest after it (it may use names the candidate defines), before the tests.
        setup: Option<String>,
        /// The test code.
        code: String,
        /// Function under test (HumanEval's `check(entry_point)` is appended when needed).
        entry_point: Option<String>,
    },
    /// stdin/stdout cases: (input, expected output).
    Stdio {
        /// The cases.
        cases: Vec<(String, String)>,
    },
    /// stdin/stdout cases with several accepted outputs, a checker or a time limit.
    Contest(ContestSuite),
    /// Function-call cases: (arguments, expected result).
    FunctionCall {
        /// Code run before the candidate.
        prelude: Option<String>,
        /// Test setup, as for [`TestSuite::Assert`].
        setup: Option<String>,
        /// Function (or `Solution` method) name.
        entry_point: String,
        /// The cases.
        cases: Vec<(Value, Value)>,
    },
}

impl TestSuite {
    /// Number of tests the suite declares (assert-style suites count as 1 until run).
    pub fn declared_len(&self) -> usize {
        match self {
            TestSuite::Assert { .. } => 1,
            TestSuite::Stdio { cases } => cases.len(),
            TestSuite::Contest(suite) => suite.cases.len(),
            TestSuite::FunctionCall { cases, .. } => cases.len(),
        }
    }
}

/// Options of the harnesses.
#[derive(Debug, Clone, PartialEq)]
pub struct HarnessOptions {
    /// Time limit of one test (one stdin/stdout run, one assert, one call).
    pub per_test_timeout: Duration,
    /// Wall-clock limit of one in-process run (all tests of an assert or function-call suite).
    pub total_timeout: Duration,
    /// Output comparison of stdin/stdout tests.
    pub compare: CompareOptions,
    /// Stop a stdin/stdout suite at the first test that does not pass.
    pub fail_fast: bool,
    /// Function-call tests: also accept a result equal to the single element of a one-element
    /// expected list (the APPS/TACO convention, whose `outputs` wrap every return value in a
    /// list). Off by default: it would accept `x` where `[x]` is the right answer.
    pub unwrap_singleton_outputs: bool,
    /// Resource limits of every run (their `wall_timeout` is replaced by the two above).
    pub limits: Limits,
    /// stdin/stdout cases of one attempt run at once (bounded by the sandbox's workers too).
    pub parallel_tests: usize,
}

impl Default for HarnessOptions {
    fn default() -> Self {
        HarnessOptions {
            per_test_timeout: Duration::from_secs(6),
            total_timeout: Duration::from_secs(30),
            compare: CompareOptions::default(),
            fail_fast: false,
            unwrap_singleton_outputs: false,
            limits: Limits::default(),
            parallel_tests: crate::sandbox::default_workers(),
        }
    }
}

const TEXT_LIMIT: usize = 300;

/// Truncate text for reports.
pub(crate) fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...[truncated, {} bytes]", &text[..end], text.len())
}

fn tail(bytes: &[u8], limit: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= limit {
        return text.into_owned();
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[truncated]...{}", &text[start..])
}

/// Classify how a whole process ended when it did not end cleanly.
fn process_outcome(output: &RunOutput) -> Option<(Outcome, String)> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let memory = stderr.contains("MemoryError") || stderr.contains("Cannot allocate memory");
    match output.termination {
        Termination::WallTimeout => {
            Some((Outcome::Timeout, "wall-clock time limit exceeded".into()))
        }
        Termination::OutputLimit => {
            Some((Outcome::OutputLimit, "output size limit exceeded".into()))
        }
        Termination::MemoryLimit => Some((
            Outcome::MemoryLimit,
            "memory limit of the whole process tree exceeded".into(),
        )),
        Termination::Signaled(libc::SIGSYS) => Some((
            Outcome::SandboxViolation,
            "killed by the sandbox: forbidden system call (seccomp)".into(),
        )),
        Termination::Signaled(libc::SIGXCPU) => {
            Some((Outcome::Timeout, "CPU time limit exceeded".into()))
        }
        Termination::Signaled(signal) if memory => Some((
            Outcome::MemoryLimit,
            format!("killed by signal {signal} after running out of memory"),
        )),
        Termination::Signaled(libc::SIGKILL) => Some((
            Outcome::MemoryLimit,
            "killed by SIGKILL (out-of-memory killer or CPU hard limit)".into(),
        )),
        Termination::Signaled(signal) => {
            Some((Outcome::RuntimeError, format!("killed by signal {signal}")))
        }
        Termination::Exited(0) | Termination::Cancelled => None,
        Termination::Exited(code) if memory => Some((
            Outcome::MemoryLimit,
            format!("MemoryError (exit code {code})"),
        )),
        Termination::Exited(code) => Some((Outcome::RuntimeError, format!("exit code {code}"))),
    }
}

/// Runs candidates of one language against test suites in a sandbox.
#[derive(Debug)]
pub struct CodeRunner<'s> {
    sandbox: &'s Sandbox,
    language: Language,
    options: HarnessOptions,
    cache: Option<&'s CompileCache>,
}

impl<'s> CodeRunner<'s> {
    /// A runner over `sandbox` (which must expose `language.read_only_paths`).
    pub fn new(sandbox: &'s Sandbox, language: Language, options: HarnessOptions) -> Self {
        CodeRunner {
            sandbox,
            language,
            options,
            cache: None,
        }
    }

    /// Keep compiled programs in `cache` (shared between runners) instead of compiling once
    /// per [`CodeRunner::run`].
    pub fn with_cache(mut self, cache: &'s CompileCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The options.
    pub fn options(&self) -> &HarnessOptions {
        &self.options
    }

    /// The language.
    pub fn language(&self) -> &Language {
        &self.language
    }

    /// Run `candidate` (source code) against `suite`.
    pub fn run(&self, candidate: &str, suite: &TestSuite) -> Result<AttemptReport, SandboxError> {
        match suite {
            TestSuite::Stdio { cases } => self.run_contest(
                candidate,
                &ContestSuite {
                    cases: cases
                        .iter()
                        .map(|(input, output)| ContestCase {
                            input: input.clone(),
                            accepted: vec![output.clone()],
                        })
                        .collect(),
                    checker: None,
                    time_limit: None,
                },
            ),
            TestSuite::Contest(suite) => self.run_contest(candidate, suite),
            TestSuite::Assert {
                prelude,
                setup,
                code,
                entry_point,
            } => self.run_in_process(
                candidate,
                HarnessKind::Assert,
                json!({
                    "mode": "assert",
                    "prelude": prelude,
                    "setup": setup,
                    "test_code": code,
                    "entry_point": entry_point,
                }),
                None,
            ),
            TestSuite::FunctionCall {
                prelude,
                setup,
                entry_point,
                cases,
            } => {
                let cases: Vec<Value> = cases
                    .iter()
                    .map(|(input, output)| json!({"input": input, "output": output}))
                    .collect();
                let count = cases.len();
                self.run_in_process(
                    candidate,
                    HarnessKind::FunctionCall,
                    json!({
                        "mode": "function_call",
                        "prelude": prelude,
                        "setup": setup,
                        "entry_point": entry_point,
                        "cases": cases,
                    }),
                    Some(count),
                )
            }
        }
    }

    fn limits(&self, wall: Duration) -> Limits {
        Limits {
            wall_timeout: wall,
            cpu_seconds: None,
            ..self.options.limits
        }
    }

    fn run_in_process(
        &self,
        candidate: &str,
        harness: HarnessKind,
        mut spec_json: Value,
        declared: Option<usize>,
    ) -> Result<AttemptReport, SandboxError> {
        if !self.language.in_process_harness {
            return Err(SandboxError::Process {
                what: "run an in-process harness for this language",
                source: std::io::Error::other(format!(
                    "language `{}` only supports stdin/stdout tests",
                    self.language.name
                )),
            });
        }
        if let Value::Object(map) = &mut spec_json {
            map.insert(
                "per_test_timeout".into(),
                json!(self.options.per_test_timeout.as_secs_f64()),
            );
            map.insert(
                "float_tolerance".into(),
                json!(self.options.compare.float_tolerance),
            );
            map.insert(
                "unwrap_singleton_outputs".into(),
                json!(self.options.unwrap_singleton_outputs),
            );
        }
        let nonce = make_nonce();
        let text_of = |key: &str| spec_json.get(key).and_then(Value::as_str).unwrap_or("");
        let load = json!({
            "prelude": text_of("prelude"),
            "setup": setup_imports(text_of("setup")),
            "candidate": candidate,
            "timeout": self.options.per_test_timeout.as_secs_f64(),
        });
        let limits = self.limits(self.options.total_timeout);
        let with_arg = |script: &str, arg: &str| -> Vec<String> {
            self.language
                .argv_for(script)
                .into_iter()
                .chain([arg.to_string()])
                .collect()
        };
        let judge = RunSpec {
            argv: with_arg("{code}/judge.py", "{code}/spec.json"),
            files: vec![
                SandboxFile::new("judge.py", PYTHON_JUDGE),
                SandboxFile::new("plain.py", PYTHON_PLAIN),
                SandboxFile::new("candidate.py", candidate),
                SandboxFile::new(
                    "spec.json",
                    serde_json::to_string(&spec_json).unwrap_or_default(),
                ),
            ],
            stdin: format!("{nonce}\n").into_bytes(),
            env: self.language.env.clone(),
            limits,
        };
        let server = RunSpec {
            argv: with_arg("{code}/server.py", "{code}/load.json"),
            files: vec![
                SandboxFile::new("server.py", PYTHON_SERVER),
                SandboxFile::new("plain.py", PYTHON_PLAIN),
                SandboxFile::new(
                    "load.json",
                    serde_json::to_string(&load).unwrap_or_default(),
                ),
            ],
            stdin: Vec::new(),
            env: self.language.env.clone(),
            limits,
        };
        let (output, candidate_output) = self.sandbox.run_pair(&judge, &server)?;
        let wall = output.wall.max(candidate_output.wall);
        let isolated = output.isolated && candidate_output.isolated;
        // Tests the judge could not finish because the candidate's process ended take the
        // reason from how that process ended.
        let lost = |message: String| -> (Outcome, String) {
            match process_outcome(&candidate_output) {
                Some((outcome, reason)) => (outcome, format!("{message}: {reason}")),
                None => (Outcome::RuntimeError, message),
            }
        };
        let marker = format!("@@verity@@{nonce} ");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut tests: Vec<TestResult> = Vec::new();
        let mut done = false;
        let mut stage_problem: Option<(Outcome, String)> = None;
        let mut evidence: Vec<String> = Vec::new();
        for line in stdout.lines() {
            let Some(payload) = line.strip_prefix(&marker) else {
                continue;
            };
            let Ok(message) = serde_json::from_str::<Value>(payload) else {
                continue;
            };
            if message.get("done").and_then(Value::as_bool) == Some(true) {
                done = true;
                continue;
            }
            if let Some(found) = message.get("suspect").and_then(Value::as_array) {
                evidence.extend(
                    found
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|s| truncate(s, 200)),
                );
                continue;
            }
            let status = message
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("error");
            let text = |key: &str| {
                message
                    .get(key)
                    .and_then(Value::as_str)
                    .map(|s| truncate(s, TEXT_LIMIT))
            };
            let (outcome, detail) = match status {
                "pass" => (Outcome::Pass, text("message")),
                "fail" => (Outcome::Fail, text("message")),
                "timeout" => (Outcome::Timeout, text("message")),
                "memory" => (Outcome::MemoryLimit, text("message")),
                "lost" => {
                    let (outcome, why) = lost(text("message").unwrap_or_default());
                    (outcome, Some(why))
                }
                _ => (Outcome::RuntimeError, text("message")),
            };
            if let Some(stage) = message.get("stage").and_then(Value::as_str) {
                let detail = detail.unwrap_or_default();
                stage_problem = Some((outcome, format!("{stage} failed: {detail}")));
                continue;
            }
            tests.push(TestResult {
                index: tests.len(),
                name: text("name").unwrap_or_default(),
                outcome,
                message: detail,
                expected: text("expected"),
                got: text("got"),
            });
        }
        let mut stderr_tail = tail(&candidate_output.stderr, 2000);
        if !output.stderr.is_empty() {
            stderr_tail.push_str("\n--- tests ---\n");
            stderr_tail.push_str(&tail(&output.stderr, 1000));
        }
        let process_problem = process_outcome(&output);
        let total = declared.unwrap_or(tests.len()).max(tests.len());
        let finish = |tests: Vec<TestResult>, total: usize, stderr: String| {
            let mut report = aggregate(tests, total, harness, stderr, wall, isolated);
            report.reward_hack_evidence = evidence.clone();
            report
        };
        if let Some((outcome, message)) = stage_problem {
            // The candidate (or setup) did not even load: every test fails with that outcome.
            let total = total.max(1);
            let tests = (0..total)
                .map(|index| TestResult {
                    index,
                    name: format!("test {index}"),
                    outcome,
                    message: Some(message.clone()),
                    expected: None,
                    got: None,
                })
                .collect();
            return Ok(finish(tests, total, stderr_tail));
        }
        if !done {
            let (outcome, message) = process_problem.unwrap_or((
                Outcome::RuntimeError,
                "the tests ended before all of them reported".into(),
            ));
            let missing_from = tests.len();
            let total = total.max(missing_from + 1);
            for index in missing_from..total {
                tests.push(TestResult {
                    index,
                    name: if declared.is_some() {
                        format!("case {index}")
                    } else {
                        "remaining tests".into()
                    },
                    outcome,
                    message: Some(format!("did not complete: {message}")),
                    expected: None,
                    got: None,
                });
            }
            return Ok(finish(tests, total, stderr_tail));
        }
        let total = total.max(tests.len());
        let stderr_tail = if tests.iter().all(|t| t.outcome == Outcome::Pass) {
            String::new()
        } else {
            stderr_tail
        };
        Ok(finish(tests, total, stderr_tail))
    }
}

/// The top-level imports of a test setup (they run before the candidate, on its side too).
fn setup_imports(setup: &str) -> String {
    setup
        .lines()
        .filter(|line| line.starts_with("import ") || line.starts_with("from "))
        .map(|line| format!("{}\n", line.trim_end()))
        .collect()
}

fn aggregate(
    tests: Vec<TestResult>,
    total: usize,
    harness: HarnessKind,
    stderr: String,
    wall: Duration,
    isolated: bool,
) -> AttemptReport {
    let passed = tests.iter().filter(|t| t.outcome == Outcome::Pass).count();
    let outcome = if total > 0 && passed == total {
        Outcome::Pass
    } else {
        tests
            .iter()
            .find(|t| t.outcome != Outcome::Pass)
            .map_or(Outcome::Fail, |t| t.outcome)
    };
    AttemptReport {
        outcome,
        passed,
        total,
        tests,
        harness,
        stderr,
        wall_ms: wall.as_millis() as u64,
        isolated,
        reward_hack_evidence: Vec::new(),
    }
}

fn make_nonce() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    hasher.write_u64(std::process::id() as u64);
    let a = hasher.finish();
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(a);
    format!("{a:016x}{:016x}", hasher.finish())
}
