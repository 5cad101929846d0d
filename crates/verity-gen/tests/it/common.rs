//! Helpers: tasks, configs and a stage against a mock server.

use std::path::Path;
use verity_core::record::{ObjectKind, Record};
use verity_gen::config::{EndpointConfig, GenerateConfig};
use verity_gen::stage::GenerateStage;

/// `n` arithmetic tasks with reference answers.
pub fn tasks(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            let mut r = Record::new(format!("t{i}"), ObjectKind::PromptAnswer);
            r.task.prompt = Some(format!("What is {i} + {i}?"));
            r.task.reference.answer = Some(format!("{}", 2 * i));
            r.lineage.file = Some("tasks.jsonl".into());
            r.lineage.row = Some(i as u64 + 1);
            r
        })
        .collect()
}

/// An endpoint at `url` for the mock model, with fast retries.
pub fn endpoint(url: &str) -> EndpointConfig {
    let mut e = EndpointConfig::new(url, "mock-model");
    e.backoff_s = 0.01;
    e.max_backoff_s = 0.05;
    e.timeout_s = 5.0;
    e.max_retries = 4;
    e
}

/// A generate config with `n` samples and a seed.
pub fn generate(url: &str, n: u32) -> GenerateConfig {
    let mut c = GenerateConfig::new(endpoint(url));
    c.n = n;
    c.seed = Some(100);
    c.temperature = Some(0.7);
    c.max_tokens = Some(64);
    c.user = Some("Solve: {problem}".into());
    c
}

/// A stage with its cache in `dir`.
pub fn stage(config: &GenerateConfig, dir: &Path) -> GenerateStage {
    GenerateStage::new(config, dir, &dir.join("cache.sqlite")).expect("stage")
}
