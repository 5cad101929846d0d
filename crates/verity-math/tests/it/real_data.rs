//! Agreement on real data copied into the repo (`tests/data/real_pairs.jsonl`, see the README
//! there): MATH-500 answers vs their own solutions, and Qwen2.5-Math responses vs the stored
//! grades of the Qwen grader. Floors are the measured values; the one disagreement with a
//! stored grade is explained in `tests/data/DISAGREEMENTS.md` (Qwen 72/7, their error).

use std::collections::BTreeMap;
use verity_math::{check, MathOptions, Verdict};

#[test]
fn real_pairs_agreement() {
    let data = include_str!("../data/real_pairs.jsonl");
    let opts = MathOptions::default();
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid line");
        let r = check(
            v["gold"].as_str().unwrap_or_default(),
            v["pred"].as_str().unwrap_or_default(),
            &opts,
        );
        let ok = (r.verdict == Verdict::Equivalent) == v["expected"].as_bool().unwrap_or(false);
        let e = per
            .entry(v["src"].as_str().unwrap_or("?").to_string())
            .or_default();
        e.1 += 1;
        if ok {
            e.0 += 1;
        } else {
            println!(
                "DISAGREE {} {:?} -> {:?}",
                v["id"], r.gold.answer, r.pred.answer
            );
        }
    }
    for (s, (a, n)) in &per {
        println!("{s}: {a}/{n}");
    }
    assert_eq!(per.get("math500").map(|x| x.0), Some(500));
    assert!(per.get("qwen25_math_cot").map_or(0, |x| x.0) >= 399);
}
