//! Bad definitions: 400 naming the field, nothing stored.

use super::put;
use crate::harness::TestApp;
use redis::AsyncCommands;
use serde_json::json;

#[tokio::test]
async fn bad_definitions_are_refused_by_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let many: Vec<String> = (0..21).map(|i| format!("v{i}")).collect();
    for (body, field) in [
        (json!({"variants": ["a", "b"]}), "kind"),
        (
            json!({"kind": "ab", "variants": ["a", "b"], "baseline": "c"}),
            "baseline",
        ),
        (
            json!({"kind": "ab", "variants": ["a", "b"], "weights": [0.5, 0.6]}),
            "weights: must sum to 1",
        ),
        (
            json!({"kind": "bandit", "variants": ["a", "b", "c"], "floor": 0.5}),
            "floor",
        ),
        (json!({"kind": "ab", "variants": many}), "variants"),
        (json!({"kind": "ab", "variants": ["a", "a"]}), "variants"),
        (
            json!({"kind": "ab", "variants": ["a", "b"], "window": "7x"}),
            "window",
        ),
        (
            json!({"kind": "ab", "variants": ["a", "b"], "window": "7d", "half_life": "1d"}),
            "window",
        ),
        (
            json!({"kind": "ab", "variants": ["a", "b"], "colour": "red"}),
            "colour",
        ),
        (
            json!({"kind": "ab", "variants": ["a", "b"], "threshold": "low"}),
            "threshold",
        ),
        (json!({"kind": "abc", "variants": ["a", "b"]}), "kind"),
        (json!(["a", "b"]), "expected"),
    ] {
        let (status, answer) = put(&app, "e", body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with(field) || error.contains(field),
            "{body}: {error}"
        );
    }
    let (status, _) = put(&app, "-e", json!({"kind": "ab", "variants": ["a", "b"]})).await;
    assert_eq!(status, 400, "a bad experiment name");

    // Nothing reached the log, and no variant or experiment exists.
    let mut redis = app.redis.connection().await;
    let length: u64 = redis.xlen(app.key("events")).await.unwrap();
    assert_eq!(length, 0, "no log entry for a refused definition");
    let hash: bool = redis.exists(app.key("experiment:e")).await.unwrap();
    assert!(!hash);
    assert_eq!(app.call("GET", "/models/a", None).await.0, 404);

    // Every route of an unknown experiment is a 404.
    for (method, path, body) in [
        ("GET", "/experiments/nope", None),
        ("DELETE", "/experiments/nope", None),
        ("GET", "/experiments/nope/choose", None),
        ("GET", "/experiments/nope/history", None),
        ("GET", "/experiments/nope/decisions", None),
        (
            "POST",
            "/experiments/nope/stop",
            Some(json!({"variant": "a"})),
        ),
        (
            "POST",
            "/experiments/nope/observations",
            Some(json!({"variant": "a", "trials": "w"})),
        ),
    ] {
        let (status, answer) = app.call(method, path, body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    let length: u64 = redis.xlen(app.key("events")).await.unwrap_or(0);
    assert_eq!(length, 0, "nothing appended for an unknown experiment");
}
