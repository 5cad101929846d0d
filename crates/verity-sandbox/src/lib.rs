//! verity's code verifier and sandbox.
#![deny(missing_docs)]

pub mod extract;
pub mod harness;
pub mod language;
pub mod sandbox;

pub use extract::extract_code;
pub use harness::{AttemptReport, CodeRunner, HarnessOptions, Outcome, TestResult, TestSuite};
pub use language::Language;
pub use sandbox::{
    default_workers, Isolation, Limits, RunOutput, RunSpec, Sandbox, SandboxConfig, SandboxError,
    SandboxFile, Termination,
};
