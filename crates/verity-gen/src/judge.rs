//! `judge`: the judgment-required verifier. A model grades each attempt against a rubric.
//!
//! What it does:
//! - **pointwise** (default): for every attempt, the rubric template is rendered with
//!   `{problem}`, `{answer}` (reference answer), `{rubric}` (the task's rubric items) and
//!   `{response}` (the attempt's text), sent at temperature 0, and the verdict parsed from JSON
//!   (`{"verdict": "pass"|"fail", "score": 0.8, "reason": "..."}`; the first `{...}` in the
//!   reply) or from a declared `pattern` (a regex whose group `verdict` or 1 is the verdict or
//!   a number). The feedback's verifier is `judge@<model>+<template hash>` with contract
//!   `judgment_required`, and its `detail.kind` is `rubric_judgment` (rubric, reason, raw reply).
//! - **pairwise**: for preference pairs, the judge sees (A = chosen, B = rejected) and the
//!   swapped order; the verdict (on the chosen attempt, granularity `pairwise`) is `pass` when
//!   both orders prefer the chosen attempt, `fail` when both prefer the rejected one, and
//!   `unknown` when the two orders disagree (position bias), with `detail.consistent`.
//! - **agreement**: when an attempt also carries a programmatic pass/fail verdict, the
//!   confusion counts of judge vs program go into the ledger summary (`agreement`).
//!
//! Why: many tasks have no programmatic checker (proofs, open answers, preference), and a
//! judge's verdicts are only worth as much as its measured agreement with one where both exist.
//!
//! Known failure modes: a judge that does not follow the output format yields `unknown`
//! verdicts (counted as `unparsed`); small judges are strongly position-biased, which the
//! pairwise consistency flag exposes rather than hides.

use crate::ask::ask;
use crate::cache::Cache;
use crate::client::Client;
use crate::config::{EndpointConfig, SamplingConfig, TemplateConfig};
use crate::error::{Error, Result};
use crate::stage::{cache_path, runtime};
use crate::stats::Stats;
use crate::template::Template;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::task::JoinSet;
use verity_core::record::{
    Attempt, AttemptRole, Contract, Feedback, Granularity, ObjectKind, Record, Verdict, VerifierId,
};
use verity_core::stage::{Processed, Stage};

/// Pointwise or pairwise.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JudgeMode {
    /// Grade each attempt.
    #[default]
    Pointwise,
    /// Compare the chosen and rejected attempts of preference pairs, in both orders.
    Pairwise,
}

/// `stage = "judge"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    /// The judge's server.
    pub endpoint: EndpointConfig,
    /// `pointwise` (default) or `pairwise`.
    #[serde(default)]
    pub mode: JudgeMode,
    /// System message of the rubric template (default: a strict grader).
    #[serde(default)]
    pub system: Option<String>,
    /// User template (default: [`DEFAULT_POINTWISE`] / [`DEFAULT_PAIRWISE`]).
    #[serde(default)]
    pub user: Option<String>,
    /// A regex whose group `verdict` (or 1) holds the verdict, instead of JSON.
    #[serde(default)]
    pub pattern: Option<String>,
    /// A numeric verdict passes at or above this (default 0.5).
    #[serde(default = "half")]
    pub pass_threshold: f64,
    /// Judge temperature (default 0).
    #[serde(default)]
    pub temperature: f64,
    /// Judge token limit (default 256).
    #[serde(default = "default_judge_tokens")]
    pub max_tokens: u32,
    /// Seed sent to the judge.
    #[serde(default)]
    pub seed: Option<u64>,
}

fn half() -> f64 {
    0.5
}
fn default_judge_tokens() -> u32 {
    256
}

/// The default system message.
pub const DEFAULT_SYSTEM: &str = "You are a strict grader of solutions. Judge only whether the candidate's final answer is correct and its reasoning supports it. Reply with JSON only.";

