//! Tests on real rollouts and trajectories (files under `tests/data/`, see its README).
//!
//! Records are built here straight from the raw JSON (not through a layout adapter), and every
//! expected value is computed independently from the raw fields.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use verity_core::record::{
    Attempt, Contract, Feedback, Granularity, Message, ObjectKind, Record, VerifierId,
};
use verity_score::group::{GroupKey, Grouper};
use verity_score::select::pairs::{build_pairs, PairOptions};
use verity_score::signals::{ScoreOptions, Scorer, VerifierChoice};
use verity_score::split::{assign, SplitItem, SplitSpec};

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn read_gz(name: &str) -> String {
    let bytes = std::fs::read(data(name)).unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out).unwrap();
    out
}

fn qwen_rows() -> Vec<Value> {
    read_gz("qwen25_math_cot_100.jsonl.gz")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A Qwen2.5-Math evaluation row as a rollout set: 8 responses, `pred` answers, the boolean
/// `score` column as imported pass/fail and `pred_score` as an imported reward-model score.
fn qwen_record(row: &Value) -> Record {
    let mut r = Record::new(format!("qwen-{}", row["idx"]), ObjectKind::RolloutSet);
    r.task.prompt = Some(row["question"].as_str().unwrap().to_string());
    r.task.reference.answer = row["gt"].as_str().map(str::to_string);
    r.task.source.dataset = Some("math".into());
    let codes = row["code"].as_array().unwrap();
    for (i, code) in codes.iter().enumerate() {
        let mut a = Attempt::with_response(code.as_str().unwrap());
        a.answer = row["pred"][i].as_str().map(str::to_string);
        a.feedback.push(Feedback::from_bool(
            VerifierId::imported("score", Contract::Programmatic),
            Granularity::Answer,
            row["score"][i].as_bool().unwrap(),
        ));
        if let Some(s) = row["pred_score"][i]
            .as_array()
            .and_then(|v| v.first())
            .and_then(Value::as_f64)
        {
            a.feedback.push(
                Feedback::new(
                    VerifierId::imported("pred_score", Contract::JudgmentRequired),
                    Granularity::Scalar,
                    verity_core::record::Verdict::Score,
                )
                .with_score(s),
            );
        }
        r.attempts.push(a);
    }
    r
}

fn binom(n: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

#[test]
fn qwen_rollouts_pass_rate_pass_at_k_and_majority_match_the_raw_columns() {
    let scorer = Scorer::new(ScoreOptions::default()).unwrap();
    let rows = qwen_rows();
    assert_eq!(rows.len(), 100);
    let mut bands: BTreeMap<String, u64> = BTreeMap::new();
    for row in &rows {
        let mut r = qwen_record(row);
        scorer.score_record(&mut r);
        let scores: Vec<bool> = row["score"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        let n = scores.len() as u64;
        let c = scores.iter().filter(|s| **s).count() as u64;
        let s = &r.signals;
        assert_eq!(s["attempts"], json!(n));
        assert_eq!(s["passes"], json!(c), "row {}", row["idx"]);
        assert!((s["pass_rate"].as_f64().unwrap() - c as f64 / n as f64).abs() < 1e-6);
        for k in [1u64, 2, 4, 8] {
            let direct = 1.0 - binom(n - c, k) / binom(n, k);
            let got = s["pass_at_k"][k.to_string()].as_f64().unwrap();
            assert!(
                (got - direct).abs() < 1e-6,
                "pass@{k} row {}: {got} vs {direct}",
                row["idx"]
            );
        }
        assert!(s["pass_at_k"].get("16").is_none());
        assert_eq!(
            s["verifier"],
            json!("score (imported)"),
            "the reward-model score does not count by default"
        );
        // Majority vote over the raw `pred` column (string-normalized like the scorer).
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for p in row["pred"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|p| !p.trim().is_empty())
        {
            *counts
                .entry(verity_score::util::normalize_answer(p))
                .or_insert(0) += 1;
        }
        if let Some(max) = counts.values().max() {
            let top: Vec<&String> = counts
                .iter()
                .filter(|(_, v)| *v == max)
                .map(|(k, _)| k)
                .collect();
            assert_eq!(s["majority_answer"].as_str(), Some(top[0].as_str()));
        }
        *bands
            .entry(s["band"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
        for a in &r.attempts {
            assert_eq!(a.signals["has_final_answer"], json!(true));
            assert!(a.signals["tokens"].as_u64().unwrap() > 0);
        }
    }
    assert_eq!(bands.values().sum::<u64>(), 100);
    // The example is mostly easy for Qwen2.5-Math-7B: most problems are always solved.
    assert!(bands["1"] > 50, "{bands:?}");
}

#[test]
fn named_reward_model_score_changes_the_verdicts() {
    let scorer = Scorer::new(ScoreOptions {
        tokenizer: None,
        verifier: VerifierChoice::parse(Some("pred_score")),
        ..ScoreOptions::default()
    })
    .unwrap();
    let row = &qwen_rows()[0];
    let mut r = qwen_record(row);
    scorer.score_record(&mut r);
    let positive = row["pred_score"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v[0].as_f64().unwrap() > 0.0)
        .count();
    assert_eq!(r.signals["passes"], json!(positive));
    assert_eq!(r.signals["verifier"], json!("pred_score (imported)"));
}

#[test]
fn grouping_one_attempt_per_row_reproduces_the_rollout_statistics() {
    let rows = qwen_rows();
    let choice = VerifierChoice::Auto;
    let key = GroupKey::Problem;
    // Explode every rollout set into single-attempt rows, with the problem text re-spaced and
    // re-cased on odd rows (normalization must still group them).
    let mut singles = Vec::new();
    for row in rows.iter().take(30) {
        let r = qwen_record(row);
        for (i, a) in r.attempts.iter().enumerate() {
            let mut s = Record::new(format!("{}-{i}", r.id), ObjectKind::PromptTraceAnswer);
            s.task = r.task.clone();
            if i % 2 == 1 {
                s.task.prompt = s.task.prompt.map(|p| format!("  {}  ", p.to_uppercase()));
            }
            s.attempts.push(a.clone());
            singles.push(s);
        }
    }
    let mut grouper = Grouper::default();
    for s in &singles {
        grouper.add(&key, s, &choice);
    }
    assert_eq!(grouper.groups(), 30);
    assert_eq!(grouper.conflicting(), 0);
    let scorer = Scorer::new(ScoreOptions {
        tokenizer: None,
        ..ScoreOptions::default()
    })
    .unwrap();
    for (j, row) in rows.iter().take(30).enumerate() {
        let mut whole = qwen_record(row);
        scorer.score_record(&mut whole);
        let mut single = singles[j * 8].clone();
        grouper.annotate(&key, &mut single, &[1, 2, 4, 8]);
        for field in [
            "attempts",
            "passes",
            "pass_rate",
            "band",
            "pass_at_k",
            "majority_answer",
        ] {
            assert_eq!(
                single.signals.get(field),
                whole.signals.get(field),
                "{field} of row {j}"
            );
        }
        assert_eq!(single.signals["group_rows"], json!(8));
    }
    // A conflicting group: same problem, different reference answers.
    let mut bad = singles[0].clone();
    bad.task.reference.answer = Some("something else".into());
    grouper.add(&key, &bad, &choice);
    assert_eq!(grouper.conflicting(), 1);
    grouper.annotate(&key, &mut bad, &[1]);
    assert!(bad.signals.get("pass_rate").is_none());
    assert!(bad.signals["absent"]["pass_rate"]
        .as_str()
        .unwrap()
        .contains("conflicting group"));
    // A row without problem text.
    let mut keyless = Record::new("k", ObjectKind::PromptAnswer);
    grouper.annotate(&key, &mut keyless, &[1]);
    assert!(keyless.signals["absent"]["task"].is_string());
}

#[test]
fn preference_pairs_from_real_rollouts() {
    let rows = qwen_rows();
    let mut built = 0;
    let mut reasons: HashMap<&str, u64> = HashMap::new();
    for row in &rows {
        let r = qwen_record(row);
        match build_pairs(
            std::slice::from_ref(&r),
            &PairOptions {
                max_pairs: 2,
                ..PairOptions::default()
            },
        ) {
            Ok(pairs) => {
                for p in &pairs {
                    assert_eq!(p.lineage.parents, vec![r.id.clone()]);
                    let chosen = p.attempts[0].answer.as_deref().unwrap_or("");
                    // The chosen answer passed the imported check, the rejected one failed it.
                    let idx = |ans: &str, want: bool| {
                        row["pred"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .zip(row["score"].as_array().unwrap())
                            .any(|(p, s)| p.as_str() == Some(ans) && s.as_bool() == Some(want))
                    };
                    assert!(idx(chosen, true));
                    assert!(idx(p.attempts[1].answer.as_deref().unwrap_or(""), false));
                }
                built += pairs.len();
            }
            Err(reason) => *reasons.entry(reason).or_insert(0) += 1,
        }
    }
    let mixed = rows
        .iter()
        .filter(|r| {
            let s = r["score"].as_array().unwrap();
            s.iter().any(|v| v == &json!(true)) && s.iter().any(|v| v == &json!(false))
        })
        .count();
    assert!(
        built >= mixed && built <= 2 * mixed,
        "{built} pairs for {mixed} mixed tasks"
    );
    assert_eq!(reasons.values().sum::<u64>() as usize, 100 - mixed);
}

#[test]
fn tau_bench_trajectories_give_agent_signals() {
    let trajs: Vec<Value> =
        serde_json::from_str(&read_gz("tau_bench_airline.head16.json.gz")).unwrap();
    let scorer = Scorer::new(ScoreOptions {
        tokenizer: None,
        ..ScoreOptions::default()
    })
    .unwrap();
    for t in &trajs {
        let mut r = Record::new(format!("tau-{}", t["task_id"]), ObjectKind::ToolTrajectory);
        let msgs = t["traj"].as_array().unwrap();
        let mut a = Attempt::default();
        let mut expected_calls = 0;
        for m in msgs {
            let mut message = Message::new(
                m["role"].as_str().unwrap(),
                m["content"].as_str().unwrap_or(""),
            );
            if let Some(calls) = m.get("tool_calls").filter(|c| c.is_array()) {
                expected_calls += calls.as_array().unwrap().len();
                message.tool_calls = Some(calls.clone());
            }
            if message.role == "system" || (message.role == "user" && r.task.messages.is_empty()) {
                r.task.messages.push(message);
            } else {
                a.messages.push(message);
            }
        }
        let reward = t["reward"].as_f64().unwrap();
        a.feedback.push(
            Feedback::from_bool(
                VerifierId::imported("reward", Contract::Environmental),
                Granularity::Episode,
                reward >= 1.0,
            )
            .with_score(reward),
        );
        r.attempts.push(a);
        scorer.score_record(&mut r);
        let s = &r.attempts[0].signals;
        assert_eq!(
            s["tool_calls"],
            json!(expected_calls),
            "task {}",
            t["task_id"]
        );
        assert_eq!(s["terminal_check"], json!(true));
        assert_eq!(
            s["terminal_result"],
            json!(if reward >= 1.0 { "pass" } else { "fail" })
        );
        assert!(s["steps"].as_u64().unwrap() > 0);
        assert!(s["failed_actions"].as_u64().unwrap() <= expected_calls as u64);
        assert_eq!(
            r.signals["pass_rate"],
            json!(if reward >= 1.0 { 1.0 } else { 0.0 })
        );
    }
}

#[test]
fn sky_t1_long_traces_reflection_and_consistency() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/skythought-evals/Sky-T1-math-correct-5K-14B.amc23.shortest3.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} not present", path.display());
        return;
    };
    let scorer = Scorer::new(ScoreOptions::default()).unwrap();
    for line in text.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let output = row["code"][0].as_str().unwrap();
        let mut r = Record::new("sky", ObjectKind::PromptTraceAnswer);
        r.task.prompt = row["question"].as_str().map(str::to_string);
        let mut a = Attempt::with_response(output);
        a.answer = row["pred"][0].as_str().map(str::to_string);
        r.attempts.push(a);
        scorer.score_record(&mut r);
        let s = &r.attempts[0].signals;
        // Independent count of the word "wait" (case-insensitive, whole words).
        let naive = output
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.eq_ignore_ascii_case("wait"))
            .count();
        assert_eq!(
            s["reflection"]
                .get("wait")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            naive as u64
        );
        assert!(
            s["tokens"].as_u64().unwrap() > 1000,
            "Sky-T1 traces are long"
        );
        // The stated `pred` comes from the output's last boxed answer.
        if let Some(c) = s.get("answer_consistent") {
            let boxed =
                verity_score::util::last_boxed(output).map(verity_score::util::normalize_answer);
            let pred = row["pred"][0]
                .as_str()
                .map(verity_score::util::normalize_answer);
            assert_eq!(c, &json!(boxed == pred));
        }
    }
}

fn corpus_rows() -> Vec<Value> {
    read_gz("corpus_dups.jsonl.gz")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn corpus_record(row: &Value) -> Record {
    let mut r = Record::new(row["id"].as_str().unwrap(), ObjectKind::PromptTraceAnswer);
    r.task.prompt = row["problem"].as_str().map(str::to_string);
    r.task.reference.answer = row["reference"].as_str().map(str::to_string);
    r.task.source.dataset = row["source"]
        .as_str()
        .map(|s| s.split(':').next().unwrap_or(s).to_string());
    let mut a = Attempt::with_response(row["trace"].as_str().unwrap());
    a.answer = row["answer"].as_str().map(str::to_string);
    a.feedback.push(Feedback::from_bool(
        VerifierId::imported("correct", Contract::Programmatic),
        Granularity::Answer,
        row["correct"].as_bool().unwrap(),
    ));
    r.attempts.push(a);
    r
}

#[test]
fn corpus_traces_state_their_answer_consistently() {
    let scorer = Scorer::new(ScoreOptions {
        tokenizer: Some("whitespace".into()),
        ..ScoreOptions::default()
    })
    .unwrap();
    for row in corpus_rows() {
        let mut r = corpus_record(&row);
        scorer.score_record(&mut r);
        let s = &r.attempts[0].signals;
        // The corpus `answer` is the exact content of the trace's final \boxed{}.
        assert_eq!(s["answer_consistent"], json!(true), "{}", row["id"]);
        assert_eq!(s["has_final_answer"], json!(true));
        assert_eq!(s["truncated"], json!(false));
        let words = row["trace"].as_str().unwrap().split_whitespace().count();
        assert_eq!(s["tokens"], json!(words));
    }
}

#[test]
fn corpus_duplicates_never_cross_splits() {
    let rows = corpus_rows();
    let params = verity_score::minhash::MinHashParams::default();
    let key = GroupKey::Problem;
    let records: Vec<Record> = rows.iter().map(corpus_record).collect();
    let items: Vec<SplitItem> = records
        .iter()
        .map(|r| SplitItem {
            key: key.key(r).ok(),
            signature: r
                .problem_text()
                .map(|t| verity_score::minhash::signature(t, &params)),
        })
        .collect();
    let spec = SplitSpec::parse(
        &["train".into(), "validation".into(), "test".into()],
        "0.6,0.2,0.2",
        11,
    )
    .unwrap();
    let a = assign(&items, &spec);
    let index: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r["id"].as_str().unwrap(), i))
        .collect();
    let mut checked = 0;
    for (i, row) in rows.iter().enumerate() {
        if let Some(orig) = row.get("dup_of").and_then(Value::as_str) {
            let j = index[orig];
            assert_eq!(
                a.split[i], a.split[j],
                "{} ({}) and its original {orig} crossed splits",
                row["id"], row["dup_kind"]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 90);
    // Same normalized problem, same split.
    let mut by_key: HashMap<u64, usize> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if let Some(k) = it.key {
            let s = a.split[i].unwrap();
            assert_eq!(*by_key.entry(k).or_insert(s), s);
        }
    }
    let total: u64 = a.rows.iter().sum();
    assert_eq!(total as usize, rows.len());
    assert!(
        a.rows[0] > a.rows[1] && a.rows[0] > a.rows[2],
        "{:?}",
        a.rows
    );
    // Without near-duplicate joining, at least one near-duplicate pair is split apart by chance
    // of the seed; with it, none are (checked above). Exact keys alone still hold exact dups.
    let exact_only = SplitSpec {
        near_dup: None,
        ..spec
    };
    let b = assign(&items, &exact_only);
    for (i, row) in rows.iter().enumerate() {
        if row.get("dup_kind") == Some(&json!("exact")) {
            let j = index[row["dup_of"].as_str().unwrap()];
            assert_eq!(b.split[i], b.split[j]);
        }
    }
}

#[test]
fn fast_cl100k_counts_equal_tiktoken_on_real_text() {
    use verity_core::tokens::Tokenizer;
    use verity_score::signals::fasttok::TokenCounter;
    let tok = Tokenizer::by_name("cl100k_base").unwrap();
    let fast = TokenCounter::new(tok.clone());
    let mut texts: Vec<String> = Vec::new();
    for row in qwen_rows().iter().take(40) {
        texts.push(row["question"].as_str().unwrap().to_string());
        for c in row["code"].as_array().unwrap() {
            texts.push(c.as_str().unwrap().to_string());
        }
    }
    for row in corpus_rows().iter().take(80) {
        texts.push(row["trace"].as_str().unwrap().to_string());
    }
    let sky = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/skythought-evals/Sky-T1-math-correct-5K-14B.amc23.shortest3.jsonl");
    if let Ok(text) = std::fs::read_to_string(sky) {
        for line in text.lines() {
            let row: Value = serde_json::from_str(line).unwrap();
            texts.push(row["code"][0].as_str().unwrap().to_string());
        }
    }
    let non_ascii = texts.iter().filter(|t| !t.is_ascii()).count();
    assert!(
        non_ascii > 0,
        "some real texts exercise the non-ASCII fallback"
    );
    let mut total = 0;
    let mut expected_counts = Vec::new();
    for t in &texts {
        let expected = tok.count(t);
        assert_eq!(fast.count(t), expected, "{}", &t[..t.len().min(200)]);
        expected_counts.push(expected);
        total += expected;
    }
    assert!(total > 100_000);
    // The fused scan (token count and words in one pass) on the same texts.
    let mut words = Vec::new();
    let mut masks = verity_score::signals::scan::Masks::default();
    for (t, expected) in texts.iter().zip(&expected_counts) {
        words.clear();
        verity_score::signals::scan::scan(t, &mut masks);
        let n = fast.count_with_words(t, &masks.ws, &mut words);
        assert_eq!(n, *expected, "fused: {}", &t[..t.len().min(200)]);
        assert_eq!(words.len(), t.split_whitespace().count());
    }
    // The cache path: on a fresh thread (empty per-thread piece cache), count every text in
    // reverse order, then again, so most pieces are served from entries that other texts
    // filled; every count must still equal tiktoken's.
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..2 {
                for (t, expected) in texts.iter().zip(&expected_counts).rev() {
                    assert_eq!(
                        fast.count(t),
                        *expected,
                        "cached: {}",
                        &t[..t.len().min(200)]
                    );
                }
            }
        });
    });
}
