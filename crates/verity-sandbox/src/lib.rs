//! verity's `code` and `command` verifiers, and the sandbox they run untrusted programs in.
//!
//! Code reasoning data (and code RLVR) needs candidate solutions executed against unit tests;
//! those solutions are untrusted model output. This crate runs them:
//!
//! - [`sandbox`]: one program per run in fresh user, pid, mount, network, ipc, uts and cgroup
//!   namespaces, a new read-only root (`/usr`, the interpreter, the run's files in `/code`) with
//!   a size-limited tmpfs `/tmp` as the only writable place, rlimits (CPU, address space, file
//!   size, open files, processes), a seccomp filter that kills on dangerous system calls and on
//!   non-`AF_UNIX` sockets, a wall-clock timeout that kills the whole process tree (a tiny init
//!   is pid 1 of the namespace; when it dies the kernel kills everything left), and an output
//!   cap. Started as root, the program runs as an unprivileged uid with no capabilities and
//!   `no_new_privs`. No external binary is needed.
//!   If the machine cannot provide this, [`Sandbox::new`] fails with a clear error; running
//!   without isolation ([`Isolation::None`]) is an explicit opt-out.
//! - [`harness`]: assert-style tests (HumanEval, MBPP, LeetCode `check(candidate)`),
//!   stdin/stdout tests (Codeforces, CodeContests, APPS; whitespace-tolerant comparison, optional
//!   float tolerance) and function-call tests (entry point + arguments + expected value), with
//!   verdicts per test ([`Outcome`]: pass, fail with expected/got, runtime error, timeout,
//!   memory limit, output limit, sandbox violation) and per attempt ([`AttemptReport`]).
//! - [`language`]: a language is an interpreter command plus the harnesses it supports; Python
//!   is discovered on the host (pyenv shims and virtualenvs resolved).
//! - [`code_verifier`]: the `code` verifier (verity-core's `Verifier` trait), including the rule
//!   that a record without attempts is verified with its reference solution.
//! - [`command_verifier`]: the generic `command` verifier — an external checker speaking JSON
//!   (protocol `verity-command/1`, documented there and in `examples/checkers/README.md`),
//!   run in the same sandbox.
//! - [`diagnose`]: a self-check of the isolation on this machine (`verity sandbox-check`).
//!
//! # Example
//!
//! ```no_run
//! use verity_sandbox::{CodeRunner, HarnessOptions, Language, Outcome, Sandbox, SandboxConfig, TestSuite};
//!
//! let python = Language::python("python3")?;
//! let config = SandboxConfig { read_only_paths: python.read_only_paths.clone(), ..SandboxConfig::default() };
//! let sandbox = Sandbox::new(config, 2)?;
//! let runner = CodeRunner::new(&sandbox, python, HarnessOptions::default());
//! let suite = TestSuite::Stdio { cases: vec![("2 3\n".into(), "5\n".into())] };
//! let report = runner.run("a, b = map(int, input().split())\nprint(a + b)\n", &suite)?;
//! assert_eq!(report.outcome, Outcome::Pass);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Verifier constructors (for the CLI)
//!
//! - [`CodeVerifier::new`]`(`[`CodeVerifierOptions`]`)` — `verity verify --verifier code`;
//!   [`CodeVerifier::params`] gives the options as JSON for the ledger.
//! - [`CommandVerifier::new`]`(`[`CommandVerifierOptions`]`)` — `verity verify --verifier command
//!   --command PATH [--allow-read PATH] [--allow-loopback]`; [`CommandVerifier::params`] likewise.
//!
//! Both fail at construction (not per record) when the sandbox is unavailable; the error text
//! carries the hint about the explicit `--unsafe-no-sandbox` opt-out.
#![deny(missing_docs)]

pub mod code_verifier;
pub mod command_verifier;
pub mod diagnose;
pub mod extract;
pub mod harness;
pub mod language;
pub mod sandbox;
pub mod toolchains;

pub use code_verifier::{CodeVerifier, CodeVerifierOptions, PreludePolicy, CODE_VERIFIER_VERSION};
pub use command_verifier::{CommandVerifier, CommandVerifierOptions, COMMAND_VERIFIER_VERSION};
pub use extract::{extract_code, extract_program};
pub use harness::{AttemptReport, CodeRunner, HarnessOptions, Outcome, TestResult, TestSuite};
pub use language::Language;
pub use sandbox::{
    default_workers, Isolation, Limits, RunOutput, RunSpec, Sandbox, SandboxConfig, SandboxError,
    SandboxFile, Termination,
};
