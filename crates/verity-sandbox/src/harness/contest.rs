//! stdin/stdout judging as the contest platforms do it.
//!
//! What it does: one sandboxed process per case (the compiled artifact, see
//! [`super::compile`], or the interpreter), judged by [`super::compare::outputs_match`]
//! (token-wise by default, optional float tolerance) against any of the case's accepted outputs,
//! or by a checker program ([`Checker`], testlib convention: `checker input output answer`,
//! exit 0 = accepted) run in the sandbox too. The time limit of a case is the suite's (or the
//! harness's per-test limit) times the language's factor; cases of one attempt run on several
//! cores ([`super::HarnessOptions::parallel_tests`]); with fail-fast, the cases after the first
//! failure are not reported (nor started, once the failure is known).
//!
//! Known failure modes: interactive problems (a judge talking to the program while it runs)
//! are not supported; a checker that crashes makes the case a runtime error, naming the
//! checker.

use super::compile::Compiled;
use super::{process_outcome, tail, truncate, CodeRunner, Outcome, TestResult, TEXT_LIMIT};
use crate::language::Language;
use crate::sandbox::{RunSpec, SandboxError, SandboxFile, Termination};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// One stdin/stdout case.
#[derive(Debug, Clone, PartialEq)]
pub struct ContestCase {
    /// stdin.
    pub input: String,
    /// Accepted outputs: any one matching passes (one for most problems; several for problems
    /// with more than one right answer; the answer given to a checker is the first).
    pub accepted: Vec<String>,
}

/// A checker program of a problem (testlib convention).
#[derive(Debug, Clone, PartialEq)]
pub struct Checker {
    /// Its language (compiled like candidates).
    pub language: Language,
    /// Its source.
    pub source: String,
}

/// A contest-style suite.
#[derive(Debug, Clone, PartialEq)]
pub struct ContestSuite {
    /// The cases.
    pub cases: Vec<ContestCase>,
    /// A checker replacing output comparison.
    pub checker: Option<Checker>,
    /// The problem's time limit per case (before the language factor); `None` = the harness's
    /// per-test limit.
    pub time_limit: Option<Duration>,
}

/// The program to run for each case, prepared once.
pub(crate) struct Prepared {
    pub argv: Vec<String>,
    pub files: Vec<SandboxFile>,
    pub language: Language,
}

