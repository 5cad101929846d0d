//! `step_label`: Math-Shepherd step labels from completions.
//!
//! What it does: every attempt's solution text (its trace, then its response) is split into
//! steps (paragraphs, or lines when there is a single paragraph; at most `max_steps`, the rest
//! joined into the last). For each step but the last, the model completes the solution `m`
//! times from the prefix ending with that step (the continuation template gets `{problem}` and
//! `{prefix}`), and each completion is checked by the verifier against the task's reference.
//! A step's score is the share of completions that reached a verified answer (Math-Shepherd's
//! soft estimate); its label is `good` when at least one did (the hard estimate, the default)
//! or when the share is at least `soft_threshold` with `estimate = "soft"`. The last step is
//! labelled by verifying the attempt itself. The record becomes a `step_labeled_trace`, each
//! attempt's `steps` carry label and score, and step-level feedback names the verifier, the
//! completion model and `m`.
//!
//! Why: process reward models need per-step labels; Math-Shepherd (Wang et al., 2024) gets
//! them without human annotation from Monte-Carlo completions and a final-answer checker.
//!
//! Cost: `(steps - 1) x m` requests per attempt, all cached (a rerun costs nothing).
//!
//! Known failure modes: a weak completer under-labels good steps (its completions fail from
//! any prefix); the hard estimate over-labels steps of easy problems (any prefix completes).
//! Both are properties of the method, reported through the scores, not corrected.

use crate::ask::ask;
use crate::cache::Cache;
use crate::client::Client;
use crate::config::{EndpointConfig, SamplingConfig, TemplateConfig};
use crate::error::{Error, Result};
use crate::stage::{cache_path, runtime};
use crate::stats::Stats;
use crate::template::Template;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::task::JoinSet;
use verity_core::record::{
    Attempt, Contract, Feedback, Granularity, ObjectKind, Record, Step, StepLabel, Verdict,
    VerifierId,
};
use verity_core::stage::{Processed, Rejected, Stage};
use verity_core::verify::Verifier;

/// A step's text and, once its completions are graded, (reached, of total).
type LabelledStep = (String, Option<(u32, u32)>);

/// Hard (any completion verified) or soft (share of verified completions) labels.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Estimate {
    /// `good` when any completion reaches a verified answer.
    #[default]
    Hard,
    /// `good` when the share is at least `soft_threshold`.
    Soft,
}

/// `stage = "step_label"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepLabelConfig {
    /// The completer's server.
    pub endpoint: EndpointConfig,
    /// Verifier of completions: `math` (default), `exact` or `choice`.
    #[serde(default = "default_verifier")]
    pub verifier: String,
    /// Completions per step prefix (Math-Shepherd's N).
    #[serde(default = "default_m")]
    pub completions: u32,
    /// Completion temperature.
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    /// Completion token limit.
    #[serde(default = "default_tokens")]
    pub max_tokens: u32,
    /// Base seed of the completions.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Longest number of steps (later text joins the last step).
    #[serde(default = "default_max_steps")]
    pub max_steps: usize,
    /// `hard` (default) or `soft`.
    #[serde(default)]
    pub estimate: Estimate,
    /// Share needed for `good` with `estimate = "soft"`.
    #[serde(default = "half")]
    pub soft_threshold: f64,
    /// System message of the continuation template.
    #[serde(default)]
    pub system: Option<String>,
    /// Continuation template with `{problem}` and `{prefix}` (default [`DEFAULT_CONTINUE`]).
    #[serde(default)]
    pub user: Option<String>,
}

fn default_verifier() -> String {
    "math".into()
}
fn default_m() -> u32 {
    4
}
fn default_temperature() -> f64 {
    0.7
}
fn default_tokens() -> u32 {
    256
}
fn default_max_steps() -> usize {
    12
}
fn half() -> f64 {
    0.5
}

