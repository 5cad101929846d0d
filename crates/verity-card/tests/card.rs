//! verity-card integration tests: build from the ledger of a real run (+ stats, data scan and a
//! declared-facts file), refusal of contradicting declared facts, curation levels and missing
//! lists, diff verdicts on the committed card pairs, the atlas, and the exports' structure.
//! (The exports are validated by the reference tools in `validate_exports.py`.)

use serde_json::Value;
use std::path::{Path, PathBuf};
use verity_card::build::{self, Declared, Ledger};
use verity_card::check::{self, ReuseClass};
use verity_card::diff::{self, Verdict};
use verity_card::{atlas, export, Card, Fact, Provenance};
use verity_core::io::expand_inputs;
use verity_core::stream::{RecordSource, SourceOptions};

fn here(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn repo(rel: &str) -> PathBuf {
    here("../..").join(rel)
}

fn ledger() -> Ledger {
    let mut ledger = Ledger::read(&here("tests/data/gsm8k_solutions.ledger.jsonl")).unwrap();
    let stats: Value = serde_json::from_str(
        &std::fs::read_to_string(here("tests/data/gsm8k_solutions.stats.json")).unwrap(),
    )
    .unwrap();
    ledger.push_stats(stats, "gsm8k_solutions.stats.json");
    ledger
}

fn scan() -> build::DataScan {
    let path = repo("tests/data/gsm8k/example_model_solutions.head30.jsonl.gz");
    let source =
        RecordSource::open(expand_inputs(&[path]).unwrap(), SourceOptions::default()).unwrap();
    build::scan_source(source, "example_model_solutions.head30.jsonl.gz").unwrap()
}

fn facts(rel: &str) -> Declared {
    Declared::read(&here(rel)).unwrap()
}

fn example(name: &str) -> Card {
    Card::read(&repo(&format!("examples/cards/{name}.json"))).unwrap()
}

fn missing_paths(report: &check::CheckReport) -> Vec<&str> {
    report.missing.iter().map(|m| m.path.as_str()).collect()
}

#[test]
fn real_run_with_short_facts_reaches_l4() {
    let card = build::build(
        Some(&ledger()),
        Some(&scan()),
        Some(&facts("tests/data/gsm8k_solutions.facts.toml")),
    )
    .unwrap();
    let report = check::check(&card);
    assert_eq!(
        report.level,
        Some(4),
        "missing: {:?}",
        missing_paths(&report)
    );
    // Measured from the ledger: the verify stage's verifier and counts.
    let verifier = card.factors.verifier.value().unwrap();
    assert_eq!(verifier[0].name, "math");
    assert_eq!(verifier[0].contract, "programmatic");
    let results = card.verification.results.value().unwrap();
    assert_eq!(results[0].pass, Some(38));
    assert_eq!(results[0].fail, Some(82));
    assert!(matches!(
        card.verification.contract,
        Fact::Value {
            provenance: Provenance::Measured,
            ..
        }
    ));
    // Dedup / decontam / score / stats keys mapped.
    let decontam = card.quality.decontamination.value().unwrap();
    assert_eq!(decontam.hits.get("gsm8k"), Some(&30));
    assert!(decontam.benchmarks.iter().any(|b| b == "math500"));
    assert!(card
        .quality
        .dedup
        .value()
        .unwrap()
        .method
        .contains("minhash"));
    let bands = card.quality.pass_rate_bands.value().unwrap();
    assert_eq!(bands.bands.values().sum::<u64>(), 30);
    assert_eq!(card.scaling.unique_tasks.value(), Some(&30));
    assert_eq!(card.scaling.tokens.value().unwrap().total, 13474);
    // Generators come from the data scan.
    let generators = card.construction.generators.value().unwrap();
    assert!(generators.iter().any(|g| g.model == "gpt3-175b"));
    assert_eq!(card.released.counts.value().unwrap().attempts, Some(120));
    // The release overlaps GSM8K itself: evaluation only, and the reason names the benchmark.
    assert_eq!(report.reuse, ReuseClass::EvaluationOnly);
    assert!(report.reuse_reason.contains("gsm8k (30)"));
    // Declared facts carry their provenance.
    assert!(matches!(
        card.factors.optimizer,
        Fact::NotApplicable {
            provenance: Provenance::Declared,
            ..
        }
    ));
}

#[test]
fn missing_facts_lower_the_level_with_the_right_list() {
    // No declared facts at all: no name, so not even L0.
    let card = build::build(Some(&ledger()), Some(&scan()), None).unwrap();
    let report = check::check(&card);
    assert_eq!(report.level, None);
    let missing = missing_paths(&report);
    for path in [
        "release.name",
        "release.license",
        "release.version",
        "factors.base_model",
        "factors.optimizer",
        "factors.scaffold",
        "usage.training_use",
    ] {
        assert!(missing.contains(&path), "{path} not in {missing:?}");
    }
    // Measured fields are not reported missing.
    for path in [
        "factors.verifier",
        "quality.decontamination",
        "quality.dedup",
        "scaling.unique_tasks",
    ] {
        assert!(!missing.contains(&path), "{path} wrongly missing");
    }
    // Ordered by how much they block reuse: the name first, the license before the version.
    assert_eq!(missing[0], "release.name");
    let pos = |p: &str| missing.iter().position(|m| *m == p).unwrap();
    assert!(pos("release.license") < pos("release.version"));
    assert!(pos("factors.base_model") < pos("factors.scaffold"));
    assert_eq!(report.reuse, ReuseClass::BlockedPendingVerification);

    // Name, version and license only: the measured recipe reaches L3; L4 needs the attribution facts.
    let declared = Declared::from_toml(
        "[release]\nname = \"x\"\nversion = \"1.0.0\"\nlicense = \"MIT\"\n",
        "partial.toml",
    )
    .unwrap();
    let card = build::build(Some(&ledger()), Some(&scan()), Some(&declared)).unwrap();
    let report = check::check(&card);
    assert_eq!(report.level, Some(3));
    let mut next = report.next_level.clone();
    next.sort();
    assert_eq!(
        next,
        [
            "factors.base_model",
            "factors.optimizer",
            "factors.scaffold",
            "usage.training_use"
        ]
    );
    assert_eq!(report.reuse, ReuseClass::EvaluationOnly);
}

#[test]
fn ledger_alone_without_the_scan_misses_the_generators() {
    let card = build::build(
        Some(&ledger()),
        None,
        Some(&facts("tests/data/gsm8k_solutions.facts.toml")),
    )
    .unwrap();
    let report = check::check(&card);
    assert_eq!(report.level, Some(2));
    assert!(report
        .next_level
        .contains(&"construction.generators".to_string()));
    // The source is the first stage's input, identified by its hash.
    let sources = card.construction.prompt_sources.value().unwrap();
    assert!(sources[0]
        .source
        .starts_with("example_model_solutions.head30.jsonl.gz (sha256:"));
}

#[test]
fn contradicting_declared_facts_are_refused_naming_both() {
    let err = build::build(
        Some(&ledger()),
        Some(&scan()),
        Some(&facts("tests/data/contradiction.facts.toml")),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("released.counts"), "{text}");
    assert!(text.contains("\"records\":50"), "{text}");
    assert!(text.contains("\"records\":30"), "{text}");
    assert!(text.contains("contradiction.facts.toml"), "{text}");

    // Same value in another spelling is not a contradiction.
    let same = Declared::from_toml("[factors]\nverifier = \"math@1.0.0\"\n", "same.toml").unwrap();
    assert!(build::build(Some(&ledger()), None, Some(&same)).is_ok());
    let other =
        Declared::from_toml("[factors]\nverifier = \"math@2.0.0\"\n", "other.toml").unwrap();
    let err = build::build(Some(&ledger()), None, Some(&other)).unwrap_err();
    assert!(err.to_string().contains("factors.verifier"), "{err}");
}

#[test]
fn unknown_declared_keys_and_wrong_types_are_errors() {
    let bad = Declared::from_toml("[factors]\nbase_modell = \"x\"\n", "typo.toml").unwrap();
    let err = build::build(None, None, Some(&bad))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("factors.base_modell") && err.contains("base_model"),
        "{err}"
    );
    let wrong = Declared::from_toml("[scaling]\nunique_tasks = \"many\"\n", "t.toml").unwrap();
    let err = build::build(None, None, Some(&wrong))
        .unwrap_err()
        .to_string();
    assert!(err.contains("scaling.unique_tasks"), "{err}");
}

