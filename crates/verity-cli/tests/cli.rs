//! End-to-end tests of the `verity` binary: exit codes, outputs, error messages.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn verity() -> Command {
    let mut cmd = Command::cargo_bin("verity").expect("binary built");
    cmd.env("VERITY_NO_PROGRESS", "1");
    cmd
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data(path: &str) -> PathBuf {
    repo().join("tests/data").join(path)
}

#[test]
fn committed_schemas_match_the_binary() {
    for which in ["record", "ledger"] {
        let out = verity().args(["schema", which]).output().unwrap();
        assert!(out.status.success());
        let committed =
            std::fs::read_to_string(repo().join(format!("schema/{which}.json"))).unwrap();
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
        assert_eq!(
            printed, committed,
            "schema/{which}.json is stale: run `verity schema {which} > schema/{which}.json`"
        );
    }
}

#[test]
fn inspect_reports_layout_counts_and_lengths_as_json() {
    let out = verity()
        .args(["inspect", "--json"])
        .arg(data("gsm8k/test.head50.jsonl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = &report["files"][0];
    assert_eq!(file["layout"], "gsm8k");
    assert_eq!(file["rows"], 50);
    assert_eq!(file["object_kinds"]["prompt_answer"], 50);
    assert_eq!(file["present"]["reference_answer"], 50);
    assert!(file["lengths"]["prompt"]["tokens"]["p50"].as_u64().unwrap() > 10);
    let fields: Vec<&str> = file["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["answer", "question"]);
}

#[test]
fn convert_round_trips_gsm8k_through_verity_records() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records.jsonl.zst");
    let back = dir.path().join("back.jsonl");
    verity()
        .args(["convert", "-q"])
        .arg(data("gsm8k/test.head50.jsonl"))
        .arg("-o")
        .arg(&records)
        .assert()
        .success();
    // The second run writes durably (fsync before the rename): the same rows.
    verity()
        .args(["--fsync", "convert", "-q", "--to", "gsm8k"])
        .arg(&records)
        .arg("-o")
        .arg(&back)
        .assert()
        .success();
    let original: Vec<serde_json::Value> = std::fs::read_to_string(data("gsm8k/test.head50.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let converted: Vec<serde_json::Value> = std::fs::read_to_string(&back)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(original, converted);
    // Both runs appended a ledger entry next to the output.
    let ledger = std::fs::read_to_string(dir.path().join("ledger.jsonl")).unwrap();
    assert_eq!(ledger.lines().count(), 2);
}

#[test]
fn bad_rows_fail_with_file_line_and_hint_or_skip_to_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        "{\"question\":\"q1\",\"answer\":\"a #### 1\"}\n{\"question\": oops}\n{\"question\":\"q3\",\"answer\":\"b #### 3\"}\n",
    )
    .unwrap();
    let before = std::fs::read(&input).unwrap();
    let out = dir.path().join("out.jsonl");
    verity()
        .args(["convert"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("in.jsonl:2"))
        .stderr(predicate::str::contains("--on-error skip"));
    assert!(!out.exists(), "no partial output after a failure");
    verity()
        .args(["convert", "-q", "--on-error", "skip"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
    let rejects = std::fs::read_to_string(dir.path().join("out.rejects.jsonl")).unwrap();
    let reject: serde_json::Value = serde_json::from_str(rejects.lines().next().unwrap()).unwrap();
    assert_eq!(reject["line"], 2);
    assert!(reject["reason"].as_str().unwrap().contains("invalid JSON"));
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "input never modified"
    );
}

#[test]
fn missing_field_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        "{\"question\":\"q\",\"answer\":\"x #### 1\"}\n{\"question\":\"q\",\"answer\":[7]}\n",
    )
    .unwrap();
    verity()
        .args(["convert", "--from", "gsm8k"])
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("o.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("in.jsonl:2"))
        .stderr(predicate::str::contains("field `answer`"))
        .stderr(predicate::str::contains("expected a string, got array"));
}

#[test]
fn unknown_layout_and_missing_input_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"zzz\": 1}\n").unwrap();
    verity()
        .arg("convert")
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("unknown.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("could not detect the layout"))
        .stderr(predicate::str::contains("zzz"));
    verity()
        .args(["convert", "/nonexistent/x.jsonl", "-o"])
        .arg(dir.path().join("o.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/x.jsonl"));
    verity()
        .args(["convert", "--to", "nope"])
        .arg(data("gsm8k/test.head50.jsonl"))
        .arg("-o")
        .arg(dir.path().join("o.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown layout `nope`"));
}

#[test]
fn output_may_not_overwrite_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::copy(data("gsm8k/test.head50.jsonl"), &input).unwrap();
    verity()
        .arg("convert")
        .arg(&input)
        .arg("-o")
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("never overwrites its inputs"));
}

