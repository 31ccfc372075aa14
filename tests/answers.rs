//! What failure answers say on a real Redis: "nothing stored" (503) is
//! never counted, "unknown" (504) may be, a keyed retry of either counts
//! once; the v1 route takes an Idempotency-Key; MAX_MODELS refuses new
//! models and keeps counting old ones.

use crate::harness::{SETTLE, TestApp, eventually, metric};
use serde_json::{Value, json};

/// `GET /update_model/{trial}` under `key`: status, replayed header, body.
async fn update_model(app: &TestApp, trial: &str, key: &str) -> (u16, bool, Value) {
    let response = app
        .http
        .get(format!("{}/update_model/{trial}", app.api_url))
        .header("Idempotency-Key", key)
        .send()
        .await
        .expect("api answers");
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotent-replayed");
    (
        status,
        replayed,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_v1_route_takes_an_idempotency_key() {
    let app = TestApp::spawn().await;
    let (status, replayed, first) = update_model(&app, "w", "click-1").await;
    assert_eq!((status, replayed), (202, false), "{first}");
    let (status, replayed, again) = update_model(&app, "w", "click-1").await;
    assert_eq!((status, replayed), (202, true));
    assert_eq!(again, first, "the first answer, word for word");
    let (status, _, refused) = update_model(&app, "l", "click-1").await;
    assert_eq!(status, 422, "{refused}");
    let (status, _, bad) = update_model(&app, "w", "two words").await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(app.send("l").await, 202);
    assert_eq!(app.wait_for_n(2).await, (1, 2), "the retry counted once");
}

#[tokio::test]
async fn a_write_whose_reply_timed_out_is_unknown_and_its_keyed_retry_counts_once() {
    let app = TestApp::builder()
        .api_env("REDIS_TIMEOUT_MS", "300")
        .spawn()
        .await;
    assert_eq!(app.send("w").await, 202);
    // A keyed write first, so Redis has the append script when it is paused.
    assert_eq!(update_model(&app, "w", "warm-1").await.0, 202);
    app.wait_for_n(2).await;
    // Redis holds writes for 2 s: the api's reply times out with the write
    // queued in Redis, which runs it when the pause ends.
    let mut admin = app.redis.connection().await;
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2000)
        .arg("WRITE")
        .query_async(&mut admin)
        .await
        .expect("CLIENT PAUSE");
    let (status, _, unknown) = update_model(&app, "w", "late-1").await;
    assert_eq!(status, 504, "{unknown}");
    assert_eq!(unknown["stored"], "unknown", "{unknown}");
    // It was stored after all: the pause ended and Redis ran it.
    // Reads queue behind the paused write on the api's one connection.
    eventually("the paused write applied", SETTLE, || async {
        let (_, model) = app.call("GET", "/model", None).await;
        (model["n"] == 3).then_some(())
    })
    .await;
    let (status, replayed, _) = update_model(&app, "w", "late-1").await;
    assert_eq!((status, replayed), (202, true), "the retry finds it stored");
    assert_eq!(app.send("l").await, 202);
    assert_eq!(
        app.wait_for_n(4).await,
        (3, 4),
        "the retry counted nothing more"
    );
    assert!(metric(&app.api_url, "api_write_outcome_unknown_total").await >= 1.0);
}

#[tokio::test]
async fn nothing_stored_is_never_counted() {
    let mut app = TestApp::builder()
        .redis_args(&["--appendonly", "yes", "--appendfsync", "always"])
        .spawn()
        .await;
    assert_eq!(app.send("w").await, 202);
    app.wait_for_n(1).await;
    app.redis.kill();
    let (status, refused) = eventually("a 503 while Redis is down", SETTLE, || async {
        let (status, _, body) = update_model(&app, "w", "down-1").await;
        (status == 503).then_some((status, body))
    })
    .await;
    assert_eq!(refused["stored"], "no", "{status} {refused}");
    app.redis.restart();
    // The retry under the same key is the first time it is stored.
    let (status, replayed, _) = eventually("Redis back", SETTLE, || async {
        let answer = update_model(&app, "l", "down-1").await;
        (answer.0 == 202).then_some(answer)
    })
    .await;
    assert_eq!(
        (status, replayed),
        (202, false),
        "nothing had been stored under the key"
    );
    assert_eq!(app.wait_for_n(2).await, (1, 2));
}

#[tokio::test]
async fn max_models_refuses_new_models_and_keeps_counting_old_ones() {
    let app = TestApp::builder().api_env("MAX_MODELS", "3").spawn().await;
    for model in ["a", "b", "c"] {
        let (status, body) = app
            .call(
                "POST",
                &format!("/models/{model}/observations"),
                Some(json!({"trials": "w"})),
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    eventually("three models", SETTLE, || async {
        let (_, list) = app.call("GET", "/models", None).await;
        (list["models"].as_array().map(Vec::len) == Some(3)).then_some(())
    })
    .await;

    let (status, refused) = app
        .call(
            "POST",
            "/models/d/observations",
            Some(json!({"w": 1, "l": 1})),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    let message = refused["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("MAX_MODELS=3") && message.contains("\"d\""),
        "{refused}"
    );
    let (status, refused) = app
        .call("PUT", "/models/e", Some(json!({"prior": "uniform"})))
        .await;
    assert_eq!(status, 409, "a definition would create one too: {refused}");

    let (status, _) = app
        .call(
            "POST",
            "/models/a/observations",
            Some(json!({"trials": "ll"})),
        )
        .await;
    assert_eq!(status, 202, "an existing model keeps counting");
    let (status, _) = app
        .call("PUT", "/models/b", Some(json!({"prior": "beta:2,2"})))
        .await;
    assert_eq!(status, 202, "an existing model may be redefined");
    assert_eq!(
        app.send("w").await,
        202,
        "the model default is never refused"
    );
    eventually("a's observations applied", SETTLE, || async {
        (app.model_counts("a").await == (1, 3)).then_some(())
    })
    .await;
    let (_, d) = app.call("GET", "/models/d", None).await;
    assert!(d["error"].is_string(), "d was never created: {d}");
    assert!(metric(&app.api_url, "api_model_limit_refusals_total").await >= 2.0);
}

/// A model whose observations rule out every point of its grid (a win and
/// a loss on the 2-point grid {0, 1}) is the user's to fix, not a server
/// error: every read of it answers 409 saying what to do.
#[tokio::test]
async fn a_grid_the_data_rule_out_answers_409_not_500() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .call(
            "PUT",
            "/models/coarse",
            Some(json!({"prior": "uniform", "grid_points": 2})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = app
        .call(
            "POST",
            "/models/coarse/observations",
            Some(json!({"w": 1, "l": 1})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = eventually("the observations applied", SETTLE, || async {
        let (status, body) = app.call("GET", "/models/coarse", None).await;
        (status != 200 && status != 404).then_some((status, body))
    })
    .await;
    assert_eq!(status, 409, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("redefine the model"), "{error}");
    for path in ["/models/coarse/posterior", "/compare?models=coarse,other"] {
        let (status, body) = app.call("GET", path, None).await;
        assert!(status == 409 || status == 404, "{path}: {status} {body}");
    }
    let (status, body) = app
        .call(
            "POST",
            "/models/other/observations",
            Some(json!({"w": 1, "l": 1})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    eventually("other applied", SETTLE, || async {
        let (status, _) = app.call("GET", "/models/other", None).await;
        (status == 200).then_some(())
    })
    .await;
    let (status, body) = app.call("GET", "/compare?models=coarse,other", None).await;
    assert_eq!(status, 409, "{body}");
}
