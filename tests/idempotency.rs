//! Idempotent retries on a real Redis and the real binaries: a retry under
//! the same Idempotency-Key counts once and answers the first answer; the
//! same key with other observations is refused; keys expire after the
//! window. And the group-commit script's own replay guard: a write resent
//! with its token appends nothing.

use crate::harness::{RedisServer, SETTLE, TestApp, eventually};
use platform::scripts::APPEND;
use serde_json::{Value, json};

async fn post(app: &TestApp, model: &str, key: &str, body: Value) -> (u16, Option<String>, Value) {
    let response = app
        .http
        .post(format!("{}/models/{model}/observations", app.api_url))
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("api answers");
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    (
        status,
        replayed,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_retry_counts_once_another_body_is_refused_and_keys_expire() {
    let app = TestApp::builder()
        .env("PARTITIONS", "2")
        .api_env("IDEMPOTENCY_WINDOW_MS", "1500")
        .spawn()
        .await;
    let (status, replayed, first) = post(&app, "ab", "order-17", json!({"trials": "wwl"})).await;
    assert_eq!((status, replayed), (202, None), "{first}");
    // The same observations, as a list or as counts, are the same request.
    for body in [json!({"trials": "wwl"}), json!({"trials": ["w", "w", "l"]})] {
        let (status, replayed, again) = post(&app, "ab", "order-17", body).await;
        assert_eq!((status, replayed.as_deref()), (202, Some("true")));
        assert_eq!(again, first, "the first answer, word for word");
    }
    let (status, _, refused) = post(&app, "ab", "order-17", json!({"w": 3, "l": 0})).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap_or_default()
            .contains("order-17"),
        "{refused}"
    );
    // Keys are per model; a bad key is refused before anything is stored.
    let (status, replayed, _) = post(&app, "cd", "order-17", json!({"trials": "l"})).await;
    assert_eq!((status, replayed), (202, None));
    let (status, _, bad) = post(&app, "ab", "two words", json!({"trials": "w"})).await;
    assert_eq!(status, 400, "{bad}");
    // The v1 batch route takes keys too (for the model `default`).
    for _ in 0..2 {
        let response = app
            .http
            .post(format!("{}/update_model", app.api_url))
            .header("Idempotency-Key", "v1-batch")
            .json(&json!({"trials": "ll"}))
            .send()
            .await
            .expect("api answers");
        assert_eq!(response.status(), 202);
    }
    settle(&app, &[("ab", (2, 3)), ("cd", (0, 1)), ("default", (0, 2))]).await;

    // Past the window the key is forgotten: the same request counts again.
    // Until then each try is a replay, which counts nothing.
    let later = eventually("the key forgotten past its window", SETTLE, || async {
        let (status, replayed, later) =
            post(&app, "ab", "order-17", json!({"trials": "wwl"})).await;
        assert_eq!(status, 202, "{later}");
        replayed.is_none().then_some(later)
    })
    .await;
    assert_ne!(later["id"], first["id"]);
    settle(&app, &[("ab", (4, 6))]).await;
}

/// Waits until each model is counted as given and every partition's log is
/// applied (nothing more can come), then checks the counts again.
async fn settle(app: &TestApp, expected: &[(&str, (u64, u64))]) {
    for (model, counts) in expected {
        eventually(&format!("{model} counted {counts:?}"), SETTLE, || async {
            (app.model_counts(model).await == *counts).then_some(())
        })
        .await;
    }
    app.wait_until_every_partition_applied().await;
    for (model, counts) in expected {
        assert_eq!(app.model_counts(model).await, *counts, "{model}");
    }
}

#[tokio::test]
async fn a_write_resent_with_its_token_appends_nothing_and_answers_the_first_reply() {
    let redis = RedisServer::start();
    let mut connection = redis.connection().await;
    let write = || {
        let mut invocation = APPEND.prepare_invoke();
        invocation
            .key("t:events")
            .key("t:write:token-1")
            .arg(0)
            .arg(60_000)
            .arg(60_000)
            .arg(0)
            .arg("")
            .arg(1)
            .arg("trials")
            .arg("wl");
        invocation
    };
    let first: Vec<String> = write().invoke_async(&mut connection).await.expect("append");
    let again: Vec<String> = write().invoke_async(&mut connection).await.expect("replay");
    assert_eq!(first, again);
    let length: u64 = redis::cmd("XLEN")
        .arg("t:events")
        .query_async(&mut connection)
        .await
        .expect("XLEN");
    assert_eq!(length, 1);
}
