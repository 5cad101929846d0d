//! End-to-end tests of the runner on the sample data shipped in `recipes/data/` (real GSM8K and
//! MATH rollouts): determinism, resume after SIGKILL, changed-recipe detection, bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use verity_pipeline::{run, Recipe, Reporter, RunOptions, SilentReporter};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn recipe(name: &str) -> Recipe {
    Recipe::load(&root().join("recipes").join(name)).expect("example recipe parses")
}

/// Every file under data/ and rejects/ plus stats.json, with its bytes.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut map = BTreeMap::new();
    for sub in ["data", "rejects"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            map.insert(
                format!("{sub}/{}", f.file_name().unwrap().to_string_lossy()),
                std::fs::read(&f).unwrap(),
            );
        }
    }
    map.insert(
        "stats.json".into(),
        std::fs::read(dir.join("stats.json")).unwrap(),
    );
    map
}

fn run_into(r: &Recipe, out: &Path) -> verity_pipeline::RunSummary {
    run(
        r,
        &RunOptions {
            out_dir: Some(out.to_path_buf()),
            fresh: false,
        },
        &SilentReporter,
    )
    .expect("run succeeds")
}

#[test]
fn rlvr_recipe_filters_and_exports_verl() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let s = run_into(&recipe("rlvr_prompts.toml"), &out);
    assert_eq!(s.rows_read, 100);
    // the select stage kept only the learnable band, decontam removed the MATH-500 copies
    let ledger = verity_core::ledger::read_ledger(&out.join("ledger.jsonl")).unwrap();
    let stages: Vec<&str> = ledger.iter().map(|e| e.stage.as_str()).collect();
    assert_eq!(
        stages,
        [
            "read",
            "normalize",
            "verify",
            "score",
            "select",
            "dedup",
            "decontam",
            "export"
        ]
    );
    let select = &ledger[4];
    assert!(
        select.rows_out < select.rows_in,
        "select kept everything: {select:?}"
    );
    assert!(
        select
            .rejections
            .keys()
            .all(|k| k.starts_with("select: band:")),
        "{:?}",
        select.rejections
    );
    // every stage's rows_out is the next stage's rows_in
    for w in ledger.windows(2) {
        assert_eq!(
            w[0].rows_out, w[1].rows_in,
            "{} -> {}",
            w[0].stage, w[1].stage
        );
    }
    // rejects files hold exactly the counted rows, with reasons
    for (i, e) in ledger.iter().enumerate().skip(1).take(6) {
        let path = out
            .join("rejects")
            .join(format!("{:02}-{}.jsonl", i, e.stage));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().count() as u64,
            e.rejections.values().sum::<u64>(),
            "{}",
            path.display()
        );
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["reason"].is_string() && v["record"]["id"].is_string());
        }
    }
    // verl rows: the reference answer as ground truth, indices 0..n
    assert_eq!(s.data_files, vec![out.join("data/train.parquet")]);
    let verify = &ledger[2];
    assert_eq!(verify.summary["attempts"], 800);
    assert!(
        out.join("run.json").exists()
            && out.join("report.html").exists()
            && out.join("card.json").exists()
    );
}

#[test]
fn same_recipe_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let r = recipe("distill_sft_s1k.toml");
    run_into(&r, &tmp.path().join("a"));
    run_into(&r, &tmp.path().join("b"));
    let a = outputs(&tmp.path().join("a"));
    let b = outputs(&tmp.path().join("b"));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs between two runs");
    }
    assert!(a.contains_key("data/train.parquet") && a.contains_key("data/test.parquet"));
}

#[test]
fn changed_stage_reruns_only_affected_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let r = recipe("rlvr_prompts.toml");
    let first = run_into(&r, &out);
    assert!(first.reused_segments.is_empty());
    // unchanged: segment 0 comes from its checkpoint, same bytes
    let again = run_into(&r, &out);
    assert_eq!(again.reused_segments, vec![0]);
    // a parameter of segment 1 (dedup threshold) changes: segment 0 is still reused
    let text = std::fs::read_to_string(root().join("recipes/rlvr_prompts.toml"))
        .unwrap()
        .replace("threshold = 0.8", "threshold = 0.9");
    let mut changed = Recipe::parse(&text, "changed.toml").unwrap();
    changed.base_dir = root().join("recipes");
    let s = run_into(&changed, &out);
    assert_eq!(s.reused_segments, vec![0]);
    // a parameter of segment 0 changes: nothing is reused
    let text = text.replace("ks = [1, 4, 8]", "ks = [1, 8]");
    let mut changed = Recipe::parse(&text, "changed.toml").unwrap();
    changed.base_dir = root().join("recipes");
    let s = run_into(&changed, &out);
    assert!(s.reused_segments.is_empty());
    // only the current chain's checkpoints are kept
    let n = std::fs::read_dir(out.join(".verity/checkpoints"))
        .unwrap()
        .count();
    assert_eq!(n, 1);
}