/// The default pointwise rubric.
pub const DEFAULT_POINTWISE: &str = "Problem:\n{problem}\n\nReference answer:\n{answer}\n\nCandidate solution:\n{response}\n\nIs the candidate's final answer correct? Reply with JSON only: {{\"verdict\": \"pass\" or \"fail\", \"reason\": \"one sentence\"}}";

/// The default pairwise rubric.
pub const DEFAULT_PAIRWISE: &str = "Problem:\n{problem}\n\nResponse A:\n{response_a}\n\nResponse B:\n{response_b}\n\nWhich response is better (correct, and better reasoned)? Reply with JSON only: {{\"verdict\": \"A\" or \"B\", \"reason\": \"one sentence\"}}";

/// A parsed verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// Pass / fail (pointwise) or A / B preference (pairwise: pass = A).
    pub verdict: Option<bool>,
    /// A numeric score, when given.
    pub score: Option<f64>,
    /// The judge's reason.
    pub reason: Option<String>,
    /// `tie` for pairwise.
    pub tie: bool,
}

/// Read a verdict word or number.
fn verdict_word(word: &str, threshold: f64) -> Option<(Option<bool>, Option<f64>, bool)> {
    let w = word
        .trim()
        .trim_matches(|c: char| c == '"' || c == '\'' || c == '.')
        .to_lowercase();
    if let Ok(x) = w.parse::<f64>() {
        return Some((Some(x >= threshold), Some(x), false));
    }
    match w.as_str() {
        "pass" | "correct" | "yes" | "true" | "a" | "accept" | "right" => {
            Some((Some(true), None, false))
        }
        "fail" | "incorrect" | "no" | "false" | "b" | "reject" | "wrong" => {
            Some((Some(false), None, false))
        }
        "tie" | "equal" | "both" | "neither" => Some((None, None, true)),
        _ => None,
    }
}

/// Parse a judge reply: a regex `pattern` when given, else the first JSON object.
pub fn parse_verdict(text: &str, pattern: Option<&Regex>, threshold: f64) -> Option<Parsed> {
    if let Some(re) = pattern {
        let caps = re.captures(text)?;
        let m = caps.name("verdict").or_else(|| caps.get(1))?;
        let (verdict, score, tie) = verdict_word(m.as_str(), threshold)?;
        return Some(Parsed {
            verdict,
            score,
            reason: None,
            tie,
        });
    }
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    if end <= start {
        return None;
    }
    let value: Value = serde_json::from_str(&text[start..=end]).ok()?;
    let reason = ["reason", "explanation", "rationale"]
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_str))
        .map(str::to_string);
    let score = value.get("score").and_then(Value::as_f64);
    for key in [
        "verdict",
        "grade",
        "label",
        "correct",
        "winner",
        "preference",
    ] {
        match value.get(key) {
            Some(Value::String(s)) => {
                let (verdict, s2, tie) = verdict_word(s, threshold)?;
                return Some(Parsed {
                    verdict,
                    score: score.or(s2),
                    reason,
                    tie,
                });
            }
            Some(Value::Bool(b)) => {
                return Some(Parsed {
                    verdict: Some(*b),
                    score,
                    reason,
                    tie: false,
                })
            }
            Some(Value::Number(n)) => {
                let x = n.as_f64()?;
                return Some(Parsed {
                    verdict: Some(x >= threshold),
                    score: Some(x),
                    reason,
                    tie: false,
                });
            }
            _ => {}
        }
    }
    score.map(|x| Parsed {
        verdict: Some(x >= threshold),
        score: Some(x),
        reason,
        tie: false,
    })
}

/// Confusion counts of the judge against a programmatic verdict on the same attempts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Agreement {
    /// Programmatic verifiers compared against (`math@x.y.z`).
    pub against: Vec<String>,
    /// Both pass.
    pub judge_pass_program_pass: u64,
    /// Judge pass, program fail (judge false positive, if the program is right).
    pub judge_pass_program_fail: u64,
    /// Judge fail, program pass.
    pub judge_fail_program_pass: u64,
    /// Both fail.
    pub judge_fail_program_fail: u64,
    /// Judge undecided where the program decided.
    pub judge_unknown: u64,
}

