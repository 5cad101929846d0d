//! Card truth: every example recipe is run, and each count, rate and list its release card
//! states (`card.json` and the Markdown `README.md`) is recomputed from the output files.
//!
//! The released records are recovered independently of the card: the same recipe is run a second
//! time with the export switched to verity's native layout (which keeps every record and its
//! signals), and the records the real export rejected (`rejects/NN-export.jsonl`) are removed.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use verity_card::{Card, Fact};
use verity_core::io::InputFile;
use verity_pipeline::export::ExportConfig;
use verity_pipeline::recipe::StageConfig;
use verity_pipeline::{run, Recipe, RunOptions, SilentReporter};

const RECIPES: &[&str] = &[
    "quickstart.toml",
    "rlvr_prompts.toml",
    "distill_sft_s1k.toml",
    "dpo_pairs.toml",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_into(recipe: &Recipe, out: &Path) {
    run(
        recipe,
        &RunOptions {
            out_dir: Some(out.to_path_buf()),
            fresh: true,
        },
        &SilentReporter,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", recipe.path.display()));
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Every row of every data file (JSONL or Parquet).
fn data_rows(out: &Path) -> Vec<serde_json::Map<String, Value>> {
    let mut rows = Vec::new();
    for f in files(&out.join("data")) {
        let input = InputFile::detect(&f).unwrap_or_else(|| panic!("{}: not data", f.display()));
        rows.extend(verity_core::stream::sample_rows(&input, u64::MAX).unwrap());
    }
    rows
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Stage name -> reason -> count, from `rejects/NN-<stage>.jsonl` (`00-read`: one reason).
fn rejections(out: &Path) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut by_stage = BTreeMap::new();
    for f in files(&out.join("rejects")) {
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let stage = name.split_once('-').unwrap().1.to_string();
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        for line in jsonl(&f) {
            let reason = line["reason"].as_str().unwrap_or("read").to_string();
            *reasons.entry(reason).or_default() += 1;
        }
        if !reasons.is_empty() {
            by_stage.insert(stage, reasons);
        }
    }
    by_stage
}

fn value<T: Clone>(fact: &Fact<T>, what: &str, recipe: &str) -> T {
    fact.value()
        .cloned()
        .unwrap_or_else(|| panic!("{recipe}: the card does not state {what}"))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn check_recipe(name: &str, tmp: &Path) {
    let recipe = Recipe::load(&root().join("recipes").join(name)).expect("example recipe parses");
    let out = tmp.join(name).join("out");
    run_into(&recipe, &out);
    let mut twin = recipe.clone();
    for stage in twin.stages.iter_mut() {
        if let StageConfig::Export(_) = stage {
            *stage = StageConfig::Export(ExportConfig::default());
        }
    }
    let native = tmp.join(name).join("native");
    run_into(&twin, &native);

    let card = Card::read(&out.join("card.json")).unwrap();
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();

    // Released records and attempts.
    let rows = data_rows(&out).len() as u64;
    let rejects = rejections(&out);
    let export_rejected: BTreeSet<String> = files(&out.join("rejects"))
        .iter()
        .filter(|f| f.to_string_lossy().ends_with("-export.jsonl"))
        .flat_map(|f| jsonl(f))
        .map(|l| l["record"]["id"].as_str().unwrap().to_string())
        .collect();
    let released: Vec<Value> = data_rows(&native)
        .into_iter()
        .map(Value::Object)
        .filter(|r| !export_rejected.contains(r["id"].as_str().unwrap()))
        .collect();
    assert_eq!(released.len() as u64, rows, "{name}: released records");
    let attempts: u64 = released
        .iter()
        .map(|r| r["attempts"].as_array().map_or(0, |a| a.len() as u64))
        .sum();
    let counts = value(&card.released.counts, "the record count", name);
    assert_eq!(counts.records, rows, "{name}: records");
    assert_eq!(counts.attempts, Some(attempts), "{name}: attempts");
    assert!(
        readme.contains(&format!(
            "- **Records:** {rows} released, holding {attempts} attempts"
        )),
        "{name}: README records line"
    );

    // Rejections per stage, with reasons (the export's included).
    let filters = value(&card.construction.filters, "the filters", name);
    let stated: BTreeMap<String, BTreeMap<String, u64>> = filters
        .iter()
        .filter(|f| !f.rejections.is_empty())
        .map(|f| (f.stage.clone(), f.rejections.clone()))
        .collect();
    let mut expected = rejects.clone();
    if let Some(read) = expected.remove("read") {
        let total: u64 = read.values().sum();
        let stated_read: u64 = stated.get("read").map_or(0, |r| r.values().sum());
        assert_eq!(stated_read, total, "{name}: read rejections");
    }
    let stated_no_read: BTreeMap<_, _> = stated.into_iter().filter(|(k, _)| k != "read").collect();
    assert_eq!(stated_no_read, expected, "{name}: rejections per stage");
    for (stage, reasons) in &expected {
        let total: u64 = reasons.values().sum();
        assert!(
            readme.contains(&format!("| {stage} |")) && readme.contains(&format!(" | {total} | ")),
            "{name}: README filtering row of {stage}"
        );
        for (reason, n) in reasons {
            assert!(
                readme.contains(&format!("`{reason}` {n}")),
                "{name}: README reason {reason} of {stage}"
            );
        }
    }
    if expected.is_empty() {
        assert!(readme.contains("No rows were filtered."), "{name}");
    } else {
        assert!(!readme.contains("No rows were filtered."), "{name}");
    }

    // Unique tasks and reuse over the released records.
    let tasks: BTreeSet<String> = released
        .iter()
        .filter_map(|r| {
            let record: verity_core::Record = serde_json::from_value(r.clone()).ok()?;
            record.problem_text().map(|p| p.trim().to_string())
        })
        .collect();
    let unique = tasks.len() as u64;
    if rows > 0 {
        assert_eq!(
            value(&card.scaling.unique_tasks, "unique tasks", name),
            unique,
            "{name}: unique tasks"
        );
        let reuse = value(&card.scaling.reuse_rate, "the reuse rate", name);
        assert!(
            (reuse - (rows - unique) as f64 / unique as f64).abs() < 1e-9,
            "{name}: reuse rate {reuse}"
        );
    }

    // pass@k: the mean over the released records that have it.
    let mut sums: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for r in &released {
        if let Some(Value::Object(at_k)) = r.get("signals").and_then(|s| s.get("pass_at_k")) {
            for (k, v) in at_k {
                let slot = sums.entry(k.clone()).or_default();
                slot.0 += v.as_f64().unwrap();
                slot.1 += 1;
            }
        }
    }
    if sums.is_empty() {
        assert!(!card.scaling.pass_at_k.is_known(), "{name}: pass@k stated");
    } else {
        let stated = value(&card.scaling.pass_at_k, "pass@k", name);
        assert_eq!(stated.len(), sums.len(), "{name}: pass@k ks");
        for (k, (sum, n)) in &sums {
            let mean = round6(sum / *n as f64);
            assert!(
                (stated[k] - mean).abs() < 1e-9,
                "{name}: pass@{k} {} vs {mean}",
                stated[k]
            );
            assert!(
                readme.contains(&format!("pass@{k} {}", stated[k])),
                "{name}: README pass@{k}"
            );
        }
    }

    // Pass-rate bands: records per band among the released records.
    let mut bands: BTreeMap<String, u64> = BTreeMap::new();
    for r in &released {
        if let Some(b) = r
            .get("signals")
            .and_then(|s| s.get("band"))
            .and_then(Value::as_str)
        {
            *bands.entry(b.to_string()).or_default() += 1;
        }
    }
    if !bands.is_empty() {
        let stated = value(&card.quality.pass_rate_bands, "pass-rate bands", name);
        let nonzero: BTreeMap<String, u64> =
            stated.bands.into_iter().filter(|(_, n)| *n > 0).collect();
        assert_eq!(nonzero, bands, "{name}: pass-rate bands");
        for (b, n) in &bands {
            assert!(
                readme.contains(&format!("| {b} | {n} |")),
                "{name}: README band {b}"
            );
        }
    }

    // Dedup and decontamination, against their rejects files.
    let stage_of = |s: &str| recipe.stages.iter().any(|c| c.name() == s);
    if stage_of("dedup") {
        let removed: u64 = rejects.get("dedup").map_or(0, |r| r.values().sum());
        let d = value(&card.quality.dedup, "dedup", name);
        assert_eq!(d.removed, Some(removed), "{name}: dedup removed");
        assert!(
            readme.contains(&format!("; {removed} records removed as duplicates")),
            "{name}: README dedup"
        );
    }
    if stage_of("decontam") {
        let d = value(&card.quality.decontamination, "decontamination", name);
        let mut hits: BTreeMap<String, u64> = d.benchmarks.iter().map(|b| (b.clone(), 0)).collect();
        let file = files(&out.join("rejects"))
            .into_iter()
            .find(|f| f.to_string_lossy().ends_with("-decontam.jsonl"))
            .expect("a decontam rejects file");
        let lines = jsonl(&file);
        for line in &lines {
            let benches: BTreeSet<&str> = line["detail"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["benchmark"].as_str().unwrap())
                .collect();
            for b in benches {
                *hits.entry(b.to_string()).or_default() += 1;
            }
        }
        assert_eq!(d.hits, hits, "{name}: hits per benchmark");
        assert_eq!(
            d.removed,
            Some(lines.len() as u64),
            "{name}: decontam removed"
        );
        for (b, n) in &hits {
            assert!(
                readme.contains(&format!("| {b} | {n} |")),
                "{name}: README hits of {b}"
            );
        }
    }

    // Structured facts are prose, lists or tables: no JSON in the Markdown body.
    let body = readme.splitn(3, "---\n").nth(2).expect("front matter");
    for line in body.lines().filter(|l| !l.starts_with("```")) {
        assert!(
            !line.contains("{\"") && !line.contains("\":"),
            "{name}: raw JSON in the card: {line}"
        );
    }
}

#[test]
fn every_example_recipe_card_states_only_what_the_outputs_hold() {
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for name in RECIPES {
        check_recipe(name, tmp.path());
        checked += 1;
    }
    // Every recipe in recipes/ is covered, except the construction recipes (`gen_*`), which need
    // a model server: crates/verity-gen/tests/run_recipes.py runs them against one in CI.
    let mut on_disk: Vec<String> = files(&root().join("recipes"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .filter(|n| !n.ends_with(".facts.toml") && !n.starts_with("gen_"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = RECIPES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    assert_eq!(checked, RECIPES.len());
}
