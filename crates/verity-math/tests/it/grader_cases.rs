//! Data-driven test: the public graders' own test cases (hendrycks/math, NeMo-Skills,
//! lighteval, verl, Qwen2.5-Math via MindSpeed-RL), see `tests/data/GRADER_CASES_README.md`.
//! Reports agreement per suite and asserts the floors measured when this test was written.

use std::collections::BTreeMap;
use verity_math::{check, MathOptions, Verdict};

fn suite_of(source: &str) -> String {
    source.split('@').next().unwrap_or(source).to_string()
}

#[test]
fn grader_cases_agreement_per_suite() {
    let data = include_str!("../data/cases.jsonl");
    let opts = MathOptions::default();
    // suite -> (agree, total) for active cases; removed-upstream reported apart
    let mut active: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut removed = (0usize, 0usize);
    let mut disagreements = Vec::new();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid case line");
        let gold = v["gold"].as_str().unwrap_or_default();
        let pred = v["pred"].as_str().unwrap_or_default();
        let expected = v["expected"].as_bool().unwrap_or(false);
        let status = v["config"]["status"].as_str().unwrap_or("active");
        let r = check(gold, pred, &opts);
        let got = r.verdict == Verdict::Equivalent;
        let ok = got == expected;
        let suite = suite_of(v["source"].as_str().unwrap_or("?"));
        if status == "active" {
            let e = active.entry(suite.clone()).or_default();
            e.1 += 1;
            if ok {
                e.0 += 1;
            }
        } else {
            removed.1 += 1;
            if ok {
                removed.0 += 1;
            }
        }
        if !ok {
            disagreements.push(format!(
                "{} [{status}] {suite}: expected {expected}, got {:?} ({:?}); gold {:?} -> {:?}; pred -> {:?} ({})",
                v["id"].as_str().unwrap_or("?"),
                r.verdict,
                r.reason,
                gold,
                r.gold.answer,
                r.pred.answer,
                r.pred.rule.as_str()
            ));
        }
    }
    let (mut a, mut t) = (0, 0);
    for (s, (ok, n)) in &active {
        println!("{s}: {ok}/{n}");
        a += ok;
        t += n;
    }
    println!(
        "active total: {a}/{t}; removed upstream: {}/{}",
        removed.0, removed.1
    );
    for d in &disagreements {
        println!("DISAGREE {d}");
    }
    // floors measured on this implementation (see tests/data/DISAGREEMENTS.md)
    let floor: &[(&str, usize)] = &[
        ("hendrycks/math", 16),
        ("NVIDIA/NeMo-Skills", 55),
        ("huggingface/lighteval", 23),
        ("volcengine/verl", 4),
        ("codemayq/MindSpeed-RL", 6),
    ];
    assert!(
        removed.0 >= 14,
        "removed-upstream cases: {}/{}",
        removed.0,
        removed.1
    );
    for (s, min) in floor {
        let got = active.get(*s).map_or(0, |x| x.0);
        assert!(got >= *min, "{s}: {got} agreements, floor {min}");
    }
}
