//! Grouping rows into tasks when the data holds one attempt per row.
//!
//! What it does: a [`GroupKey`] derives a task key from each record (the normalized problem
//! text, or a field); a [`Grouper`] accumulates the attempts' outcomes per key in a first pass,
//! and writes the group's rollout statistics onto every row of the group in a second pass.
//!
//! Why: many rollout dumps (Qwen2.5-Math evaluation outputs, Sky-T1 traces, verl logs) store
//! each sample as its own row; pass rate and pass@k only exist per task.
//!
//! Known failure modes: rows without a key (no problem text, missing field) get no task
//! statistics (`signals.absent.task` says why). Rows sharing a key but disagreeing on the
//! reference answer are a conflicting group: their statistics are absent with that reason rather
//! than mixed. Keys are 64-bit hashes of the normalized text: two different problems collide with
//! probability about `n^2 / 2^65` (negligible below billions of tasks).

use crate::error::{Error, Result};
use crate::expr::resolve_path;
use crate::signals::{AttemptOutcome, TaskStats, VerifierChoice};
use crate::util::{hash64, normalize_answer, normalize_problem};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};
use verity_core::record::{Record, Signals};

/// How rows are grouped into tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKey {
    /// The problem text, normalized (case, spacing and punctuation ignored).
    Problem,
    /// The value of a field path (`meta.idx`, `task.source.row`, `id`, ...).
    Field(String),
}

impl GroupKey {
    /// Parse `problem` or `field:NAME`.
    pub fn parse(text: &str) -> Result<GroupKey> {
        match text {
            "problem" => Ok(GroupKey::Problem),
            other => match other.strip_prefix("field:") {
                Some(name) if !name.is_empty() => Ok(GroupKey::Field(name.to_string())),
                _ => Err(Error::param(
                    "group-by",
                    format!("`{other}`: expected `problem` or `field:NAME`"),
                )),
            },
        }
    }

    /// The key of `record` as a 64-bit hash, or the reason there is none.
    pub fn key(&self, record: &Record) -> std::result::Result<u64, String> {
        match self {
            GroupKey::Problem => {
                let text = record
                    .problem_text()
                    .ok_or("the record has no problem text")?;
                let norm = normalize_problem(text);
                if norm.is_empty() {
                    return Err("the problem text is empty".into());
                }
                Ok(hash64(1, norm.as_bytes()))
            }
            GroupKey::Field(path) => match resolve_path(record, path) {
                None | Some(Value::Null) => Err(format!("the record has no field `{path}`")),
                Some(Value::String(s)) => Ok(hash64(2, s.as_bytes())),
                Some(other) => Ok(hash64(2, other.to_string().as_bytes())),
            },
        }
    }
}

#[derive(Debug, Default, Clone)]
struct GroupState {
    rows: u64,
    stats: TaskStats,
    references: BTreeSet<String>,
}

/// First-pass accumulator of per-task outcomes.
#[derive(Debug, Default, Clone)]
pub struct Grouper {
    groups: HashMap<u64, GroupState>,
    /// Rows without a key.
    pub unkeyed: u64,
}

impl Grouper {
    /// Add one row.
    pub fn add(&mut self, key: &GroupKey, record: &Record, choice: &VerifierChoice) {
        let Ok(k) = key.key(record) else {
            self.unkeyed += 1;
            return;
        };
        let state = self.groups.entry(k).or_default();
        state.rows += 1;
        if let Some(reference) = &record.task.reference.answer {
            state.references.insert(normalize_answer(reference));
        }
        for attempt in record
            .attempts
            .iter()
            .filter(|a| crate::signals::rollout::is_rollout(a))
        {
            state.stats.add(AttemptOutcome::of(attempt, choice));
        }
    }

    /// Merge a grouper built on another thread.
    pub fn merge(&mut self, other: Grouper) {
        self.unkeyed += other.unkeyed;
        for (k, g) in other.groups {
            let state = self.groups.entry(k).or_default();
            state.rows += g.rows;
            state.references.extend(g.references);
            let s = &mut state.stats;
            s.attempts += g.stats.attempts;
            s.graded += g.stats.graded;
            s.passes += g.stats.passes;
            for (a, c) in g.stats.verifiers {
                *s.verifiers.entry(a).or_insert(0) += c;
            }
            for (a, c) in g.stats.answers {
                *s.answers.entry(a).or_insert(0) += c;
            }
            for (a, (p, f)) in g.stats.answer_verdicts {
                let e = s.answer_verdicts.entry(a).or_insert((0, 0));
                e.0 += p;
                e.1 += f;
            }
        }
    }

    /// Number of groups (tasks).
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// Number of groups whose rows disagree on the reference answer.
    pub fn conflicting(&self) -> usize {
        self.groups
            .values()
            .filter(|g| g.references.len() > 1)
            .count()
    }

    /// Second pass: write the group's statistics onto `record.signals`.
    pub fn annotate(&self, key: &GroupKey, record: &mut Record, ks: &[u64]) {
        let key_result = key.key(record);
        let signals = &mut record.signals;
        let k = match key_result {
            Ok(k) => k,
            Err(reason) => {
                absent(signals, "task", &reason);
                return;
            }
        };
        let Some(state) = self.groups.get(&k) else {
            absent(signals, "task", "the row was not seen in the grouping pass");
            return;
        };
        signals.insert("task_key".into(), json!(format!("{k:016x}")));
        signals.insert("group_rows".into(), json!(state.rows));
        if state.references.len() > 1 {
            absent(
                signals,
                "pass_rate",
                &format!(
                    "conflicting group: rows under this key have {} different reference answers",
                    state.references.len()
                ),
            );
            signals.insert("group_conflict".into(), json!(true));
            return;
        }
        state.stats.write(ks, signals);
    }
}

fn absent(signals: &mut Signals, name: &str, reason: &str) {
    let entry = signals.get_or_insert_with("absent", || Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        m.insert(name.into(), json!(reason));
    }
}
