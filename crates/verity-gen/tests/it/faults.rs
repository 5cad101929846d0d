//! Each fault the local server can inject, and what the user gets.

use crate::common::{generate, stage, tasks};
use std::time::{Duration, Instant};
use verity_gen::testing::{Fault, MockServer};
use verity_gen::Error;

fn retries(stage: &verity_gen::stage::GenerateStage) -> serde_json::Value {
    stage.summary_value()["requests"]["retries"].clone()
}

#[test]
fn rate_limit_with_retry_after_waits_at_least_that_long() {
    let server = MockServer::start();
    server.push_faults([Fault::RateLimit(Some(1.0))]);
    let dir = tempfile::tempdir().unwrap();
    let s = stage(&generate(&server.url(), 1), dir.path());
    let started = Instant::now();
    let out = s.run_batch(tasks(1)).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 not honoured"
    );
    assert_eq!(out.kept.len(), 1);
    assert_eq!(out.kept[0].attempts.len(), 1);
    assert_eq!(retries(&s)["http_429"], 1);
    assert_eq!(server.completions(), 2);
}

#[test]
fn rate_limit_without_retry_after_backs_off_and_succeeds() {
    let server = MockServer::start();
    server.push_faults([Fault::RateLimit(None), Fault::RateLimit(None)]);
    let dir = tempfile::tempdir().unwrap();
    let s = stage(&generate(&server.url(), 1), dir.path());
    let out = s.run_batch(tasks(1)).unwrap();
    assert_eq!(out.kept[0].attempts.len(), 1);
    assert_eq!(retries(&s)["http_429"], 2);
    assert_eq!(server.completions(), 3);
}

#[test]
fn server_errors_500_and_503_are_retried_and_counted_by_cause() {
    let server = MockServer::start();
    server.push_faults([
        Fault::Status(500, "boom".into()),
        Fault::Status(503, "overloaded".into()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let s = stage(&generate(&server.url(), 1), dir.path());
    let out = s.run_batch(tasks(1)).unwrap();
    assert_eq!(out.kept.len(), 1);
    let r = retries(&s);
    assert_eq!(
        (r["http_500"].as_u64(), r["http_503"].as_u64()),
        (Some(1), Some(1))
    );
    let summary = s.summary_value();
    assert_eq!(summary["requests"]["requests"], 3);
    assert_eq!(summary["requests"]["replies"], 1);
}

#[test]
fn a_reply_slower_than_the_timeout_is_abandoned_and_retried() {
    let server = MockServer::start();
    server.push_faults([Fault::Slow(Duration::from_secs(5))]);
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 1);
    c.endpoint.timeout_s = 0.5;
    let s = stage(&c, dir.path());
    let started = Instant::now();
    let out = s.run_batch(tasks(1)).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout did not cut the request"
    );
    assert_eq!(out.kept[0].attempts.len(), 1);
    assert_eq!(retries(&s)["timeout"], 1);
}

#[test]
fn malformed_json_and_a_body_cut_mid_way_are_retried() {
    let server = MockServer::start();
    server.push_faults([Fault::Malformed, Fault::DropMidBody]);
    let dir = tempfile::tempdir().unwrap();
    let s = stage(&generate(&server.url(), 1), dir.path());
    let out = s.run_batch(tasks(1)).unwrap();
    let a = &out.kept[0].attempts[0];
    assert!(a.response.as_deref().unwrap().contains("\\boxed"), "{a:?}");
    let r = retries(&s);
    assert_eq!(r["malformed_json"], 1, "{r}");
    assert_eq!(r["dropped_connection"], 1, "{r}");
}

#[test]
fn fewer_choices_than_asked_are_completed_with_the_next_seeds() {
    let server = MockServer::start();
    server.max_choices(Some(1));
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 4);
    c.samples_per_request = 4;
    let s = stage(&c, dir.path());
    let out = s.run_batch(tasks(1)).unwrap();
    let attempts = &out.kept[0].attempts;
    assert_eq!(attempts.len(), 4);
    assert_eq!(server.completions(), 4);
    let seeds: Vec<u64> = attempts
        .iter()
        .map(|a| {
            a.generator.as_ref().unwrap().params["seed"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seeds, vec![100, 101, 102, 103]);
    // A server that honours n answers all four in one request.
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 4);
    c.samples_per_request = 4;
    let s = stage(&c, dir.path());
    let out = s.run_batch(tasks(1)).unwrap();
    assert_eq!(out.kept[0].attempts.len(), 4);
    assert_eq!(server.completions(), 1);
}

#[test]
fn a_reply_without_choices_is_retried() {
    let server = MockServer::start();
    server.push_faults([Fault::Choices(0)]);
    let dir = tempfile::tempdir().unwrap();
    let s = stage(&generate(&server.url(), 1), dir.path());
    let out = s.run_batch(tasks(1)).unwrap();
    assert_eq!(out.kept[0].attempts.len(), 1);
    assert_eq!(retries(&s)["no_choices"], 1);
}

#[test]
fn exhausted_retries_reject_the_task_and_a_rerun_completes_it() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 1);
    c.endpoint.max_retries = 2;
    let s = stage(&c, dir.path());
    let all = tasks(3);
    let out = s.run_batch(all[1..].to_vec()).unwrap();
    assert_eq!(out.kept.len(), 2);
    // The first try and both retries of the next request fail.
    server.push_faults([
        Fault::Status(503, "down".into()),
        Fault::Status(503, "down".into()),
        Fault::Status(503, "down".into()),
    ]);
    let out = s.run_batch(all[..1].to_vec()).unwrap();
    assert!(out.kept.is_empty());
    assert_eq!(
        out.rejected[0].reason,
        "generate:retries_exhausted:http_503"
    );
    assert_eq!(out.rejected[0].detail.as_ref().unwrap()["retries"], 2);
    assert_eq!(server.completions(), 5);
    // The rerun sends exactly one request: the rejected task's.
    let s = stage(&c, dir.path());
    let out = s.run_batch(all).unwrap();
    assert_eq!(out.kept.len(), 3);
    assert!(out.rejected.is_empty());
    assert_eq!(server.completions(), 6);
    assert_eq!(s.summary_value()["requests"]["cache_hits"], 2);
}

