//! End-to-end tests of `verity score`, `select`, `split` and `stats` on real rollouts
//! (Qwen2.5-Math evaluation samples under the repository's `tests/data/`).

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn verity() -> Command {
    let mut cmd = Command::cargo_bin("verity").expect("binary built");
    cmd.env("VERITY_NO_PROGRESS", "1");
    cmd
}

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(path)
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run_json(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn scored(dir: &Path) -> PathBuf {
    let out = dir.join("scored.jsonl");
    let report = run_json(
        verity()
            .args(["score", "--json"])
            .arg(data("qwen25-math-eval/math_cot_100.head10.jsonl.gz"))
            .arg("-o")
            .arg(&out),
    );
    assert_eq!(report["summary"]["records"], 10);
    assert_eq!(report["summary"]["attempts"], 80);
    assert!(report["summary"]["verifier_used"]
        .as_str()
        .unwrap()
        .contains("score (imported)"));
    out
}

#[test]
fn score_writes_signals_and_a_ledger_entry() {
    let dir = tempfile::tempdir().unwrap();
    let out = scored(dir.path());
    let records = read_jsonl(&out);
    assert_eq!(records.len(), 10);
    for r in &records {
        let s = &r["signals"];
        let passes = s["passes"].as_u64().unwrap();
        assert_eq!(s["attempts"], 8);
        assert!((s["pass_rate"].as_f64().unwrap() - passes as f64 / 8.0).abs() < 1e-9);
        assert!(s["pass_at_k"]["8"].is_number());
        assert_eq!(s["tokenizer"], "cl100k_base");
        assert!(r["attempts"][0]["signals"]["tokens"].as_u64().unwrap() > 0);
    }
    let ledger = read_jsonl(&dir.path().join("ledger.jsonl"));
    let entry = ledger.last().unwrap();
    assert_eq!(entry["stage"], "score");
    assert_eq!(entry["rows_in"], 10);
    assert_eq!(entry["verifiers"][0]["name"], "score");
}

#[test]
fn select_filters_count_rejections_and_report_parse_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = scored(dir.path());
    let expected = read_jsonl(&input)
        .iter()
        .filter(|r| r["signals"]["pass_rate"].as_f64().unwrap() < 1.0)
        .count() as u64;
    let out = dir.path().join("sel.jsonl");
    let report = run_json(
        verity()
            .args([
                "select",
                "--json",
                "--where",
                "pass_rate < 1 and not truncated",
            ])
            .arg(&input)
            .arg("-o")
            .arg(&out),
    );
    // `truncated` is an attempt signal of the first attempt; Qwen CoT outputs have answers.
    let kept = read_jsonl(&out);
    assert_eq!(report["rows_out"].as_u64().unwrap(), kept.len() as u64);
    assert!(kept.len() as u64 <= expected);
    let rejected: u64 = report["rejections"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(rejected + kept.len() as u64, 10);

    let bad = verity()
        .args(["select", "--where", "pass_rate = 1"])
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("x.jsonl"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("column 11"), "{stderr}");

    let pairs = dir.path().join("pairs.jsonl");
    let report = run_json(
        verity()
            .args(["select", "--json", "--pairs", "--max-pairs", "2"])
            .arg(&input)
            .arg("-o")
            .arg(&pairs),
    );
    let built = read_jsonl(&pairs);
    assert_eq!(report["rows_out"].as_u64().unwrap(), built.len() as u64);
    for p in &built {
        assert_eq!(p["object"], "preference_pair");
        assert_eq!(p["attempts"][0]["role"], "chosen");
        assert_eq!(p["lineage"]["parents"].as_array().unwrap().len(), 1);
    }
    assert!(built.len() as u64 <= 2 * expected);
}

#[test]
fn split_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let input = scored(dir.path());
    let split_dir = dir.path().join("splits");
    let report = run_json(
        verity()
            .args(["split", "--json", "--sizes", "0.6,0.2,0.2", "--seed", "3"])
            .arg(&input)
            .arg("-o")
            .arg(&split_dir),
    );
    let mut total = 0;
    for name in ["train", "validation", "test"] {
        total += read_jsonl(&split_dir.join(format!("{name}.jsonl"))).len();
    }
    assert_eq!(total, 10);
    assert_eq!(report["rows_out"], 10);

    let stats = run_json(
        verity()
            .args(["stats", "--json", "--ledger"])
            .arg(dir.path().join("ledger.jsonl"))
            .arg(&input),
    );
    assert_eq!(stats["rows"], 10);
    assert_eq!(stats["unique_tasks"], 10);
    assert_eq!(stats["attempts"]["total"], 80);
    assert_eq!(stats["tokens"]["tokenizer"]["cl100k_base"], 80);
    assert_eq!(stats["funnel"][0]["stage"], "score");
    let bands: u64 = stats["pass_rate_bands"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(bands, 10);
    let text = verity().arg("stats").arg(&input).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("rows are not coverage"), "{text}");
    assert!(text.contains("harder is not always better"));
}
