//! The `command` verifier: an external program (a proof checker, an environment, a special
//! judge) decides, speaking JSON, inside the same sandbox as candidate code.
//!
//! # The contract
//!
//! For every attempt, verity starts the checker once, in the sandbox, and writes **one JSON
//! object** to its stdin, then closes stdin:
//!
//! ```json
//! {
//!   "protocol": "verity-command/1",
//!   "task": { "prompt": "...", "messages": [...], "reference": {...}, ... },
//!   "attempt": { "role": "sample", "response": "...", "answer": "...", "steps": [...], "events": [...] },
//!   "reference": { "answer": "...", "solution": "...", "tests": {...} }
//! }
//! ```
//!
//! `task` and `attempt` are verity's record model (see `verity schema record`); the attempt's
//! existing `feedback` is left out; `reference` repeats `task.reference` for convenience.
//!
//! The checker prints **one JSON object** on stdout (if it prints several lines, the last line
//! that parses as a JSON object is used) and exits 0:
//!
//! ```json
//! {"verdict": "pass", "score": 1.0, "detail": {"why": "..."},
//!  "steps": [{"index": 0, "label": "good"}, {"index": 1, "label": "bad", "score": -1}]}
//! ```
//!
//! - `verdict`: `"pass"`, `"fail"`, `"score"` (then `score` is required) or `"label"` (then
//!   `label` is required). Instead of `verdict`, `"pass": true|false` is accepted.
//! - `score` (number), `label` (string), `detail` (any JSON): optional, copied into the feedback.
//! - `steps`: optional per-step labels; each becomes an extra feedback with granularity `step`,
//!   `step` = `index`, and `label`/`score` as given (verdict `label`, or `score` when only a
//!   score is given, or `pass`/`fail` when `"pass"` is a boolean).
//!
//! A checker that exits non-zero, times out, is killed by the sandbox, or prints no JSON object
//! yields an `unknown` verdict whose `detail.reason` says why (with the tail of its stderr).
//!
//! # The sandbox
//!
//! The checker runs like candidate code: no network (unless [`CommandVerifierOptions::loopback_network`],
//! which brings up an isolated `lo` only), a fresh tmpfs `/tmp` as the only writable place, a
//! read-only view of `/usr`, the checker itself, the discovered `python3` (its `bin` directory
//! is on `PATH`, so `#!/usr/bin/env python3` scripts work), and the paths in
//! [`CommandVerifierOptions::read_only_paths`] — nothing else of the host (a checker that
//! imports modules next to it needs that directory listed).
//!
//! The identity is `command@`[`COMMAND_VERIFIER_VERSION`] with the configured contract; every
//! feedback's `detail` names the checker and the SHA-256 of its file, so a release card can say
//! exactly which checker produced the verdicts.
//!
//! Known failure modes: a checker that needs the network beyond loopback, or writes state that
//! must persist between attempts, does not fit this contract (each attempt gets a fresh
//! sandbox).

use crate::code_verifier::{unknown, VerifierBuildError};
use crate::harness::truncate;
use crate::language::Language;
use crate::sandbox::{Isolation, Limits, RunSpec, Sandbox, SandboxConfig, Termination};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use verity_core::record::{Attempt, Contract, Feedback, Granularity, Task, Verdict, VerifierId};
use verity_core::verify::Verifier;

/// Version of the `command` verifier (the protocol and the verdict mapping).
pub const COMMAND_VERIFIER_VERSION: &str = "0.1.0";

/// Protocol tag sent to checkers.
pub const COMMAND_PROTOCOL: &str = "verity-command/1";