#[test]
fn context_too_long_rejects_the_task_without_retrying() {
    let server = MockServer::start();
    server.push_faults([Fault::Status(
        400,
        "This model's maximum context length is 2048 tokens".into(),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 1);
    c.endpoint.concurrency = 1;
    let s = stage(&c, dir.path());
    let out = s.run_batch(tasks(2)).unwrap();
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].reason, "generate:context_too_long");
    assert_eq!(out.kept.len(), 1);
    assert_eq!(server.completions(), 2);
    assert_eq!(
        s.summary_value()["requests"]["failures"]["generate:context_too_long"],
        1
    );
}

#[test]
fn a_content_refusal_rejects_the_task() {
    let server = MockServer::start();
    server.push_faults([Fault::Status(400, "Rejected by the content_filter".into())]);
    let dir = tempfile::tempdir().unwrap();
    let s = stage(&generate(&server.url(), 1), dir.path());
    let out = s.run_batch(tasks(1)).unwrap();
    assert_eq!(out.rejected[0].reason, "generate:content_refused");
}

#[test]
fn a_wrong_key_stops_the_run_before_any_completion_is_sent() {
    let server = MockServer::start();
    server.require_key("right-key");
    std::env::set_var("VERITY_GEN_IT_WRONG_KEY", "wrong-key-value");
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 2);
    c.endpoint.api_key_env = Some("VERITY_GEN_IT_WRONG_KEY".into());
    let s = stage(&c, dir.path());
    let e = s.run_batch(tasks(5)).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Auth { status: 401, .. }), "{e:?}");
    assert!(text.contains("$VERITY_GEN_IT_WRONG_KEY"), "{text}");
    assert!(
        !text.contains("wrong-key-value"),
        "the key leaked into the error: {text}"
    );
    assert_eq!(server.completions(), 0);
    assert_eq!(server.model_lists(), 1);
    // A second batch of the same stage sends nothing either.
    assert!(s.run_batch(tasks(2)).is_err());
    assert_eq!(server.completions(), 0);
}

#[test]
fn an_unknown_model_stops_the_run_with_the_served_models() {
    let server = MockServer::start();
    server.set_models(&["served-a", "served-b"]);
    let dir = tempfile::tempdir().unwrap();
    let s = stage(&generate(&server.url(), 1), dir.path());
    let e = s.run_batch(tasks(3)).unwrap_err();
    assert!(matches!(e, Error::ModelNotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("served-a, served-b"), "{e}");
    assert_eq!(server.completions(), 0);
}

#[test]
fn a_404_on_completions_stops_the_run_when_there_is_no_model_list() {
    let server = MockServer::start();
    server.set_models(&[]);
    server.push_faults([Fault::Status(
        404,
        "The model `mock-model` does not exist".into(),
    )]);
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 1);
    c.endpoint.concurrency = 1;
    let s = stage(&c, dir.path());
    let e = s.run_batch(tasks(4)).unwrap_err();
    assert!(
        matches!(e, Error::ModelNotFound { status: 404, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("does not exist"), "{e}");
    assert_eq!(
        server.completions(),
        1,
        "requests were sent after the run stopped"
    );
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&url, 1);
    c.endpoint.max_retries = 1;
    let s = stage(&c, dir.path());
    let e = s.run_batch(tasks(1)).unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
}

#[test]
fn per_minute_limits_space_the_requests() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut c = generate(&server.url(), 1);
    c.endpoint.requests_per_minute = Some(600.0); // one per 100 ms
    let s = stage(&c, dir.path());
    let started = Instant::now();
    let out = s.run_batch(tasks(6)).unwrap();
    assert_eq!(out.kept.len(), 6);
    // Six requests need at least five gaps of 100 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(480),
        "{:?}",
        started.elapsed()
    );
}
