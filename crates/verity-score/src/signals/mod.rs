//! Utility signals: what `verity score` writes onto records.
//!
//! What it does: for every attempt, writes `attempt.signals` (tokens, lengths, think shape,
//! final answer and truncation, answer consistency, repetition, reflection markers, script mix,
//! and agent-trajectory signals when the attempt has actions); for every record, writes
//! `record.signals` (the rollout statistics over its attempts: attempts, graded, passes,
//! pass rate, unbiased pass@k, majority answer and agreement, difficulty band, the verifier whose
//! verdicts counted, total tokens and the tokenizer's name).
//!
//! Why: selection, splits and the scaling ledger all read these signals; writing them once on
//! the record makes every later stage cheap and the numbers auditable.
//!
//! Known failure modes: a signal that cannot be computed is absent and its reason is written
//! to `signals.absent.<name>` (never a guess, never a crash). Signals measure properties of text
//! and verdicts; they do not measure quality (see `docs/signals.md`).

pub mod agent;
pub mod fasttok;
pub mod reflection;
pub mod rollout;
pub mod scan;
pub mod text;

pub use rollout::{band, pass_at_k, AttemptOutcome, TaskStats, VerifierChoice, BANDS};

use crate::error::Result;
use reflection::{ReflectionMatcher, REFLECTION_MARKERS};
use rollout::{is_rollout, round6};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use text::SCRIPTS;
use verity_core::record::{Attempt, Record, Signals};
use verity_core::tokens::Tokenizer;

/// How to score.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Tokenizer name (`cl100k_base`, `o200k_base`, `whitespace`); `None` skips token counts.
    pub tokenizer: Option<String>,
    /// The k values of pass@k.
    pub ks: Vec<u64>,
    /// Which verdicts count.
    pub verifier: VerifierChoice,
    /// Words per n-gram for the repetition ratio.
    pub ngram: usize,
    /// Write the task-level rollout statistics from the record's own attempts (turn off when a
    /// grouping pass writes them from the whole group instead).
    pub task_stats: bool,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            tokenizer: Some(verity_core::tokens::DEFAULT_TOKENIZER.to_string()),
            ks: vec![1, 2, 4, 8, 16, 32, 64, 128],
            verifier: VerifierChoice::Auto,
            ngram: 4,
            task_stats: true,
        }
    }
}

/// A configured scorer (cheap to share between threads).
#[derive(Debug)]
pub struct Scorer {
    options: ScoreOptions,
    tokenizer: Option<fasttok::TokenCounter>,
    reflection: &'static ReflectionMatcher,
}

impl Scorer {
    /// Build a scorer; fails on an unknown tokenizer name.
    pub fn new(options: ScoreOptions) -> Result<Scorer> {
        let tokenizer = match &options.tokenizer {
            Some(name) => Some(fasttok::TokenCounter::new(Tokenizer::by_name(name)?)),
            None => None,
        };
        Ok(Scorer {
            options,
            tokenizer,
            reflection: reflection::matcher(),
        })
    }

    /// The options.
    pub fn options(&self) -> &ScoreOptions {
        &self.options
    }

