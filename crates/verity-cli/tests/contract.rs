//! The command-line contract (docs/cli.md), run against the real binary: exit codes that tell
//! the truth, nothing lost under faults, side files and locks, pipes, messages.

mod common;

use common::{root, rows, verity};
use predicates::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

const GSM8K_TEST: &str = "tests/data/gsm8k/test.head50.jsonl";
const ROLLOUTS: &str = "recipes/data/gsm8k_model_solutions.head200.jsonl.gz";
const QUICKSTART_DATA: &str = "recipes/data/gsm8k_train.head200.jsonl.gz";

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

fn gsm8k_text() -> String {
    std::fs::read_to_string(root().join(GSM8K_TEST)).unwrap()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

// ---- (1) nothing lost: truncated containers, ledger, side files, locks ----

#[test]
fn a_truncated_gzip_or_zstd_input_fails_in_every_on_error_mode() {
    let dir = tempfile::tempdir().unwrap();
    let text = gsm8k_text();
    let mut gz = flate2_like_gzip(text.as_bytes());
    gz.truncate(gz.len() / 2);
    let gz = write(&dir.path().join("cut.jsonl.gz"), &gz);
    let mut zst = zstd_of(text.as_bytes());
    zst.truncate(zst.len() / 2);
    let zst = write(&dir.path().join("cut.jsonl.zst"), &zst);
    for input in [&gz, &zst] {
        for mode in ["fail", "skip"] {
            let out = dir.path().join(format!("out-{mode}.jsonl"));
            let result = verity()
                .args(["convert", "--on-error", mode])
                .arg(input)
                .arg("-o")
                .arg(&out)
                .output()
                .unwrap();
            let stderr = stderr_of(&result);
            assert_eq!(result.status.code(), Some(2), "{mode}: {stderr}");
            assert!(stderr.contains("truncated or corrupt"), "{stderr}");
            assert!(stderr.contains("is lost"), "{stderr}");
            assert!(!out.exists(), "nothing is written when rows were lost");
        }
    }
}

/// gzip via the `gzip` tool (the test crate has no compression dependency).
fn flate2_like_gzip(bytes: &[u8]) -> Vec<u8> {
    pipe_through("gzip", &["-c"], bytes)
}

fn zstd_of(bytes: &[u8]) -> Vec<u8> {
    // verity itself writes .zst: convert the text into a .zst file.
    let dir = tempfile::tempdir().unwrap();
    let input = write(&dir.path().join("in.jsonl"), bytes);
    let out = dir.path().join("out.jsonl.zst");
    verity()
        .args(["convert", "--to", "gsm8k", "--no-ledger"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    std::fs::read(out).unwrap()
}

fn pipe_through(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("`{program}` is needed by this test: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn a_torn_ledger_line_is_skipped_by_readers_and_repaired_by_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.jsonl");
    verity()
        .args(["convert", GSM8K_TEST, "-o"])
        .arg(&out)
        .assert()
        .success();
    let ledger = dir.path().join("ledger.jsonl");
    let whole = std::fs::read(&ledger).unwrap();
    // An append cut short (full disk, kill -9) leaves half a line.
    let mut torn = whole.clone();
    torn.extend_from_slice(&whole[..whole.len() / 2]);
    std::fs::write(&ledger, &torn).unwrap();
    verity()
        .args(["card", "build", "--ledger"])
        .arg(&ledger)
        .arg("-o")
        .arg(dir.path().join("card.json"))
        .assert()
        .success()
        .stderr(predicate::str::contains("torn last line"));
    verity()
        .args(["convert", GSM8K_TEST, "-o"])
        .arg(dir.path().join("b.jsonl"))
        .assert()
        .success()
        .stderr(predicate::str::contains("removed a torn last line"));
    let text = std::fs::read_to_string(&ledger).unwrap();
    assert!(text.ends_with('\n'));
    assert_eq!(text.lines().count(), 2);
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every line is whole");
    }
}

#[test]
fn side_files_follow_the_full_output_name_and_stale_ones_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = gsm8k_text();
    text.push_str("not json\n");
    let bad = write(&dir.path().join("bad.jsonl"), text.as_bytes());
    for name in ["run.v1.jsonl", "run.v2.jsonl"] {
        verity()
            .args(["convert", "--on-error", "skip"])
            .arg(&bad)
            .arg("-o")
            .arg(dir.path().join(name))
            .assert()
            .success();
    }
    assert!(dir.path().join("run.v1.rejects.jsonl").exists());
    assert!(dir.path().join("run.v2.rejects.jsonl").exists());
    assert!(!dir.path().join("run.rejects.jsonl").exists());
    // A clean run into run.v1 leaves no rejects file of the earlier run behind.
    verity()
        .args(["convert", GSM8K_TEST, "-o"])
        .arg(dir.path().join("run.v1.jsonl"))
        .assert()
        .success();
    assert!(!dir.path().join("run.v1.rejects.jsonl").exists());
    assert!(dir.path().join("run.v2.rejects.jsonl").exists());
}

#[test]
fn a_run_into_a_locked_output_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    let lock = verity_core::io::DirLock::acquire(&out).unwrap();
    verity()
        .args(["run", "recipes/quickstart.toml", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is writing into this directory"))
        .stderr(predicate::str::contains(std::process::id().to_string()));
    assert!(!out.join("run.json").exists());
    drop(lock);
}

#[test]
fn two_concurrent_runs_into_one_directory_never_both_write() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("verity"))
            .current_dir(root())
            .env("VERITY_NO_PROGRESS", "1")
            .args(["run", "recipes/quickstart.toml", "--fresh", "--out"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let results = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let ok = results.iter().filter(|r| r.status.success()).count();
    assert!(ok >= 1, "one run finishes");
    for r in results.iter().filter(|r| !r.status.success()) {
        let stderr = stderr_of(r);
        assert_eq!(r.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("is writing into this directory"),
            "the loser says why: {stderr}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(manifest["complete"], true);
}

// ---- (2) a clean quickstart; flags honoured downstream; trainer-ready verl ----

#[test]
fn the_quickstart_is_a_clean_release_at_l4_naming_the_benchmarks_it_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    verity()
        .args(["run", "recipes/quickstart.toml", "--out"])
        .arg(&out)
        .args(["--fail-on", "empty,contaminated"])
        .assert()
        .success();
    let released = rows(&out.join("data/train.jsonl"));
    assert!(released.len() >= 150, "{} rows", released.len());
    let check = verity()
        .args(["--json", "card", "check", "--min-level", "L4"])
        .arg(out.join("card.json"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let check: serde_json::Value = serde_json::from_slice(&check).unwrap();
    assert!(check["level"].as_u64().unwrap() >= 4, "{check}");
    assert_eq!(check["reuse"], "training", "{check}");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("card.json")).unwrap()).unwrap();
    let decontam = card["quality"]["decontamination"].to_string();
    let listed = verity()
        .args(["--json", "decontam", "--list"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let listed: serde_json::Value = serde_json::from_slice(&listed).unwrap();
    let names: Vec<String> = listed
        .as_array()
        .or_else(|| listed["benchmarks"].as_array())
        .expect("a list of benchmarks")
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        assert!(
            decontam.contains(&format!("\"{name}\"")),
            "the card names {name}: {decontam}"
        );
    }
}

#[test]
fn the_quickstart_data_is_clean_against_every_builtin_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let out = verity()
        .args([
            "--json",
            "decontam",
            QUICKSTART_DATA,
            "--against",
            "builtin:all",
        ])
        .args(["--fail-on", "contaminated", "-o"])
        .arg(dir.path().join("d.jsonl"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["rows_in"], 200);
    assert_eq!(summary["contaminated_records"], 0, "{summary}");
}

#[test]
fn flagged_rows_do_not_reach_an_export_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let flagged = dir.path().join("flagged.jsonl");
    // GSM8K test problems, flagged (not dropped) against GSM8K: contamination is a finding.
    verity()
        .args(["decontam", ROLLOUTS, "--against", "builtin:gsm8k", "-o"])
        .arg(&flagged)
        .args(["--fail-on", "contaminated"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("gate failed"));
    let sft = dir.path().join("sft.jsonl");
    let out = verity()
        .args(["--json", "export"])
        .arg(&flagged)
        .args(["--target", "trl-sft", "-o"])
        .arg(&sft)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["rows"], 0, "{summary}");
    assert_eq!(summary["contaminated_refused"], 200, "{summary}");
    assert_eq!(summary["rejected"]["export:contaminated"], 200);
    // The export has a ledger entry: the final artifact has provenance.
    let ledger = std::fs::read_to_string(dir.path().join("ledger.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(ledger.lines().last().unwrap()).unwrap();
    assert_eq!(last["stage"], "export");
    assert_eq!(last["rejections"]["export:contaminated"], 200);
    assert_eq!(last["outputs"][0]["path"], sft.display().to_string());
    // Explicitly allowed: exported.
    verity()
        .args(["export"])
        .arg(&flagged)
        .args(["--target", "trl-sft", "--allow-contaminated", "-o"])
        .arg(dir.path().join("sft2.jsonl"))
        .args(["--fail-on", "empty"])
        .assert()
        .success();
    assert_eq!(rows(&dir.path().join("sft2.jsonl")).len(), 200);
}

#[test]
fn verl_rows_name_a_reward_verl_knows_and_ask_for_a_boxed_answer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("verl.jsonl");
    verity()
        .args(["export", QUICKSTART_DATA, "--target", "verl", "-o"])
        .arg(&out)
        .assert()
        .success();
    let rows = rows(&out);
    assert_eq!(rows.len(), 200);
    assert_eq!(rows[0]["data_source"], "lighteval/MATH");
    let prompt = rows[0]["prompt"][0]["content"].as_str().unwrap();
    assert!(prompt.starts_with("Natalia sold clips"), "{prompt}");
    assert!(
        prompt.ends_with("output the final answer within \\boxed{}."),
        "{prompt}"
    );
    assert_eq!(rows[0]["reward_model"]["ground_truth"], "72");
}

#[test]
fn verify_reference_checks_reference_solutions_and_finds_a_mislabelled_item() {
    let dir = tempfile::tempdir().unwrap();
    // MATH-style items: a solution and a separate answer. The second is mislabelled: its
    // solution reaches 72, its answer says 73.
    let text = "{\"problem\": \"What is 6 times 12?\", \"solution\": \"6 x 12 = \\\\boxed{72}\", \"answer\": \"72\"}\n\
                {\"problem\": \"What is 8 times 9?\", \"solution\": \"8 x 9 = \\\\boxed{72}\", \"answer\": \"73\"}\n"
        .to_string();
    let input = write(&dir.path().join("refs.jsonl"), text.as_bytes());
    let out = verity()
        .args(["--json", "verify", "--verifier", "math", "--reference"])
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("v.jsonl"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["attempts"], 2, "{summary}");
    assert_eq!(summary["records_without_attempts"], 0);
    assert_eq!(
        (summary["pass"].as_u64(), summary["fail"].as_u64()),
        (Some(1), Some(1)),
        "{summary}"
    );
    let written = rows(&dir.path().join("v.jsonl"));
    let last = &written[1]["attempts"][0];
    assert_eq!(last["role"], "reference");
    assert_eq!(last["feedback"][0]["verdict"], "fail", "{last}");
    // Without --reference there is nothing to verify.
    let out = verity()
        .args(["--json", "verify", "--verifier", "math"])
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("w.jsonl"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["records_without_attempts"], 2, "{summary}");
}

// ---- (3) gates, messages, pipes, null vs missing, duplicate keys and ids ----

#[test]
fn fail_on_gates_turn_unacceptable_outcomes_into_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing a DPO trainer can use: an empty export.
    verity()
        .args(["export", GSM8K_TEST, "--target", "trl-dpo", "-o"])
        .arg(dir.path().join("dpo.jsonl"))
        .args(["--fail-on", "empty"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--fail-on empty"));
    let mut text = gsm8k_text();
    text.push_str("not json\n");
    let bad = write(&dir.path().join("bad.jsonl"), text.as_bytes());
    verity()
        .args(["convert", "--on-error", "skip", "--fail-on", "rejects>0"])
        .arg(&bad)
        .arg("-o")
        .arg(dir.path().join("c.jsonl"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("1 row(s) were rejected"));
    verity()
        .args(["convert", "--on-error", "skip", "--fail-on", "rejects>1"])
        .arg(&bad)
        .arg("-o")
        .arg(dir.path().join("c.jsonl"))
        .assert()
        .success();
    verity()
        .args(["card", "check", "--fail-on", "empty", "atlas:nonexistent"])
        .assert()
        .code(2);
    verity()
        .args(["convert", GSM8K_TEST, "--fail-on", "lots", "-o"])
        .arg(dir.path().join("c.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown gate"));
}

#[test]
fn json_errors_are_objects_on_stderr_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        &dir.path().join("nulls.jsonl"),
        b"{\"question\": \"What is 2+2?\", \"answer\": \"#### 4\"}\n{\"question\": null, \"answer\": \"#### 5\"}\n",
    );
    let result = verity()
        .args(["--json", "convert", "--from", "gsm8k"])
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("o.jsonl"))
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(result.stdout.is_empty());
    let stderr = stderr_of(&result);
    let error: serde_json::Value = serde_json::from_str(stderr.trim()).expect(&stderr);
    assert_eq!(error["exit_code"], 2);
    assert_eq!(error["line"], 2);
    assert!(error["file"].as_str().unwrap().ends_with("nulls.jsonl"));
    // null is reported as null, not as a missing key.
    assert!(
        error["reason"]
            .as_str()
            .unwrap()
            .contains("null in `question`"),
        "{error}"
    );
    // Argument errors too.
    let usage = verity()
        .args(["--json", "convert", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let usage: serde_json::Value = serde_json::from_slice(&usage.stderr).unwrap();
    assert!(usage["error"].as_str().unwrap().contains("--no-such-flag"));
}

#[test]
fn an_error_is_printed_once_with_control_bytes_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        &dir.path().join("bad.jsonl"),
        b"{\"question\": \"What is 2+2?\", \"answer\": \"#### 4\"}\n{\"question\": 7, \"answer\": \"\x1b[31mred\"}\n",
    );
    let result = verity()
        .args(["convert", "--from", "gsm8k"])
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("o.jsonl"))
        .output()
        .unwrap();
    let stderr = stderr_of(&result);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    let located = format!("{}:2", input.display());
    assert_eq!(stderr.matches(&located).count(), 1, "{stderr}");
    let missing = dir.path().join("in\x1b[2Jput\x07.jsonl");
    let result = verity().arg("inspect").arg(&missing).output().unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(
        !result.stderr.contains(&0x1b),
        "no raw ESC reaches the terminal"
    );
    assert!(
        stderr_of(&result).contains("\\u{1b}[2J"),
        "{}",
        stderr_of(&result)
    );
}

#[test]
fn a_closed_pipe_ends_verity_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    for (stdout_closed, args) in [
        (true, vec!["inspect", "--json", ROLLOUTS]),
        (false, vec!["inspect", "no/such/file.jsonl"]),
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("verity"))
            .current_dir(root())
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before verity writes (like `| head -0`).
        let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        if stdout_closed {
            drop(out);
            let status = child.wait().unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut { err }, &mut text).unwrap();
            assert!(!text.contains("panicked"), "{text}");
            assert!(
                status.signal() == Some(libc_sigpipe()) || status.success(),
                "{status:?}"
            );
        } else {
            drop(err);
            let status = child.wait().unwrap();
            drop(out);
            assert_ne!(status.code(), Some(101), "no panic: {status:?}");
            assert!(status.signal() == Some(libc_sigpipe()) || status.code() == Some(2));
        }
    }
}