impl CodeRunner<'_> {
    /// Compile (or just place) a program: `Ok(Err(message))` is a compile error.
    pub(crate) fn prepare(
        &self,
        language: &Language,
        source: &str,
    ) -> Result<Result<Prepared, String>, SandboxError> {
        let (source_file, main) = if language.name == "java" {
            let main = crate::toolchains::java_main_class(source);
            (format!("{main}.java"), main)
        } else {
            (language.source_file.clone(), String::new())
        };
        let compiled = match (&language.compile, self.cache) {
            (None, _) => Compiled::Artifact(SandboxFile::new(source_file.clone(), source)),
            (Some(_), Some(cache)) => {
                (*cache.get_or_compile(self.sandbox, language, &source_file, source)?).clone()
            }
            (Some(_), None) => {
                super::compile::compile(self.sandbox, language, &source_file, source)?
            }
        };
        let file = match compiled {
            Compiled::Artifact(file) => file,
            Compiled::Error(message) => return Ok(Err(message)),
        };
        let path = format!("{{code}}/{}", file.name);
        let argv = language
            .argv_for(&path)
            .into_iter()
            .map(|arg| arg.replace("{main}", &main))
            .collect();
        Ok(Ok(Prepared {
            argv,
            files: vec![file],
            language: language.clone(),
        }))
    }

    pub(crate) fn run_contest(
        &self,
        candidate: &str,
        suite: &ContestSuite,
    ) -> Result<super::AttemptReport, SandboxError> {
        let started = std::time::Instant::now();
        let program = match self.prepare(&self.language, candidate)? {
            Ok(program) => program,
            Err(message) => {
                let tests = (0..suite.cases.len().max(1))
                    .map(|index| TestResult {
                        index,
                        name: format!("case {index}"),
                        outcome: Outcome::CompileError,
                        message: Some(truncate(&message, 2000)),
                        expected: None,
                        got: None,
                    })
                    .collect();
                return Ok(super::aggregate(
                    tests,
                    suite.cases.len().max(1),
                    super::HarnessKind::Stdio,
                    message,
                    started.elapsed(),
                    self.sandbox.is_isolated(),
                ));
            }
        };
        let checker = match &suite.checker {
            None => None,
            Some(checker) => match self.prepare(&checker.language, &checker.source)? {
                Ok(prepared) => Some(prepared),
                Err(message) => {
                    return Err(SandboxError::Process {
                        what: "compile the problem's checker",
                        source: std::io::Error::other(message),
                    })
                }
            },
        };
        let base = suite.time_limit.unwrap_or(self.options.per_test_timeout);
        let limit = base.mul_f64(self.language.time_factor.max(0.1));
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let results: Mutex<Vec<(TestResult, String, Duration)>> = Mutex::new(Vec::new());
        let error: Mutex<Option<SandboxError>> = Mutex::new(None);
        let workers = self
            .options
            .parallel_tests
            .clamp(1, suite.cases.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = suite.cases.get(index) else {
                        break;
                    };
                    match self.judge_case(index, case, &program, checker.as_ref(), limit) {
                        Ok((result, stderr, wall)) => {
                            if self.options.fail_fast && result.outcome != Outcome::Pass {
                                stop.store(true, Ordering::Relaxed);
                            }
                            lock(&results).push((result, stderr, wall));
                        }
                        Err(failure) => {
                            stop.store(true, Ordering::Relaxed);
                            lock(&error).get_or_insert(failure);
                        }
                    }
                });
            }
        });
        if let Some(failure) = lock(&error).take() {
            return Err(failure);
        }
        let mut results = std::mem::take(&mut *lock(&results));
        results.sort_by_key(|(result, _, _)| result.index);
        if self.options.fail_fast {
            if let Some(first) = results
                .iter()
                .position(|(r, _, _)| r.outcome != Outcome::Pass)
            {
                results.truncate(first + 1);
            }
        }
        let stderr = results
            .iter()
            .find(|(r, _, _)| r.outcome != Outcome::Pass)
            .map(|(_, stderr, _)| stderr.clone())
            .unwrap_or_default();
        let wall = results.iter().map(|(_, _, wall)| *wall).sum();
        Ok(super::aggregate(
            results.into_iter().map(|(r, _, _)| r).collect(),
            suite.cases.len(),
            super::HarnessKind::Stdio,
            stderr,
            wall,
            self.sandbox.is_isolated(),
        ))
    }

    fn judge_case(
        &self,
        index: usize,
        case: &ContestCase,
        program: &Prepared,
        checker: Option<&Prepared>,
        limit: Duration,
    ) -> Result<(TestResult, String, Duration), SandboxError> {
        let mut limits = self.limits(limit);
        limits.inet_sockets_fail = program.language.network_probe;
        if let Some(bytes) = program.language.address_space_bytes {
            limits.address_space_bytes = limits.address_space_bytes.max(bytes);
        }
        let spec = RunSpec {
            argv: program.argv.clone(),
            files: program.files.clone(),
            stdin: case.input.as_bytes().to_vec(),
            env: program.language.env.clone(),
            limits,
        };
        let output = self.sandbox.run(&spec)?;
        let name = format!("case {index}");
        let result = |outcome, message: Option<String>, expected, got| TestResult {
            index,
            name: name.clone(),
            outcome,
            message,
            expected,
            got,
        };
        let stderr = tail(&output.stderr, 2000);
        if let Some((outcome, message)) = process_outcome(&output) {
            return Ok((
                result(outcome, Some(message), None, None),
                stderr,
                output.wall,
            ));
        }
        let got = String::from_utf8_lossy(&output.stdout);
        let first = case.accepted.first().map(String::as_str).unwrap_or("");
        let verdict = match checker {
            Some(checker) => self.run_checker(checker, &case.input, &got, first)?,
            None => {
                let accepted = case
                    .accepted
                    .iter()
                    .any(|want| super::compare::outputs_match(&got, want, self.options.compare));
                if accepted {
                    None
                } else {
                    Some((Outcome::Fail, "wrong answer".to_string()))
                }
            }
        };
        Ok(match verdict {
            None => (
                result(Outcome::Pass, None, None, None),
                String::new(),
                output.wall,
            ),
            Some((outcome, message)) => (
                result(
                    outcome,
                    Some(message),
                    Some(truncate(first, TEXT_LIMIT)),
                    Some(truncate(&got, TEXT_LIMIT)),
                ),
                stderr,
                output.wall,
            ),
        })
    }

    /// `None` when the checker accepts; else the outcome and its message.
    fn run_checker(
        &self,
        checker: &Prepared,
        input: &str,
        output: &str,
        answer: &str,
    ) -> Result<Option<(Outcome, String)>, SandboxError> {
        let mut files = checker.files.clone();
        files.push(SandboxFile::new("input.txt", input));
        files.push(SandboxFile::new("output.txt", output));
        files.push(SandboxFile::new("answer.txt", answer));
        let mut argv = checker.argv.clone();
        argv.extend(
            ["input.txt", "output.txt", "answer.txt"]
                .iter()
                .map(|f| format!("{{code}}/{f}")),
        );
        let mut limits = self.limits(Duration::from_secs(30));
        limits.inet_sockets_fail = checker.language.network_probe;
        if let Some(bytes) = checker.language.address_space_bytes {
            limits.address_space_bytes = limits.address_space_bytes.max(bytes);
        }
        let run = self.sandbox.run(&RunSpec {
            argv,
            files,
            stdin: Vec::new(),
            env: checker.language.env.clone(),
            limits,
        })?;
        let said = || {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&run.stderr),
                String::from_utf8_lossy(&run.stdout)
            );
            truncate(text.trim(), TEXT_LIMIT)
        };
        Ok(match run.termination {
            Termination::Exited(0) => None,
            Termination::Exited(1) | Termination::Exited(2) => {
                Some((Outcome::Fail, format!("checker: {}", said())))
            }
            other => Some((
                Outcome::RuntimeError,
                format!("the checker itself failed ({other:?}): {}", said()),
            )),
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