impl Agreement {
    /// Share of decided attempts where judge and program agree.
    pub fn rate(&self) -> Option<f64> {
        let agree = self.judge_pass_program_pass + self.judge_fail_program_fail;
        let total = agree + self.judge_pass_program_fail + self.judge_fail_program_pass;
        (total > 0).then(|| agree as f64 / total as f64)
    }
}

#[derive(Default)]
struct Counts {
    pass: u64,
    fail: u64,
    unknown: u64,
    unparsed: u64,
    failures: BTreeMap<String, u64>,
    agreement: Agreement,
    pairs: u64,
    consistent: u64,
    prefer_chosen: u64,
    prefer_rejected: u64,
    judge_models: BTreeMap<String, u64>,
}

/// The judge: a verifier backed by a model.
pub struct Judge {
    client: Arc<Client>,
    cache: Arc<Cache>,
    template: Template,
    sampling: SamplingConfig,
    pattern: Option<Regex>,
    config: JudgeConfig,
    id: VerifierId,
    counts: Mutex<Counts>,
}

impl Judge {
    /// Build from the config (cache path as for `generate`).
    pub fn new(config: &JudgeConfig, base_dir: &Path, default_cache: &Path) -> Result<Judge> {
        let path = cache_path(config.endpoint.cache.as_deref(), base_dir, default_cache);
        let cache = Arc::new(Cache::open(&path)?);
        let client = Arc::new(Client::new(&config.endpoint, Arc::new(Stats::default()))?);
        let user = config.user.clone().unwrap_or_else(|| {
            match config.mode {
                JudgeMode::Pointwise => DEFAULT_POINTWISE,
                JudgeMode::Pairwise => DEFAULT_PAIRWISE,
            }
            .to_string()
        });
        let template = Template::with_fields(
            &TemplateConfig {
                system: Some(
                    config
                        .system
                        .clone()
                        .unwrap_or_else(|| DEFAULT_SYSTEM.into()),
                ),
                user: Some(user),
                few_shot: Vec::new(),
            },
            config.endpoint.api,
            &["response", "response_a", "response_b", "rubric"],
        )?;
        let pattern = match &config.pattern {
            Some(p) => Some(Regex::new(p).map_err(|e| Error::Config {
                field: "pattern".into(),
                message: e.to_string(),
            })?),
            None => None,
        };
        let id = VerifierId::new(
            "judge",
            format!("{}+{}", config.endpoint.model, &template.hash()[..12]),
            Contract::JudgmentRequired,
        );
        Ok(Judge {
            client,
            cache,
            sampling: SamplingConfig {
                n: 1,
                temperature: Some(config.temperature),
                max_tokens: Some(config.max_tokens),
                seed: config.seed,
                ..SamplingConfig::default()
            },
            template,
            pattern,
            config: config.clone(),
            id,
            counts: Mutex::default(),
        })
    }

    /// The verifier identity (`judge@<model>+<template hash>`).
    pub fn id(&self) -> &VerifierId {
        &self.id
    }

    /// The counters of the judge's requests.
    pub fn stats(&self) -> &Arc<Stats> {
        self.client.stats()
    }