    /// The tokenizer's canonical name, if tokens are counted.
    pub fn tokenizer_name(&self) -> Option<&'static str> {
        self.tokenizer.as_ref().map(fasttok::TokenCounter::name)
    }

    /// Score every attempt of `record` and, unless disabled, its task-level statistics.
    pub fn score_record(&self, record: &mut Record) {
        let code =
            record.task.domain.as_deref() == Some("code") || record.task.reference.tests.is_some();
        let mut tokens_total = 0u64;
        let mut stats = TaskStats::default();
        for attempt in &mut record.attempts {
            self.score_attempt(attempt, code);
            if let Some(t) = attempt.signals.get("tokens").and_then(Value::as_u64) {
                tokens_total += t;
            }
            if is_rollout(attempt) {
                stats.add(AttemptOutcome::of(attempt, &self.options.verifier));
            }
        }
        let signals = &mut record.signals;
        if let Some(name) = self.tokenizer_name() {
            signals.insert("tokenizer".into(), json!(name));
            signals.insert("tokens_total".into(), json!(tokens_total));
        }
        if self.options.task_stats {
            stats.write(&self.options.ks, signals);
        }
        if record.task.reference.is_empty() {
            insert_absent(
                signals,
                "reference",
                "the task has no reference answer, tests or rubric",
            );
        }
    }

    /// Attempt-level signals, written into `attempt.signals`.
    pub fn score_attempt(&self, attempt: &mut Attempt, code: bool) {
        let mut s = Signals::with_capacity(24);
        let mut absent = Map::new();
        let trace = attempt.trace.as_deref();
        let response = attempt.response.as_deref();
        // The attempt's output is the trace, a newline, then the response; it is blank when
        // both are (no joined copy is made).
        let blank = trace.is_none_or(|t| t.trim().is_empty())
            && response.is_none_or(|r| r.trim().is_empty());
        let has_actions = !attempt.events.is_empty() || !attempt.messages.is_empty();
        // One byte scan per text gives its token count, its words, its reflection markers and
        // its letters. The words of the output are those of the trace followed by those of the
        // response (the joining newline is whitespace, and no marker spans a newline), so the
        // repetition, reflection and script signals of the output come from the same scans.
        let mut reflection = [0u32; reflection::GROUPS];
        let mut mix = [0u64; SCRIPTS.len()];
        let mut chars = [None, None];
        let (tt, rt, rep) = text::with_scratch(|scratch| {
            // The cl100k_base scanner counts the markers from its own lookups; other paths
            // count them over the alphanumeric bitmap.
            let fused = self
                .tokenizer
                .as_ref()
                .is_some_and(fasttok::TokenCounter::counts_markers);
            let mut scan = |t: &str, chars: &mut Option<usize>| {
                if fused {
                    scan::scan_whitespace(t, &mut scratch.masks);
                } else {
                    scan::scan(t, &mut scratch.masks);
                }
                let masks = &scratch.masks;
                *chars = Some(t.len() - masks.continuation as usize);
                mix[0] += masks.ascii_letters;
                if !masks.ascii {
                    text::add_non_ascii_scripts(t, &masks.lead, &mut mix);
                }
                match &self.tokenizer {
                    Some(tok) => {
                        let (n, counted) = tok.count_with_words_and_markers(
                            t,
                            &masks.ws,
                            &mut scratch.words,
                            Some(&mut reflection),
                        );
                        if !counted {
                            if fused {
                                // The scanner declined this text: the bitmap is needed.
                                scan::scan(t, &mut scratch.masks);
                            }
                            self.reflection
                                .count_into(t, &scratch.masks.alnum, &mut reflection);
                        }
                        Some(n as u64)
                    }
                    None => {
                        text::word_hashes_of(t, &masks.ws, &mut scratch.words);
                        self.reflection.count_into(t, &masks.alnum, &mut reflection);
                        None
                    }
                }
            };
            let [trace_chars, response_chars] = &mut chars;
            let tt = trace.and_then(|t| scan(t, trace_chars));
            let rt = response.and_then(|r| scan(r, response_chars));
            (
                tt,
                rt,
                text::repetition_of_words(&scratch.words, self.options.ngram, &mut scratch.table),
            )
        });
        if let Some(n) = chars[0] {
            s.push("trace_chars", json!(n));
        }
        if let Some(n) = chars[1] {
            s.push("response_chars", json!(n));
        }
        if self.tokenizer.is_some() {
            if let Some(tt) = tt {
                s.push("trace_tokens", json!(tt));
            }
            if let Some(rt) = rt {
                s.push("response_tokens", json!(rt));
            }
            s.push("tokens", json!(tt.unwrap_or(0) + rt.unwrap_or(0)));
        }
        if blank && !has_actions {
            absent.insert(
                "text".into(),
                json!("empty trace and response: text signals absent"),
            );
            s.push("empty", json!(true));
        } else if !blank {
            let shape = text::think_shape(trace, response);
            s.push("think", json!(shape.as_str()));
            s.push("think_wellformed", json!(shape.well_formed()));
            // The final answer lives in the response when the trace is separate.
            let answer_text = response.or(trace).unwrap_or("");
            let marker = text::final_answer_marker(attempt.answer.as_deref(), answer_text, code);
            s.push("has_final_answer", json!(marker.is_some()));
            let mut reasons = Vec::new();
            if attempt.finish_reason.as_deref() == Some("length") {
                reasons.push("finish_reason=length");
            }
            if shape == text::ThinkShape::Unclosed {
                reasons.push("unclosed_think");
            }
            if marker.is_none() {
                reasons.push("no_final_answer");
            }
            s.push("truncated", json!(!reasons.is_empty()));
            if !reasons.is_empty() {
                s.push("truncation_reasons", json!(reasons));
            }
            let consistency_trace = trace.or(if response.is_some() { None } else { Some("") });
            // With no separate trace the whole output is the trace and the stated answer is the
            // `answer` field (extracted by the adapter or the grader).
            let consistency = match (trace, attempt.answer.as_deref()) {
                (None, None) => Err("no separate trace and no stated answer field"),
                _ => text::answer_consistency(
                    consistency_trace.or(response),
                    if trace.is_some() { response } else { None },
                    attempt.answer.as_deref(),
                ),
            };
            match consistency {
                Ok(c) => {
                    s.push("answer_consistent", json!(c));
                }
                Err(reason) => {
                    absent.insert("answer_consistent".into(), json!(reason));
                }
            }
            s.push("words", json!(rep.words));
            s.push("repeat_ngram_ratio", json!(round6(rep.ngram_ratio)));
            s.push("tail_repeat_ratio", json!(round6(rep.tail_ratio)));
            s.push("looping", json!(rep.looping));
            let counts = reflection;
            let total: u32 = counts.iter().sum();
            let mut by = Map::with_capacity(counts.iter().filter(|c| **c > 0).count());
            for (i, c) in counts.iter().enumerate() {
                if *c > 0 {
                    by.insert(REFLECTION_MARKERS[i].0.into(), json!(c));
                }
            }
            s.push("reflection_count", json!(total));
            s.push("reflection", Value::Object(by));
            let letters: u64 = mix.iter().sum();
            if letters > 0 {
                // The scripts present, most letters first (a fixed array: no allocation).
                let mut all = [(0usize, 0u64); SCRIPTS.len()];
                for (slot, (i, c)) in all.iter_mut().zip(mix.iter().enumerate()) {
                    *slot = (i, *c);
                }
                all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let present = all.iter().take_while(|(_, c)| *c > 0).count();
                let ranked = &all[..present];
                let mut fractions = Map::with_capacity(present);
                for (i, c) in ranked {
                    fractions.insert(
                        SCRIPTS[*i].into(),
                        json!(round6(*c as f64 / letters as f64)),
                    );
                }
                let dominant = ranked[0].0;
                // Greek letters are common in mathematics; they do not make a text mixed.
                let mixed = ranked.iter().skip(1).any(|(i, c)| {
                    SCRIPTS[*i] != "greek" && *c >= 10 && *c as f64 / letters as f64 >= 0.05
                });
                s.push("scripts", Value::Object(fractions));
                s.push("dominant_script", json!(SCRIPTS[dominant]));
                s.push("language_mixed", json!(mixed));
            } else {
                absent.insert("scripts".into(), json!("no letters in the text"));
            }
        }
        if let Some(agent) = agent::agent_signals(attempt) {
            s.extend(agent.into_iter().map(|(k, v)| (k.into(), v)));
        }
        if !absent.is_empty() {
            s.push("absent", Value::Object(absent));
        }
        if attempt.signals.is_empty() {
            attempt.signals = s;
        } else {
            attempt.signals.extend(s);
        }
    }
}