fn libc_sigpipe() -> i32 {
    13
}

#[test]
fn a_repeated_key_is_reported_and_rejected_under_strict() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        &dir.path().join("dup.jsonl"),
        b"{\"question\": \"What is 2+2?\", \"answer\": \"#### 4\"}\n{\"question\": \"a\", \"question\": \"What is 3+3?\", \"answer\": \"#### 6\"}\n",
    );
    let out = dir.path().join("o.jsonl");
    verity()
        .args(["convert", "--to", "gsm8k"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("repeat a key"))
        .stderr(predicate::str::contains("dup.jsonl:2: field `question`"));
    assert_eq!(rows(&out)[1]["question"], "What is 3+3?");
    verity()
        .args(["convert", "--strict", "--to", "gsm8k"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("appears more than once"));
}

#[test]
fn ids_are_unique_across_the_files_of_one_dataset() {
    let dir = tempfile::tempdir().unwrap();
    // The same file name in two directories (deepscaler's train/aime.json and test/aime.json):
    // the ids verity makes up do not collide.
    let aime = std::fs::read(root().join("tests/data/deepscaler/aime.json")).unwrap();
    for split in ["train", "test"] {
        std::fs::create_dir(dir.path().join(split)).unwrap();
        write(&dir.path().join(split).join("aime.json"), &aime);
    }
    let out = dir.path().join("both.jsonl");
    verity()
        .arg("convert")
        .arg(dir.path().join("train/aime.json"))
        .arg(dir.path().join("test/aime.json"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let records = rows(&out);
    let ids: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), records.len());
    assert!(
        ids.contains("train/aime-0") && ids.contains("test/aime-0"),
        "{ids:?}"
    );
    // Explicit ids used in two files: an error naming both places.
    let a = write(
        &dir.path().join("a.jsonl"),
        b"{\"id\": \"q1\", \"question\": \"What is 2+2?\", \"answer\": \"#### 4\"}\n",
    );
    let b = write(
        &dir.path().join("b.jsonl"),
        b"{\"id\": \"q2\", \"question\": \"What is 3+3?\", \"answer\": \"#### 6\"}\n{\"id\": \"q1\", \"question\": \"What is 5+5?\", \"answer\": \"#### 10\"}\n",
    );
    for mode in ["fail", "skip"] {
        verity()
            .args(["convert", "--on-error", mode])
            .arg(&a)
            .arg(&b)
            .arg("-o")
            .arg(dir.path().join("ab.jsonl"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "record id `q1` is used in two files",
            ))
            .stderr(predicate::str::contains("a.jsonl (row 1)"))
            .stderr(predicate::str::contains("b.jsonl (row 2)"));
    }
}

// ---- (4) pipes ----

#[test]
fn dash_reads_stdin_and_writes_stdout() {
    let text = gsm8k_text();
    let out = verity()
        .args(["convert", "-", "--to", "gsm8k", "-o", "-"])
        .write_stdin(text.clone())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 50);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(lines[0]["question"], first["question"]);
    // Compressed stdin, named by --format; an export to stdout.
    let gz = flate2_like_gzip(text.as_bytes());
    let scratch = tempfile::tempdir().unwrap();
    let out = verity()
        .current_dir(scratch.path())
        .args([
            "export", "-", "--format", "jsonl.gz", "--target", "verl", "-o", "-",
        ])
        .write_stdin(gz)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows_out = pipe_through("gzip", &["-dc"], &out);
    assert_eq!(String::from_utf8(rows_out).unwrap().lines().count(), 50);
    let out = verity()
        .args(["export", "-", "--target", "verl", "-o", "-"])
        .write_stdin(text)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 50);
}

