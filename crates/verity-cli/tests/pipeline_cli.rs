//! `verity run` / `verity export` / `verity report` end to end: plan, exit codes, outputs.

mod common;

use common::verity;
use predicates::prelude::*;

#[test]
fn dry_run_prints_segments_and_checkpoints() {
    verity()
        .args(["run", "recipes/quickstart.toml", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("segment 0: one streaming pass"))
        .stdout(predicate::str::contains("segment 1: two passes"))
        .stdout(predicate::str::contains("-> checkpoint"))
        .stdout(predicate::str::contains("-> export trl-sft"))
        .stdout(predicate::str::contains("recipe is valid"));
}

#[test]
fn bad_recipe_exits_2_with_the_valid_names() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("bad.toml");
    std::fs::write(
        &recipe,
        "[input]\npaths = [\"x.jsonl\"]\n[[stage]]\nstage = \"dedupe\"\n",
    )
    .unwrap();
    verity()
        .args(["run"])
        .arg(&recipe)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown stage `dedupe`"))
        .stderr(predicate::str::contains("`decontam`"));
    std::fs::write(&recipe, "[input]\npaths = [\"missing.jsonl\"]\n").unwrap();
    verity()
        .args(["run"])
        .arg(&recipe)
        .args(["--out"])
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.jsonl"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn run_then_report_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    verity()
        .args(["run", "recipes/quickstart.toml", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("report:"));
    let rows = std::fs::read_to_string(out.join("data/train.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(rows.lines().next().unwrap()).unwrap();
    assert_eq!(first["messages"][1]["role"], "assistant");
    let html = dir.path().join("r.html");
    verity()
        .args(["report"])
        .arg(&out)
        .args(["-o"])
        .arg(&html)
        .assert()
        .success();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("id=\"funnel\""));
    let verl = dir.path().join("verl.jsonl");
    verity()
        .args([
            "export",
            "recipes/data/gsm8k_model_solutions.head200.jsonl.gz",
            "--target",
            "verl",
            "-o",
        ])
        .arg(&verl)
        .assert()
        .success();
    let text = std::fs::read_to_string(&verl).unwrap();
    assert_eq!(text.lines().count(), 200);
    let row: serde_json::Value = serde_json::from_str(text.lines().nth(3).unwrap()).unwrap();
    assert_eq!(row["extra_info"]["index"], 3);
    assert_eq!(row["reward_model"]["style"], "rule");
    verity()
        .args([
            "export",
            "recipes/data/gsm8k_model_solutions.head200.jsonl.gz",
            "--target",
            "trl-ppo",
            "-o",
        ])
        .arg(dir.path().join("x.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("trl-ppo").and(predicate::str::contains("trl-grpo")));
}