/// Configuration of the `command` verifier.
#[derive(Debug, Clone)]
pub struct CommandVerifierOptions {
    /// The checker executable (a script with a shebang, or a binary) and its arguments.
    pub command: Vec<String>,
    /// Contract recorded in the verifier identity (`programmatic` for proof checkers and
    /// judges, `environmental` for environments).
    pub contract: Contract,
    /// Extra host paths visible read-only (data, modules the checker imports).
    pub read_only_paths: Vec<PathBuf>,
    /// Bring up loopback networking inside the sandbox.
    pub loopback_network: bool,
    /// Resource limits of one checker run.
    pub limits: Limits,
    /// Concurrent checker runs.
    pub workers: usize,
    /// Isolation; [`Isolation::None`] only on explicit user request.
    pub isolation: Isolation,
    /// Python whose prefix is exposed and whose `bin` is put on `PATH` (`None`: do not look).
    pub python: Option<String>,
}

impl Default for CommandVerifierOptions {
    fn default() -> Self {
        CommandVerifierOptions {
            command: Vec::new(),
            contract: Contract::Programmatic,
            read_only_paths: Vec::new(),
            loopback_network: false,
            limits: Limits {
                wall_timeout: std::time::Duration::from_secs(30),
                ..Limits::default()
            },
            workers: crate::sandbox::default_workers(),
            isolation: Isolation::Namespaces,
            python: Some("python3".to_string()),
        }
    }
}

/// The `command` verifier. Build with [`CommandVerifier::new`].
#[derive(Debug)]
pub struct CommandVerifier {
    sandbox: Sandbox,
    argv: Vec<String>,
    checker_sha256: String,
    env: Vec<(String, String)>,
    options: CommandVerifierOptions,
}

