//! `verity generate IN... -o OUT --base-url URL --model M -n K`: sample attempts from an
//! OpenAI-compatible server.
//!
//! The same stage as `stage = "generate"` in a recipe (verity-gen's `GenerateStage`), run
//! alone: every record's prompt is rendered from the template, `n` samples are looked up in the
//! request cache (default: `generate-cache.sqlite` next to the output) and the missing ones
//! requested with bounded concurrency, per-minute limits and retries. A rerun sends no request
//! that already succeeded; a run killed at any moment resumes where it stopped. Progress shows
//! tasks, requests in flight, tokens/s, cache hits, retries, failures and the ETA; the ledger
//! entry holds requests, cache hits, retries by cause, tokens in/out, wall time and cost.
//!
//! Exit status: 0 when every task got its samples, 1 when some tasks were rejected (context
//! too long, refused, retries exhausted: listed in the rejects file, and a rerun retries them),
//! 2 when the run stopped (authentication, unknown model, unreachable server, bad input).

use crate::common::{print_json, Context, ExitStatus, InputArgs};
use crate::output::{OutputArgs, StageOutput};
use anyhow::{Context as _, Result};
use clap::ValueEnum;
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use verity_core::error::RowError;
use verity_core::stream::Reject;
use verity_gen::config::{Api, EndpointConfig, FewShot, GenerateConfig, ReasoningMode};
use verity_gen::stage::GenerateStage;

/// API route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiArg {
    /// `/chat/completions` with messages.
    Chat,
    /// `/completions` with a raw prompt.
    Completions,
}

/// Where the reasoning trace comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReasoningArg {
    /// `reasoning_content` when present, else a `<think>` block.
    Auto,
    /// Only the reasoning field.
    Field,
    /// Only `<think>` tags.
    ThinkTags,
    /// No split.
    None,
}

/// Arguments of `verity generate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Base URL of the OpenAI-compatible API, with `/v1`.
    #[arg(long, env = "VERITY_LLM_URL", value_name = "URL")]
    pub base_url: String,
    /// Model name.
    #[arg(long)]
    pub model: String,
    /// Samples per task.
    #[arg(short = 'n', long, default_value_t = 1)]
    pub n: u32,
    /// API route.
    #[arg(long, value_enum, default_value_t = ApiArg::Chat)]
    pub api: ApiArg,
    /// Name of the environment variable holding the API key (the key is never written
    /// anywhere).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// System message (templated like --user).
    #[arg(long)]
    pub system: Option<String>,
    /// User template: `{problem}`, `{answer}`, `{solution}`, `{domain}`, `{id}`,
    /// `{meta.FIELD}`; `{{`/`}}` for braces. Default: the task's messages or `{problem}`.
    #[arg(long)]
    pub user: Option<String>,
    /// Few-shot messages: a JSON file of `[{"role": "user"|"assistant", "content": "..."}]`.
    #[arg(long, value_name = "FILE")]
    pub few_shot: Option<PathBuf>,
    /// Sampling temperature.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[arg(long)]
    pub top_p: Option<f64>,
    /// Completion token limit.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Base seed (sample i uses seed + i).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop sequence (repeatable).
    #[arg(long)]
    pub stop: Vec<String>,
    /// Samples asked per request (`n` in the body; fewer returned are asked again).
    #[arg(long, default_value_t = 1)]
    pub samples_per_request: u32,
    /// Where the reasoning trace comes from.
    #[arg(long, value_enum, default_value_t = ReasoningArg::Auto)]
    pub reasoning: ReasoningArg,
    /// Base model of the generator, when known (recorded in the lineage).
    #[arg(long)]
    pub base_model: Option<String>,
    /// Keep the records' existing attempts (default: the samples replace them).
    #[arg(long)]
    pub keep_attempts: bool,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Requests per minute at most.
    #[arg(long)]
    pub rpm: Option<f64>,
    /// Tokens per minute at most (prompt estimate + max_tokens).
    #[arg(long)]
    pub tpm: Option<f64>,
    /// Time limit of one request, seconds.
    #[arg(long, default_value_t = 120.0)]
    pub timeout: f64,
    /// Retries of one request.
    #[arg(long, default_value_t = 6)]
    pub max_retries: u32,
    /// First backoff in seconds (doubles, with jitter).
    #[arg(long, default_value_t = 1.0)]
    pub backoff: f64,
    /// Request cache (SQLite); default `generate-cache.sqlite` next to the output.
    #[arg(long, value_name = "PATH")]
    pub cache: Option<PathBuf>,
    /// Price per million prompt tokens (for the cost in the ledger).
    #[arg(long)]
    pub price_input: Option<f64>,
    /// Price per million completion tokens.
    #[arg(long)]
    pub price_output: Option<f64>,
}

