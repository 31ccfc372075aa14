//! The named-model and decision routes with in-memory ports: what each
//! answers to good and bad input, and that bad input changes nothing.

mod common;

use axum::http::StatusCode;
use common::{call, models_router as router};
use serde_json::{Value, json};

async fn post(router: &axum::Router, model: &str, body: Value) -> (StatusCode, Value) {
    let uri = format!("/models/{model}/observations");
    call(router, "POST", &uri, &body.to_string()).await
}

#[tokio::test]
async fn every_observation_form_is_counted_for_its_model() {
    let (router, memory) = router();
    for body in [
        json!({"trials": "wlw"}),
        json!({"trials": ["l", "w"]}),
        json!({"w": 3, "l": 1}),
    ] {
        let (status, answer) = post(&router, "checkout.v2", body.clone()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}: {answer}");
    }
    let state = memory.model("checkout.v2").unwrap();
    assert_eq!((state.counts.w(), state.counts.n()), (6, 9));
    assert!(memory.model("default").is_none(), "nothing for default");
}

#[tokio::test]
async fn bad_names_trials_and_bodies_are_400s_that_store_nothing() {
    let (router, memory) = router();
    let bad = [
        ("-leading-dash", json!({"trials": "w"})),
        (&"x".repeat(65), json!({"trials": "w"})),
        ("ok", json!({"trials": "wxw"})),
        ("ok", json!({"trials": ["w", "W"]})),
        ("ok", json!({"trials": "w", "w": 1})),
        ("ok", json!({"w": -1, "l": 2})),
        ("ok", json!({"w": 0, "l": 0})),
        ("ok", json!({"wins": 3})),
        ("ok", json!([1, 2])),
    ];
    for (name, body) in bad {
        let (status, answer) = post(&router, name, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name} {body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (status, _) = post(&router, "ok", json!({"w": 5_000, "l": 5_001})).await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "over the bound of 10,000"
    );
    assert_eq!(memory.observations(), 0);
}

#[tokio::test]
async fn a_model_is_created_read_redefined_listed_and_deleted() {
    let (router, _) = router();
    assert_eq!(
        call(&router, "GET", "/models/a", "").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, answer) = call(
        &router,
        "PUT",
        "/models/a",
        r#"{"prior": "beta:2,5", "grid_points": 101}"#,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    post(&router, "a", json!({"w": 2, "l": 3})).await;
    let (status, summary) = call(&router, "GET", "/models/a", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            &summary["name"],
            &summary["prior"],
            &summary["grid_points"],
            &summary["n"]
        ),
        (&json!("a"), &json!("beta:2,5"), &json!(101), &json!(5))
    );
    let (_, curve) = call(&router, "GET", "/models/a/posterior", "").await;
    assert_eq!(curve["p"].as_array().unwrap().len(), 101);
    let mass: f64 = curve["posterior"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .sum();
    assert!((mass - 1.0).abs() < 1e-9);

    for bad in [
        r#"{"prior": "beta:0,1"}"#,
        r#"{"grid_points": 1}"#,
        r#"{"grid_points": 100001}"#,
        r#"{"prior": "uniform", "x": 1}"#,
    ] {
        assert_eq!(
            call(&router, "PUT", "/models/a", bad).await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let (_, unchanged) = call(&router, "GET", "/models/a", "").await;
    assert_eq!(unchanged["prior"], "beta:2,5");

    assert_eq!(
        call(&router, "DELETE", "/models/a", "").await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        call(&router, "DELETE", "/models/a", "").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&router, "GET", "/models/a", "").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_list_is_paginated_by_name() {
    let (router, _) = router();
    for name in ["c", "a", "b", "d", "e"] {
        post(&router, name, json!({"trials": "w"})).await;
    }
    let (_, first) = call(&router, "GET", "/models?limit=2", "").await;
    assert_eq!(
        first["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].clone())
            .collect::<Vec<_>>(),
        [json!("a"), json!("b")]
    );
    assert_eq!(first["next"], "b");
    let (_, last) = call(&router, "GET", "/models?after=d&limit=2", "").await;
    assert_eq!(last["models"][0]["name"], "e");
    assert_eq!(last["next"], Value::Null);
    for bad in [
        "/models?limit=0",
        "/models?limit=1001",
        "/models?limit=x",
        "/models?after=%20",
    ] {
        assert_eq!(
            call(&router, "GET", bad, "").await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn compare_answers_exactly_and_refuses_bad_model_lists() {
    let (router, _) = router();
    post(&router, "control", json!({"w": 20, "l": 180})).await;
    post(&router, "variant", json!({"w": 60, "l": 140})).await;
    let (status, compared) = call(&router, "GET", "/compare?models=control,variant", "").await;
    assert_eq!(status, StatusCode::OK, "{compared}");
    let p_best: f64 = compared["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["p_best"].as_f64())
        .sum();
    assert!((p_best - 1.0).abs() < 1e-12);
    assert_eq!(compared["decision"]["best"], "variant");
    assert_eq!(compared["decision"]["winner"], "variant");
    assert!(
        compared["decision"]["verdict"]
            .as_str()
            .unwrap()
            .contains("stop and ship variant")
    );
    assert!(
        compared["models"][1]["against_baseline"]["prob_beats_baseline"]
            .as_f64()
            .unwrap()
            > 0.99
    );

    let (_, strict) = call(
        &router,
        "GET",
        "/compare?models=control,variant&threshold=0",
        "",
    )
    .await;
    assert_eq!(strict["decision"]["winner"], Value::Null);
    assert!(
        strict["decision"]["verdict"]
            .as_str()
            .unwrap()
            .contains("keep collecting")
    );

    for (uri, status) in [
        ("/compare?models=control", StatusCode::BAD_REQUEST),
        ("/compare?models=control,control", StatusCode::BAD_REQUEST),
        ("/compare?models=control,-bad", StatusCode::BAD_REQUEST),
        (
            "/compare?models=control,variant&threshold=-1",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/compare?models=control,variant&threshold=x",
            StatusCode::BAD_REQUEST,
        ),
        ("/compare", StatusCode::BAD_REQUEST),
        ("/compare?models=control,nope", StatusCode::NOT_FOUND),
    ] {
        let (got, body) = call(&router, "GET", uri, "").await;
        assert_eq!(got, status, "{uri}: {body}");
    }
    let many = (0..21)
        .map(|i| format!("m{i}"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        call(&router, "GET", &format!("/compare?models={many}"), "")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn choose_draws_a_compared_model_and_checks_its_floor() {
    let (router, _) = router();
    post(&router, "a", json!({"w": 1, "l": 9})).await;
    post(&router, "b", json!({"w": 9, "l": 1})).await;
    let (status, chosen) = call(&router, "GET", "/choose?models=a,b", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(chosen["model"] == "a" || chosen["model"] == "b");
    assert_eq!(
        call(&router, "GET", "/choose?models=a,b&floor=0.5", "")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&router, "GET", "/choose?models=a,b&floor=0.6", "")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&router, "GET", "/choose?models=a,zz", "").await.0,
        StatusCode::NOT_FOUND
    );
}