impl CommandVerifier {
    /// Resolve the checker, prepare the sandbox and check it works on this machine.
    pub fn new(options: CommandVerifierOptions) -> Result<CommandVerifier, VerifierBuildError> {
        let Some(program) = options.command.first() else {
            return Err(VerifierBuildError::Config(
                "the command verifier needs a command".into(),
            ));
        };
        let path = resolve_program(program).ok_or_else(|| {
            VerifierBuildError::Config(format!(
                "checker `{program}` not found (give a path or a name on PATH)"
            ))
        })?;
        let bytes = std::fs::read(&path).map_err(|error| {
            VerifierBuildError::Config(format!("cannot read checker `{}`: {error}", path.display()))
        })?;
        let checker_sha256 = format!("{:x}", Sha256::digest(&bytes));
        let mut read_only_paths = vec![path.clone()];
        read_only_paths.extend(options.read_only_paths.iter().cloned());
        let mut path_var = String::from("/usr/local/bin:/usr/bin:/bin");
        let mut env = Vec::new();
        if let Some(python) = &options.python {
            if let Ok(language) = Language::python(python) {
                read_only_paths.extend(language.read_only_paths.iter().cloned());
                if let Some(bin) = std::path::Path::new(language.interpreter()).parent() {
                    path_var = format!("{}:{path_var}", bin.display());
                }
                env.extend(language.env.iter().cloned());
            }
        }
        env.push(("PATH".to_string(), path_var));
        let config = SandboxConfig {
            isolation: options.isolation,
            read_only_paths,
            loopback_network: options.loopback_network,
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::new(config, options.workers)?;
        let mut argv = vec![path.to_string_lossy().into_owned()];
        argv.extend(options.command.iter().skip(1).cloned());
        Ok(CommandVerifier {
            sandbox,
            argv,
            checker_sha256,
            env,
            options,
        })
    }

    /// The options as JSON (for the ledger).
    pub fn params(&self) -> Value {
        json!({
            "command": self.argv,
            "checker_sha256": self.checker_sha256,
            "contract": self.options.contract,
            "read_only_paths": self.options.read_only_paths,
            "loopback_network": self.options.loopback_network,
            "timeout_s": self.options.limits.wall_timeout.as_secs_f64(),
            "workers": self.options.workers,
        })
    }

    /// The JSON object sent to the checker for one attempt.
    pub fn request(task: &Task, attempt: &Attempt) -> Value {
        let mut attempt_json = serde_json::to_value(attempt).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut attempt_json {
            map.remove("feedback");
        }
        json!({
            "protocol": COMMAND_PROTOCOL,
            "task": task,
            "attempt": attempt_json,
            "reference": task.reference,
        })
    }

    fn checker_detail(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("checker".into(), json!(self.argv));
        map.insert("checker_sha256".into(), json!(self.checker_sha256));
        map
    }

    fn fail_unknown(&self, reason: String) -> Vec<Feedback> {
        let mut feedback = unknown(self.id(), reason);
        if let Some(Value::Object(detail)) = &mut feedback.detail {
            detail.extend(self.checker_detail());
        }
        vec![feedback]
    }
}

fn resolve_program(program: &str) -> Option<PathBuf> {
    let candidate = PathBuf::from(program);
    if program.contains('/') {
        return std::fs::canonicalize(candidate)
            .ok()
            .filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
}

/// Parse the checker's stdout into feedback (see the module docs for the format).
pub fn parse_verdict(id: &VerifierId, stdout: &str) -> Result<Vec<Feedback>, String> {
    let object = stdout
        .lines()
        .rev()
        .filter(|line| line.trim_start().starts_with('{'))
        .find_map(|line| serde_json::from_str::<Map<String, Value>>(line.trim()).ok())
        .or_else(|| serde_json::from_str::<Map<String, Value>>(stdout.trim()).ok())
        .ok_or_else(|| {
            format!(
                "the checker printed no JSON object (stdout: {})",
                truncate(stdout, 200)
            )
        })?;
    let score = object.get("score").and_then(Value::as_f64);
    let label = object
        .get("label")
        .and_then(Value::as_str)
        .map(str::to_string);
    let verdict = match (
        object.get("verdict").and_then(Value::as_str),
        object.get("pass").and_then(Value::as_bool),
    ) {
        (Some("pass"), _) | (None, Some(true)) => Verdict::Pass,
        (Some("fail"), _) | (None, Some(false)) => Verdict::Fail,
        (Some("score"), _) if score.is_some() => Verdict::Score,
        (Some("label"), _) if label.is_some() => Verdict::Label,
        (Some(other), _) => {
            return Err(format!(
                "unusable verdict `{other}` (pass, fail, score with `score`, label with `label`)"
            ))
        }
        (None, None) if score.is_some() => Verdict::Score,
        (None, None) => return Err("the checker's JSON has neither `verdict` nor `pass`".into()),
    };
    let mut main = Feedback::new(id.clone(), Granularity::Answer, verdict);
    main.score = score;
    main.label = label;
    main.detail = object.get("detail").cloned();
    let mut feedback = vec![main];
    if let Some(steps) = object.get("steps").and_then(Value::as_array) {
        for (position, step) in steps.iter().enumerate() {
            let index = step
                .get("index")
                .and_then(Value::as_u64)
                .map_or(position, |i| i as usize);
            let step_label = step
                .get("label")
                .and_then(Value::as_str)
                .map(str::to_string);
            let step_score = step.get("score").and_then(Value::as_f64);
            let verdict = match (
                step.get("pass").and_then(Value::as_bool),
                &step_label,
                step_score,
            ) {
                (Some(true), _, _) => Verdict::Pass,
                (Some(false), _, _) => Verdict::Fail,
                (None, Some(_), _) => Verdict::Label,
                (None, None, Some(_)) => Verdict::Score,
                (None, None, None) => {
                    return Err(format!("step {position} has no `label`, `score` or `pass`"))
                }
            };
            let mut item = Feedback::new(id.clone(), Granularity::Step, verdict);
            item.step = Some(index);
            item.label = step_label;
            item.score = step_score;
            feedback.push(item);
        }
    }
    Ok(feedback)
}

impl Verifier for CommandVerifier {
    fn id(&self) -> VerifierId {
        VerifierId::new("command", COMMAND_VERIFIER_VERSION, self.options.contract)
    }

    fn verify(&self, task: &Task, attempt: &Attempt) -> Vec<Feedback> {
        let request = Self::request(task, attempt);
        let mut stdin = serde_json::to_vec(&request).unwrap_or_default();
        stdin.push(b'\n');
        let spec = RunSpec {
            argv: self.argv.clone(),
            files: Vec::new(),
            stdin,
            env: self.env.clone(),
            limits: self.options.limits,
        };
        let output = match self.sandbox.run(&spec) {
            Ok(output) => output,
            Err(error) => return self.fail_unknown(format!("sandbox error: {error}")),
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr_tail = truncate(stderr.trim_end(), 1000);
        let problem = match output.termination {
            Termination::Exited(0) => None,
            Termination::Exited(code) => Some(format!("the checker exited with code {code}")),
            Termination::WallTimeout => Some("the checker timed out".to_string()),
            Termination::OutputLimit => {
                Some("the checker printed more than the output limit".to_string())
            }
            Termination::Signaled(libc::SIGSYS) => {
                Some("the checker was killed by the sandbox (forbidden system call)".to_string())
            }
            Termination::Signaled(signal) => {
                Some(format!("the checker was killed by signal {signal}"))
            }
            Termination::MemoryLimit => {
                Some("the checker exceeded the memory limit of its process tree".to_string())
            }
            Termination::Cancelled => Some("the checker's run was cancelled".to_string()),
        };
        if let Some(problem) = problem {
            return self.fail_unknown(format!("{problem}; stderr: {stderr_tail}"));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        match parse_verdict(&self.id(), &stdout) {
            Ok(mut feedback) => {
                // Every feedback names the checker.
                for item in &mut feedback {
                    let mut detail = match item.detail.take() {
                        Some(Value::Object(map)) => map,
                        Some(other) => {
                            let mut map = Map::new();
                            map.insert("checker_detail".into(), other);
                            map
                        }
                        None => Map::new(),
                    };
                    detail.extend(self.checker_detail());
                    item.detail = Some(Value::Object(detail));
                }
                feedback
            }
            Err(reason) => self.fail_unknown(format!("{reason}; stderr: {stderr_tail}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> VerifierId {
        VerifierId::new("command", COMMAND_VERIFIER_VERSION, Contract::Programmatic)
    }

    #[test]
    fn parses_pass_fail_score_and_steps() {
        let feedback = parse_verdict(
            &id(),
            "log line\n{\"verdict\": \"pass\", \"detail\": {\"x\": 1}}\n",
        )
        .expect("ok");
        assert_eq!(feedback[0].verdict, Verdict::Pass);
        assert_eq!(feedback[0].detail, Some(json!({"x": 1})));
        let feedback = parse_verdict(&id(), "{\"pass\": false}").expect("ok");
        assert_eq!(feedback[0].verdict, Verdict::Fail);
        let feedback = parse_verdict(
            &id(),
            "{\"score\": 0.25, \"steps\": [{\"label\": \"good\"}, {\"index\": 3, \"score\": -1}]}",
        )
        .expect("ok");
        assert_eq!(feedback[0].verdict, Verdict::Score);
        assert_eq!(feedback[0].score, Some(0.25));
        assert_eq!(feedback.len(), 3);
        assert_eq!(feedback[1].granularity, Granularity::Step);
        assert_eq!(feedback[1].step, Some(0));
        assert_eq!(feedback[1].label.as_deref(), Some("good"));
        assert_eq!(feedback[2].step, Some(3));
        assert_eq!(feedback[2].verdict, Verdict::Score);
    }

    #[test]
    fn rejects_unusable_output() {
        assert!(parse_verdict(&id(), "no json here").is_err());
        assert!(parse_verdict(&id(), "{\"verdict\": \"maybe\"}").is_err());
        assert!(parse_verdict(&id(), "{\"verdict\": \"score\"}").is_err());
        assert!(parse_verdict(&id(), "{\"detail\": 1}").is_err());
    }
}