/// Add `n` to `map[key]`, allocating the key only the first time it is seen (this runs for
/// every scored record).
fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(count) => *count += n,
        None => {
            map.insert(key.to_string(), n);
        }
    }
}

fn insert_absent(signals: &mut Signals, name: &str, reason: &str) {
    let entry = signals.get_or_insert_with("absent", || Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        m.insert(name.into(), json!(reason));
    }
}

/// Counts over scored records, for the ledger entry's `summary`.
#[derive(Debug, Clone, Default)]
pub struct ScoreSummary {
    /// Records scored.
    pub records: u64,
    /// Attempts scored.
    pub attempts: u64,
    /// Records with a pass rate.
    pub with_pass_rate: u64,
    /// Pass-rate band histogram over records with a pass rate.
    pub bands: BTreeMap<String, u64>,
    /// Verifier label -> attempts whose verdict came from it.
    pub verifiers: BTreeMap<String, u64>,
    /// Signal name -> reason -> count, for absent signals.
    pub absent: BTreeMap<String, BTreeMap<String, u64>>,
    /// Attempts flagged truncated / looping / language-mixed / with a malformed think block.
    pub flags: BTreeMap<String, u64>,
    /// Total tokens.
    pub tokens: u64,
    /// k -> (sum of pass@k, records with it), for the mean pass@k.
    pub pass_at_k: BTreeMap<String, (f64, u64)>,
}