fn config(args: &Args) -> Result<GenerateConfig> {
    let mut endpoint = EndpointConfig::new(args.base_url.clone(), args.model.clone());
    endpoint.api = match args.api {
        ApiArg::Chat => Api::Chat,
        ApiArg::Completions => Api::Completions,
    };
    endpoint.api_key_env = args.api_key_env.clone();
    endpoint.concurrency = args.concurrency;
    endpoint.requests_per_minute = args.rpm;
    endpoint.tokens_per_minute = args.tpm;
    endpoint.timeout_s = args.timeout;
    endpoint.max_retries = args.max_retries;
    endpoint.backoff_s = args.backoff;
    endpoint.cache = args.cache.clone();
    endpoint.price_input_per_mtok = args.price_input;
    endpoint.price_output_per_mtok = args.price_output;
    let mut c = GenerateConfig::new(endpoint);
    c.system = args.system.clone();
    c.user = args.user.clone();
    if let Some(path) = &args.few_shot {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the few-shot file {}", path.display()))?;
        c.few_shot = serde_json::from_str::<Vec<FewShot>>(&text).with_context(|| {
            format!(
                "{}: expected a JSON list of {{\"role\", \"content\"}} messages",
                path.display()
            )
        })?;
    }
    c.n = args.n;
    c.temperature = args.temperature;
    c.top_p = args.top_p;
    c.max_tokens = args.max_tokens;
    c.seed = args.seed;
    c.stop = args.stop.clone();
    c.samples_per_request = args.samples_per_request;
    c.reasoning = match args.reasoning {
        ReasoningArg::Auto => ReasoningMode::Auto,
        ReasoningArg::Field => ReasoningMode::Field,
        ReasoningArg::ThinkTags => ReasoningMode::ThinkTags,
        ReasoningArg::None => ReasoningMode::None,
    };
    c.base_model = args.base_model.clone();
    c.keep_attempts = args.keep_attempts;
    Ok(c)
}

