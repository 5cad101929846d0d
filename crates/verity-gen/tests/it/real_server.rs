//! Against a real OpenAI-compatible server (llama.cpp's, started by `.ci/run`), found through
//! `VERITY_TEST_LLM_URL` (and `VERITY_TEST_LLM_MODEL`, default `smollm2-135m`). Without the
//! variable these tests print that they skip; with it, a server that does not answer fails
//! them. The model is weak: the tests check mechanics (samples, lineage, usage, cache), not
//! accuracy.

use crate::common::{stage, tasks};
use verity_gen::config::{EndpointConfig, GenerateConfig};

fn server() -> Option<(String, String)> {
    match std::env::var("VERITY_TEST_LLM_URL") {
        Ok(url) if !url.is_empty() => Some((
            url,
            std::env::var("VERITY_TEST_LLM_MODEL").unwrap_or_else(|_| "smollm2-135m".into()),
        )),
        _ => {
            eprintln!(
                "skipped: VERITY_TEST_LLM_URL is not set (CI sets it after starting llama.cpp)"
            );
            None
        }
    }
}

#[test]
fn samples_from_a_real_server_with_lineage_usage_and_cache() {
    let Some((url, model)) = server() else { return };
    let mut endpoint = EndpointConfig::new(url, model.clone());
    endpoint.concurrency = 2;
    endpoint.timeout_s = 120.0;
    endpoint.max_retries = 2;
    let mut c = GenerateConfig::new(endpoint);
    c.n = 2;
    c.seed = Some(7);
    c.temperature = Some(0.8);
    c.max_tokens = Some(24);
    c.user = Some("Answer briefly: {problem}".into());
    let dir = tempfile::tempdir().unwrap();
    let s = stage(&c, dir.path());
    let out = s
        .run_batch(tasks(2))
        .expect("the real server did not answer");
    assert!(
        out.rejected.is_empty(),
        "{:?}",
        out.rejected.iter().map(|r| &r.reason).collect::<Vec<_>>()
    );
    assert_eq!(out.kept.len(), 2);
    for r in &out.kept {
        assert_eq!(r.attempts.len(), 2);
        for (i, a) in r.attempts.iter().enumerate() {
            let g = a.generator.as_ref().unwrap();
            assert!(g.model.as_deref().is_some_and(|m| !m.is_empty()));
            assert_eq!(g.params["seed"], 7 + i as u64);
            assert!(a.finish_reason.is_some());
            assert!(
                a.signals
                    .get("completion_tokens")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0)
                    > 0
            );
        }
    }
    let summary = s.summary_value();
    assert_eq!(summary["requests"]["samples_generated"], 4);
    assert!(summary["requests"]["tokens_out"].as_u64().unwrap() > 0);
    // The rerun is served from the cache.
    let again = stage(&c, dir.path());
    let second = again.run_batch(tasks(2)).unwrap();
    assert_eq!(again.summary_value()["requests"]["requests"], 0);
    assert_eq!(second.kept, out.kept);
}