#[test]
fn diff_verdicts_on_the_committed_pairs() {
    let base = example("base");
    let cases = [
        (
            "one_factor_optimizer",
            Verdict::Attributable,
            vec!["optimizer"],
        ),
        (
            "several_base_model_verifier",
            Verdict::Confounded,
            vec!["verifier", "base_model"],
        ),
        (
            "undisclosed_optimizer_scaffold",
            Verdict::Undetermined,
            vec!["optimizer (B)", "scaffold (B)"],
        ),
        (
            "data_only_decontamination",
            Verdict::Attributable,
            vec!["lineage"],
        ),
        ("base", Verdict::Identical, vec![]),
    ];
    for (name, verdict, named) in cases {
        let report = diff::diff(&base, &example(name));
        assert_eq!(report.verdict, verdict, "{name}: {}", report.explanation);
        for factor in named {
            assert!(
                report.explanation.contains(factor),
                "{name}: {}",
                report.explanation
            );
        }
    }
    // Reversed order gives the same verdicts, with the sides swapped.
    let report = diff::diff(&example("undisclosed_optimizer_scaffold"), &base);
    assert_eq!(report.verdict, Verdict::Undetermined);
    assert!(report.undisclosed.contains(&"optimizer (A)".to_string()));
    // The data-only change is listed under data facts.
    let report = diff::diff(&base, &example("data_only_decontamination"));
    assert_eq!(report.data.len(), 1);
    assert_eq!(report.data[0].path, "quality.decontamination");
}

