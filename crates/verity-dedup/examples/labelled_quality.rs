//! Dedup and decontamination reports on a labelled corpus of `make_corpus.py`, through the
//! library at its defaults (development aid: the quality of a tokenizer or normalisation change
//! without building the CLI). `verity dedup` and `verity decontam` remain the reference.
//!
//! `cargo run -p verity-dedup --example labelled_quality -- CORPUS.jsonl BENCH.jsonl OUTDIR`
//!
//! Dedup compares `problem + "\n" + trace` with the reference answer as the answer guard (the
//! CLI's default `trace` view for these records); decontam checks `problem` (all matchers) and
//! `trace` (n-grams) against the held-out benchmark. Writes `OUTDIR/dedup.report.jsonl`
//! (`{"members": [{"id"}]}` per cluster) and `OUTDIR/decontam.report.jsonl` (`{"record"}` per
//! flagged record); score them with `bench/dedup/eval_quality.py`.
use std::io::{BufRead, Write};
use std::path::Path;
use verity_dedup::benchmarks::from_path;
use verity_dedup::cluster::KeepKey;
use verity_dedup::decontam::{DecontamConfig, DecontamIndex};
use verity_dedup::dedup::{DedupConfig, Deduper};
use verity_dedup::minhash::Scratch;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [corpus, bench, out_dir] = args.as_slice() else {
        return Err("usage: labelled_quality CORPUS.jsonl BENCH.jsonl OUTDIR".into());
    };
    let out_dir = Path::new(out_dir);
    std::fs::create_dir_all(out_dir)?;
    let config = DedupConfig::default();
    let hasher = config.hasher();
    let mut scratch = Scratch::default();
    let mut deduper = Deduper::new(config.clone());
    let index = DecontamIndex::build(&[from_path(Path::new(bench))?], DecontamConfig::default());
    let mut ids = Vec::new();
    let mut flagged = Vec::new();
    let mut hits = Vec::new();
    let reader = std::io::BufReader::new(std::fs::File::open(corpus)?);
    for (n, line) in reader.lines().enumerate() {
        let row: serde_json::Value =
            serde_json::from_str(&line?).map_err(|e| format!("{corpus} line {}: {e}", n + 1))?;
        let field = |name: &str| row.get(name).and_then(|v| v.as_str()).unwrap_or_default();
        let (id, problem, trace) = (field("id"), field("problem"), field("trace"));
        let text = format!("{problem}\n{trace}");
        let keep = KeepKey {
            length: text.chars().count() as u64,
            ..KeepKey::default()
        };
        let reference = row.get("reference").and_then(|v| v.as_str());
        deduper.push(
            config
                .prepare(&hasher, &text, keep, &mut scratch)
                .with_answer(reference),
        )?;
        hits.clear();
        index.check("problem", problem, true, &mut hits);
        index.check("trace", trace, false, &mut hits);
        if !hits.is_empty() {
            flagged.push(id.to_string());
        }
        ids.push(id.to_string());
    }
    let outcome = deduper.finish()?;
    let mut dedup =
        std::io::BufWriter::new(std::fs::File::create(out_dir.join("dedup.report.jsonl"))?);
    for cluster in &outcome.clusters {
        let members: Vec<serde_json::Value> = cluster
            .members
            .iter()
            .map(|m| serde_json::json!({"id": ids[m.index as usize]}))
            .collect();
        writeln!(dedup, "{}", serde_json::json!({ "members": members }))?;
    }
    dedup.flush()?;
    let mut decontam = std::io::BufWriter::new(std::fs::File::create(
        out_dir.join("decontam.report.jsonl"),
    )?);
    for id in &flagged {
        writeln!(decontam, "{}", serde_json::json!({ "record": id }))?;
    }
    decontam.flush()?;
    println!(
        "{}",
        serde_json::json!({
            "records": ids.len(),
            "exact_removed": outcome.stats.exact_removed,
            "near_removed": outcome.stats.near_removed,
            "answer_conflicts": outcome.stats.answer_conflicts,
            "decontam_flagged": flagged.len(),
        })
    );
    Ok(())
}
