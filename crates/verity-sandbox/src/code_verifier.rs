//! The `code` verifier: run an attempt's program against the task's tests in the sandbox.
//!
//! What it does: for each attempt, takes the program out of the response
//! ([`crate::extract_code`]: the last fenced Python block, else the whole text), picks the
//! harness from `task.reference.tests.kind` (`assert`, `stdio`, `function_call`), runs it in a
//! [`Sandbox`] and writes one [`Feedback`]:
//!
//! - `verdict`: `pass` when every test passed, else `fail`; `unknown` (with `detail.reason`)
//!   when the task has no tests, the attempt no program, the language is unsupported, or the
//!   sandbox could not start a run;
//! - `label`: the aggregate outcome (`pass`, `fail`, `runtime_error`, `timeout`,
//!   `memory_limit`, `output_limit`, `sandbox_violation`);
//! - `score`: the fraction of tests passed;
//! - `detail`: `outcome`, `passed`, `total`, `harness`, `tests` (per-test outcome, message,
//!   expected and got, truncated), `stderr` (tail), `wall_ms`, `isolation`.
//!
//! The identity is `code@`[`CODE_VERIFIER_VERSION`], contract `programmatic`.
//!
//! **Reference solutions.** A record with no attempts is verified with its
//! `task.reference.solution` as the attempt (role `reference`) — so
//! `verity verify data.jsonl -o checked.jsonl --verifier code` checks a dataset's own canonical
//! solutions, the usual sanity check before using a code dataset for RL.
//!
//! **HumanEval completions.** When the tests name an `entry_point`, the program does not define
//! it, and the task's prompt does (HumanEval's prompt is the signature plus docstring and the
//! canonical solution only the body), the prompt is prepended.
//!
//! **LeetCode environment.** When the tests call `Solution()` or the program defines
//! `class Solution`, [`LEETCODE_PRELUDE`] (typing names, `collections`, `heapq`, ...) runs before
//! the program, as on LeetCode (configurable with [`PreludePolicy`]).
//!
//! Known failure modes: problems with several valid outputs need a special checker (use the
//! `command` verifier); see also the harness and sandbox docs.

use crate::extract::{extract_code, extract_program};
use crate::harness::compile::CompileCache;
use crate::harness::{
    AttemptReport, CodeRunner, ContestCase, ContestSuite, HarnessOptions, TestSuite,
    LEETCODE_PRELUDE,
};
use crate::language::{canonical_name, Language, LanguageError};
use crate::sandbox::{Isolation, Sandbox, SandboxConfig, SandboxError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use verity_core::record::{
    Attempt, Contract, Feedback, Granularity, Task, TestKind, Verdict, VerifierId,
};
use verity_core::verify::Verifier;

/// Version of the `code` verifier (bumped when verdicts may change).
pub const CODE_VERIFIER_VERSION: &str = "0.1.0";

/// When to add [`LEETCODE_PRELUDE`] before the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreludePolicy {
    /// When the tests call `Solution()` (LeetCode style).
    #[default]
    Auto,
    /// Always.
    LeetCode,
    /// Never.
    None,
}

/// Configuration of the `code` verifier.
#[derive(Debug, Clone)]
pub struct CodeVerifierOptions {
    /// Harness options (time limits, output comparison, resource limits).
    pub harness: HarnessOptions,
    /// Concurrent sandboxed runs.
    pub workers: usize,
    /// Isolation; [`Isolation::None`] only on explicit user request (`--unsafe-no-sandbox`).
    pub isolation: Isolation,
    /// Python interpreter to use (`python3` on `PATH`, or a path).
    pub python: String,
    /// Extra host paths visible read-only.
    pub read_only_paths: Vec<PathBuf>,
    /// LeetCode prelude policy.
    pub prelude: PreludePolicy,
    /// Language of stdin/stdout programs, overriding the data (`cpp`, `java`, `GNU C++17`,
    /// ...); `None` = from the response's fence tag, else the tests' `language` field.
    pub language: Option<String>,
}

impl Default for CodeVerifierOptions {
    fn default() -> Self {
        CodeVerifierOptions {
            harness: HarnessOptions::default(),
            workers: crate::sandbox::default_workers(),
            isolation: Isolation::Namespaces,
            python: "python3".to_string(),
            read_only_paths: Vec::new(),
            prelude: PreludePolicy::Auto,
            language: None,
        }
    }
}

