//! Preference pairs from rollout sets: a passing attempt (chosen) against a failing attempt
//! (rejected) of the same task, under the chosen verifier.
//!
//! What it does: given the records of one task (one `rollout_set` record, or the rows grouped
//! under one task key), collects passing and failing attempts, orders each side by a seeded
//! hash, and pairs them up to `max_pairs`. Each pair is a `preference_pair` record whose
//! `lineage.parents` names the records its attempts came from.
//!
//! Known failure modes: tasks where every attempt passes, or every attempt fails, or nothing is
//! graded yield no pair (the reason is returned for the rejection counts). The pair says "the
//! verifier preferred this one", nothing more: two wrong-but-differently-wrong attempts are
//! never paired, and a pass under a weak verifier may still be wrong.

use crate::signals::rollout::{is_rollout, verifier_label};
use crate::signals::VerifierChoice;
use crate::util::{hash64, mix64};
use serde_json::json;
use verity_core::record::{Attempt, AttemptRole, ObjectKind, Record};

/// Pairing options.
#[derive(Debug, Clone)]
pub struct PairOptions {
    /// Which verdicts count.
    pub verifier: VerifierChoice,
    /// At most this many pairs per task.
    pub max_pairs: usize,
    /// Seed for the order of attempts on each side.
    pub seed: u64,
}

impl Default for PairOptions {
    fn default() -> Self {
        PairOptions {
            verifier: VerifierChoice::Auto,
            max_pairs: 1,
            seed: 0,
        }
    }
}

/// Build pairs for one task from `records`. `Err(reason)` when the task yields none.
pub fn build_pairs(records: &[Record], options: &PairOptions) -> Result<Vec<Record>, &'static str> {
    let Some(first) = records.first() else {
        return Err("no records");
    };
    let mut passing: Vec<(u64, &Record, &Attempt, String)> = Vec::new();
    let mut failing: Vec<(u64, &Record, &Attempt, String)> = Vec::new();
    let mut attempts = 0;
    for record in records {
        for (i, attempt) in record
            .attempts
            .iter()
            .enumerate()
            .filter(|(_, a)| is_rollout(a))
        {
            attempts += 1;
            let Some((passed, feedback)) = options.verifier.verdict(attempt) else {
                continue;
            };
            let order = mix64(options.seed ^ hash64(i as u64, record.id.as_bytes()));
            let label = verifier_label(&feedback.verifier);
            if passed {
                passing.push((order, record, attempt, label));
            } else {
                failing.push((order, record, attempt, label));
            }
        }
    }
    if attempts == 0 {
        return Err("pairs: task has no attempts");
    }
    match (passing.is_empty(), failing.is_empty()) {
        (true, true) => return Err("pairs: no graded attempts"),
        (true, false) => return Err("pairs: no passing attempt"),
        (false, true) => return Err("pairs: no failing attempt"),
        _ => {}
    }
    passing.sort_by_key(|p| p.0);
    failing.sort_by_key(|p| p.0);
    // Distinct pairs, using every attempt once before any is reused: pair j takes passing
    // attempt p = j mod P and failing attempt (p + j div P) mod F.
    let n = options.max_pairs.min(passing.len() * failing.len());
    let mut out = Vec::with_capacity(n);
    for j in 0..n {
        let p = j % passing.len();
        let f = (p + j / passing.len()) % failing.len();
        let (_, cr, ca, clabel) = &passing[p];
        let (_, rr, ra, rlabel) = &failing[f];
        let mut pair = Record::new(
            format!("{}:pair{}", first.id, j),
            ObjectKind::PreferencePair,
        );
        pair.task = first.task.clone();
        let mut chosen = (*ca).clone();
        chosen.role = AttemptRole::Chosen;
        let mut rejected = (*ra).clone();
        rejected.role = AttemptRole::Rejected;
        pair.attempts = vec![chosen, rejected];
        let mut parents = vec![cr.id.clone()];
        if rr.id != cr.id {
            parents.push(rr.id.clone());
        }
        pair.lineage.parents = parents;
        pair.lineage.stages = first.lineage.stages.clone();
        pair.lineage.stages.push("select:pairs".into());
        pair.lineage.teacher = first.lineage.teacher.clone();
        pair.signals
            .insert("pair_basis".into(), json!("verifier verdict: pass vs fail"));
        pair.signals.insert(
            "pair_verifier".into(),
            json!(if clabel == rlabel {
                json!(clabel)
            } else {
                json!([clabel, rlabel])
            }),
        );
        out.push(pair);
    }
    Ok(out)
}