    async fn grade(
        self: &Arc<Self>,
        record: &Record,
        extra: Vec<(&'static str, String)>,
    ) -> Result<std::result::Result<(Option<Parsed>, String, String), String>> {
        let prompt = match self.template.render_with(record, &extra) {
            Ok(p) => p,
            Err(m) => return Ok(Err(format!("template: {m}"))),
        };
        match ask(&self.client, &self.cache, &prompt, &self.sampling, 0).await? {
            Ok(sample) => {
                let parsed = parse_verdict(
                    &sample.text,
                    self.pattern.as_ref(),
                    self.config.pass_threshold,
                );
                Ok(Ok((parsed, sample.text, sample.model)))
            }
            Err(f) => Ok(Err(f.reason())),
        }
    }

    fn feedback(&self, granularity: Granularity, verdict: Verdict, detail: Value) -> Feedback {
        Feedback::new(self.id.clone(), granularity, verdict).with_detail(detail)
    }

    async fn pointwise(self: &Arc<Self>, mut record: Record) -> Result<Record> {
        let rubric = record.task.reference.rubric.as_ref().map(|r| match r {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    format!(
                        "- {}",
                        i.as_str().map_or_else(|| i.to_string(), str::to_string)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            other => other.to_string(),
        });
        for i in 0..record.attempts.len() {
            let text = record.attempts[i].full_text();
            let mut extra = vec![("response", text)];
            if let Some(r) = &rubric {
                extra.push(("rubric", r.clone()));
            }
            let outcome = self.grade(&record, extra).await?;
            let fb = match outcome {
                Ok((Some(parsed), raw, model)) if parsed.verdict.is_some() => {
                    let pass = parsed.verdict == Some(true);
                    let mut fb = self.feedback(
                        Granularity::Answer,
                        if pass { Verdict::Pass } else { Verdict::Fail },
                        json!({"kind": "rubric_judgment", "judge_model": model, "reason": parsed.reason,
                               "rubric": rubric, "raw": clip(&raw)}),
                    );
                    fb.score = parsed.score;
                    self.count(|c| {
                        if pass {
                            c.pass += 1
                        } else {
                            c.fail += 1
                        }
                        *c.judge_models.entry(model.clone()).or_default() += 1;
                    });
                    fb
                }
                Ok((_, raw, model)) => {
                    self.count(|c| {
                        c.unknown += 1;
                        c.unparsed += 1;
                        *c.judge_models.entry(model.clone()).or_default() += 1;
                    });
                    self.feedback(
                        Granularity::Answer,
                        Verdict::Unknown,
                        json!({"kind": "rubric_judgment", "reason": "unparsed verdict", "judge_model": model, "raw": clip(&raw)}),
                    )
                }
                Err(reason) => {
                    self.count(|c| {
                        c.unknown += 1;
                        *c.failures.entry(reason.clone()).or_default() += 1;
                    });
                    self.feedback(
                        Granularity::Answer,
                        Verdict::Unknown,
                        json!({"kind": "rubric_judgment", "reason": reason}),
                    )
                }
            };
            self.compare(&record.attempts[i], &fb);
            record.attempts[i].feedback.push(fb);
        }
        mark(&mut record, &self.id);
        Ok(record)
    }

    /// Count judge vs the latest programmatic verdict of the attempt.
    fn compare(&self, attempt: &Attempt, judge: &Feedback) {
        let program = attempt.feedback.iter().rev().find(|f| {
            f.verifier.contract == Contract::Programmatic
                && f.step.is_none()
                && f.passed().is_some()
        });
        let Some(program) = program else { return };
        let p = program.passed() == Some(true);
        let label = program.verifier.label();
        self.count(|c| {
            if !c.agreement.against.contains(&label) {
                c.agreement.against.push(label.clone());
            }
            let a = &mut c.agreement;
            match (judge.passed(), p) {
                (Some(true), true) => a.judge_pass_program_pass += 1,
                (Some(true), false) => a.judge_pass_program_fail += 1,
                (Some(false), true) => a.judge_fail_program_pass += 1,
                (Some(false), false) => a.judge_fail_program_fail += 1,
                (None, _) => a.judge_unknown += 1,
            }
        });
    }

    async fn pairwise(self: &Arc<Self>, mut record: Record) -> Result<Record> {
        let chosen = record
            .attempts
            .iter()
            .position(|a| a.role == AttemptRole::Chosen);
        let rejected = record
            .attempts
            .iter()
            .position(|a| a.role == AttemptRole::Rejected);
        let (Some(c), Some(r)) = (chosen, rejected) else {
            self.count(|c| *c.failures.entry("no_pair".into()).or_default() += 1);
            return Ok(record);
        };
        let ct = record.attempts[c].full_text();
        let rt = record.attempts[r].full_text();
        let first = self
            .grade(
                &record,
                vec![("response_a", ct.clone()), ("response_b", rt.clone())],
            )
            .await?;
        let swapped = self
            .grade(&record, vec![("response_a", rt), ("response_b", ct)])
            .await?;
        // preference for the chosen attempt in each order: Some(true) = chosen preferred.
        let pref = |o: &std::result::Result<(Option<Parsed>, String, String), String>,
                    a_is_chosen: bool| {
            match o {
                Ok((Some(p), _, _)) if !p.tie => p.verdict.map(|a| a == a_is_chosen),
                _ => None,
            }
        };
        let p1 = pref(&first, true);
        let p2 = pref(&swapped, false);
        let consistent = p1.is_some() && p1 == p2;
        let verdict = match (consistent, p1) {
            (true, Some(true)) => Verdict::Pass,
            (true, Some(false)) => Verdict::Fail,
            _ => Verdict::Unknown,
        };
        let raw = |o: &std::result::Result<(Option<Parsed>, String, String), String>| match o {
            Ok((_, raw, _)) => json!(clip(raw)),
            Err(reason) => json!({"failed": reason}),
        };
        let fb = self.feedback(
            Granularity::Pairwise,
            verdict,
            json!({"kind": "rubric_judgment", "consistent": consistent,
                   "chosen_first": p1, "chosen_second": p2,
                   "raw_first": raw(&first), "raw_swapped": raw(&swapped)}),
        );
        self.count(|c| {
            c.pairs += 1;
            if consistent {
                c.consistent += 1;
            }
            match verdict {
                Verdict::Pass => c.prefer_chosen += 1,
                Verdict::Fail => c.prefer_rejected += 1,
                _ => c.unknown += 1,
            }
        });
        record.attempts[c].feedback.push(fb);
        mark(&mut record, &self.id);
        Ok(record)
    }

    fn count(&self, f: impl FnOnce(&mut Counts)) {
        if let Ok(mut c) = self.counts.lock() {
            f(&mut c);
        }
    }

    /// Judge every record of a batch concurrently; input order kept.
    pub async fn batch(self: &Arc<Self>, records: Vec<Record>) -> Result<Vec<Record>> {
        let n = records.len();
        let mut set = JoinSet::new();
        for (i, record) in records.into_iter().enumerate() {
            let me = self.clone();
            set.spawn(async move {
                let r = match me.config.mode {
                    JudgeMode::Pairwise if record.object == ObjectKind::PreferencePair => {
                        me.pairwise(record).await
                    }
                    JudgeMode::Pairwise => Ok(record),
                    JudgeMode::Pointwise => me.pointwise(record).await,
                };
                (i, r)
            });
        }
        let mut out: Vec<Option<Record>> = (0..n).map(|_| None).collect();
        let mut error = None;
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, Ok(r))) => out[i] = Some(r),
                Ok((_, Err(e))) => error = error.or(Some(e)),
                Err(e) => error = error.or(Some(Error::Stopped(format!("a task panicked: {e}")))),
            }
        }
        if let Some(e) = error {
            return Err(self.client.stop_error().unwrap_or(e));
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// The ledger summary: verdict counts, pairwise consistency, agreement, requests.
    pub fn summary_value(&self) -> Value {
        let c = &self.config.endpoint;
        let snapshot = self
            .stats()
            .snapshot((c.price_input_per_mtok, c.price_output_per_mtok));
        let Ok(counts) = self.counts.lock() else {
            return Value::Null;
        };
        let agreement = (!counts.agreement.against.is_empty()).then(|| {
            let mut v = serde_json::to_value(&counts.agreement).unwrap_or(Value::Null);
            v["agreement_rate"] = json!(counts.agreement.rate());
            v
        });
        json!({
            "verifier": self.id,
            "mode": self.config.mode,
            "template_sha256": self.template.hash(),
            "judge_models": counts.judge_models,
            "pass": counts.pass,
            "fail": counts.fail,
            "unknown": counts.unknown,
            "unparsed": counts.unparsed,
            "failures": counts.failures,
            "pairs": counts.pairs,
            "consistent_pairs": counts.consistent,
            "prefer_chosen": counts.prefer_chosen,
            "prefer_rejected": counts.prefer_rejected,
            "agreement": agreement,
            "requests": snapshot,
        })
    }
}