impl ScoreSummary {
    /// Add one scored record.
    pub fn add(&mut self, record: &Record) {
        self.records += 1;
        let signals = &record.signals;
        if let Some(b) = signals.get("band").and_then(Value::as_str) {
            self.with_pass_rate += 1;
            bump(&mut self.bands, b, 1);
        }
        if let Some(Value::Object(at_k)) = signals.get("pass_at_k") {
            for (k, v) in at_k {
                if let Some(v) = v.as_f64() {
                    let slot = self.pass_at_k.entry(k.clone()).or_default();
                    slot.0 += v;
                    slot.1 += 1;
                }
            }
        }
        match signals.get("verifier") {
            Some(Value::String(v)) => {
                let graded = signals.get("graded").and_then(Value::as_u64).unwrap_or(0);
                bump(&mut self.verifiers, v, graded);
            }
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    bump(&mut self.verifiers, k, v.as_u64().unwrap_or(0));
                }
            }
            _ => {}
        }
        self.tokens += signals
            .get("tokens_total")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        self.add_absent(signals);
        for attempt in &record.attempts {
            self.attempts += 1;
            // One pass over the attempt's signals (this runs for every scored attempt).
            for (name, value) in attempt.signals.iter() {
                match (name, value) {
                    ("truncated" | "looping" | "language_mixed", Value::Bool(true)) => {
                        bump(&mut self.flags, name, 1);
                    }
                    ("think_wellformed", Value::Bool(false)) => {
                        bump(&mut self.flags, "think_malformed", 1);
                    }
                    ("absent", Value::Object(m)) => self.add_absent_map(m),
                    _ => {}
                }
            }
        }
    }

    fn add_absent(&mut self, signals: &Signals) {
        if let Some(Value::Object(m)) = signals.get("absent") {
            self.add_absent_map(m);
        }
    }

    fn add_absent_map(&mut self, m: &Map<String, Value>) {
        for (name, reason) in m {
            let reasons = match self.absent.get_mut(name.as_str()) {
                Some(reasons) => reasons,
                None => self.absent.entry(name.clone()).or_default(),
            };
            bump(reasons, reason.as_str().unwrap_or("?"), 1);
        }
    }

    /// Merge another summary.
    pub fn merge(&mut self, other: ScoreSummary) {
        self.records += other.records;
        self.attempts += other.attempts;
        self.with_pass_rate += other.with_pass_rate;
        self.tokens += other.tokens;
        for (k, v) in other.bands {
            *self.bands.entry(k).or_insert(0) += v;
        }
        for (k, v) in other.verifiers {
            *self.verifiers.entry(k).or_insert(0) += v;
        }
        for (k, v) in other.flags {
            *self.flags.entry(k).or_insert(0) += v;
        }
        for (k, (sum, n)) in other.pass_at_k {
            let slot = self.pass_at_k.entry(k).or_default();
            slot.0 += sum;
            slot.1 += n;
        }
        for (k, m) in other.absent {
            let e = self.absent.entry(k).or_default();
            for (r, c) in m {
                *e.entry(r).or_insert(0) += c;
            }
        }
    }

    /// The typed summary written to the ledger (every band listed, 0 when empty; pass@k as the
    /// mean over the records that have it).
    pub fn typed(&self) -> verity_core::summary::ScoreSummary {
        verity_core::summary::ScoreSummary {
            records: self.records,
            attempts: self.attempts,
            records_with_pass_rate: self.with_pass_rate,
            bands: BANDS
                .iter()
                .map(|b| (b.to_string(), self.bands.get(*b).copied().unwrap_or(0)))
                .collect(),
            verifiers: self.verifiers.clone(),
            tokens: self.tokens,
            flags: self.flags.clone(),
            absent: self.absent.clone(),
            pass_at_k: self
                .pass_at_k
                .iter()
                .filter(|(_, (_, n))| *n > 0)
                .map(|(k, (sum, n))| (k.clone(), round6(sum / *n as f64)))
                .collect(),
        }
    }

    /// The summary as JSON (the typed summary).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.typed()).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests;