#[test]
fn committed_example_card_levels() {
    assert_eq!(check::check(&example("base")).level, Some(5));
    // Unknown optimizer and scaffold drop the card to L3.
    let report = check::check(&example("undisclosed_optimizer_scaffold"));
    assert_eq!(report.level, Some(3));
    assert_eq!(
        missing_paths(&report),
        ["factors.optimizer", "factors.scaffold"]
    );
}

#[test]
fn placeholder_text_blocks_l5() {
    let mut card = example("base");
    card.release.description = Fact::declared("TODO: write this".to_string(), "t");
    let report = check::check(&card);
    assert_eq!(report.level, Some(4));
    assert_eq!(report.placeholders, ["release.description"]);
}

#[test]
fn atlas_search_show_and_diff() {
    assert_eq!(atlas::entries().len(), 280);
    let hits = atlas::search("deepscaler", &atlas::Facets::default());
    assert!(hits.iter().any(|e| e.id().starts_with("deepscaler")));
    let facets = atlas::Facets {
        contract: Some("programmatic".into()),
        training_use: Some("rlvr".into()),
        ..Default::default()
    };
    let hits = atlas::search("", &facets);
    assert!(!hits.is_empty());
    for e in &hits {
        assert!(e.list("verification_contract").contains(&"programmatic"));
        assert!(e.list("training_use").contains(&"rlvr"));
    }
    // Verity's granularity names work as facets.
    let step = atlas::Facets {
        granularity: Some("step".into()),
        ..Default::default()
    };
    assert!(atlas::search("prm800k", &step)
        .iter()
        .any(|e| e.id() == "prm800k-2023"));
    // Release facts of the 15 major releases are parsed and linked by id.
    assert_eq!(atlas::release_facts().len(), 15);
    let s1 = atlas::get("atlas:s1-2025").unwrap();
    let facts = s1.release_facts().unwrap();
    assert_eq!(facts.release, "s1K");
    let card = atlas::entry_card(s1);
    assert_eq!(card.released.counts.value().unwrap().records, 1000);
    assert_eq!(
        card.factors.base_model.value().map(String::as_str),
        Some("Qwen2.5-32B-Instruct")
    );
    assert!(!card.factors.optimizer.is_known());
    // A diff against an atlas entry names what it does not disclose.
    let report = diff::diff(&example("base"), &card);
    assert!(report.undisclosed.iter().any(|u| u == "optimizer (B)"));
    assert!(atlas::get("no-such-entry").is_err());
    assert!(atlas::SOURCE_NOTICE.contains("MIT License"));
}

#[test]
fn exports_carry_the_card() {
    let card = example("base");
    let md = export::hf::render(&card);
    let front = md.strip_prefix("---\n").unwrap();
    let (yaml, body) = front.split_once("\n---\n").unwrap();
    assert!(yaml.contains("license: \"mit\""));
    assert!(yaml.contains("size_categories:\n  - \"n<1K\""));
    assert!(yaml.contains("base_model:\n      value: \"Qwen2.5-Math-7B\""));
    assert!(body.contains("## Attribution Factors"));
    assert!(body.contains("| optimizer | GRPO (verl 0.4.1, lr 1e-6, kl 0.001) | declared |"));
    let jsonld = export::croissant::render(&card);
    assert_eq!(
        jsonld["conformsTo"][0],
        "http://mlcommons.org/croissant/1.1"
    );
    assert_eq!(jsonld["license"], "https://spdx.org/licenses/MIT.html");
    assert!(jsonld["rai:dataAnnotationProtocol"]
        .as_str()
        .unwrap()
        .contains("math@1.0.0"));
    assert!(jsonld["prov:wasGeneratedBy"].as_array().unwrap().len() >= 5);
    assert_eq!(
        jsonld["verity:optimizer"]["value"],
        "GRPO (verl 0.4.1, lr 1e-6, kl 0.001)"
    );
    assert_eq!(
        jsonld["distribution"][0]["sha256"].as_str().unwrap().len(),
        64
    );
}