/// The default continuation template.
pub const DEFAULT_CONTINUE: &str = "{problem}\n\nHere is the beginning of a solution:\n\n{prefix}\n\nContinue this solution from where it stops (do not restart) and give the final answer in \\boxed{{}}.";

/// Split a solution into steps: paragraphs, or lines for a single paragraph; at most `max`.
pub fn split_steps(text: &str, max: usize) -> Vec<String> {
    let paragraphs: Vec<&str> = text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let mut steps: Vec<String> = if paragraphs.len() > 1 {
        paragraphs.iter().map(|p| p.to_string()).collect()
    } else {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let max = max.max(1);
    if steps.len() > max {
        let tail = steps.split_off(max - 1).join("\n");
        steps.push(tail);
    }
    steps
}

/// The solution text of an attempt: its trace, then its response.
fn solution_text(attempt: &Attempt) -> String {
    match (&attempt.trace, &attempt.response) {
        (Some(t), Some(r)) => format!("{t}\n\n{r}"),
        (Some(t), None) => t.clone(),
        (None, Some(r)) => r.clone(),
        (None, None) => String::new(),
    }
}

/// The step labeller.
pub struct StepLabeller {
    client: Arc<Client>,
    cache: Arc<Cache>,
    template: Template,
    sampling: SamplingConfig,
    verifier: Arc<dyn Verifier>,
    config: StepLabelConfig,
    id: VerifierId,
    labelled_steps: AtomicU64,
    good_steps: AtomicU64,
    attempts: AtomicU64,
}

impl StepLabeller {
    /// Build with the verifier that checks completions.
    pub fn new(
        config: &StepLabelConfig,
        verifier: Arc<dyn Verifier>,
        base_dir: &Path,
        default_cache: &Path,
    ) -> Result<Self> {
        if config.completions == 0 {
            return Err(Error::Config {
                field: "completions".into(),
                message: "must be at least 1".into(),
            });
        }
        let path = cache_path(config.endpoint.cache.as_deref(), base_dir, default_cache);
        let cache = Arc::new(Cache::open(&path)?);
        let client = Arc::new(Client::new(&config.endpoint, Arc::new(Stats::default()))?);
        let template = Template::with_fields(
            &TemplateConfig {
                system: config.system.clone(),
                user: Some(
                    config
                        .user
                        .clone()
                        .unwrap_or_else(|| DEFAULT_CONTINUE.into()),
                ),
                few_shot: Vec::new(),
            },
            config.endpoint.api,
            &["prefix"],
        )?;
        let id = VerifierId::new(
            "math_shepherd",
            format!(
                "{}+{}+m{}+{}",
                config.endpoint.model,
                &template.hash()[..12],
                config.completions,
                verifier.id().label()
            ),
            Contract::Programmatic,
        );
        Ok(StepLabeller {
            client,
            cache,
            sampling: SamplingConfig {
                n: config.completions,
                temperature: Some(config.temperature),
                max_tokens: Some(config.max_tokens),
                seed: config.seed,
                ..SamplingConfig::default()
            },
            template,
            verifier,
            config: config.clone(),
            id,
            labelled_steps: AtomicU64::new(0),
            good_steps: AtomicU64::new(0),
            attempts: AtomicU64::new(0),
        })
    }

    /// Share of `m` completions from `prefix` that verify.
    async fn value(self: &Arc<Self>, record: &Arc<Record>, prefix: String) -> Result<(u32, u32)> {
        let prompt = match self
            .template
            .render_with(record, &[("prefix", prefix.clone())])
        {
            Ok(p) => p,
            Err(_) => return Ok((0, 0)),
        };
        let mut set = JoinSet::new();
        for i in 0..self.config.completions {
            let me = self.clone();
            let prompt = prompt.clone();
            set.spawn(async move { ask(&me.client, &me.cache, &prompt, &me.sampling, i).await });
        }
        let (mut pass, mut done) = (0, 0);
        let mut error = None;
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(Ok(Ok(sample))) => {
                    done += 1;
                    let attempt = Attempt::with_response(format!("{prefix}\n\n{}", sample.text));
                    let fb = self.verifier.verify(&record.task, &attempt);
                    if fb.first().and_then(Feedback::passed) == Some(true) {
                        pass += 1;
                    }
                }
                Ok(Ok(Err(_))) => {}
                Ok(Err(e)) => error = error.or(Some(e)),
                Err(e) => error = error.or(Some(Error::Stopped(e.to_string()))),
            }
        }
        match error {
            Some(e) => Err(self.client.stop_error().unwrap_or(e)),
            None => Ok((pass, done)),
        }
    }

    async fn label(
        self: &Arc<Self>,
        record: Record,
    ) -> Result<std::result::Result<Record, Record>> {
        let shared = Arc::new(record);
        let mut labelled: Vec<Option<Vec<LabelledStep>>> = Vec::new();
        for attempt in &shared.attempts {
            let steps = split_steps(&solution_text(attempt), self.config.max_steps);
            if steps.is_empty() {
                labelled.push(None);
                continue;
            }
            let mut set = JoinSet::new();
            for k in 0..steps.len() - 1 {
                let me = self.clone();
                let rec = shared.clone();
                let prefix = steps[..=k].join("\n\n");
                set.spawn(async move { (k, me.value(&rec, prefix).await) });
            }
            let mut values = vec![None; steps.len()];
            while let Some(joined) = set.join_next().await {
                let (k, v) = joined.map_err(|e| Error::Stopped(e.to_string()))?;
                values[k] = Some(v?);
            }
            labelled.push(Some(steps.into_iter().zip(values).collect()));
        }
        let mut record = Arc::try_unwrap(shared).unwrap_or_else(|a| (*a).clone());
        if labelled.iter().all(Option::is_none) {
            return Ok(Err(record));
        }
        let task = &record.task;
        for (attempt, steps) in record.attempts.iter_mut().zip(labelled) {
            let Some(steps) = steps else { continue };
            self.attempts.fetch_add(1, Ordering::Relaxed);
            let mut out = Vec::with_capacity(steps.len());
            let mut feedback = Vec::new();
            for (k, (text, value)) in steps.into_iter().enumerate() {
                let (pass, done) = match value {
                    Some(v) => v,
                    // The last step: the attempt's own final answer decides.
                    None => {
                        let own = self.verifier.verify(task, attempt);
                        (
                            u32::from(own.first().and_then(Feedback::passed) == Some(true)),
                            1,
                        )
                    }
                };
                let score = if done == 0 {
                    0.0
                } else {
                    f64::from(pass) / f64::from(done)
                };
                let good = match self.config.estimate {
                    Estimate::Hard => pass > 0,
                    Estimate::Soft => done > 0 && score >= self.config.soft_threshold,
                };
                self.labelled_steps.fetch_add(1, Ordering::Relaxed);
                if good {
                    self.good_steps.fetch_add(1, Ordering::Relaxed);
                }
                out.push(Step {
                    text,
                    label: Some(if good {
                        StepLabel::Good
                    } else {
                        StepLabel::Bad
                    }),
                    score: Some(score),
                    raw_label: None,
                });
                let mut fb = Feedback::new(
                    self.id.clone(),
                    Granularity::Step,
                    if good { Verdict::Pass } else { Verdict::Fail },
                )
                .with_score(score)
                .with_detail(json!({"completions": done, "verified": pass}));
                fb.step = Some(k);
                feedback.push(fb);
            }
            attempt.steps = out;
            attempt.feedback.extend(feedback);
        }
        record.object = ObjectKind::StepLabeledTrace;
        let label = format!("step_label:{}", self.id.label());
        if !record.lineage.stages.contains(&label) {
            record.lineage.stages.push(label);
        }
        Ok(Ok(record))
    }
}

