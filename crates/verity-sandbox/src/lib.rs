//! verity's code verifier and sandbox.
#![deny(missing_docs)]

pub mod code_verifier;
pub mod command_verifier;
pub mod diagnose;
pub mod extract;
pub mod harness;
pub mod language;
pub mod sandbox;

pub use code_verifier::{CodeVerifier, CodeVerifierOptions, PreludePolicy, CODE_VERIFIER_VERSION};
pub use command_verifier::{CommandVerifier, CommandVerifierOptions, COMMAND_VERIFIER_VERSION};
pub use extract::extract_code;
pub use harness::{AttemptReport, CodeRunner, HarnessOptions, Outcome, TestResult, TestSuite};
pub use language::Language;
pub use sandbox::{
    default_workers, Isolation, Limits, RunOutput, RunSpec, Sandbox, SandboxConfig, SandboxError,
    SandboxFile, Termination,
};
