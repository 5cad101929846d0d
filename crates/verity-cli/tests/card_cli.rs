//! `verity card` / `verity atlas` / `verity schema card` end to end: exit codes, JSON output.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn verity() -> Command {
    let mut cmd = Command::cargo_bin("verity").unwrap();
    cmd.current_dir(root());
    cmd
}

const LEDGER: &str = "crates/verity-card/tests/data/gsm8k_solutions.ledger.jsonl";
const STATS: &str = "crates/verity-card/tests/data/gsm8k_solutions.stats.json";
const DATA: &str = "tests/data/gsm8k/example_model_solutions.head30.jsonl.gz";

#[test]
fn build_check_gate_and_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("card.json");
    verity()
        .args([
            "card", "build", "--ledger", LEDGER, "--stats", STATS, "--data", DATA,
        ])
        .args([
            "--facts",
            "crates/verity-card/tests/data/gsm8k_solutions.facts.toml",
            "-o",
        ])
        .arg(&card)
        .assert()
        .success();
    let out = verity()
        .args(["--json", "card", "check", "--min-level", "4"])
        .arg(&card)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["level"], 4);
    assert_eq!(report["passed"], true);
    // The gate fails (exit 1) below the minimum.
    verity()
        .args(["card", "check", "--min-level", "5"])
        .arg(&card)
        .assert()
        .code(1);
    // A contradicting declared fact is an input error (exit 2) naming the field.
    verity()
        .args(["card", "build", "--ledger", LEDGER, "--stats", STATS])
        .args([
            "--facts",
            "crates/verity-card/tests/data/contradiction.facts.toml",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("released.counts"));
}

#[test]
fn diff_atlas_and_schema() {
    let out = verity()
        .args(["--json", "card", "diff", "examples/cards/base.json"])
        .arg("examples/cards/several_base_model_verifier.json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["verdict"], "confounded");
    verity()
        .args(["card", "diff", "examples/cards/base.json", "atlas:s1-2025"])
        .assert()
        .success()
        .stdout(predicates::str::contains("optimizer (B)"));
    let out = verity()
        .args([
            "--json",
            "atlas",
            "search",
            "--role",
            "data_release",
            "math",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let hits: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(hits["total"].as_u64().unwrap() > 0);
    verity()
        .args(["atlas", "show", "no-such-id"])
        .assert()
        .code(2);
    verity()
        .args(["schema", "card"])
        .assert()
        .success()
        .stdout(predicates::str::contains("not_applicable"));
}
