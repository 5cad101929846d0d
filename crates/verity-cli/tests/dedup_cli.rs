//! `verity dedup` end to end on real data shipped in the repo: the 200 GSM8K test problems with
//! model solutions of `recipes/data/`, plus 20 copies that differ only by case (exact duplicates
//! after normalization) and 20 whose first solution has one word changed (near duplicates).
//! The run must keep the 200 originals in input order, send the 40 copies to the removed file
//! naming their original in `dup_of`, report the clusters, write a ledger entry, leave no
//! temporary file behind (signatures and band entries spill next to the output), and give the
//! same bytes on 1 and 2 threads.

mod common;

use common::{rows, verity};
use serde_json::Value;
use std::path::{Path, PathBuf};

const GSM8K: &str = "recipes/data/gsm8k_model_solutions.head200.jsonl.gz";

/// The 200 records, then 20 case-changed and 20 one-word-edited copies with new ids.
fn input_with_duplicates(dir: &Path) -> (PathBuf, Vec<String>) {
    let records = dir.join("records.jsonl");
    verity()
        .args(["-q", "convert", GSM8K, "-o"])
        .arg(&records)
        .arg("--no-ledger")
        .assert()
        .success();
    let originals = rows(&records);
    assert_eq!(originals.len(), 200);
    let mut out: Vec<Value> = originals.clone();
    for (i, r) in originals.iter().take(20).enumerate() {
        let mut copy = r.clone();
        copy["id"] = format!("exact-copy-{i}").into();
        let prompt = copy["task"]["prompt"].as_str().unwrap().to_uppercase();
        copy["task"]["prompt"] = prompt.into();
        out.push(copy);
    }
    for (i, r) in originals.iter().skip(20).take(20).enumerate() {
        let mut copy = r.clone();
        copy["id"] = format!("near-copy-{i}").into();
        let response = copy["attempts"][0]["response"].as_str().unwrap();
        let mut words: Vec<&str> = response.split(' ').collect();
        words[10] = "CHANGED";
        copy["attempts"][0]["response"] = words.join(" ").into();
        out.push(copy);
    }
    let input = dir.join("input.jsonl");
    let text: String = out.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let ids = originals
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    (input, ids)
}

#[test]
fn removes_exact_and_near_copies_of_real_records_and_names_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let (input, ids) = input_with_duplicates(dir.path());
    let before = std::fs::read(&input).unwrap();
    let out_dir = dir.path().join("out");
    let out = out_dir.join("kept.jsonl");
    let report = out_dir.join("clusters.jsonl");
    let summary = verity()
        .args(["--threads", "2", "--json", "dedup"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .args(["--no-hash"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary: Value = serde_json::from_slice(&summary).unwrap();
    assert_eq!(summary["rows_in"], 240);
    assert_eq!(summary["rows_out"], 200);
    assert_eq!(summary["removed_exact"], 20);
    assert_eq!(summary["removed_near"], 20);

    let kept = rows(&out);
    let kept_ids: Vec<&str> = kept.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(kept_ids, ids, "the originals, in input order");
    let removed = rows(&out_dir.join("kept.removed.jsonl"));
    assert_eq!(removed.len(), 40);
    // The 20 exact copies of records 0..20, then the 20 near copies of records 20..40.
    for (r, original) in removed.iter().zip(&ids) {
        assert_eq!(r["lineage"]["dup_of"], original.as_str(), "{}", r["id"]);
    }

    let clusters = rows(&report);
    assert_eq!(clusters.len(), 40);
    let (mut exact, mut near) = (0, 0);
    for c in &clusters {
        let members = c["members"].as_array().unwrap();
        assert_eq!(members.len(), 2, "{c}");
        assert_eq!(members[0]["id"], c["kept"], "{c}");
        assert!(ids.iter().any(|id| c["kept"] == id.as_str()), "{c}");
        let similarity = members[1]["similarity"].as_f64().unwrap();
        match members[1]["match"].as_str().unwrap() {
            "exact" => {
                exact += 1;
                assert_eq!(similarity, 1.0, "{c}");
            }
            "near" => {
                near += 1;
                assert!((0.7..1.0).contains(&similarity), "{c}");
            }
            other => panic!("unexpected match {other}: {c}"),
        }
    }
    assert_eq!((exact, near), (20, 20));
    let ledger = std::fs::read_to_string(out_dir.join("ledger.jsonl")).unwrap();
    let entry: Value = serde_json::from_str(ledger.lines().last().unwrap()).unwrap();
    assert!(entry.to_string().contains("dedup"), "{entry}");

    // Nothing but the outputs is left next to them: the spills were temporary.
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "clusters.jsonl",
            "kept.jsonl",
            "kept.removed.jsonl",
            "ledger.jsonl"
        ]
    );
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "input never modified"
    );

    // Deterministic across thread counts.
    let one = dir.path().join("one.jsonl");
    verity()
        .args(["--threads", "1", "-q", "dedup"])
        .arg(&input)
        .arg("-o")
        .arg(&one)
        .args(["--no-hash", "--no-ledger"])
        .assert()
        .success();
    assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&out).unwrap());
    assert_eq!(
        std::fs::read(dir.path().join("one.removed.jsonl")).unwrap(),
        std::fs::read(out_dir.join("kept.removed.jsonl")).unwrap()
    );
}
