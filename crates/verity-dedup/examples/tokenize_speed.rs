//! Tokenizer throughput on the traces of a JSONL file (development aid, not a benchmark of
//! record): `cargo run --release -p verity-dedup --example tokenize_speed -- FILE [ROWS]`.
use std::io::BufRead;
use std::time::Instant;
use verity_dedup::normalize::words_nfkc_into;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: tokenize_speed FILE [ROWS]");
    let rows: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("open"));
    let mut texts = Vec::new();
    for line in file.lines().take(rows) {
        let v: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
        if let Some(t) = v.get("trace").and_then(|t| t.as_str()) {
            texts.push(t.to_string());
        }
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut out: Vec<u64> = Vec::new();
    let mut words = 0usize;
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        words = 0;
        for text in &texts {
            let _ = words_nfkc_into(text, &mut out);
            words += out.len();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{} texts, {:.1} MB, {} words: {:.0} MB/s, {:.2} ns/word",
        texts.len(),
        bytes as f64 / 1e6,
        words,
        bytes as f64 / 1e6 / best,
        best * 1e9 / words as f64
    );
}