#[test]
fn verify_math_fills_feedback_and_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("rollouts.jsonl");
    let rows = [
        (r"\frac{1}{2}", r"so the answer is \boxed{0.5}"),
        ("18", r"Final answer: \boxed{17}"),
        ("3", "no answer here at all"),
    ];
    let mut text = String::new();
    for (i, (gold, response)) in rows.iter().enumerate() {
        let record = serde_json::json!({
            "id": format!("r{i}"),
            "object": "prompt_trace_answer",
            "task": {"prompt": "p", "reference": {"answer": gold}},
            "attempts": [{"response": response}],
        });
        text.push_str(&record.to_string());
        text.push('\n');
    }
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("verified.jsonl");
    let assert = verity()
        .args(["verify", "--json", "--verifier", "math"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let summary: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(summary["attempts"], 3);
    assert_eq!(summary["pass"], 1);
    assert_eq!(summary["verifier"]["name"], "math");
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let feedback = &first["attempts"][0]["feedback"][0];
    assert_eq!(feedback["verdict"], "pass");
    assert_eq!(feedback["verifier"]["name"], "math");
    assert!(feedback["verifier"].get("imported").is_none());
    let ledger = std::fs::read_to_string(dir.path().join("ledger.jsonl")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(ledger.lines().last().unwrap()).unwrap();
    assert_eq!(entry["stage"], "verify");
    assert_eq!(entry["verifiers"][0]["name"], "math");
    assert_eq!(entry["summary"]["pass"], 1);
}

#[test]
fn parquet_out_and_back_keeps_rows() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("gsm8k.parquet");
    let back = dir.path().join("back.jsonl");
    verity()
        .args(["convert", "-q", "--to", "gsm8k"])
        .arg(data("gsm8k/test.head50.jsonl"))
        .arg("-o")
        .arg(&parquet)
        .assert()
        .success();
    verity()
        .args(["convert", "-q", "--to", "gsm8k"])
        .arg(&parquet)
        .arg("-o")
        .arg(&back)
        .assert()
        .success();
    let original = std::fs::read_to_string(data("gsm8k/test.head50.jsonl")).unwrap();
    let converted = std::fs::read_to_string(&back).unwrap();
    let parse = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    assert_eq!(parse(&original), parse(&converted));
}

#[test]
fn a_100_mb_line_is_read_and_a_longer_limit_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("huge.jsonl");
    let big = "x".repeat(100 << 20);
    let text = format!(
        "{{\"question\":\"small\",\"answer\":\"1 #### 1\"}}\n{{\"question\":\"{big}\",\"answer\":\"2 #### 2\"}}\n{{\"question\":\"after\",\"answer\":\"3 #### 3\"}}\n"
    );
    std::fs::write(&input, text).unwrap();
    drop(big);
    let out = dir.path().join("out.jsonl");
    verity()
        .args(["convert", "-q", "--to", "gsm8k"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 3);
    verity()
        .args([
            "convert",
            "-q",
            "--on-error",
            "skip",
            "--max-line-bytes",
            "1000000",
            "--to",
            "gsm8k",
        ])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
    let rejects = std::fs::read_to_string(dir.path().join("out.rejects.jsonl")).unwrap();
    assert!(rejects.contains("longer than 1000000 bytes"), "{rejects}");
    assert!(rejects.contains("\"line\":2"), "{rejects}");
}

#[test]
fn shards_by_size_and_truncated_zstd_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shard.jsonl.zst");
    verity()
        .args(["convert", "-q", "--shard-size", "20KB"])
        .arg(data("gsm8k/test.head50.jsonl"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let mut shards: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("shard-"))
        .collect();
    shards.sort();
    assert!(shards.len() > 1, "{shards:?}");
    // The shard directory reads back as one dataset of 50 records.
    let shard_dir = dir.path().join("shards");
    std::fs::create_dir(&shard_dir).unwrap();
    for name in &shards {
        std::fs::rename(dir.path().join(name), shard_dir.join(name)).unwrap();
    }
    let report = verity()
        .args(["inspect", "--json"])
        .arg(&shard_dir)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let rows: u64 = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, 50);
    // Cut the first shard in half: rows before the cut are read, the damage is reported.
    let first = shard_dir.join(&shards[0]);
    let bytes = std::fs::read(&first).unwrap();
    let cut = dir.path().join("cut.jsonl.zst");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    verity()
        .args(["convert", "--to", "gsm8k"])
        .arg(&cut)
        .arg("-o")
        .arg(dir.path().join("x.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("truncated or corrupt"));
}

#[test]
fn stages_lists_every_registered_stage_with_parameters_and_defaults() {
    let out = verity().args(["--json", "stages"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stages: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = stages
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "normalize",
            "verify",
            "score",
            "dedup",
            "decontam",
            "select",
            "pairs",
            "split",
            "export"
        ]
    );
    let param = |stage: &str, name: &str| -> serde_json::Value {
        stages
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == stage)
            .and_then(|s| s["params"].as_array())
            .and_then(|p| p.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{stage}.{name} not listed"))
    };
    assert_eq!(param("normalize", "nfc")["default"], true);
    assert_eq!(param("normalize", "nfc")["type"], "boolean");
    assert_eq!(param("decontam", "against")["required"], true);
    assert!(param("dedup", "threshold")["doc"]
        .as_str()
        .unwrap()
        .contains("default 0.7"));
    assert_eq!(param("export", "target")["default"], "native");
    assert_eq!(
        param("verify", "drop")["type"],
        "none | no_pass | failed_attempts"
    );

    verity()
        .args(["stages", "dedup"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("dedup: "))
        .stdout(predicate::str::contains("  threshold  number  default -"));
    verity()
        .args(["stages", "dedupe"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "unknown stage `dedupe` (known: normalize, verify, score, dedup",
        ));
}