/// The `step_label` stage.
pub struct StepLabelStage {
    labeller: Arc<StepLabeller>,
    runtime: tokio::runtime::Runtime,
}

impl StepLabelStage {
    /// Build with the completion verifier.
    pub fn new(
        config: &StepLabelConfig,
        verifier: Arc<dyn Verifier>,
        base_dir: &Path,
        default_cache: &Path,
    ) -> Result<Self> {
        Ok(StepLabelStage {
            labeller: Arc::new(StepLabeller::new(
                config,
                verifier,
                base_dir,
                default_cache,
            )?),
            runtime: runtime()?,
        })
    }

    /// Label a batch: records with steps, and records with no solution text (rejected).
    pub fn run_batch(&self, records: Vec<Record>) -> Result<Processed> {
        let labeller = self.labeller.clone();
        let results = self.runtime.block_on(async move {
            let n = records.len();
            let mut set = JoinSet::new();
            for (i, r) in records.into_iter().enumerate() {
                let l = labeller.clone();
                set.spawn(async move { (i, l.label(r).await) });
            }
            let mut out: Vec<Option<std::result::Result<Record, Record>>> =
                (0..n).map(|_| None).collect();
            while let Some(joined) = set.join_next().await {
                let (i, r) = joined.map_err(|e| Error::Stopped(e.to_string()))?;
                out[i] = Some(r?);
            }
            Ok::<_, Error>(out.into_iter().flatten().collect::<Vec<_>>())
        })?;
        let mut processed = Processed::default();
        for r in results {
            match r {
                Ok(record) => processed.kept.push(record),
                Err(record) => processed.rejected.push(Rejected {
                    record,
                    reason: "step_label:no_solution_text".into(),
                    detail: None,
                }),
            }
        }
        Ok(processed)
    }
}

