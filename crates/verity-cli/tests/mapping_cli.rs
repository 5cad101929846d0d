//! `--map`, generic-row inspection and `verity agree`, end to end.

mod common;

use common::{root, rows, verity};
use predicates::prelude::*;
use serde_json::Value;

const TORA_MAP: &str =
    "id=idx,prompt=question,answer=gt,solution=gt_cot,response=code,pred=pred,grade=score";

fn json_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json output")
}

#[test]
fn an_unknown_layout_is_inspected_as_generic_rows_with_a_proposed_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("odd.jsonl");
    std::fs::write(
        &input,
        "{\"instr\": \"Add 2 and 3\", \"outputs\": [\"5\", \"6\"], \"passed\": [true, false], \"zzz\": 1}\n\
         {\"instr\": \"Add 1 and 1\", \"outputs\": [\"2\", \"2\"], \"passed\": [true, true], \"zzz\": null}\n",
    )
    .unwrap();
    let out = verity()
        .args(["--json", "inspect"])
        .arg(&input)
        .output()
        .unwrap();
    let report = &json_of(&out)["files"][0];
    assert_eq!(report["layout"], Value::Null);
    assert_eq!(report["generic_rows"], true);
    assert_eq!(report["rows"], 2);
    assert_eq!(report["bad_rows"], 0);
    let fields: Vec<&str> = report["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["instr", "outputs", "passed", "zzz"]);
    let zzz = &report["fields"][3];
    assert_eq!(zzz["fill_rate"], 0.5);
    assert_eq!(report["fields"][1]["items"]["max"], 2);
    assert_eq!(report["sample"]["instr"], "Add 2 and 3");
    assert_eq!(report["proposed_map"], "response=outputs,grade=passed");
    // The human output shows the proposal, and never says the file could not be read.
    verity()
        .arg("inspect")
        .arg(&input)
        .assert()
        .success()
        .stdout(predicate::str::contains("inspected as generic rows"))
        .stdout(predicate::str::contains(
            "--map 'response=outputs,grade=passed'",
        ));
}

#[test]
fn the_refusal_points_to_the_mapping_not_to_the_refusing_command() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"zzz\": 1}\n").unwrap();
    let out = verity()
        .arg("convert")
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("o.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("could not detect the layout"), "{err}");
    assert!(err.contains("--map"), "{err}");
    assert!(!err.contains("verity convert"), "{err}");
}

#[test]
fn tora_rows_convert_through_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("tora.records.jsonl");
    verity()
        .arg("convert")
        .arg("tests/data/tora/math_tora.head6.jsonl")
        .args(["--map", TORA_MAP, "-o"])
        .arg(&out_path)
        .assert()
        .success();
    let records = rows(&out_path);
    assert_eq!(records.len(), 6);
    for r in &records {
        assert_eq!(r["object"], "rollout_set");
        assert_eq!(r["lineage"]["layout"], "map");
        assert_eq!(r["attempts"].as_array().unwrap().len(), 8);
        assert_eq!(r["attempts"][0]["feedback"][0]["verifier"]["name"], "score");
        assert_eq!(
            r["attempts"][0]["feedback"][0]["verifier"]["imported"],
            true
        );
    }
}