#[test]
fn changed_input_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("in.jsonl");
    std::fs::copy(root().join("tests/data/gsm8k/test.head50.jsonl"), &data).unwrap();
    let text = r#"
        [input]
        paths = ["in.jsonl"]
        [[stage]]
        stage = "verify"
        verifier = "math"
        [[stage]]
        stage = "dedup"
    "#;
    let mut r = Recipe::parse(text, "t.toml").unwrap();
    r.base_dir = tmp.path().to_path_buf();
    let out = tmp.path().join("out");
    let a = run_into(&r, &out);
    assert_eq!(a.rows_out, 50);
    assert_eq!(run_into(&r, &out).reused_segments, vec![0]);
    // drop the last row: the input digest changes, so nothing is reused and the output follows
    let content = std::fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = content.lines().collect();
    std::fs::write(&data, lines[..49].join("\n") + "\n").unwrap();
    let b = run_into(&r, &out);
    assert!(b.reused_segments.is_empty());
    assert_eq!(b.rows_out, 49);
}

// ---------------------------------------------------------------------------------------------
// SIGKILL in the middle of a run.

/// Slows the run down at the start of segment 1, so the parent can kill it there.
struct Slow;
impl Reporter for Slow {
    fn begin(&self, label: &str, _: u64) -> usize {
        if label.starts_with("segment 1") {
            std::thread::sleep(Duration::from_secs(30));
        }
        0
    }
    fn progress(&self, _: usize, _: u64, _: u64) {}
    fn end(&self, _: usize, _: &str) {}
    fn note(&self, _: &str) {}
}

#[test]
fn kill_child_entry() {
    // Only does something when spawned by `sigkill_mid_run_then_resume_gives_same_output`.
    let Ok(out) = std::env::var("VERITY_PIPELINE_KILL_TEST_OUT") else {
        return;
    };
    let _ = run(
        &recipe("rlvr_prompts.toml"),
        &RunOptions {
            out_dir: Some(PathBuf::from(out)),
            fresh: false,
        },
        &Slow,
    );
}