/// Errors building a verifier.
#[derive(Debug, thiserror::Error)]
pub enum VerifierBuildError {
    /// Interpreter discovery failed.
    #[error(transparent)]
    Language(#[from] LanguageError),
    /// The sandbox cannot be provided.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
}

/// The `code` verifier. Build with [`CodeVerifier::new`].
#[derive(Debug)]
pub struct CodeVerifier {
    sandbox: Sandbox,
    python: Language,
    /// Every known language, discovered at construction (or why it is unavailable).
    languages: BTreeMap<&'static str, Result<Language, String>>,
    cache: CompileCache,
    options: CodeVerifierOptions,
}

/// The languages the `code` verifier knows.
pub const LANGUAGES: &[&str] = &["python", "c", "cpp", "java", "javascript", "rust", "go"];

impl CodeVerifier {
    /// Discover Python, prepare the sandbox and check it works on this machine. Fails with a
    /// clear error (and a hint about `--unsafe-no-sandbox`) when isolation is unavailable.
    pub fn new(options: CodeVerifierOptions) -> Result<CodeVerifier, VerifierBuildError> {
        let python = Language::python(&options.python)?;
        if let Some(label) = &options.language {
            if canonical_name(label).is_none() {
                return Err(VerifierBuildError::Config(format!(
                    "unknown language `{label}` (known: {})",
                    LANGUAGES.join(", ")
                )));
            }
        }
        let mut languages = BTreeMap::new();
        for name in LANGUAGES {
            let found = if *name == "python" {
                Ok(python.clone())
            } else {
                crate::toolchains::discover(name).map_err(|e| e.to_string())
            };
            languages.insert(*name, found);
        }
        let mut read_only_paths = Vec::new();
        for language in languages.values().flatten() {
            for path in &language.read_only_paths {
                if !read_only_paths.contains(path) {
                    read_only_paths.push(path.clone());
                }
            }
        }
        read_only_paths.extend(options.read_only_paths.iter().cloned());
        let config = SandboxConfig {
            isolation: options.isolation,
            read_only_paths,
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::new(config, options.workers)?;
        Ok(CodeVerifier {
            sandbox,
            python,
            languages,
            cache: CompileCache::new(),
            options,
        })
    }

    /// The options.
    pub fn options(&self) -> &CodeVerifierOptions {
        &self.options
    }

    /// The options as JSON (for the ledger).
    pub fn params(&self) -> Value {
        let harness = &self.options.harness;
        json!({
            "per_test_timeout_s": harness.per_test_timeout.as_secs_f64(),
            "total_timeout_s": harness.total_timeout.as_secs_f64(),
            "compare": harness.compare,
            "fail_fast": harness.fail_fast,
            "unwrap_singleton_outputs": harness.unwrap_singleton_outputs,
            "memory_bytes": harness.limits.address_space_bytes,
            "output_bytes": harness.limits.output_bytes,
            "workers": self.options.workers,
            "isolation": isolation_name(self.options.isolation),
            "python": self.python.interpreter(),
            "prelude": format!("{:?}", self.options.prelude).to_lowercase(),
            "language": self.options.language,
            "languages": self
                .languages
                .iter()
                .map(|(name, found)| (name.to_string(), json!(found.is_ok())))
                .collect::<serde_json::Map<_, _>>(),
        })
    }

    /// Run one attempt's program against a task's tests; the report behind the feedback.
    pub fn check(&self, task: &Task, attempt: &Attempt) -> Result<AttemptReport, String> {
        let tests = task
            .reference
            .tests
            .as_ref()
            .ok_or_else(|| "task has no tests (task.reference.tests)".to_string())?;
        let text = attempt
            .response
            .as_deref()
            .or(attempt.answer.as_deref())
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| "attempt has no response to take a program from".to_string())?;
        if matches!(tests.kind, TestKind::Stdio) {
            let (program, fence) = extract_program(text);
            let label = self
                .options
                .language
                .as_deref()
                .or(fence)
                .unwrap_or(tests.language.as_str());
            let language = self.language(label)?;
            let suite = self.suite(tests, &program)?;
            return CodeRunner::new(&self.sandbox, language, self.options.harness.clone())
                .with_cache(&self.cache)
                .run(&program, &suite)
                .map_err(|error| format!("sandbox error: {error}"));
        }
        if canonical_name(&tests.language) != Some("python") {
            return Err(format!(
                "{:?} tests run in Python only; the tests' language is `{}`",
                tests.kind, tests.language
            ));
        }
        let mut program = extract_code(text);
        if let Some(entry) = &tests.entry_point {
            let defines = |code: &str| code.contains(&format!("def {entry}"));
            if !defines(&program) {
                if let Some(prompt) = task.prompt.as_deref().filter(|p| defines(p)) {
                    program = format!("{prompt}{program}");
                }
            }
        }
        let suite = self.suite(tests, &program)?;
        let runner = CodeRunner::new(
            &self.sandbox,
            self.python.clone(),
            self.options.harness.clone(),
        );
        runner
            .run(&program, &suite)
            .map_err(|error| format!("sandbox error: {error}"))
    }

