//! Benchmark / evaluation driver: check a JSONL of `{gold, pred, expected}` pairs.
//!
//! `cargo run --release -p verity-math --example math_pairs -- FILE [--threads N] [--show K]
//!  [--gold-field gold] [--pred-field pred] [--label-field expected] [--repeat R]`
//!
//! Prints one JSON line: pairs, seconds, pairs/s, agreement with the label field, verdict
//! counts, extraction-rule counts. `--show K` prints up to K disagreements to stderr.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::time::Instant;
use verity_math::{check, MathOptions, Verdict};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut file = None;
    let mut threads = 0usize;
    let mut show = 0usize;
    let mut repeat = 1usize;
    let (mut gf, mut pf, mut lf) = (
        "gold".to_string(),
        "pred".to_string(),
        "expected".to_string(),
    );
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match a {
            "--threads" => threads = v.parse().unwrap_or(0),
            "--show" => show = v.parse().unwrap_or(0),
            "--repeat" => repeat = v.parse().unwrap_or(1),
            "--gold-field" => gf = v,
            "--pred-field" => pf = v,
            "--label-field" => lf = v,
            _ => {
                file = Some(a.to_string());
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    let Some(file) = file else {
        eprintln!("usage: math_pairs FILE [--threads N] [--show K]");
        std::process::exit(2);
    };
    if threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .ok();
    }
    let f = std::fs::File::open(&file).unwrap_or_else(|e| {
        eprintln!("{file}: {e}");
        std::process::exit(2)
    });
    let mut pairs = Vec::new();
    let mut labels = Vec::new();
    for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(_) => continue,
        };
        let s = |k: &str| match &v[k] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            o => o.to_string(),
        };
        pairs.push((s(&gf), s(&pf)));
        labels.push(v[&lf].as_bool());
    }
    let opts = MathOptions::default();
    let t0 = Instant::now();
    let mut res = Vec::new();
    for _ in 0..repeat {
        res = verity_math::check_batch(&pairs, &opts);
    }
    let secs = t0.elapsed().as_secs_f64();
    let _ = check; // re-exported for single checks
    let mut agree = 0usize;
    let mut labelled = 0usize;
    let mut verdicts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
    let mut shown = 0;
    for (k, r) in res.iter().enumerate() {
        *verdicts.entry(r.verdict.as_str()).or_default() += 1;
        *rules.entry(r.pred.rule.as_str()).or_default() += 1;
        if let Some(l) = labels[k] {
            labelled += 1;
            if (r.verdict == Verdict::Equivalent) == l {
                agree += 1;
            } else if shown < show {
                shown += 1;
                let p = &pairs[k].1;
                let tail: String = p
                    .chars()
                    .rev()
                    .take(300)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                eprintln!(
                    "#{k} label={l} got={} reason={:?}\n  gold={:?} -> {:?}\n  pred({})={:?}\n  pred tail: {:?}",
                    r.verdict.as_str(), r.reason, pairs[k].0, r.gold.answer, r.pred.rule.as_str(), r.pred.answer, tail
                );
            }
        }
    }
    let n = pairs.len() * repeat;
    println!(
        "{}",
        serde_json::json!({
            "file": file,
            "pairs": pairs.len(),
            "repeat": repeat,
            "threads": rayon::current_num_threads(),
            "seconds": secs,
            "pairs_per_sec": n as f64 / secs,
            "labelled": labelled,
            "agree": agree,
            "agreement": if labelled > 0 { agree as f64 / labelled as f64 } else { 0.0 },
            "verdicts": verdicts,
            "pred_rules": rules,
        })
    );
}
