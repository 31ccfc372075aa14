//! Defaults and warnings through the routes, with in-memory ports: a named
//! model created by observation gets the fine uniform grid, `default` keeps
//! the original's; a posterior pinned at its prior's edge says so in every
//! answer that shows it, and a comparison of such models has no winner.

mod common;

use axum::http::StatusCode;
use common::{call, models_router as router};
use serde_json::{Value, json};

async fn post(router: &axum::Router, model: &str, body: Value) -> StatusCode {
    let uri = format!("/models/{model}/observations");
    call(router, "POST", &uri, &body.to_string()).await.0
}

async fn pinned_pair(router: &axum::Router) {
    for name in ["low", "high"] {
        let define = json!({"prior": "step:0.1", "grid_points": 120}).to_string();
        let uri = format!("/models/{name}");
        assert_eq!(
            call(router, "PUT", &uri, &define).await.0,
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(
        post(router, "low", json!({"w": 100, "l": 4_900})).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post(router, "high", json!({"w": 150, "l": 4_850})).await,
        StatusCode::ACCEPTED
    );
}

fn codes(warnings: &Value) -> Vec<&str> {
    warnings
        .as_array()
        .unwrap_or_else(|| panic!("a warnings list: {warnings}"))
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect()
}

#[tokio::test]
async fn a_model_created_by_observation_gets_the_fine_uniform_grid_and_default_the_originals() {
    let (router, _) = router();
    post(&router, "checkout", json!({"w": 100, "l": 4_900})).await;
    let (_, model) = call(&router, "GET", "/models/checkout", "").await;
    assert_eq!(
        (model["prior"].as_str(), model["grid_points"].as_u64()),
        (Some("uniform"), Some(10_001))
    );
    assert!(
        (model["mean"].as_f64().unwrap() - 0.02).abs() < 0.002,
        "{model}"
    );
    assert_eq!(codes(&model["warnings"]), Vec::<&str>::new());
    let (_, original) = call(&router, "GET", "/model", "").await;
    assert_eq!(
        (original["prior"].as_str(), original["grid_points"].as_u64()),
        (Some("step:0.1"), Some(120))
    );
    assert!(original["warnings"].is_array(), "{original}");
}

#[tokio::test]
async fn a_pinned_posterior_warns_in_every_answer_and_decides_nothing() {
    let (router, _) = router();
    pinned_pair(&router).await;

    let (_, model) = call(&router, "GET", "/models/low", "").await;
    assert_eq!(
        codes(&model["warnings"]),
        ["pinned_at_prior_edge"],
        "{model}"
    );
    let message = model["warnings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("pinned at the edge of its prior's support"),
        "{message}"
    );

    let (_, compared) = call(&router, "GET", "/compare?models=low,high", "").await;
    for entry in compared["models"].as_array().unwrap() {
        assert_eq!(
            codes(&entry["warnings"]),
            ["pinned_at_prior_edge"],
            "{entry}"
        );
    }
    let decision = &compared["decision"];
    assert_eq!(decision["winner"], Value::Null, "{decision}");
    assert_eq!(decision["resolution"], "pinned_at_prior_edge");
    let verdict = decision["verdict"].as_str().unwrap();
    assert!(
        verdict.contains("the grid is too coarse") && verdict.contains("keep collecting"),
        "{verdict}"
    );
    assert!(!verdict.contains("ship"), "{verdict}");

    let (_, chosen) = call(&router, "GET", "/choose?models=low,high", "").await;
    let models: Vec<&str> = chosen["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["model"].as_str())
        .collect();
    assert_eq!(models, ["low", "high"], "{chosen}");
    assert_eq!(
        codes(&chosen["warnings"]),
        ["pinned_at_prior_edge", "pinned_at_prior_edge"]
    );

    let (_, curve) = call(&router, "GET", "/models/low/posterior?points=200", "").await;
    assert_eq!(codes(&curve["warnings"]), ["pinned_at_prior_edge"]);
}

#[tokio::test]
async fn a_curve_can_be_asked_for_in_fewer_points() {
    let (router, _) = router();
    post(&router, "checkout", json!({"w": 100, "l": 4_900})).await;
    let (status, whole) = call(&router, "GET", "/models/checkout/posterior", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(whole["p"].as_array().map(Vec::len), Some(10_001));
    let (_, small) = call(&router, "GET", "/models/checkout/posterior?points=200", "").await;
    let points = small["p"].as_array().map_or(0, Vec::len);
    assert!((100..=200).contains(&points), "{points}");
    assert_eq!(small["grid_points"], 10_001);
    let (bytes, whole_bytes) = (small.to_string().len(), whole.to_string().len());
    println!("a curve of 10,001 points: {whole_bytes} bytes; of at most 200: {bytes} bytes");
    assert!(bytes < 20_000, "{bytes} bytes");
    for bad in ["points=1", "points=10001", "points=x"] {
        let uri = format!("/models/checkout/posterior?{bad}");
        assert_eq!(
            call(&router, "GET", &uri, "").await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}