// ---- (5) small things ----

#[test]
fn list_layouts_needs_no_input_and_levels_are_read_as_printed() {
    verity()
        .args(["convert", "--list-layouts"])
        .assert()
        .success()
        .stdout(predicate::str::contains("gsm8k"));
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("card.json");
    verity()
        .args([
            "card",
            "build",
            "--ledger",
            "crates/verity-card/tests/data/gsm8k_solutions.ledger.jsonl",
            "-o",
        ])
        .arg(&card)
        .assert()
        .success();
    verity()
        .args(["card", "check", "--min-level", "L1"])
        .arg(&card)
        .assert()
        .code(predicate::in_iter([0, 1]));
    verity()
        .args(["card", "check", "--min-level", "L9"])
        .arg(&card)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("L0..L5"));
}

#[test]
fn dry_run_refuses_a_missing_input_and_prints_resolved_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("r.toml");
    std::fs::write(
        &recipe,
        "[input]\npaths = [\"missing.jsonl\"]\n[[stage]]\nstage = \"verify\"\nverifier = \"math\"\n",
    )
    .unwrap();
    verity()
        .args(["run", "--dry-run"])
        .arg(&recipe)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("<- MISSING"))
        .stdout(predicate::str::contains("recipe is valid").not())
        .stderr(predicate::str::contains("missing.jsonl"));
    let plan = verity()
        .args(["run", "recipes/quickstart.toml", "--dry-run"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan = String::from_utf8(plan).unwrap();
    let verify = plan.lines().find(|l| l.contains("verify")).unwrap();
    assert!(!verify.contains("\"rel_tol\":null"), "{verify}");
    assert!(
        verify.contains("\"percent\":\"either\""),
        "defaults resolved: {verify}"
    );
}

#[test]
fn a_bad_key_in_the_third_stage_is_reported_at_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("r.toml");
    std::fs::write(
        &recipe,
        "[input]\npaths = [\"x.jsonl\"]\n\n[[stage]]\nstage = \"normalize\"\n\n[[stage]]\nstage = \"verify\"\nverifier = \"math\"\n\n[[stage]]\nstage = \"dedup\"\nthreshhold = 0.8\n",
    )
    .unwrap();
    verity()
        .args(["run", "--dry-run"])
        .arg(&recipe)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 13"))
        .stderr(predicate::str::contains("[[stage]] number 3"))
        .stderr(predicate::str::contains("threshhold"));
}

#[test]
fn the_readme_names_the_rust_version_cargo_toml_requires() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("rust-version in Cargo.toml")
        .trim_matches('"');
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("({version}+")),
        "README.md must name Rust {version}+"
    );
}
