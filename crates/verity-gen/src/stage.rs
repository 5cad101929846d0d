//! `generate` as a pipeline stage ([`verity_core::stage::Stage`]).
//!
//! The stage owns a small tokio runtime; `process` (called by the runner on worker threads,
//! several batches at once) blocks on the generation of its batch, and all batches share the
//! endpoint's limits, so `concurrency` bounds the requests in flight of the whole run.
//!
//! Ledger summary: `generators` (server-reported model, sampling parameters, attempts: read by
//! the card as the measured generator and inference budget), `base_model`,
//! `samples_per_task`, `template_sha256`, `endpoint` (URL and model; never the key),
//! `requests` (requests, cache hits, retries by cause, tokens in/out, wall time, cost).

use crate::cache::Cache;
use crate::client::Client;
use crate::config::GenerateConfig;
use crate::engine::{Generator, TaskResult};
use crate::error::{Error, Result};
use crate::stats::Stats;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use verity_core::record::Record;
use verity_core::stage::{Processed, Rejected, Stage};

/// A tokio runtime for blocking callers (pipeline workers, verifiers).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("verity-gen")
        .enable_all()
        .build()
        .map_err(|e| Error::Client(format!("cannot start the async runtime: {e}")))
}

/// The cache path: the configured one (relative to `base_dir`) or `default`.
pub fn cache_path(
    configured: Option<&Path>,
    base_dir: &Path,
    default: &Path,
) -> std::path::PathBuf {
    match configured {
        Some(p) if p.is_absolute() => p.to_path_buf(),
        Some(p) => base_dir.join(p),
        None => default.to_path_buf(),
    }
}

/// Per-model attempt counts for the ledger.
#[derive(Default)]
struct Seen {
    models: BTreeMap<String, u64>,
    prompt_tokens: u64,
    completion_tokens: u64,
}

/// The `generate` stage.
pub struct GenerateStage {
    generator: Arc<Generator>,
    runtime: tokio::runtime::Runtime,
    config: GenerateConfig,
    cache_file: String,
    seen: Mutex<Seen>,
}

impl GenerateStage {
    /// Build from the recipe config; the cache is `endpoint.cache` relative to `base_dir`, else
    /// `default_cache`.
    pub fn new(config: &GenerateConfig, base_dir: &Path, default_cache: &Path) -> Result<Self> {
        let path = cache_path(config.endpoint.cache.as_deref(), base_dir, default_cache);
        let cache = Arc::new(Cache::open(&path)?);
        let client = Arc::new(Client::new(&config.endpoint, Arc::new(Stats::default()))?);
        Ok(GenerateStage {
            generator: Arc::new(Generator::new(config, client, cache)?),
            runtime: runtime()?,
            config: config.clone(),
            cache_file: path.display().to_string(),
            seen: Mutex::default(),
        })
    }

    /// The generator (for callers that drive it themselves, like `verity generate`).
    pub fn generator(&self) -> &Arc<Generator> {
        &self.generator
    }

    /// The runtime.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// Generate for a batch: finished records and rejected ones with reasons.
    pub fn run_batch(&self, records: Vec<Record>) -> Result<Processed> {
        let results = self.runtime.block_on(self.generator.batch(records))?;
        let mut out = Processed::default();
        let mut models: BTreeMap<String, u64> = BTreeMap::new();
        let (mut prompt_tokens, mut completion_tokens) = (0, 0);
        let hash = json!(self.generator.template_hash());
        for r in results {
            match r {
                TaskResult::Done(record) => {
                    for a in &record.attempts {
                        let Some(g) = a.generator.as_ref() else {
                            continue;
                        };
                        if g.params.get("template_sha256") != Some(&hash) {
                            continue;
                        }
                        if let Some(m) = &g.model {
                            *models.entry(m.clone()).or_default() += 1;
                        }
                        let tokens =
                            |k: &str| a.signals.get(k).and_then(Value::as_u64).unwrap_or(0);
                        prompt_tokens += tokens("prompt_tokens");
                        completion_tokens += tokens("completion_tokens");
                    }
                    out.kept.push(record);
                }
                TaskResult::Failed(record, reason, detail) => out.rejected.push(Rejected {
                    record,
                    reason,
                    detail: Some(detail),
                }),
            }
        }
        if let Ok(mut seen) = self.seen.lock() {
            for (m, n) in models {
                *seen.models.entry(m).or_default() += n;
            }
            seen.prompt_tokens += prompt_tokens;
            seen.completion_tokens += completion_tokens;
        }
        Ok(out)
    }

    /// The sampling parameters as the card reads them.
    fn sampling_params(&self) -> Map<String, Value> {
        let s = self.generator.sampling();
        let mut p = Map::new();
        p.insert("n".into(), json!(s.n));
        for (k, v) in [
            ("temperature", s.temperature.map(|v| json!(v))),
            ("top_p", s.top_p.map(|v| json!(v))),
            ("max_tokens", s.max_tokens.map(|v| json!(v))),
            ("seed", s.seed.map(|v| json!(v))),
        ] {
            if let Some(v) = v {
                p.insert(k.into(), v);
            }
        }
        if !s.stop.is_empty() {
            p.insert("stop".into(), json!(s.stop));
        }
        p
    }

    /// The ledger summary (see the module docs).
    pub fn summary_value(&self) -> Value {
        let c = &self.config.endpoint;
        let snapshot = self
            .generator
            .stats()
            .snapshot((c.price_input_per_mtok, c.price_output_per_mtok));
        let params = self.sampling_params();
        let (generators, sample_tokens): (Vec<Value>, Value) = self
            .seen
            .lock()
            .map(|s| {
                (
                    s.models
                        .iter()
                        .map(|(m, n)| json!({"model": m, "params": params, "attempts": n}))
                        .collect(),
                    json!({"prompt": s.prompt_tokens, "completion": s.completion_tokens,
                           "total": s.prompt_tokens + s.completion_tokens}),
                )
            })
            .unwrap_or_default();
        json!({
            "generators": generators,
            "base_model": self.config.base_model,
            "samples_per_task": self.generator.sampling().n,
            "template_sha256": self.generator.template_hash(),
            "endpoint": {
                "base_url": self.generator.client().base_url(),
                "model": c.model,
                "api": c.api.path(),
            },
            "cache": self.cache_file,
            "requests": snapshot,
            "sample_tokens": sample_tokens,
            "generation_tokens": {
                "prompt": snapshot.tokens_in,
                "completion": snapshot.tokens_out,
                "total": snapshot.tokens_in + snapshot.tokens_out,
            },
        })
    }
}

impl Stage for GenerateStage {
    fn name(&self) -> &str {
        "generate"
    }

    fn params(&self) -> Value {
        // The config as written (the key's variable name, never its value), plus the template
        // hash.
        let mut v = serde_json::to_value(&self.config).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert(
                "template_sha256".into(),
                json!(self.generator.template_hash()),
            );
        }
        v
    }

    fn process(&self, _first: u64, records: Vec<Record>) -> verity_core::Result<Processed> {
        Ok(self.run_batch(records)?)
    }

    fn summary(&self) -> verity_core::summary::StageSummary {
        verity_core::summary::StageSummary::Other(self.summary_value())
    }
}
