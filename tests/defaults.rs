//! The defaults of models created by observation alone, and the warnings,
//! end to end on a real Redis with the real binaries: small-rate A/B tests
//! decided right on the named models' default grid, a model defined with
//! the original's `step:0.1` and fed 2% saying it is pinned (and deciding
//! nothing), and the model `default` still on the original's definition.

use crate::harness::{SETTLE, TestApp, eventually};
use serde_json::{Value, json};

/// Most observations one request carries.
const PER_REQUEST: u64 = 10_000;

/// Sends `w` wins of `n` to `name`, in requests of at most 10,000.
async fn observe(app: &TestApp, name: &str, w: u64, n: u64) {
    let path = format!("/models/{name}/observations");
    let (mut wins, mut trials) = (w, n);
    while trials > 0 {
        let batch = trials.min(PER_REQUEST);
        let batch_wins = wins.min(batch);
        let body = json!({"w": batch_wins, "l": batch - batch_wins});
        let (status, answer) = app.call("POST", &path, Some(body)).await;
        assert_eq!(status, 202, "{answer}");
        (wins, trials) = (wins - batch_wins, trials - batch);
    }
}

async fn applied(app: &TestApp, name: &str, n: u64) -> Value {
    eventually(&format!("{name} at n = {n}"), SETTLE, || async {
        let (status, model) = app.call("GET", &format!("/models/{name}"), None).await;
        (status == 200 && model["n"] == n).then_some(model)
    })
    .await
}

async fn compare(app: &TestApp, models: &str) -> Value {
    let (status, compared) = app
        .call("GET", &format!("/compare?models={models}"), None)
        .await;
    assert_eq!(status, 200, "{compared}");
    println!("GET /compare?models={models}: {compared}");
    compared
}

fn close(value: &Value, expected: f64, within: f64) {
    let x = value.as_f64().unwrap_or(f64::NAN);
    assert!(
        (x - expected).abs() <= within,
        "{x} is not {expected} ± {within}"
    );
}

/// `low` and `high` at the given counts, created by observation only; their
/// comparison must name `high` best with p_best > 0.99 and means within
/// 0.002 of the rates, with no warnings.
async fn told_apart(low: (u64, u64), high: (u64, u64)) {
    let app = TestApp::builder().env("PARTITIONS", "2").spawn().await;
    observe(&app, "low", low.0, low.1).await;
    observe(&app, "high", high.0, high.1).await;
    let model = applied(&app, "low", low.1).await;
    applied(&app, "high", high.1).await;
    assert_eq!(
        (model["prior"].as_str(), model["grid_points"].as_u64()),
        (Some("uniform"), Some(10_001)),
        "{model}"
    );

    let compared = compare(&app, "low,high").await;
    let [a, b] = compared["models"].as_array().unwrap().as_slice() else {
        panic!("two models: {compared}")
    };
    assert!(b["p_best"].as_f64().unwrap() > 0.99, "{compared}");
    close(&a["mean"], low.0 as f64 / low.1 as f64, 0.002);
    close(&b["mean"], high.0 as f64 / high.1 as f64, 0.002);
    for entry in [a, b] {
        assert_eq!(entry["warnings"], json!([]), "{entry}");
    }
    assert_eq!(compared["decision"]["best"], "high", "{compared}");
}

#[tokio::test]
async fn two_and_three_percent_created_by_observation_are_told_apart() {
    told_apart((100, 5_000), (150, 5_000)).await;
}

#[tokio::test]
async fn half_a_percent_and_six_tenths_at_100000_each_are_told_apart() {
    told_apart((500, 100_000), (600, 100_000)).await;
}

#[tokio::test]
async fn a_step_prior_fed_two_percent_says_it_is_pinned_and_decides_nothing() {
    let app = TestApp::spawn().await;
    for name in ["old-a", "old-b"] {
        let define = json!({"prior": "step:0.1", "grid_points": 120});
        let (status, answer) = app
            .call("PUT", &format!("/models/{name}"), Some(define))
            .await;
        assert_eq!(status, 202, "{answer}");
    }
    observe(&app, "old-a", 100, 5_000).await;
    observe(&app, "old-b", 150, 5_000).await;
    let model = applied(&app, "old-a", 5_000).await;
    applied(&app, "old-b", 5_000).await;
    assert_eq!(model["prior"], "step:0.1", "{model}");
    let warnings = model["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{model}");
    assert_eq!(warnings[0]["code"], "pinned_at_prior_edge");
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(
        message.contains("pinned at the edge of its prior's support, p = 0.1008"),
        "{message}"
    );

    let compared = compare(&app, "old-a,old-b").await;
    let decision = &compared["decision"];
    assert_eq!(decision["winner"], Value::Null, "{decision}");
    let verdict = decision["verdict"].as_str().unwrap();
    assert!(verdict.contains("keep collecting"), "{verdict}");
    assert!(!verdict.contains("ship"), "{verdict}");
    for entry in compared["models"].as_array().unwrap() {
        assert_eq!(entry["warnings"][0]["code"], "pinned_at_prior_edge");
    }
    let (_, chosen) = app.call("GET", "/choose?models=old-a,old-b", None).await;
    assert_eq!(
        chosen["warnings"].as_array().map(Vec::len),
        Some(2),
        "{chosen}"
    );
}

#[tokio::test]
async fn the_default_model_keeps_the_originals_definition() {
    let app = TestApp::spawn().await;
    for trial in ["w", "l", "w"] {
        assert_eq!(app.send(trial).await, 202);
    }
    observe(&app, "named", 1, 3).await;
    app.wait_for_n(3).await;
    applied(&app, "named", 3).await;
    let model = app.model().await;
    assert_eq!(
        (model["prior"].as_str(), model["grid_points"].as_u64()),
        (Some("step:0.1"), Some(120)),
        "{model}"
    );
    let (_, by_name) = app.call("GET", "/models/default", None).await;
    assert_eq!(by_name["grid_points"], 120, "{by_name}");

    // As stored by bayes's apply: each model's own default definition.
    let mut connection = app.redis.connection().await;
    for (key, expected) in [
        (format!("{}:model", app.prefix), ["step:0.1", "120"]),
        (format!("{}:model:named", app.prefix), ["uniform", "10001"]),
    ] {
        let stored: Vec<String> = redis::cmd("HMGET")
            .arg(&key)
            .arg("prior")
            .arg("grid_points")
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(stored, expected, "{key}");
    }
}