#[test]
fn sigkill_mid_run_then_resume_gives_same_output() {
    let tmp = tempfile::tempdir().unwrap();
    let killed = tmp.path().join("killed");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pipeline::kill_child_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VERITY_PIPELINE_KILL_TEST_OUT", &killed)
        .spawn()
        .unwrap();
    let checkpoints = killed.join(".verity/checkpoints");
    let start = Instant::now();
    let complete = |p: &Path| {
        std::fs::read_dir(p)
            .map(|l| {
                l.flatten()
                    .any(|e| !e.file_name().to_string_lossy().contains(".tmp-"))
            })
            .unwrap_or(false)
    };
    while !complete(&checkpoints) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "segment 0 never completed"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "child ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // killed in segment 1: not presented as complete
    assert!(!killed.join("run.json").exists());
    assert!(!killed.join("data/train.parquet").exists());
    // rerun: segment 0 from the checkpoint, the rest again
    let resumed = run_into(&recipe("rlvr_prompts.toml"), &killed);
    assert_eq!(resumed.reused_segments, vec![0]);
    let leftovers: Vec<_> = std::fs::read_dir(&checkpoints)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary checkpoint left behind");
    // same bytes as an uninterrupted run
    let clean = tmp.path().join("clean");
    run_into(&recipe("rlvr_prompts.toml"), &clean);
    let a = outputs(&killed);
    let b = outputs(&clean);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs after resume");
    }
    let ledger = verity_core::ledger::read_ledger(&killed.join("ledger.jsonl")).unwrap();
    assert_eq!(
        ledger.len(),
        8,
        "one ledger entry per stage, none duplicated"
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input.

fn parse_err(text: &str) -> String {
    Recipe::parse(text, "bad.toml").unwrap_err().to_string()
}

#[test]
fn unknown_stage_and_parameter_are_named_with_the_valid_ones() {
    let e = parse_err("[input]\npaths=[\"x.jsonl\"]\n[[stage]]\nstage = \"dedupe\"\n");
    assert!(
        e.contains("bad.toml") && e.contains("unknown stage `dedupe`"),
        "{e}"
    );
    assert!(
        e.contains("dedup") && e.contains("decontam") && e.contains("export"),
        "{e}"
    );
    let e =
        parse_err("[input]\npaths=[\"x.jsonl\"]\n[[stage]]\nstage = \"dedup\"\nthreshhold = 0.8\n");
    assert!(
        e.contains("unknown field `threshhold`") && e.contains("threshold") && e.contains("line 3"),
        "{e}"
    );
    let e = parse_err("[input]\npaths=[\"x.jsonl\"]\n[[stage]]\nverifier = \"math\"\n");
    assert!(e.contains("stage = \"NAME\""), "{e}");
    let e = parse_err(
        "[input]\npaths=[\"x.jsonl\"]\n[[stage]]\nstage=\"export\"\n[[stage]]\nstage=\"dedup\"\n",
    );
    assert!(e.contains("must be the last stage"), "{e}");
    let e = parse_err("[input]\npaths=[\"x.jsonl\"]\nlayout=\"gsm9k\"\n");
    assert!(e.contains("gsm9k") && e.contains("gsm8k"), "{e}");
    let e = parse_err("[inputs]\npaths=[\"x.jsonl\"]\n");
    assert!(e.contains("unknown field `inputs`"), "{e}");
}

#[test]
fn bad_stage_values_fail_before_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("in.jsonl");
    std::fs::copy(root().join("tests/data/gsm8k/test.head50.jsonl"), &data).unwrap();
    for (stage, needle) in [
        (
            "stage = \"verify\"\nverifier = \"maths\"",
            "unknown verifier `maths`",
        ),
        ("stage = \"dedup\"\nkeep = \"oldest\"", "keep `oldest`"),
        (
            "stage = \"decontam\"\nagainst = [\"builtin:math5000\"]",
            "math5000",
        ),
        (
            "stage = \"select\"\nwhere = [\"pass_rate >\"]",
            "expression",
        ),
        ("stage = \"export\"\ntarget = \"trl-ppo\"", "trl-ppo"),
    ] {
        let text = format!("[input]\npaths = [\"in.jsonl\"]\n[[stage]]\n{stage}\n");
        let mut r = Recipe::parse(&text, "t.toml").unwrap();
        r.base_dir = tmp.path().to_path_buf();
        let out = tmp.path().join("out");
        let e = run(
            &r,
            &RunOptions {
                out_dir: Some(out.clone()),
                fresh: false,
            },
            &SilentReporter,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(needle), "{stage}: {e}");
        assert!(
            !out.exists(),
            "{stage}: output directory created before the error"
        );
    }
}

#[test]
fn missing_input_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let mut r = Recipe::parse("[input]\npaths = [\"nope.jsonl\"]\n", "t.toml").unwrap();
    r.base_dir = tmp.path().to_path_buf();
    let out = tmp.path().join("out");
    let e = run(
        &r,
        &RunOptions {
            out_dir: Some(out.clone()),
            fresh: false,
        },
        &SilentReporter,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("nope.jsonl") && e.contains("does not exist"),
        "{e}"
    );
    assert!(!out.exists());
}

#[test]
fn failing_writer_leaves_nothing_presented_as_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("in.jsonl");
    std::fs::copy(root().join("tests/data/gsm8k/test.head50.jsonl"), &data).unwrap();
    let mut r = Recipe::parse(
        "[input]\npaths = [\"in.jsonl\"]\n[[stage]]\nstage = \"verify\"\nverifier = \"math\"\n[[stage]]\nstage = \"dedup\"\n",
        "t.toml",
    )
    .unwrap();
    r.base_dir = tmp.path().to_path_buf();
    let out = tmp.path().join("out");
    run_into(&r, &out);
    assert!(out.join("run.json").exists());
    // `data` becomes a file: the data writer cannot create its output
    std::fs::remove_dir_all(out.join("data")).unwrap();
    std::fs::write(out.join("data"), b"in the way").unwrap();
    let e = run(
        &r,
        &RunOptions {
            out_dir: Some(out.clone()),
            fresh: true,
        },
        &SilentReporter,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("data"), "{e}");
    assert!(
        !out.join("run.json").exists(),
        "an unfinished run must not keep run.json"
    );
    let temps: Vec<_> = walk(&out)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".tmp"))
        })
        .collect();
    assert!(temps.is_empty(), "temporary files left: {temps:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(list) = std::fs::read_dir(dir) {
        for e in list.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}
