//! What operators rely on: metrics, the OpenAPI document, graceful
//! shutdown, JSON logs.

use crate::harness::{SETTLE, TestApp, eventually, metric, send_load};
use serde_json::Value;
use std::collections::BTreeSet;

#[tokio::test]
async fn metrics_move_with_observations() {
    let app = TestApp::spawn().await;
    for trial in ["w", "l", "w", "x"] {
        app.send(trial).await;
    }
    app.wait_for_n(3).await;

    assert_eq!(
        metric(&app.api_url, "api_observations_accepted_total").await,
        3.0
    );
    assert_eq!(
        metric(&app.api_url, "api_errors_total{kind=\"bad_request\"}").await,
        1.0
    );
    let bayes = &app.bayes_metrics[0];
    eventually("bayes to count 3 applied", SETTLE, || async {
        (metric(bayes, "bayes_observations_applied_total").await == 3.0).then_some(())
    })
    .await;
    assert!(metric(bayes, "bayes_apply_lag_seconds_count").await >= 1.0);
    eventually("a render to be counted", SETTLE, || async {
        (metric(bayes, "bayes_renders_total").await >= 1.0).then_some(())
    })
    .await;
    assert!(metric(bayes, "bayes_batch_size_count").await >= 1.0);
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let app = TestApp::builder().bayes_instances(0).spawn().await;
    let document: Value = app
        .get("/openapi.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths: BTreeSet<&str> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "/update_model/{trial}",
        "/update_model",
        "/model",
        "/healthz",
        "/readyz",
        "/graphs/posterior.png",
        "/metrics",
        "/models",
        "/models/{name}",
        "/models/{name}/observations",
        "/models/{name}/posterior",
        "/models/{name}/history",
        "/graphs/{name}/posterior.png",
        "/compare",
        "/compare/history",
        "/choose",
        "/session",
        "/experiments",
        "/experiments/{name}",
        "/experiments/{name}/observations",
        "/experiments/{name}/choose",
        "/experiments/{name}/stop",
        "/experiments/{name}/history",
        "/experiments/{name}/decisions",
    ]
    .into();
    assert_eq!(paths, expected);
    let experiment = &document["paths"]["/experiments/{name}"];
    for method in ["get", "put", "delete"] {
        assert!(
            experiment[method].is_object(),
            "{method} /experiments/{{name}}"
        );
    }
    assert!(document["paths"]["/update_model"]["post"]["responses"]["413"].is_object());
    assert!(document["components"]["schemas"]["ModelSummary"]["properties"]["hpdi_89"].is_object());
}

#[tokio::test]
async fn sigterm_during_load_loses_nothing_answered_202() {
    let mut app = TestApp::spawn().await;
    let load = tokio::spawn(send_load(
        app.http.clone(),
        app.api_url.clone(),
        100_000,
        32,
    ));
    eventually("the load under way", SETTLE, || async {
        (app.counts().await.1 >= 1_000).then_some(())
    })
    .await;
    assert!(
        app.bayes[0].terminate().await.success(),
        "bayes exits 0 mid-load"
    );
    let stopped_at = app.counts().await.1;
    app.bayes[0].restart();
    eventually("bayes applying again", SETTLE, || async {
        (app.counts().await.1 > stopped_at).then_some(())
    })
    .await;
    assert!(!load.is_finished(), "the api is stopped mid-load");
    assert!(app.api.terminate().await.success(), "api exits 0 mid-load");

    let (w, n) = load.await.unwrap();
    assert!(
        n > 0 && n < 100_000,
        "the api stopped mid-load ({n} accepted)"
    );
    assert_eq!(
        app.wait_for_n(n).await,
        (w, n),
        "every 202 was applied, once"
    );
}

#[tokio::test]
async fn logs_are_json_on_request_with_the_effective_configuration() {
    let mut app = TestApp::builder().env("LOG_FORMAT", "json").spawn().await;
    assert_eq!(app.send("w").await, 202);
    app.wait_for_n(1).await;
    assert!(app.api.terminate().await.success());
    let log = app.api_log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let start = lines
        .iter()
        .find(|line| line["message"] == "api starting")
        .expect("a start line");
    assert_eq!(start["key_prefix"], app.prefix.as_str());
    assert!(
        start["redis_url"]
            .as_str()
            .unwrap()
            .starts_with("redis://127.0.0.1:")
    );
    assert!(
        app.bayes_logs()
            .lines()
            .any(|l| l.contains("\"message\":\"bayes starting\""))
    );
}