fn clip(text: &str) -> String {
    let mut end = text.len().min(2000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

fn mark(record: &mut Record, id: &VerifierId) {
    let label = format!("judge:{}", id.label());
    if !record.lineage.stages.contains(&label) {
        record.lineage.stages.push(label);
    }
}

/// The `judge` stage.
pub struct JudgeStage {
    judge: Arc<Judge>,
    runtime: tokio::runtime::Runtime,
}

impl JudgeStage {
    /// Build from the config.
    pub fn new(config: &JudgeConfig, base_dir: &Path, default_cache: &Path) -> Result<Self> {
        Ok(JudgeStage {
            judge: Arc::new(Judge::new(config, base_dir, default_cache)?),
            runtime: runtime()?,
        })
    }

    /// The judge.
    pub fn judge(&self) -> &Arc<Judge> {
        &self.judge
    }

    /// Judge a batch.
    pub fn run_batch(&self, records: Vec<Record>) -> Result<Vec<Record>> {
        self.runtime.block_on(self.judge.batch(records))
    }
}

impl Stage for JudgeStage {
    fn name(&self) -> &str {
        "judge"
    }
    fn params(&self) -> Value {
        let mut v = serde_json::to_value(&self.judge.config).unwrap_or(Value::Null);
        v["template_sha256"] = json!(self.judge.template.hash());
        v
    }
    fn verifiers(&self) -> Vec<VerifierId> {
        vec![self.judge.id.clone()]
    }
    fn process(&self, _first: u64, records: Vec<Record>) -> verity_core::Result<Processed> {
        Ok(Processed::keep_all(self.run_batch(records)?))
    }
    fn summary(&self) -> verity_core::summary::StageSummary {
        verity_core::summary::StageSummary::Other(self.judge.summary_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_from_json_and_patterns() {
        let p = parse_verdict(
            "Sure. {\"verdict\": \"pass\", \"reason\": \"ok\"}",
            None,
            0.5,
        )
        .unwrap();
        assert_eq!((p.verdict, p.reason.as_deref()), (Some(true), Some("ok")));
        let p = parse_verdict("{\"score\": 0.2}", None, 0.5).unwrap();
        assert_eq!((p.verdict, p.score), (Some(false), Some(0.2)));
        let p = parse_verdict("{\"correct\": true}", None, 0.5).unwrap();
        assert_eq!(p.verdict, Some(true));
        let p = parse_verdict("{\"verdict\": \"B\"}", None, 0.5).unwrap();
        assert_eq!(p.verdict, Some(false));
        let p = parse_verdict("{\"verdict\": \"tie\"}", None, 0.5).unwrap();
        assert!(p.tie && p.verdict.is_none());
        assert_eq!(parse_verdict("I think it is right", None, 0.5), None);
        assert_eq!(parse_verdict("{\"verdict\": \"maybe\"}", None, 0.5), None);
        let re = Regex::new(r"Grade: (?P<verdict>\w+)").unwrap();
        let p = parse_verdict("blah\nGrade: CORRECT", Some(&re), 0.5).unwrap();
        assert_eq!(p.verdict, Some(true));
        let re = Regex::new(r"Score: ([0-9.]+)").unwrap();
        let p = parse_verdict("Score: 7", Some(&re), 5.0).unwrap();
        assert_eq!((p.verdict, p.score), (Some(true), Some(7.0)));
    }

    #[test]
    fn agreement_rate_counts_decided_attempts_only() {
        let a = Agreement {
            judge_pass_program_pass: 3,
            judge_fail_program_fail: 1,
            judge_pass_program_fail: 1,
            judge_unknown: 5,
            ..Agreement::default()
        };
        assert_eq!(a.rate(), Some(0.8));
        assert_eq!(Agreement::default().rate(), None);
    }
}