#[test]
fn card_schema_describes_facts() {
    let schema = verity_card::card_json_schema();
    let text = schema.to_string();
    assert!(
        text.contains("not_applicable") && text.contains("measured") && text.contains("declared")
    );
    // Every committed example validates against the typed model (round trip).
    for name in [
        "base",
        "one_factor_optimizer",
        "several_base_model_verifier",
    ] {
        let card = example(name);
        let again: Card = serde_json::from_value(card.to_value()).unwrap();
        assert_eq!(again, card);
    }
}

#[test]
fn docs_list_every_requirement_under_its_level() {
    let docs = std::fs::read_to_string(repo("docs/card.md")).unwrap();
    for r in check::REQUIREMENTS {
        let start = docs
            .find(&format!(
                "\n**L{} {}**\n",
                r.level,
                check::LEVEL_NAMES[r.level as usize]
            ))
            .unwrap();
        let end = docs[start + 4..]
            .find("\n**")
            .map_or(docs.len(), |e| start + 4 + e);
        assert!(
            docs[start..end].contains(&format!("| `{}` | {} |", r.path, r.weight)),
            "docs/card.md does not list {} under L{}",
            r.path,
            r.level
        );
    }
}

#[test]
fn declared_values_replace_measured_not_applicable() {
    // A prompt-only set: no attempts, so the scan marks pass-rate bands not applicable...
    let path = repo("tests/data/gsm8k/test.head50.jsonl");
    let source =
        RecordSource::open(expand_inputs(&[path]).unwrap(), SourceOptions::default()).unwrap();
    let scan = build::scan_source(source, "test.head50.jsonl").unwrap();
    let card = build::build(None, Some(&scan), None).unwrap();
    assert!(matches!(
        card.quality.pass_rate_bands,
        Fact::NotApplicable {
            provenance: Provenance::Measured,
            ..
        }
    ));
    assert_eq!(card.released.counts.value().unwrap().records, 50);
    assert_eq!(card.scaling.unique_tasks.value(), Some(&50));
    // ... and bands measured on a base-model rollout run elsewhere can be declared.
    let declared = Declared::from_toml(
        "[quality.pass_rate_bands]\nmodel = \"Qwen2.5-7B\"\nrollouts_per_task = 8\nbands = { \"0\" = 10, \"1\" = 40 }\n",
        "bands.toml",
    )
    .unwrap();
    let card = build::build(None, Some(&scan), Some(&declared)).unwrap();
    let bands = card.quality.pass_rate_bands.value().unwrap();
    assert_eq!(bands.model.as_deref(), Some("Qwen2.5-7B"));
    assert_eq!(bands.bands.get("1"), Some(&40));
    // A declared record count that disagrees with the scan is still refused.
    let wrong = Declared::from_toml("[released.counts]\nrecords = 49\n", "n.toml").unwrap();
    assert!(build::build(None, Some(&scan), Some(&wrong)).is_err());
}

#[test]
fn a_verify_run_over_no_attempts_does_not_measure_the_verifier() {
    use verity_core::ledger::LedgerEntry;
    use verity_core::record::{Contract, VerifierId};
    let mut entry = LedgerEntry::start("verify", serde_json::json!({"verifier": "math"}));
    entry.rows_in = 50;
    entry.rows_out = 50;
    entry
        .verifiers
        .push(VerifierId::new("math", "1.0.0", Contract::Programmatic));
    entry.summary =
        serde_json::json!({"attempts": 0, "pass": 0, "fail": 0, "records_without_attempts": 50});
    let ledger = Ledger {
        name: "l.jsonl".into(),
        entries: vec![entry.clone()],
    };
    let card = build::build(Some(&ledger), None, None).unwrap();
    assert!(!card.factors.verifier.is_known());
    assert!(!card.verification.contract.is_known());
    // The same run over 120 attempts does.
    entry.summary = serde_json::json!({"attempts": 120, "pass": 38, "fail": 82, "unknown": 0});
    let ledger = Ledger {
        name: "l.jsonl".into(),
        entries: vec![entry],
    };
    let card = build::build(Some(&ledger), None, None).unwrap();
    assert_eq!(card.factors.verifier.value().unwrap()[0].name, "math");
    assert_eq!(card.verification.results.value().unwrap()[0].pass, Some(38));
    // A declared verifier on a prompt-only set takes the declared contract.
    let declared = Declared::from_toml(
        "[verification]\ncontract = \"programmatic\"\n[factors]\nverifier = \"math@1.0.0\"\n",
        "f.toml",
    )
    .unwrap();
    let card = build::build(None, None, Some(&declared)).unwrap();
    assert_eq!(
        card.factors.verifier.value().unwrap()[0].contract,
        "programmatic"
    );
}
