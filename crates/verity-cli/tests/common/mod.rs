//! Helpers shared by the CLI test files (each test file compiles its own copy, so not every
//! helper is used by every file).
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The repository root (tests run the binary from there, so data paths are repo-relative).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `verity`, run from the repository root without progress bars.
pub fn verity() -> Command {
    let mut cmd = Command::cargo_bin("verity").unwrap();
    cmd.current_dir(root()).env("VERITY_NO_PROGRESS", "1");
    cmd
}

/// Every line of a JSONL file, parsed.
pub fn rows(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
