//! `verity decontam` end to end on real data shipped in the repo (`recipes/data/`): 200 GSM8K
//! test problems (with model solutions) and 100 MATH problems (with Qwen2.5-Math rollouts),
//! checked against the builtin GSM8K test set. Flag and drop mode must agree on which records
//! are contaminated, keep input order, and report every hit.

mod common;

use common::{rows, verity};
use serde_json::Value;

const GSM8K: &str = "recipes/data/gsm8k_model_solutions.head200.jsonl.gz";
const MATH: &str = "recipes/data/qwen25_math_cot_100.jsonl.gz";

fn contaminated(row: &Value) -> bool {
    row.pointer("/signals/contamination").is_some()
}

#[test]
fn gsm8k_test_problems_are_flagged_and_math_problems_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flag.jsonl");
    let report = dir.path().join("hits.jsonl");
    verity()
        .args(["--threads", "2", "decontam", GSM8K, MATH, "-o"])
        .arg(&out)
        .args(["--against", "builtin:gsm8k", "--report"])
        .arg(&report)
        .args(["--no-ledger", "--no-hash", "-q"])
        .assert()
        .success();
    let flagged = rows(&out);
    assert_eq!(flagged.len(), 300);
    // Input order is kept: the 200 GSM8K rows first, every one of them flagged; no MATH row.
    assert!(flagged[..200].iter().all(contaminated));
    assert!(!flagged[200..].iter().any(contaminated));
    for row in &flagged[..200] {
        let marks = row.pointer("/signals/contamination").unwrap();
        assert_eq!(marks[0]["benchmark"], "gsm8k", "{marks}");
    }
    // The report names each flagged record with the matching span from its text.
    let hits = rows(&report);
    let ids: std::collections::HashSet<&str> =
        hits.iter().map(|h| h["record"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 200);
    for hit in &hits {
        assert_eq!(hit["benchmark"], "gsm8k");
        assert!(!hit["span"].as_str().unwrap().is_empty(), "{hit}");
    }

    // Drop mode moves exactly those records, in order, and keeps the rest in order.
    let kept = dir.path().join("drop.jsonl");
    let removed = dir.path().join("removed.jsonl");
    verity()
        .args(["--threads", "2", "decontam", GSM8K, MATH, "-o"])
        .arg(&kept)
        .args(["--against", "builtin:gsm8k", "--mode", "drop", "--removed"])
        .arg(&removed)
        .args(["--no-ledger", "--no-hash", "-q"])
        .assert()
        .success();
    let id = |r: &Value| r["id"].as_str().unwrap().to_string();
    let kept_ids: Vec<String> = rows(&kept).iter().map(id).collect();
    let removed_ids: Vec<String> = rows(&removed).iter().map(id).collect();
    let flagged_ids: Vec<String> = flagged.iter().map(id).collect();
    assert_eq!(removed_ids, flagged_ids[..200]);
    assert_eq!(kept_ids, flagged_ids[200..]);

    // --fail-on-hits turns hits into exit code 1.
    verity()
        .args(["decontam", GSM8K, "-o"])
        .arg(dir.path().join("gate.jsonl"))
        .args([
            "--against",
            "builtin:gsm8k",
            "--fail-on-hits",
            "--no-ledger",
            "-q",
        ])
        .assert()
        .code(1);
}
