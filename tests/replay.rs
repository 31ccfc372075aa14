//! The log is the source of truth: a Redis holding only copies of the
//! partition streams, read by a fresh bayes, ends with the same models,
//! definitions and counts as the deployment that wrote them.

use crate::harness::{SETTLE, TestApp, eventually};
use serde_json::json;
use std::collections::BTreeMap;

/// Every model under `keys`: name → (w, n, prior, grid_points).
async fn models(
    app: &TestApp,
    keys: &platform::RedisKeys,
) -> BTreeMap<String, [Option<String>; 4]> {
    let mut connection = app.redis.connection().await;
    let mut all = BTreeMap::new();
    for partition in keys.partitions() {
        let names: Vec<String> = redis::cmd("ZRANGE")
            .arg(&partition.models)
            .arg(0)
            .arg(-1)
            .query_async(&mut connection)
            .await
            .unwrap();
        for name in names {
            let state: [Option<String>; 4] = redis::cmd("HMGET")
                .arg(partition.model_key(&name))
                .arg(&["w", "n", "prior", "grid_points"])
                .query_async(&mut connection)
                .await
                .unwrap();
            all.insert(name, state);
        }
    }
    all
}

async fn cursor(app: &TestApp, partition: &platform::PartitionKeys) -> Option<String> {
    let mut connection = app.redis.connection().await;
    redis::cmd("HGET")
        .arg(&partition.cursor)
        .arg("id")
        .query_async(&mut connection)
        .await
        .unwrap()
}

async fn last_id(app: &TestApp, partition: &platform::PartitionKeys) -> Option<String> {
    let mut connection = app.redis.connection().await;
    let last: Vec<(String, Vec<(String, String)>)> = redis::cmd("XREVRANGE")
        .arg(&partition.events)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut connection)
        .await
        .unwrap();
    last.into_iter().next().map(|(id, _)| id)
}

async fn post(app: &TestApp, name: &str, body: serde_json::Value) -> u16 {
    let path = format!("/models/{name}/observations");
    app.call("POST", &path, Some(body)).await.0
}

async fn caught_up(app: &TestApp, keys: &platform::RedisKeys) {
    // Waits until bayes has applied each partition's whole log under `keys`.
    for partition in keys.partitions() {
        // An empty partition's cursor stays at 0-0.
        let end = Some(
            last_id(app, partition)
                .await
                .unwrap_or_else(|| "0-0".to_owned()),
        );
        eventually("the cursor at the log's end", SETTLE, || async {
            (cursor(app, partition).await == end).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn a_fresh_bayes_reading_copies_of_the_streams_rebuilds_the_same_models() {
    let mut app = TestApp::builder().env("PARTITIONS", "3").spawn().await;
    for (i, name) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        assert_eq!(post(&app, name, json!({"w": i + 1, "l": 10})).await, 202);
    }
    let define = json!({"prior": "beta:2,8", "grid_points": 51});
    assert_eq!(app.call("PUT", "/models/b", Some(define)).await.0, 202);
    assert_eq!(
        app.call("PUT", "/models/new", Some(json!({"prior": "uniform"})))
            .await
            .0,
        202
    );
    app.send("w").await;
    let keys = app.keys();
    caught_up(&app, &keys).await;
    assert_eq!(app.call("DELETE", "/models/c", None).await.0, 202);
    assert_eq!(post(&app, "c", json!({"trials": "ww"})).await, 202);
    assert_eq!(post(&app, "b", json!({"trials": "lll"})).await, 202);
    caught_up(&app, &keys).await;
    let original = models(&app, &keys).await;
    assert_eq!(original.len(), 8, "{original:?}");
    assert_eq!(
        original["c"][1].as_deref(),
        Some("2"),
        "re-created after the delete"
    );
    assert_eq!(original["b"][2].as_deref(), Some("beta:2,8"));

    // Only the streams, under another prefix, without the consumer group:
    // a Redis that holds nothing but the log.
    let copy = platform::RedisKeys::new(&format!("{}-copy", app.prefix), 3);
    let mut connection = app.redis.connection().await;
    for (from, to) in keys.partitions().iter().zip(copy.partitions()) {
        let copied: u64 = redis::cmd("COPY")
            .arg(&from.events)
            .arg(&to.events)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(copied, 1);
        let _: () = redis::cmd("XGROUP")
            .arg("DESTROY")
            .arg(&to.events)
            .arg("bayes")
            .query_async(&mut connection)
            .await
            .unwrap();
    }
    app.start_bayes_with(&[("KEY_PREFIX", copy.prefix())]);
    caught_up(&app, &copy).await;
    assert_eq!(models(&app, &copy).await, original);
}
