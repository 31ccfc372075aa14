//! The pipeline end to end: HTTP and pub/sub in, the posterior out.

use crate::harness::TestApp;
use redis::AsyncCommands;
use serde_json::{Value, json};

fn close(actual: &Value, expected: f64, tolerance: f64) {
    let actual = actual.as_f64().expect("a number");
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not within {tolerance} of {expected}"
    );
}

#[tokio::test]
async fn nine_tosses_by_http_then_a_publish_give_the_reference_posterior() {
    let app = TestApp::spawn().await;

    for trial in ["w", "l", "w", "w", "w", "l", "w", "l", "w"] {
        assert_eq!(app.send(trial).await, 202);
    }
    app.wait_for_n(9).await;
    let model = app.model().await;
    assert_eq!(
        (model["w"].as_u64(), model["n"].as_u64()),
        (Some(6), Some(9))
    );
    close(&model["mean"], 0.636_367_606_656_288_2, 1e-9);
    close(&model["map"], 0.663_865_546_218_487_4, 1e-9);
    assert_eq!(model["prior"], "step:0.1");
    assert_eq!(model["grid_points"], 120);
    let hpdi = model["hpdi_89"].as_array().expect("[lo, hi]");
    assert!(hpdi[0].as_f64() < model["map"].as_f64() && model["map"].as_f64() < hpdi[1].as_f64());

    app.wait_for_subscriber().await;
    assert_eq!(app.publish(b"w").await, 1);
    app.wait_for_n(10).await;
    assert_eq!(app.model().await["w"], 7);
}

#[tokio::test]
async fn a_202_carries_the_id_of_the_stored_entry() {
    let app = TestApp::builder().bayes_instances(0).spawn().await;

    let response = app.get("/update_model/l").await.unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    let id = body["id"].as_str().expect("id").to_owned();
    assert_eq!(body["trial"], "l");
    assert_eq!(body["index"], 0, "alone in its group commit");

    let mut connection = app.redis.connection().await;
    let entries: redis::streams::StreamRangeReply = connection
        .xrange(app.key("events"), &id, &id)
        .await
        .unwrap();
    assert_eq!(entries.ids.len(), 1);
    assert_eq!(entries.ids[0].get::<String>("trials").as_deref(), Some("l"));
}

#[tokio::test]
async fn before_any_observation_the_model_is_the_prior() {
    let app = TestApp::builder().bayes_instances(0).spawn().await;

    let model = app.model().await;
    assert_eq!(model["n"], 0);
    assert_eq!(model["w"], 0);
    assert_eq!(model["prior"], "step:0.1");
    assert_eq!(model["grid_points"], 120);
    // Even mass on the grid points above 0.1: 12/119 … 119/119.
    close(&model["mean"], 65.5 / 119.0, 1e-9);
}

#[tokio::test]
async fn the_stored_definition_is_served_with_its_closed_form() {
    let app = TestApp::builder()
        .env("PRIOR", "uniform")
        .env("GRID_POINTS", "20")
        .spawn()
        .await;
    for trial in ["w", "l", "w", "w", "w", "l", "w", "l", "w"] {
        assert_eq!(app.send(trial).await, 202);
    }
    app.wait_for_n(9).await;

    let model = app.model().await;
    assert_eq!(model["prior"], "uniform");
    assert_eq!(model["grid_points"], 20);
    close(&model["mean"], 0.636_382, 1e-6);
    close(&model["closed_form"]["mean"], 0.636_364, 1e-6);
    close(&model["closed_form"]["sd"], 0.138_866, 1e-6);
}

#[tokio::test]
async fn a_batch_is_stored_all_at_once_and_applied() {
    let app = TestApp::spawn().await;

    let response = app
        .http
        .post(format!("{}/update_model", app.api_url))
        .json(&json!({ "trials": "wlwwwlwlw" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.json::<Value>().await.unwrap()["accepted"], 9);
    let response = app
        .http
        .post(format!("{}/update_model", app.api_url))
        .json(&json!({ "trials": ["w", "l"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    assert_eq!(app.wait_for_n(11).await, (7, 11));
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::builder().bayes_instances(0).spawn().await;
    assert_eq!(app.get("/healthz").await.unwrap().status(), 200);
    let ready = app.get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn both_services_exit_0_on_sigterm() {
    let mut app = TestApp::spawn().await;
    assert_eq!(app.send("w").await, 202);
    app.wait_for_n(1).await;
    assert!(app.api.terminate().await.success());
    assert!(app.bayes[0].terminate().await.success());
    assert!(app.bayes_logs().contains("bayes stopped"));
}
