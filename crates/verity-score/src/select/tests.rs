#![allow(clippy::field_reassign_with_default)]
use super::pairs::{build_pairs, PairOptions};
use super::*;
use serde_json::json;
use verity_core::record::{Attempt, Contract, Feedback, Granularity, ObjectKind, VerifierId};

fn rec(i: u64, source: &str, pass_rate: f64, truncated: bool) -> Record {
    let mut r = Record::new(format!("r{i}"), ObjectKind::PromptTraceAnswer);
    r.task.prompt = Some(format!(
        "problem number {i} about {source} with several words in it"
    ));
    r.task.source.dataset = Some(source.into());
    r.signals.insert("pass_rate".into(), json!(pass_rate));
    r.signals
        .insert("band".into(), json!(crate::signals::band(pass_rate)));
    let mut a = Attempt::with_response("x");
    a.signals.insert("truncated".into(), json!(truncated));
    r.attempts.push(a);
    r
}

fn run(plan: SelectPlan, records: &[Record]) -> (Vec<u64>, BTreeMap<String, u64>) {
    let s = Selector::new(plan);
    let mut rejections = BTreeMap::new();
    let mut cands = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match s.screen(r, i as u64) {
            Screened::Keep(c) => cands.push(c),
            Screened::Reject(reason) => *rejections.entry(reason).or_insert(0) += 1,
        }
    }
    (s.choose(cands, &mut rejections), rejections)
}

#[test]
fn filters_and_bands_count_rejections() {
    let records: Vec<Record> = (0..10)
        .map(|i| rec(i, "a", i as f64 / 9.0, i % 3 == 0))
        .collect();
    let mut plan = SelectPlan::default();
    plan.filter("pass_rate > 0 and pass_rate < 0.8 and not truncated")
        .unwrap();
    let (kept, rej) = run(plan, &records);
    // i = 1..7 have 0 < p < 0.8 (p=7/9=0.78); drop truncated 3 and 6.
    assert_eq!(kept, vec![1, 2, 4, 5, 7]);
    assert_eq!(rej.values().sum::<u64>(), 5);
    let mut plan = SelectPlan::default();
    plan.bands(&["hard".into(), "1".into()]).unwrap();
    let (kept, rej) = run(plan, &records);
    assert_eq!(kept, vec![1, 2, 9]);
    assert_eq!(rej["band: 0 not kept"], 1);
    assert!(SelectPlan::default().bands(&["bogus".into()]).is_err());
}

#[test]
fn quota_topk_and_diversity_are_deterministic() {
    let records: Vec<Record> = (0..30)
        .map(|i| {
            rec(
                i,
                ["a", "b", "c"][(i % 3) as usize],
                (i % 10) as f64 / 10.0,
                false,
            )
        })
        .collect();
    let mut plan = SelectPlan {
        seed: 7,
        ..SelectPlan::default()
    };
    plan.quota = Some((KeyBy::Source, 4));
    let (kept, rej) = run(plan.clone(), &records);
    assert_eq!(kept.len(), 12);
    assert_eq!(rej["quota: over 4 per source"], 18);
    assert_eq!(run(plan, &records).0, kept, "same seed, same result");

    let mut plan = SelectPlan::default();
    plan.top_k = Some(("pass_rate".into(), expr::parse("pass_rate").unwrap(), 3));
    let (kept, _) = run(plan, &records);
    // The three records with pass_rate 0.9: i = 9, 19, 29.
    assert_eq!(kept, vec![9, 19, 29]);

    let mut plan = SelectPlan {
        seed: 1,
        ..SelectPlan::default()
    };
    plan.diversity = Some((KeyBy::Source, 6));
    let (kept, rej) = run(plan, &records);
    assert_eq!(kept.len(), 6);
    let per_source = |s: u64| kept.iter().filter(|i| *i % 3 == s).count();
    assert_eq!((per_source(0), per_source(1), per_source(2)), (2, 2, 2));
    assert_eq!(rej.values().sum::<u64>(), 24);
    let mut plan2 = SelectPlan {
        seed: 2,
        ..SelectPlan::default()
    };
    plan2.diversity = Some((KeyBy::Source, 6));
    assert_ne!(
        run(plan2, &records).0,
        kept,
        "another seed samples differently"
    );
}

