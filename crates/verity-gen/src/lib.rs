//! verity-gen: construct reasoning data, not only audit it.
//!
//! What it does:
//! - [`stage::GenerateStage`] (`generate`): samples `n` attempts per task from any
//!   OpenAI-compatible server (vLLM, SGLang, llama.cpp, TGI, hosted APIs), through a prompt
//!   [`template`], with bounded concurrency, per-minute limits and retries
//!   ([`client`]), and a persistent request [`cache`] so nothing is paid twice and a run killed
//!   at any moment resumes without losing or duplicating a sample.
//! - [`judge`]: the judgment-required verifier (an LLM grades an attempt against a rubric;
//!   pairwise mode with position swap) and its agreement with a programmatic verdict.
//! - [`steps`]: Math-Shepherd step labels (complete `m` times from each step prefix, label a
//!   step by whether its completions reach a verified answer).
//!
//! Why: published reasoning-data recipes (s1K, LIMO, OpenThoughts, DeepScaleR, Math-Shepherd)
//! construct their data from a teacher's samples, and only the tool that drives the generation
//! can measure the generator, the sampling budget and the tokens spent; the ledger summaries
//! written here are what the release card reads as measured factors.
//!
//! Example (a blocking caller; the CLI's `verity generate` does the same):
//!
//! ```no_run
//! use verity_gen::config::{EndpointConfig, GenerateConfig};
//! use verity_gen::stage::GenerateStage;
//! use verity_core::record::{ObjectKind, Record};
//!
//! let mut config = GenerateConfig::new(EndpointConfig::new("http://127.0.0.1:8080/v1", "smollm2-135m"));
//! config.n = 4;
//! config.temperature = Some(0.8);
//! config.user = Some("Solve: {problem}".into());
//! let stage = GenerateStage::new(&config, ".".as_ref(), "cache.sqlite".as_ref())?;
//! let mut task = Record::new("t1", ObjectKind::PromptAnswer);
//! task.task.prompt = Some("What is 2 + 2?".into());
//! let out = stage.run_batch(vec![task])?;
//! assert_eq!(out.kept[0].attempts.len(), 4);
//! # Ok::<(), verity_gen::Error>(())
//! ```
//!
//! Known failure modes: requests in flight when a run is killed were paid for but not stored,
//! and are sent again (at most `concurrency` of them); servers that ignore `seed` return
//! different samples for a rerun of a request that was never cached; a judge is a model and
//! is wrong sometimes (its agreement with a programmatic verifier is reported, not assumed).

#![deny(missing_docs)]

pub mod ask;
pub mod cache;
pub mod client;
pub mod config;
pub mod engine;
pub mod error;
pub mod judge;
pub mod limits;
pub mod response;
pub mod retry;
pub mod stage;
pub mod stats;
pub mod steps;
pub mod template;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, Result, TaskFailure};