/// A progress line refreshed from the generator's counters until dropped.
struct Ticker {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(
        ctx: &Context,
        stats: Arc<verity_gen::stats::Stats>,
        bytes: Arc<AtomicU64>,
        rows: Arc<AtomicU64>,
        total_bytes: u64,
    ) -> Ticker {
        let done = Arc::new(AtomicBool::new(false));
        let thread = ctx.progress.then(|| {
            let done = done.clone();
            std::thread::spawn(move || {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_prefix("generate");
                if let Ok(style) =
                    indicatif::ProgressStyle::with_template("{prefix:>10} {spinner} {msg}")
                {
                    bar.set_style(style);
                }
                while !done.load(Ordering::Relaxed) {
                    let read = bytes.load(Ordering::Relaxed);
                    let seen = rows.load(Ordering::Relaxed);
                    if read > 0 && total_bytes > 0 {
                        let estimate = (seen as f64 * total_bytes as f64 / read as f64) as u64;
                        stats
                            .tasks_total
                            .store(estimate.max(seen), Ordering::Relaxed);
                    }
                    bar.set_message(stats.progress_line());
                    bar.tick();
                    std::thread::sleep(Duration::from_millis(250));
                }
                bar.finish_and_clear();
            })
        });
        Ticker { done, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn reject_of(r: verity_core::stage::Rejected) -> Reject {
    let detail = r.detail.map(|d| format!(": {d}")).unwrap_or_default();
    Reject {
        error: RowError {
            file: r.record.lineage.file.clone().unwrap_or_default(),
            line: r.record.lineage.row.unwrap_or(0),
            field: None,
            reason: format!("{}{detail}", r.reason),
        },
        stage: "generate".into(),
        row: serde_json::to_value(&r.record).ok(),
    }
}

/// Run `verity generate`.
pub fn run(args: Args, ctx: &Context) -> Result<ExitStatus> {
    let config = config(&args)?;
    let output = args.output.path()?;
    let default_cache = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.join("generate-cache.sqlite"))
        .unwrap_or_else(|| PathBuf::from("generate-cache.sqlite"));
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let stage = GenerateStage::new(&config, &cwd, &default_cache)?;
    let mut source = args.input.open()?;
    let params = verity_core::stage::Stage::params(&stage);
    let mut out = StageOutput::create("generate", params, &args.input, &source, &args.output)?;
    let bytes = Arc::new(AtomicU64::new(0));
    source.set_progress(bytes.clone());
    let rows_seen = Arc::new(AtomicU64::new(0));
    let ticker = Ticker::start(
        ctx,
        stage.generator().stats().clone(),
        bytes,
        rows_seen.clone(),
        source.total_bytes(),
    );
    let encoder = out.encoder();
    let mut rows_in = 0u64;
    let mut failed = 0u64;
    source.for_each(
        |batch| {
            rows_seen.fetch_add(batch.records.len() as u64, Ordering::Relaxed);
            let n = batch.records.len() + batch.rejects.len();
            let processed = stage.run_batch(batch.records)?;
            let encoded = encoder.encode_owned(processed.kept);
            let rejected: Vec<Reject> = processed.rejected.into_iter().map(reject_of).collect();
            Ok::<_, anyhow::Error>((n, batch.rejects, rejected, encoded))
        },
        |result| {
            let (n, read_rejects, rejected, encoded) = result?;
            rows_in += n as u64;
            failed += rejected.len() as u64;
            out.reject(&read_rejects)?;
            out.reject(&rejected)?;
            out.write(encoded)?;
            Ok::<(), anyhow::Error>(())
        },
    )?;
    drop(ticker);
    let summary = stage.summary_value();
    if let serde_json::Value::Object(map) = &mut out.entry_mut().summary {
        if let serde_json::Value::Object(extra) = summary.clone() {
            map.extend(extra);
        }
    }
    let result = out.finish(rows_in)?;
    let requests = &summary["requests"];
    if ctx.json {
        let mut s = summary.clone();
        s["rows_in"] = json!(rows_in);
        s["rows_out"] = json!(result.entry.rows_out);
        s["tasks_rejected"] = json!(failed);
        s["outputs"] = json!(result.outputs);
        s["rejects"] = json!(result.rejects);
        s["ledger"] = json!(result.ledger);
        print_json(&s)?;
    } else if !ctx.quiet {
        let retries: serde_json::Map<String, serde_json::Value> =
            requests["retries"].as_object().cloned().unwrap_or_default();
        eprintln!(
            "generate {}: {} tasks in, {} out, {} rejected; {} samples generated, {} from the cache",
            config.endpoint.model,
            rows_in,
            result.entry.rows_out,
            failed,
            requests["samples_generated"],
            requests["cache_hits"],
        );
        eprintln!(
            "requests {} (retries: {}), tokens in {} / out {}, wall {:.1}s{}",
            requests["requests"],
            if retries.is_empty() {
                "none".to_string()
            } else {
                retries
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            requests["tokens_in"],
            requests["tokens_out"],
            requests["wall_s"].as_f64().unwrap_or(0.0),
            requests["cost"]
                .as_f64()
                .map(|c| format!(", cost {c:.4}"))
                .unwrap_or_default(),
        );
        if let Some(r) = &result.rejects {
            eprintln!("rejected tasks: {} (a rerun retries them)", r.display());
        }
        eprintln!(
            "wrote {}",
            result
                .outputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(if failed > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}
