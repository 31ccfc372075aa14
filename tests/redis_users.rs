//! Both services as least-privilege Redis users, with the README's ACL
//! rules: everything works, Redis refuses nothing of theirs, and a
//! producer may only publish.

use crate::harness::{SETTLE, TestApp, eventually};
use serde_json::json;

const CHANNEL: &str = "acltest-update_model";

/// The README's ACL rules, for this test's key prefixes (`test…`) and its
/// channel. bayes's pattern must be the very one it subscribes to (Redis
/// matches a PSUBSCRIBE pattern against the allowed ones literally).
fn acl_file(dir: &std::path::Path) -> std::path::PathBuf {
    let rules = [
        // The test's own reads and writes.
        "user default on nopass ~* &* +@all",
        "user api on >api-secret-0123456789 resetkeys ~test*:* resetchannels &test*:applied -@all +ping +info +get +set +setnx +exists +pexpire +time +xadd +xrange +xrevrange +hmget +zrange +zcard +eval +evalsha +wait +subscribe +unsubscribe",
        "user bayes on >bayes-secret-0123456789 resetkeys ~test*:* resetchannels &acltest-update_model* &test*:applied -@all +ping +info +get +set +setnx +del +exists +pexpire +time +hget +hgetall +hmget +hset +hsetnx +hdel +hincrby +zadd +zrange +zcard +zrem +zremrangebyscore +xadd +xread +xrange +xrevrange +xtrim +xlen +xinfo +xgroup +xpending +xack +eval +evalsha +script|load +multi +exec +wait +psubscribe +punsubscribe +publish",
        "user producer on >producer-secret-0123456789 resetkeys resetchannels &acltest-update_model* -@all +publish",
    ];
    let path = dir.join("users.acl");
    std::fs::write(&path, rules.join("\n") + "\n").unwrap();
    path
}

#[tokio::test]
async fn both_services_run_as_least_privilege_redis_users_and_a_producer_can_only_publish() {
    let dir = tempfile::tempdir().unwrap();
    let acl = acl_file(dir.path());
    let app = TestApp::builder()
        .redis_args(&["--aclfile", acl.to_str().unwrap()])
        .env("PARTITIONS", "2")
        .env("REDIS_CHANNEL", CHANNEL)
        // Histories of seconds, so points close and are trimmed in the test.
        .env("HISTORY_INTERVAL", "1s")
        .env("HISTORY_RETENTION", "2s")
        .redis_user("api", "api", "api-secret-0123456789")
        .redis_user("bayes", "bayes", "bayes-secret-0123456789")
        .spawn()
        .await;
    app.wait_for_subscriber().await;
    // Every kind of write and read, through both services.
    assert_eq!(app.send("w").await, 202);
    let (status, _) = app
        .call("PUT", "/models/a", Some(json!({"prior": "beta:2,2"})))
        .await;
    assert_eq!(status, 202);
    let (status, _) = app
        .call(
            "POST",
            "/models/a/observations",
            Some(json!({"w": 2, "l": 1})),
        )
        .await;
    assert_eq!(status, 202);
    let producer = redis::Client::open(format!(
        "redis://producer:producer-secret-0123456789@{}",
        app.redis.url().trim_start_matches("redis://")
    ))
    .unwrap();
    let mut producer = producer.get_multiplexed_async_connection().await.unwrap();
    let received: u64 = redis::cmd("PUBLISH")
        .arg(format!("{CHANNEL}:b"))
        .arg("w")
        .query_async(&mut producer)
        .await
        .expect("the producer may publish");
    assert_eq!(received, 1);
    eventually("a and b applied", SETTLE, || async {
        let (_, a) = app.call("GET", "/models/a", None).await;
        let (_, b) = app.call("GET", "/models/b", None).await;
        (a["n"] == 3 && a["prior"] == "beta:2,2" && b["n"] == 1).then_some(())
    })
    .await;
    assert_eq!(app.wait_for_n(1).await, (1, 1));
    let (status, compared) = app.call("GET", "/compare?models=a,b", None).await;
    assert_eq!(status, 200, "{compared}");
    // An experiment defined, decided (a risk so large any leader wins),
    // announced, read and stopped, through both users.
    let spec = json!({"kind": "ab", "variants": ["a", "b"], "threshold": 0.5});
    assert_eq!(app.call("PUT", "/experiments/ab", Some(spec)).await.0, 202);
    eventually("the decision announced", SETTLE, || async {
        let (_, body) = app.call("GET", "/experiments/ab/decisions", None).await;
        (body["decisions"].as_array().is_some_and(|d| !d.is_empty())).then_some(())
    })
    .await;
    for path in [
        "/experiments",
        "/experiments/ab",
        "/experiments/ab/history",
        "/experiments/ab/choose",
    ] {
        let (status, body) = app.call("GET", path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let stop = json!({"variant": "a"});
    assert_eq!(
        app.call("POST", "/experiments/ab/stop", Some(stop)).await.0,
        202
    );
    eventually("the stop applied", SETTLE, || async {
        let (_, body) = app.call("GET", "/experiments/ab", None).await;
        (body["status"] == "stopped").then_some(())
    })
    .await;
    // History written, closed, trimmed and read, through both users.
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let (status, _) = app
            .call(
                "POST",
                "/models/a/observations",
                Some(json!({"w": 1, "l": 0})),
            )
            .await;
        assert_eq!(status, 202);
    }
    eventually("a's history trimmed", SETTLE, || async {
        let (_, history) = app.call("GET", "/models/a/history", None).await;
        (history["known_from"].as_u64() > Some(0)).then_some(())
    })
    .await;
    for path in [
        "/models/a?window=1s",
        "/models/a?half_life=1h",
        "/compare/history?models=a,b",
    ] {
        let (status, body) = app.call("GET", path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    assert_eq!(app.call("DELETE", "/models/b", None).await.0, 202);
    eventually("b deleted", SETTLE, || async {
        (app.call("GET", "/models/b", None).await.0 == 404).then_some(())
    })
    .await;
    assert_eq!(app.call("GET", "/readyz", None).await.0, 200);

    // The producer touches nothing but the channel.
    let model = app.keys().model(&domain::ModelName::parse("a").unwrap());
    for command in [
        redis::cmd("HSET")
            .arg(&model)
            .arg("n")
            .arg(1_000_000)
            .clone(),
        redis::cmd("HGET").arg(&model).arg("n").clone(),
        redis::cmd("XADD")
            .arg(app.key("events"))
            .arg("*")
            .arg("trial")
            .arg("w")
            .clone(),
        redis::cmd("PUBLISH").arg("elsewhere").arg("w").clone(),
    ] {
        let refused = command
            .query_async::<redis::Value>(&mut producer)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().to_lowercase().contains("noperm"),
            "{refused}"
        );
    }
    let (_, a) = app.call("GET", "/models/a", None).await;
    assert_eq!(a["n"], 7, "unchanged by the producer");
    // Nothing either service did was refused.
    let mut admin = app.redis.connection().await;
    let denied: Vec<redis::Value> = redis::cmd("ACL")
        .arg("LOG")
        .query_async(&mut admin)
        .await
        .unwrap();
    let denied = format!("{denied:?}");
    for user in ["\"api\"", "\"bayes\""] {
        assert!(!denied.contains(user), "Redis refused {user}: {denied}");
    }
}