    /// The language a label names, when this machine has it.
    fn language(&self, label: &str) -> Result<Language, String> {
        let name = canonical_name(label).ok_or_else(|| {
            format!(
                "unsupported language `{label}` (known: {})",
                LANGUAGES.join(", ")
            )
        })?;
        match self.languages.get(name) {
            Some(Ok(language)) => Ok(language.clone()),
            Some(Err(reason)) => Err(reason.clone()),
            None => Err(format!("unsupported language `{label}`")),
        }
    }

    fn suite(
        &self,
        tests: &verity_core::record::Tests,
        program: &str,
    ) -> Result<TestSuite, String> {
        let leetcode_style = tests
            .code
            .as_deref()
            .is_some_and(|c| c.contains("Solution()"))
            || program.contains("class Solution");
        let prelude = |_: &str| match self.options.prelude {
            PreludePolicy::LeetCode => Some(LEETCODE_PRELUDE.to_string()),
            PreludePolicy::Auto if leetcode_style => Some(LEETCODE_PRELUDE.to_string()),
            _ => None,
        };
        Ok(match tests.kind {
            TestKind::Assert => {
                let code = tests
                    .code
                    .clone()
                    .ok_or_else(|| "assert-style tests without `code`".to_string())?;
                TestSuite::Assert {
                    prelude: prelude(&code),
                    setup: tests.setup.clone(),
                    code,
                    entry_point: tests.entry_point.clone(),
                }
            }
            TestKind::Stdio => {
                if tests.cases.is_empty() {
                    return Err("stdin/stdout tests without cases".into());
                }
                let text = |value: &Value| match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                // An array of strings as the output: several accepted outputs.
                let accepted = |value: &Value| match value {
                    Value::Array(items)
                        if !items.is_empty() && items.iter().all(Value::is_string) =>
                    {
                        items.iter().map(text).collect()
                    }
                    other => vec![text(other)],
                };
                TestSuite::Contest(ContestSuite {
                    cases: tests
                        .cases
                        .iter()
                        .map(|case| ContestCase {
                            input: text(&case.input),
                            accepted: accepted(&case.output),
                        })
                        .collect(),
                    checker: None,
                    time_limit: None,
                })
            }
            TestKind::FunctionCall => {
                let entry_point = tests
                    .entry_point
                    .clone()
                    .ok_or_else(|| "function-call tests without `entry_point`".to_string())?;
                if tests.cases.is_empty() {
                    return Err("function-call tests without cases".into());
                }
                TestSuite::FunctionCall {
                    prelude: prelude(""),
                    setup: tests.setup.clone(),
                    entry_point,
                    cases: tests
                        .cases
                        .iter()
                        .map(|case| (case.input.clone(), case.output.clone()))
                        .collect(),
                }
            }
        })
    }
}

fn isolation_name(isolation: Isolation) -> &'static str {
    match isolation {
        Isolation::Namespaces => "namespaces",
        Isolation::None => "none (unsafe)",
    }
}

/// Feedback for a finished report.
pub fn report_feedback(id: VerifierId, report: &AttemptReport) -> Feedback {
    let verdict = if report.outcome == crate::harness::Outcome::Pass {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    let mut feedback = Feedback::new(id, Granularity::Answer, verdict)
        .with_score(report.pass_fraction())
        .with_detail(json!({
            "outcome": report.outcome,
            "passed": report.passed,
            "total": report.total,
            "harness": report.harness,
            "tests": report.tests,
            "stderr": report.stderr,
            "wall_ms": report.wall_ms,
            "isolation": if report.isolated { "namespaces" } else { "none (unsafe)" },
            "reward_hack_suspected": !report.reward_hack_evidence.is_empty(),
        }));
    if !report.reward_hack_evidence.is_empty() {
        if let Some(detail) = feedback.detail.as_mut().and_then(Value::as_object_mut) {
            detail.insert(
                "reward_hack_evidence".into(),
                json!(report.reward_hack_evidence),
            );
        }
    }
    feedback.label = Some(report.outcome.as_str().to_string());
    feedback
}

/// Unknown-verdict feedback with a reason.
pub(crate) fn unknown(id: VerifierId, reason: impl Into<String>) -> Feedback {
    Feedback::new(id, Granularity::Answer, Verdict::Unknown)
        .with_detail(json!({"reason": reason.into()}))
}

impl Verifier for CodeVerifier {
    fn id(&self) -> VerifierId {
        VerifierId::new("code", CODE_VERIFIER_VERSION, Contract::Programmatic)
    }

    fn verify(&self, task: &Task, attempt: &Attempt) -> Vec<Feedback> {
        match self.check(task, attempt) {
            Ok(report) => vec![report_feedback(self.id(), &report)],
            Err(reason) => vec![unknown(self.id(), reason)],
        }
    }

    fn reference_attempt(&self, task: &Task) -> Option<Attempt> {
        task.reference.tests.as_ref()?;
        let solution = task.reference.solution.as_ref()?;
        Some(Attempt::with_response(solution.clone()))
    }
}
