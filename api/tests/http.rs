//! The router with in-memory ports, driven with `oneshot`: statuses, JSON
//! bodies and what reaches the log, without a socket or a Redis.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{call, router, router_with};
use tower::ServiceExt;

#[tokio::test]
async fn a_valid_trial_is_stored_and_answered_202_with_its_id() {
    let (router, memory) = router(true);
    let (status, body) = call(&router, "GET", "/update_model/w", "").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["id"], "1-0");
    assert_eq!(body["index"], 0);
    assert_eq!(body["index"], 0);
    assert_eq!(body["trial"], "w");
    assert_eq!(memory.observations(), 1);
}

#[tokio::test]
async fn anything_else_is_a_400_naming_the_accepted_values_and_stores_nothing() {
    let (router, memory) = router(true);
    for trial in ["x", "W", "ww", "%00", "%FF"] {
        let (status, body) = call(&router, "GET", &format!("/update_model/{trial}"), "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{trial}");
        assert_eq!(body["accepted"], serde_json::json!(["w", "l"]), "{trial}");
    }
    assert_eq!(memory.observations(), 0);
}

#[tokio::test]
async fn redis_away_is_a_503_with_a_plain_message() {
    let (router, _) = router(false);
    let (status, body) = call(&router, "GET", "/update_model/l", "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        !body["error"].as_str().unwrap().contains("refused"),
        "the cause is logged, not shown"
    );
    assert_eq!(
        call(&router, "GET", "/readyz", "").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(call(&router, "GET", "/healthz", "").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_full_write_queue_is_a_503_with_retry_after_and_stores_nothing() {
    let (router, memory) = router_with(true, true);
    let request = Request::builder()
        .uri("/update_model/w")
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(memory.observations(), 0);
}

#[tokio::test]
async fn batches_are_all_or_nothing_and_bounded() {
    let (router, memory) = router(true);
    let (status, body) = call(&router, "POST", "/update_model", r#"{"trials": "wlw"}"#).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["accepted"], 3);
    assert_eq!(
        call(
            &router,
            "POST",
            "/update_model",
            r#"{"trials": ["w", "x"]}"#
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(
            &router,
            "POST",
            "/update_model",
            r#"{"trials": "wwwwwwwwwww"}"#
        )
        .await
        .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(memory.observations(), 3);
}

#[tokio::test]
async fn the_model_is_summarised_from_the_stored_counts() {
    let (router, _) = router(true);
    for trial in ["w", "l", "w", "w", "w", "l", "w", "l", "w"] {
        call(&router, "GET", &format!("/update_model/{trial}"), "").await;
    }
    let (status, body) = call(&router, "GET", "/model", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((body["w"].as_u64(), body["n"].as_u64()), (Some(6), Some(9)));
    assert!((body["mean"].as_f64().unwrap() - 0.636_367_606_656_288_2).abs() < 1e-9);
}

#[tokio::test]
async fn unknown_routes_and_a_missing_plot_are_json_404s() {
    let (router, _) = router(true);
    for uri in ["/nope", "/update_model/w/x", "/graphs/posterior.png"] {
        let (status, body) = call(&router, "GET", uri, "").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert!(body["error"].is_string(), "{uri}");
    }
}

#[tokio::test]
async fn error_bodies_are_the_documented_error_body_with_what_was_stored() {
    let (router, _) = router(false);
    let (_, document) = call(&router, "GET", "/openapi.json", "").await;
    let schemas = &document["components"]["schemas"];
    let body = &schemas["ErrorBody"];
    assert_eq!(body["required"], serde_json::json!(["error"]));
    let stored = &schemas["Stored"];
    assert_eq!(
        stored["enum"],
        serde_json::json!(["no", "unconfirmed", "unknown"]),
        "{stored}"
    );
    // A refused write's answer is that body, saying nothing was stored.
    let (status, answer) = call(&router, "GET", "/update_model/w", "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer["stored"], "no", "{answer}");
    let fields: Vec<&String> = answer.as_object().unwrap().keys().collect();
    let documented = body["properties"].as_object().unwrap();
    assert!(
        fields.iter().all(|f| documented.contains_key(*f)),
        "{fields:?} all documented"
    );
}
