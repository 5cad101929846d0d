//! Integration tests of verity-sandbox: real datasets, harnesses, security, the `command`
//! verifier. Every test needs Linux user namespaces (CI has them); set
//! `VERITY_SANDBOX_TESTS_ALLOW_UNAVAILABLE=1` to skip (with a printed reason) on a machine
//! without them. Tests that need Python skip with a printed reason when `python3` is missing.

mod adversarial;
mod common;
mod harnesses;
mod languages;
mod lifecycle;
mod real_data;
mod security;
mod verifiers;