#[test]
fn diversity_over_minhash_clusters() {
    let mut records = Vec::new();
    for i in 0..6 {
        let mut r = rec(i, "a", 0.5, false);
        r.task.prompt = Some(if i < 5 {
            format!("Natalia sold clips to 48 of her friends in April and then half as many in May case {}", if i == 0 { "" } else { " " })
        } else {
            "A completely different question about trains leaving stations at noon".into()
        });
        records.push(r);
    }
    let mut plan = SelectPlan::default();
    plan.diversity = Some((KeyBy::Cluster, 2));
    let (kept, _) = run(plan, &records);
    assert_eq!(kept.len(), 2);
    assert!(
        kept.contains(&5),
        "the singleton cluster is represented: {kept:?}"
    );
}

#[test]
fn s1k_recipe_runs_in_stages() {
    let mut records: Vec<Record> = (0..40)
        .map(|i| rec(i, "a", (i % 5) as f64 / 4.0, i % 7 == 0))
        .collect();
    for (i, r) in records.iter_mut().enumerate() {
        r.task.domain = Some(["algebra", "geometry"][i % 2].into());
        let s = &mut r.attempts[0].signals;
        s.insert("looping".into(), json!(false));
        s.insert("think_wellformed".into(), json!(true));
        s.insert("language_mixed".into(), json!(false));
    }
    let mut plan = SelectPlan::default();
    plan.s1k(4).unwrap();
    let (kept, rej) = run(plan, &records);
    assert_eq!(kept.len(), 4);
    for i in &kept {
        let r = &records[*i as usize];
        assert!(r.signals["pass_rate"].as_f64().unwrap() < 1.0);
        assert_eq!(r.attempts[0].signals["truncated"], json!(false));
    }
    let domains: std::collections::BTreeSet<_> = kept
        .iter()
        .map(|i| records[*i as usize].task.domain.clone())
        .collect();
    assert_eq!(domains.len(), 2);
    assert!(rej.keys().any(|k| k.starts_with("where: has(truncated)")));
    assert!(rej.keys().any(|k| k.starts_with("where: has(pass_rate)")));
}

fn graded(passed: bool) -> Attempt {
    let mut a = Attempt::with_response(if passed { "right" } else { "wrong" });
    a.feedback.push(Feedback::from_bool(
        VerifierId::new("math", "1", Contract::Programmatic),
        Granularity::Answer,
        passed,
    ));
    a
}

#[test]
fn preference_pairs_from_rollouts() {
    let mut r = Record::new("t", ObjectKind::RolloutSet);
    r.attempts = vec![graded(true), graded(false), graded(false), graded(true)];
    let pairs = build_pairs(
        std::slice::from_ref(&r),
        &PairOptions {
            max_pairs: 3,
            ..PairOptions::default()
        },
    )
    .unwrap();
    assert_eq!(pairs.len(), 3);
    let distinct: std::collections::BTreeSet<_> = pairs
        .iter()
        .map(|p| {
            (
                p.attempts[0].clone().response,
                format!("{:?}", p.attempts[1].feedback),
            )
        })
        .collect();
    assert!(!distinct.is_empty());
    for p in &pairs {
        assert_eq!(p.object, ObjectKind::PreferencePair);
        assert_eq!(p.attempts[0].response.as_deref(), Some("right"));
        assert_eq!(p.attempts[1].response.as_deref(), Some("wrong"));
        assert_eq!(p.lineage.parents, vec!["t".to_string()]);
    }
    // Rows of one task.
    let rows: Vec<Record> = [true, false]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut r = Record::new(format!("row{i}"), ObjectKind::PromptTraceAnswer);
            r.attempts.push(graded(*p));
            r
        })
        .collect();
    let pairs = build_pairs(&rows, &PairOptions::default()).unwrap();
    assert_eq!(
        pairs[0].lineage.parents,
        vec!["row0".to_string(), "row1".to_string()]
    );
    r.attempts = vec![graded(true)];
    assert_eq!(
        build_pairs(&[r.clone()], &PairOptions::default()).unwrap_err(),
        "pairs: no failing attempt"
    );
    r.attempts.clear();
    assert!(build_pairs(&[r], &PairOptions::default()).is_err());
}
