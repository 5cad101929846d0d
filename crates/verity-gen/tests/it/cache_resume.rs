//! The request cache: a rerun sends nothing, lineage is complete, the key is never stored.

use crate::common::{generate, stage, tasks};
use verity_core::record::ObjectKind;
use verity_gen::testing::MockServer;

#[test]
fn a_rerun_sends_zero_requests_and_returns_the_same_records() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let c = generate(&server.url(), 3);
    let first = stage(&c, dir.path()).run_batch(tasks(5)).unwrap();
    assert_eq!(server.completions(), 15);
    assert_eq!(
        server.distinct_bodies(),
        15,
        "samples of a task must differ by seed"
    );
    let again = stage(&c, dir.path());
    let second = again.run_batch(tasks(5)).unwrap();
    assert_eq!(server.completions(), 15, "the rerun sent requests");
    assert_eq!(
        server.model_lists(),
        1,
        "a fully cached rerun must not even list models"
    );
    assert_eq!(
        first.kept, second.kept,
        "cached records differ (latency included)"
    );
    let summary = again.summary_value();
    assert_eq!(summary["requests"]["requests"], 0);
    assert_eq!(summary["requests"]["cache_hits"], 15);
    // A changed parameter is a different request.
    let mut c2 = c.clone();
    c2.temperature = Some(0.9);
    stage(&c2, dir.path()).run_batch(tasks(1)).unwrap();
    assert_eq!(server.completions(), 18);
}

#[test]
fn attempts_carry_their_lineage() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 2);
    c.base_model = Some("base-7b".into());
    c.stop = vec!["###".into()];
    let s = stage(&c, dir.path());
    let out = s.run_batch(tasks(1)).unwrap();
    let r = &out.kept[0];
    assert_eq!(r.object, ObjectKind::RolloutSet);
    assert!(r
        .lineage
        .stages
        .contains(&"generate:mock-model".to_string()));
    for (i, a) in r.attempts.iter().enumerate() {
        let g = a.generator.as_ref().unwrap();
        assert_eq!(
            g.model.as_deref(),
            Some("mock-model-served"),
            "server-reported id"
        );
        assert_eq!(g.base.as_deref(), Some("base-7b"));
        assert_eq!(g.params["sample_index"], i);
        assert_eq!(g.params["seed"], 100 + i as u64);
        assert_eq!(g.params["temperature"], 0.7);
        assert_eq!(g.params["max_tokens"], 64);
        assert_eq!(g.params["n"], 2);
        assert_eq!(g.params["stop"], serde_json::json!(["###"]));
        assert_eq!(g.params["template_sha256"], s.generator().template_hash());
        assert_eq!(
            a.trace.as_deref().map(|t| t.starts_with("Let me work")),
            Some(true)
        );
        assert!(a.response.as_deref().unwrap().starts_with("The answer is"));
        assert!(a.signals.get("prompt_tokens").unwrap().as_u64().unwrap() > 0);
        assert!(
            a.signals
                .get("completion_tokens")
                .unwrap()
                .as_u64()
                .unwrap()
                > 0
        );
        assert!(a.signals.get("latency_ms").is_some());
        assert_eq!(a.signals.get("truncated"), Some(&serde_json::json!(false)));
        assert_eq!(a.finish_reason.as_deref(), Some("stop"));
    }
    let summary = s.summary_value();
    assert_eq!(summary["generators"][0]["model"], "mock-model-served");
    assert_eq!(summary["generators"][0]["attempts"], 2);
    assert_eq!(summary["generators"][0]["params"]["n"], 2);
    assert_eq!(summary["samples_per_task"], 2);
    assert_eq!(summary["base_model"], "base-7b");
    assert!(summary["generation_tokens"]["total"].as_u64().unwrap() > 0);
}

#[test]
fn length_finish_marks_the_attempt_truncated() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 1);
    c.max_tokens = Some(3); // the mock's replies are longer: finish_reason = length
    let out = stage(&c, dir.path()).run_batch(tasks(1)).unwrap();
    let a = &out.kept[0].attempts[0];
    assert_eq!(a.finish_reason.as_deref(), Some("length"));
    assert_eq!(a.signals.get("truncated"), Some(&serde_json::json!(true)));
}

#[test]
fn the_api_key_is_sent_but_never_stored() {
    let server = MockServer::start();
    let key = "sk-verity-gen-it-7f3a9c";
    server.require_key(key);
    std::env::set_var("VERITY_GEN_IT_KEY", key);
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 2);
    c.endpoint.api_key_env = Some("VERITY_GEN_IT_KEY".into());
    c.endpoint.price_input_per_mtok = Some(1.0);
    c.endpoint.price_output_per_mtok = Some(2.0);
    let s = stage(&c, dir.path());
    let out = s.run_batch(tasks(2)).unwrap();
    assert_eq!(out.kept.len(), 2);
    assert!(server
        .auth_headers()
        .iter()
        .all(|h| h == &format!("Bearer {key}")));
    let summary = s.summary_value();
    let params = verity_core::stage::Stage::params(&s);
    let cost = summary["requests"]["cost"].as_f64().unwrap();
    let expected = summary["requests"]["tokens_in"].as_f64().unwrap() / 1e6
        + 2.0 * summary["requests"]["tokens_out"].as_f64().unwrap() / 1e6;
    assert!((cost - expected).abs() < 1e-12, "{cost} vs {expected}");
    for text in [
        summary.to_string(),
        params.to_string(),
        serde_json::to_string(&out.kept).unwrap(),
        format!("{:?}", s.generator().client()),
    ] {
        assert!(!text.contains(key), "the key leaked: {text}");
    }
    assert!(params.to_string().contains("VERITY_GEN_IT_KEY"));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "the key is in the cache files"
        );
    }
}

#[test]
fn a_missing_key_variable_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate("http://127.0.0.1:9/v1", 1);
    c.endpoint.api_key_env = Some("VERITY_GEN_IT_UNSET_KEY_VAR".into());
    let e = verity_gen::stage::GenerateStage::new(&c, dir.path(), &dir.path().join("c.sqlite"))
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("$VERITY_GEN_IT_UNSET_KEY_VAR"),
        "{e}"
    );
}

#[test]
fn completions_api_and_template_failures() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 1);
    c.endpoint.api = verity_gen::config::Api::Completions;
    c.user = Some("Q: {problem}\nReference: {solution}\nA:".into());
    let mut all = tasks(2);
    all[0].task.reference.solution = Some("worked".into());
    let out = stage(&c, dir.path()).run_batch(all).unwrap();
    assert_eq!(out.kept.len(), 1);
    assert_eq!(out.rejected[0].reason, "generate:template");
    assert!(out.rejected[0].detail.as_ref().unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("{solution}"));
    assert_eq!(server.completions(), 1);
}
