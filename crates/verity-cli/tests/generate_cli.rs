//! `verity generate` end to end against the fault-injecting local server: output, ledger
//! figures, exit codes, the API key never written, and resume after `kill -9` (the server's
//! request counts against the distinct requests; the output equal to an uninterrupted run's).

mod common;

use common::{rows, verity};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use verity_gen::testing::{Fault, MockServer};

/// `n` GSM8K-style tasks as `{question, answer}` rows.
fn tasks(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("tasks.jsonl");
    let text: String = (0..n)
        .map(|i| {
            format!(
                "{}\n",
                serde_json::json!({"question": format!("What is {i} times 3?"), "answer": format!("#### {}", 3 * i)})
            )
        })
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn base_args(server: &MockServer, input: &Path, output: &Path, cache: &Path) -> Vec<String> {
    [
        "generate",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--base-url",
        &server.url(),
        "--model",
        "mock-model",
        "--seed",
        "11",
        "--temperature",
        "0.5",
        "--backoff",
        "0.01",
        "--cache",
        cache.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn ledger(dir: &Path) -> Vec<Value> {
    rows(&dir.join("ledger.jsonl"))
}

fn strip_latency(mut rows: Vec<Value>) -> Vec<Value> {
    for r in &mut rows {
        for a in r["attempts"].as_array_mut().unwrap() {
            a["signals"].as_object_mut().unwrap().remove("latency_ms");
        }
    }
    rows
}

#[test]
fn generate_writes_samples_and_ledger_figures_and_a_rerun_sends_nothing() {
    let server = MockServer::start();
    server.push_faults([Fault::RateLimit(None), Fault::Status(503, "busy".into())]);
    let dir = tempfile::tempdir().unwrap();
    let input = tasks(dir.path(), 6);
    let out = dir.path().join("out.jsonl");
    let cache = dir.path().join("cache.sqlite");
    let mut args = base_args(&server, &input, &out, &cache);
    args.extend(["-n", "3", "--price-input", "0.5", "--price-output", "1.5"].map(String::from));
    verity().args(&args).assert().success();
    let records = rows(&out);
    assert_eq!(records.len(), 6);
    for r in &records {
        assert_eq!(r["object"], "rollout_set");
        assert_eq!(r["attempts"].as_array().unwrap().len(), 3);
        assert!(r["task"]["reference"]["answer"].as_str().is_some());
    }
    assert_eq!(server.completions(), 18 + 2);
    let entry = ledger(dir.path()).pop().unwrap();
    assert_eq!(entry["stage"], "generate");
    let req = &entry["summary"]["requests"];
    assert_eq!(req["requests"], 20);
    assert_eq!(req["cache_hits"], 0);
    assert_eq!(req["samples_generated"], 18);
    assert_eq!(req["retries"]["http_429"], 1);
    assert_eq!(req["retries"]["http_503"], 1);
    assert!(req["tokens_in"].as_u64().unwrap() > 0 && req["tokens_out"].as_u64().unwrap() > 0);
    assert!(req["wall_s"].as_f64().unwrap() > 0.0);
    assert!(req["cost"].as_f64().unwrap() > 0.0);
    assert_eq!(
        entry["summary"]["generators"][0]["model"],
        "mock-model-served"
    );
    assert_eq!(entry["summary"]["samples_per_task"], 3);
    // Rerun into another file: zero requests, the same bytes.
    let out2 = dir.path().join("out2.jsonl");
    let mut args = base_args(&server, &input, &out2, &cache);
    args.extend(["-n", "3", "--json"].map(String::from));
    let assert = verity().args(&args).assert().success();
    let summary: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(summary["requests"]["requests"], 0);
    assert_eq!(summary["requests"]["cache_hits"], 18);
    assert_eq!(server.completions(), 20);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
}

#[test]
fn a_rejected_task_exits_1_with_its_reason_and_an_auth_failure_exits_2() {
    let server = MockServer::start();
    server.push_faults([Fault::Status(400, "maximum context length exceeded".into())]);
    let dir = tempfile::tempdir().unwrap();
    let input = tasks(dir.path(), 3);
    let out = dir.path().join("out.jsonl");
    let cache = dir.path().join("cache.sqlite");
    let mut args = base_args(&server, &input, &out, &cache);
    args.extend(["--concurrency", "1"].map(String::from));
    verity().args(&args).assert().code(1);
    assert_eq!(rows(&out).len(), 2);
    let rejects = rows(&dir.path().join("out.rejects.jsonl"));
    assert_eq!(rejects.len(), 1);
    assert!(rejects[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("generate:context_too_long"));
    let entry = ledger(dir.path()).pop().unwrap();
    assert_eq!(entry["rejections"].as_object().unwrap().len(), 1);

    server.require_key("the-right-key");
    let out = dir.path().join("auth.jsonl");
    let mut args = base_args(
        &server,
        &input,
        &out,
        &dir.path().join("other-cache.sqlite"),
    );
    args.extend(["--api-key-env", "VERITY_CLI_TEST_BAD_KEY"].map(String::from));
    let before = server.completions();
    let assert = verity()
        .env("VERITY_CLI_TEST_BAD_KEY", "a-wrong-key-1234")
        .args(&args)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("authentication failed"), "{stderr}");
    assert!(stderr.contains("$VERITY_CLI_TEST_BAD_KEY"), "{stderr}");
    assert!(!stderr.contains("a-wrong-key-1234"), "{stderr}");
    assert_eq!(
        server.completions(),
        before,
        "completions were sent after a 401"
    );
    assert!(!out.exists(), "a failed run left an output");
}

#[test]
fn the_api_key_is_never_written_to_any_output() {
    let server = MockServer::start();
    let key = "sk-cli-secret-91c2e7";
    server.require_key(key);
    let dir = tempfile::tempdir().unwrap();
    let input = tasks(dir.path(), 3);
    let out = dir.path().join("out.jsonl");
    let cache = dir.path().join("cache.sqlite");
    let mut args = base_args(&server, &input, &out, &cache);
    args.extend(["--api-key-env", "VERITY_CLI_TEST_KEY", "-n", "2", "--json"].map(String::from));
    let assert = verity()
        .env("VERITY_CLI_TEST_KEY", key)
        .args(&args)
        .assert()
        .success();
    assert!(server.auth_headers().iter().any(|h| h.contains(key)));
    let output = assert.get_output();
    let mut texts = vec![output.stdout.clone(), output.stderr.clone()];
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        texts.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(texts.len() >= 5, "expected output, ledger and cache files");
    for bytes in texts {
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "the key was written: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let entry = ledger(dir.path()).pop().unwrap();
    assert_eq!(
        entry["params"]["endpoint"]["api_key_env"],
        "VERITY_CLI_TEST_KEY"
    );
}

fn spawn(args: &[String]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(args)
        .env("VERITY_NO_PROGRESS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An uninterrupted run's records (a fresh server and cache: replies are a function of the
/// request, so the texts must match).
fn uninterrupted(dir: &Path, input: &Path, n: &str) -> Vec<Value> {
    let server = MockServer::start();
    let out = dir.join("reference.jsonl");
    let mut args = base_args(&server, input, &out, &dir.join("reference-cache.sqlite"));
    args.extend(["-n", n].map(String::from));
    verity().args(&args).assert().success();
    strip_latency(rows(&out))
}

#[test]
fn kill_9_at_a_known_point_then_resume_sends_no_answered_request_twice() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let input = tasks(dir.path(), 20);
    let out = dir.path().join("out.jsonl");
    let cache_path = dir.path().join("cache.sqlite");
    let mut args = base_args(&server, &input, &out, &cache_path);
    args.extend(["-n", "2", "--concurrency", "4"].map(String::from));
    // The first 15 requests are answered, the next ones hang: kill the client there.
    server.hang_after(Some(15));
    let mut child = spawn(&args);
    wait_until("15 answers and 4 hanging requests", || {
        server.completions() >= 19
    });
    let cache = verity_gen::cache::Cache::open(&cache_path).unwrap();
    wait_until("15 stored samples", || cache.len().unwrap() >= 15);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!out.exists(), "a killed run left a partial output");
    assert_eq!(cache.len().unwrap(), 15);
    server.hang_after(None);
    verity().args(&args).assert().success();
    // 40 distinct requests; each answered exactly once; only the 4 that hung were sent twice.
    assert_eq!(server.distinct_bodies(), 40);
    assert_eq!(server.answered(), 40);
    assert_eq!(server.max_answers_per_body(), 1);
    assert_eq!(server.completions(), 40 + 4);
    assert_eq!(
        strip_latency(rows(&out)),
        uninterrupted(dir.path(), &input, "2")
    );
}

#[test]
fn kill_9_at_random_moments_loses_and_duplicates_nothing() {
    let server = MockServer::start();
    server.delay(Some(Duration::from_millis(15)));
    let dir = tempfile::tempdir().unwrap();
    let input = tasks(dir.path(), 40);
    let out = dir.path().join("out.jsonl");
    let cache_path = dir.path().join("cache.sqlite");
    let mut args = base_args(&server, &input, &out, &cache_path);
    args.extend(["-n", "3", "--concurrency", "8"].map(String::from));
    let mut kills = 0;
    for wait_ms in [120u64, 260, 90, 330] {
        let mut child = spawn(&args);
        std::thread::sleep(Duration::from_millis(wait_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
    }
    verity().args(&args).assert().success();
    let records = rows(&out);
    assert_eq!(records.len(), 40);
    assert!(records
        .iter()
        .all(|r| r["attempts"].as_array().unwrap().len() == 3));
    assert_eq!(server.distinct_bodies(), 120);
    // Only requests in flight at a kill can be sent again: at most `concurrency` per kill.
    assert!(
        server.completions() <= 120 + 8 * kills,
        "{} requests for 120 distinct after {kills} kills",
        server.completions()
    );
    assert_eq!(
        strip_latency(records),
        uninterrupted(dir.path(), &input, "3")
    );
    // And a final rerun sends nothing.
    let before = server.completions();
    verity().args(&args).assert().success();
    assert_eq!(server.completions(), before);
}
