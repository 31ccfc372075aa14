//! Bad input gets a clear error, is set aside, and changes nothing.

use crate::harness::TestApp;
use rand::{RngExt, SeedableRng};
use redis::AsyncCommands;
use serde_json::{Value, json};

#[tokio::test]
async fn wrong_trials_over_http_get_a_4xx_naming_the_accepted_values() {
    let app = TestApp::spawn().await;
    let long = "w".repeat(3_000);
    for path in [
        "x",
        "ww",
        "W",
        "L",
        "%00",
        "w%00",
        "%FF",
        "%20w",
        "w%0A",
        long.as_str(),
    ] {
        let response = app.get(&format!("/update_model/{path}")).await.unwrap();
        let status = response.status();
        assert_eq!(status, 400, "{path}");
        let body: Value = response.json().await.expect("JSON error body");
        assert_eq!(body["accepted"], json!(["w", "l"]), "{path}");
        assert!(
            body["error"].as_str().unwrap().contains("expected"),
            "{path}: {body}"
        );
    }
    for path in [
        "/update_model/",
        "/update_model",
        "/update_model/w/extra",
        "/nope",
    ] {
        let status = app.get(path).await.unwrap().status();
        assert!(status.is_client_error(), "{path}: {status}");
    }

    assert_eq!(app.send("w").await, 202, "the api still works");
    app.wait_for_n(1).await;
    let mut connection = app.redis.connection().await;
    let length: u64 = connection.xlen(app.key("events")).await.unwrap();
    assert_eq!(
        length, 1,
        "nothing but the valid observation reached the log"
    );
}

#[tokio::test]
async fn bad_batches_store_nothing() {
    let app = TestApp::spawn().await;
    let post = |body: String| {
        let request = app
            .http
            .post(format!("{}/update_model", app.api_url))
            .header("content-type", "application/json")
            .body(body);
        async move { request.send().await.unwrap().status().as_u16() }
    };

    assert_eq!(post(json!({ "trials": "wlx" }).to_string()).await, 400);
    assert_eq!(post(json!({ "trials": ["w", "W"] }).to_string()).await, 400);
    assert_eq!(post(json!({ "trials": "" }).to_string()).await, 400);
    assert_eq!(post(json!({ "trials": 3 }).to_string()).await, 400);
    assert_eq!(post("{not json".to_owned()).await, 400);
    assert_eq!(
        post(json!({ "trials": "w".repeat(10_001) }).to_string()).await,
        413
    );
    assert_eq!(
        post(json!({ "trials": vec!["w"; 10_001] }).to_string()).await,
        413
    );
    assert_eq!(
        post(format!("{{\"trials\": \"{}\"}}", "w".repeat(300_000))).await,
        413
    );

    let mut connection = app.redis.connection().await;
    let length: u64 = connection.xlen(app.key("events")).await.unwrap_or(0);
    assert_eq!(length, 0);
    assert_eq!(
        post(json!({ "trials": "w".repeat(10_000) }).to_string()).await,
        202
    );
    app.wait_for_n(10_000).await;
}

#[tokio::test]
async fn garbage_on_the_channel_is_dead_lettered_and_nothing_stops() {
    let app = TestApp::spawn().await;
    app.wait_for_subscriber().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let random: Vec<u8> = (0..512).map(|_| rng.random()).collect();
    let megabyte = vec![b'x'; 1 << 20];
    let garbage: [&[u8]; 6] = [b"", b"text", b"W", b" w", &megabyte, &random];

    for payload in garbage {
        assert_eq!(app.publish(payload).await, 1);
    }
    assert_eq!(app.publish(b"w").await, 1);

    app.wait_for_n(1).await;
    let dead = crate::harness::eventually("six dead letters", crate::harness::SETTLE, || async {
        let dead = app.dead_letters().await;
        (dead.len() == 6).then_some(dead)
    })
    .await;
    assert!(
        dead.iter()
            .all(|d| d["source"] == "pubsub" && d["reason"].contains("expected"))
    );
    assert!(
        dead.iter().all(|d| d["raw"].len() < 1_000),
        "huge payloads are shortened"
    );
    assert_eq!(app.counts().await, (1, 1));
}

#[tokio::test]
async fn garbage_appended_to_the_log_is_dead_lettered_and_nothing_stops() {
    let app = TestApp::spawn().await;
    let mut connection = app.redis.connection().await;
    let events = app.key("events");
    let entries: [&[(&str, &[u8])]; 5] = [
        &[("trial", b"x")],
        &[("trial", b"W")],
        &[("other", b"w")],
        &[("trial", &[0xff, 0xfe])],
        &[("trial", b"w"), ("note", b"valid, with metadata")],
    ];
    for fields in entries {
        let _: String = connection.xadd(&events, "*", fields).await.unwrap();
    }

    assert_eq!(
        app.wait_for_n(1).await,
        (1, 1),
        "metadata fields are ignored"
    );
    let dead = crate::harness::eventually("four dead letters", crate::harness::SETTLE, || async {
        let dead = app.dead_letters().await;
        (dead.len() == 4).then_some(dead)
    })
    .await;
    assert!(
        dead.iter()
            .all(|d| d["source"] == "log" && !d["id"].is_empty())
    );
    assert_eq!(
        app.group_lag().await,
        (Some(0), 0),
        "every entry, good or bad, is behind the cursor and the group"
    );
    assert_eq!(app.send("l").await, 202);
    assert_eq!(app.wait_for_n(2).await, (1, 2));
}