#[test]
fn a_mapping_naming_a_missing_field_names_it_and_the_fields_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    let out = verity()
        .arg("convert")
        .arg("tests/data/tora/math_tora.head6.jsonl")
        .args(["--map", "prompt=question,answer=gold", "-o"])
        .arg(dir.path().join("o.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("math_tora.head6.jsonl"), "{err}");
    assert!(err.contains("`gold`"), "{err}");
    assert!(err.contains("`answer`"), "{err}");
    for field in ["`question`", "`gt`", "`code`", "`pred`", "`score`"] {
        assert!(err.contains(field), "{field} missing from: {err}");
    }
    // An unknown target lists the targets.
    verity()
        .arg("inspect")
        .arg("tests/data/tora/math_tora.head6.jsonl")
        .args(["--map", "question=question"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown target `question`"))
        .stderr(predicate::str::contains("prompt, answer"));
}

#[test]
fn inspect_reads_through_a_mapping() {
    let out = verity()
        .args(["--json", "inspect", "tests/data/tora/math_tora.head6.jsonl"])
        .args(["--map", TORA_MAP])
        .output()
        .unwrap();
    let report = &json_of(&out)["files"][0];
    assert_eq!(report["layout"], "map");
    assert_eq!(report["attempts"], 48);
    assert_eq!(report["imported_verifiers"]["score"], 48);
    assert_eq!(report["object_kinds"]["rollout_set"], 6);
}

/// The one attempt of the 800 in the Qwen2.5-Math example where verity's math verifier and the
/// stored grader (`score`) disagree.
fn check_the_qwen_disagreement(report: &Value) {
    assert_eq!(report["attempts"], 800);
    assert_eq!(report["compared"], 800);
    assert_eq!(report["disagreements"], 1, "{report:#}");
    let d = &report["shown"][0];
    assert!(d["a_pass"] != d["b_pass"]);
}

#[test]
fn agree_finds_the_one_disagreement_in_the_qwen_rollouts() {
    let dir = tempfile::tempdir().unwrap();
    let found = dir.path().join("disagreements.jsonl");
    let ledger = dir.path().join("ledger.jsonl");
    let out = verity()
        .args(["--json", "agree"])
        .arg("tests/data/qwen25-math-eval/math_cot_100.jsonl.gz")
        .args(["--a", "math", "--b", "score", "--disagreements"])
        .arg(&found)
        .arg("--ledger")
        .arg(&ledger)
        .output()
        .unwrap();
    let report = json_of(&out);
    check_the_qwen_disagreement(&report);
    assert_eq!(report["verified_here"], 800);
    let written = rows(&found);
    assert_eq!(written.len(), 1);
    assert_eq!(written[0], report["shown"][0]);
    let kappa = report["kappa"].as_f64().unwrap();
    assert!(kappa > 0.99 && kappa < 1.0, "{kappa}");
    let entries = rows(&ledger);
    assert_eq!(entries[0]["stage"], "agree");
    assert_eq!(entries[0]["summary"]["agreement"]["disagreements"], 1);
    // the human output shows it
    verity()
        .arg("agree")
        .arg("tests/data/qwen25-math-eval/math_cot_100.jsonl.gz")
        .args(["--a", "math", "--b", "score"])
        .assert()
        .success()
        .stdout(predicate::str::contains("disagreements 1"))
        .stdout(predicate::str::contains("reference"));
    // and --fail-on-disagreement turns it into exit status 1
    verity()
        .arg("agree")
        .arg("tests/data/qwen25-math-eval/math_cot_100.jsonl.gz")
        .args(["--a", "math", "--b", "score", "--fail-on-disagreement"])
        .assert()
        .code(1);
}

#[test]
fn agree_runs_on_tora_rows_through_a_mapping() {
    let out = verity()
        .args(["--json", "agree", "tests/data/tora/math_tora.head6.jsonl"])
        .args(["--map", TORA_MAP, "--a", "math", "--b", "score"])
        .output()
        .unwrap();
    let report = json_of(&out);
    assert_eq!(report["attempts"], 48);
    assert_eq!(report["compared"], 48);
    let c = &report["confusion"];
    let sum: u64 = ["both_pass", "a_pass_b_fail", "a_fail_b_pass", "both_fail"]
        .iter()
        .map(|k| c[*k].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 48);
}

#[test]
fn agree_without_shared_verdicts_says_so() {
    verity()
        .arg("agree")
        .arg("tests/data/gsm8k/test.head50.jsonl")
        .args(["--a", "score", "--b", "judge"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "no attempt has a pass/fail verdict",
        ));
    verity()
        .arg("agree")
        .arg("tests/data/gsm8k/test.head50.jsonl")
        .args(["--a", "math", "--b", "math"])
        .assert()
        .code(2);
}

#[test]
fn every_file_of_the_shared_data_is_inspected_and_the_refused_ones_map() {
    // CI sets VERITY_SHARED_DATA (the public data next to the repository); there a missing
    // directory is a failure. Without it the walk runs when ../shared/data exists.
    let dir = match std::env::var_os("VERITY_SHARED_DATA") {
        Some(dir) => {
            let dir = std::path::PathBuf::from(dir);
            assert!(
                dir.is_dir(),
                "VERITY_SHARED_DATA={} is not a directory",
                dir.display()
            );
            dir
        }
        None => {
            let dir = root().join("../shared/data");
            if !dir.is_dir() {
                eprintln!("skipped: no ../shared/data and VERITY_SHARED_DATA is not set");
                return;
            }
            dir
        }
    };
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "atlas") {
                    stack.push(path);
                }
            } else {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if [".json", ".jsonl", ".json.gz", ".jsonl.gz"]
                    .iter()
                    .any(|e| name.ends_with(e))
                {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 80,
        "only {} files under {}",
        files.len(),
        dir.display()
    );
    let mut layouts = std::collections::BTreeMap::new();
    for file in &files {
        let out = verity()
            .args([
                "--json",
                "inspect",
                "--tokenizer",
                "whitespace",
                "--token-rows",
                "1",
            ])
            .arg(file)
            .output()
            .unwrap();
        let report = &json_of(&out)["files"][0];
        assert_eq!(report["bad_rows"], 0, "{}: {report:#}", file.display());
        assert!(report["rows"].as_u64().unwrap() > 0, "{}", file.display());
        let rel = file.strip_prefix(&dir).unwrap().display().to_string();
        layouts.insert(rel, report["layout"].as_str().map(str::to_string));
    }
    for (file, expected) in [
        ("swe-agent/all_preds.jsonl", "swe_bench_preds"),
        ("toolbench/instruction/G1_query.json", "toolbench_query"),
        ("toolbench/instruction/G2_query.json", "toolbench_query"),
        ("toolbench/instruction/G3_query.json", "toolbench_query"),
        ("grader_cases/cases.jsonl", "grader_cases"),
    ] {
        assert_eq!(
            layouts.get(file).cloned().flatten().as_deref(),
            Some(expected),
            "{file}"
        );
    }
    let generic: Vec<&String> = layouts
        .iter()
        .filter(|(_, l)| l.is_none())
        .map(|(f, _)| f)
        .collect();
    assert!(generic.is_empty(), "read only as generic rows: {generic:?}");
    // The Qwen rollouts in the shared data: the same single disagreement.
    let out = verity()
        .args(["--json", "agree"])
        .arg(dir.join("qwen25-math-eval/eval_rm_maj_example/math_cot_100.jsonl.gz"))
        .args(["--a", "math", "--b", "score"])
        .output()
        .unwrap();
    check_the_qwen_disagreement(&json_of(&out));
}
