//! Time each part of scoring on a corpus file (rows with `problem`, `trace`, `answer`):
//! `cargo run --release -p verity-score --example signal_profile -- FILE [LIMIT]`.
//! A development aid for `bench/score/`; prints seconds per part on one thread.
//! `SIGNAL_PROFILE_ONLY=fused` times only the fused token + word scan, `=repeats` only the
//! n-gram repetition, `=none` / `=cl100k` only scoring with that tokenizer.

use std::io::BufRead;
use std::time::Instant;
use verity_core::record::{Attempt, ObjectKind, Record};
use verity_score::signals::{ScoreOptions, Scorer};

/// CPU time of this thread so far, in seconds (from /proc/thread-self/schedstat; 0 if absent).
fn cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map_or(0.0, |ns| ns / 1e9)
}

/// Run `f`, returning its result with the wall and CPU seconds it took.
fn timed<R>(f: impl FnOnce() -> R) -> (R, f64, f64) {
    let (t, c) = (Instant::now(), cpu());
    let r = f();
    (r, t.elapsed().as_secs_f64(), cpu() - c)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: signal_profile FILE [LIMIT]");
        std::process::exit(2);
    };
    let limit: usize = args
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2)
    });
    let mut records = Vec::new();
    let mut bytes = 0usize;
    for line in std::io::BufReader::new(file).lines().take(limit) {
        let Ok(line) = line else { break };
        bytes += line.len() + 1;
        let Ok(row) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let mut r = Record::new(
            row["id"].as_str().unwrap_or("").to_string(),
            ObjectKind::PromptTraceAnswer,
        );
        r.task.prompt = row["problem"].as_str().map(str::to_string);
        let a = Attempt {
            trace: row["trace"].as_str().map(str::to_string),
            answer: row["answer"].as_str().map(str::to_string),
            ..Attempt::default()
        };
        r.attempts.push(a);
        records.push(r);
    }
    let mb = bytes as f64 / 1e6;
    if std::env::var("SIGNAL_PROFILE_ONLY").as_deref() == Ok("fused") {
        // Only the fused token + word scan (for `perf stat`).
        let fast = verity_score::signals::fasttok::TokenCounter::new(
            verity_core::tokens::Tokenizer::by_name("cl100k_base").expect("tok"),
        );
        let (mut words, mut masks) = (Vec::new(), verity_score::signals::scan::Masks::default());
        let mut markers = [0u32; 7];
        let (k, wall, cpu) = timed(|| {
            let mut k = 0;
            for _ in 0..3 {
                for x in records
                    .iter()
                    .filter_map(|r| r.attempts[0].trace.as_deref())
                {
                    words.clear();
                    verity_score::signals::scan::scan_whitespace(x, &mut masks);
                    k += fast
                        .count_with_words_and_markers(x, &masks.ws, &mut words, Some(&mut markers))
                        .0;
                }
            }
            k
        });
        println!("fused x3: {wall:.2}s wall, {cpu:.2}s CPU ({k} tokens, markers {markers:?})");
        return;
    }
    if std::env::var("SIGNAL_PROFILE_ONLY").as_deref() == Ok("repeats") {
        // Only the n-gram repetition over word hashes made beforehand.
        let mut masks = verity_score::signals::scan::Masks::default();
        let hashes: Vec<Vec<u64>> = records
            .iter()
            .filter_map(|r| r.attempts[0].trace.as_deref())
            .map(|x| {
                let mut words = Vec::new();
                verity_score::signals::text::word_hashes(x, &mut words, &mut masks);
                words
            })
            .collect();
        let (sum, wall, cpu) = timed(|| {
            let mut sum = 0.0;
            for h in &hashes {
                for _ in 0..5 {
                    let r = verity_score::signals::text::repetition_of_hashes(h, 4);
                    sum += r.ngram_ratio + r.tail_ratio;
                }
            }
            sum
        });
        println!("repeats x5: {wall:.3}s wall, {cpu:.3}s CPU (checksum {sum:.6})");
        return;
    }
    let only = std::env::var("SIGNAL_PROFILE_ONLY").unwrap_or_default();
    let tokenizers: &[Option<&str>] = match only.as_str() {
        "none" => &[None],
        "cl100k" => &[Some("cl100k_base")],
        _ => &[None, Some("cl100k_base")],
    };
    for &tokenizer in tokenizers {
        let scorer = Scorer::new(ScoreOptions {
            tokenizer: tokenizer.map(str::to_string),
            ..ScoreOptions::default()
        })
        .expect("scorer");
        let mut copy = records.clone();
        let t = Instant::now();
        let c = cpu();
        for r in &mut copy {
            scorer.score_record(r);
        }
        let s = t.elapsed().as_secs_f64();
        let c = cpu() - c;
        println!(
            "score tokenizer={tokenizer:?}: {s:.2}s wall, {c:.2}s CPU ({:.2} CPU-us/record), {:.1} MB/s, {:.0} rec/s",
            c * 1e6 / records.len() as f64,
            mb / s,
            records.len() as f64 / s
        );
    }
    if !only.is_empty() {
        return;
    }
    let texts: Vec<&str> = records
        .iter()
        .filter_map(|r| r.attempts[0].trace.as_deref())
        .collect();
    let t = Instant::now();
    let m = verity_score::signals::text::ReflectionMatcher::new();
    let mut n = 0u64;
    for x in &texts {
        n += u64::from(m.count(x).iter().sum::<u32>());
    }
    println!("reflection: {:.2}s ({n})", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut w = 0;
    for x in &texts {
        w += verity_score::signals::text::repetition(x, 4).words;
    }
    println!("repetition: {:.2}s ({w})", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let fast = verity_score::signals::fasttok::TokenCounter::new(
        verity_core::tokens::Tokenizer::by_name("cl100k_base").expect("tok"),
    );
    let mut k = 0;
    for x in &texts {
        k += fast.count(x);
    }
    println!(
        "fast cl100k: {:.2}s ({k} tokens)",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let (mut words, mut masks) = (Vec::new(), verity_score::signals::scan::Masks::default());
    let mut k3 = 0;
    for x in &texts {
        words.clear();
        verity_score::signals::scan::scan(x, &mut masks);
        k3 += fast.count_with_words(x, &masks.ws, &mut words);
    }
    println!(
        "fast cl100k + words, one scan: {:.2}s ({k3} tokens)",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let plain = verity_core::tokens::Tokenizer::by_name("cl100k_base").expect("tok");
    let mut k2 = 0;
    for x in texts.iter().take(texts.len() / 10) {
        k2 += plain.count(x);
    }
    println!(
        "tiktoken cl100k on a tenth: {:.2}s ({k2} tokens)",
        t.elapsed().as_secs_f64()
    );
}
