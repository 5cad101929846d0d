//! The answer families of `tests/data/families.jsonl`: relations vs values, several answers,
//! inequalities and intervals, ratios/labels/times, approximations and notation, matrices and
//! vectors, and the rounding option. Each case names its public source. Prints, per family,
//! the cases judged correctly, the false passes (a wrong answer accepted) and the false fails
//! (a right answer refused), then asserts that every case is judged as expected.

use std::collections::BTreeMap;
use verity_math::{check, MathOptions, Verdict};

/// Counts of one family.
#[derive(Default)]
struct Counts {
    correct: usize,
    false_pass: usize,
    false_fail: usize,
}

fn options(case: &serde_json::Value, line: usize) -> MathOptions {
    let mut opts = MathOptions::default();
    let Some(map) = case.get("options").and_then(|o| o.as_object()) else {
        return opts;
    };
    for (key, value) in map {
        match key.as_str() {
            "precision" => {
                let k = value.as_u64().unwrap_or_else(|| {
                    panic!("families.jsonl line {line}: options.precision is not an integer")
                });
                opts.equiv.precision = Some(k as u32);
            }
            "decimal_comma" => {
                opts.equiv.decimal_comma = value.as_bool().unwrap_or_else(|| {
                    panic!("families.jsonl line {line}: options.decimal_comma is not a boolean")
                });
            }
            other => panic!("families.jsonl line {line}: unknown option {other:?}"),
        }
    }
    opts
}

fn field<'a>(case: &'a serde_json::Value, name: &str, line: usize) -> &'a str {
    case[name]
        .as_str()
        .unwrap_or_else(|| panic!("families.jsonl line {line}: field {name:?} missing"))
}

#[test]
fn answer_families_per_family_counts() {
    let data = include_str!("../data/families.jsonl");
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut cases = 0;
    for (i, text) in data
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let line = i + 1;
        let case: serde_json::Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("families.jsonl line {line}: {e}"));
        let family = field(&case, "family", line);
        let gold = field(&case, "gold", line);
        let pred = field(&case, "pred", line);
        field(&case, "source", line);
        let expected = case["expected"]
            .as_bool()
            .unwrap_or_else(|| panic!("families.jsonl line {line}: field \"expected\" missing"));
        let got = check(gold, pred, &options(&case, line));
        let passed = got.verdict == Verdict::Equivalent;
        let entry = counts.entry(family.to_string()).or_default();
        cases += 1;
        match (expected, passed) {
            (true, true) | (false, false) => entry.correct += 1,
            (false, true) => entry.false_pass += 1,
            (true, false) => entry.false_fail += 1,
        }
        if expected != passed {
            wrong.push(format!(
                "{} [{family}] expected {expected}, got {} ({:?}); gold {:?} -> {:?}; pred -> {:?}",
                field(&case, "id", line),
                got.verdict.as_str(),
                got.reason,
                gold,
                got.gold.answer,
                got.pred.answer,
            ));
        }
    }
    println!("| family | cases | correct | false pass | false fail |");
    println!("|---|---:|---:|---:|---:|");
    for (family, c) in &counts {
        let n = c.correct + c.false_pass + c.false_fail;
        println!(
            "| {family} | {n} | {} | {} | {} |",
            c.correct, c.false_pass, c.false_fail
        );
    }
    for w in &wrong {
        println!("WRONG {w}");
    }
    assert!(cases >= 140, "families.jsonl has only {cases} cases");
    assert_eq!(
        counts.len(),
        7,
        "families.jsonl should cover the seven families"
    );
    assert!(
        wrong.is_empty(),
        "{} of {cases} family cases judged wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