impl Stage for StepLabelStage {
    fn name(&self) -> &str {
        "step_label"
    }
    fn params(&self) -> Value {
        let mut v = serde_json::to_value(&self.labeller.config).unwrap_or(Value::Null);
        v["template_sha256"] = json!(self.labeller.template.hash());
        v
    }
    fn verifiers(&self) -> Vec<VerifierId> {
        vec![self.labeller.id.clone()]
    }
    fn process(&self, _first: u64, records: Vec<Record>) -> verity_core::Result<Processed> {
        Ok(self.run_batch(records)?)
    }
    fn summary(&self) -> verity_core::summary::StageSummary {
        verity_core::summary::StageSummary::Other(self.summary_value())
    }
}

impl StepLabelStage {
    /// The ledger summary: steps labelled, good and bad, completions per step, requests.
    pub fn summary_value(&self) -> Value {
        let l = &self.labeller;
        let c = &l.config.endpoint;
        let steps = l.labelled_steps.load(Ordering::Relaxed);
        let good = l.good_steps.load(Ordering::Relaxed);
        json!({
            "verifier": l.id,
            "completion_verifier": l.verifier.id(),
            "completions_per_step": l.config.completions,
            "estimate": l.config.estimate,
            "attempts": l.attempts.load(Ordering::Relaxed),
            "steps": steps,
            "good_steps": good,
            "bad_steps": steps - good,
            "granularity": ["step"],
            "generators": [{"model": c.model, "params": {"n": l.config.completions,
                "temperature": l.config.temperature, "max_tokens": l.config.max_tokens}}],
            "requests": l.client.stats().snapshot((c.price_input_per_mtok, c.price_output_per_mtok)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_then_lines_then_the_cap() {
        assert_eq!(split_steps("a\n\nb\n\n\nc", 10), vec!["a", "b", "c"]);
        assert_eq!(
            split_steps("one\ntwo\n three ", 10),
            vec!["one", "two", "three"]
        );
        assert_eq!(split_steps("1\n2\n3\n4", 2), vec!["1", "2\n3\n4"]);
        assert!(split_steps("  \n ", 5).is_empty());
    }
}
