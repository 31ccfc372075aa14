//! Redis going away and coming back.

use crate::harness::{SETTLE, TestApp, eventually};

#[tokio::test]
async fn a_redis_restart_gets_503s_meanwhile_then_everything_recovers() {
    let mut app = TestApp::builder()
        .redis_args(&["--appendonly", "yes", "--appendfsync", "always"])
        .spawn()
        .await;
    let (w, n) = app.load(200, 8).await;
    app.wait_for_n(n).await;

    app.redis.kill();
    // The first write may meet the dead connection after it was sent
    // (504, outcome unknown); then the api knows Redis is gone: 503.
    eventually("a 503 while Redis is down", SETTLE, || async {
        let status = app.send("w").await;
        assert!(status == 503 || status == 504, "{status}");
        (status == 503).then_some(())
    })
    .await;
    assert_eq!(app.get("/readyz").await.unwrap().status(), 503);
    assert_eq!(app.get("/model").await.unwrap().status(), 503);
    assert_eq!(
        app.get("/healthz").await.unwrap().status(),
        200,
        "the process is alive"
    );

    app.redis.restart();
    eventually("the api to accept again", SETTLE, || async {
        (app.send("w").await == 202).then_some(())
    })
    .await;
    let (w2, n2) = app.load(200, 8).await;
    assert_eq!(app.wait_for_n(n + 1 + n2).await, (w + 1 + w2, n + 1 + n2));

    app.wait_for_subscriber().await;
    assert_eq!(app.publish(b"l").await, 1);
    app.wait_for_n(n + n2 + 2).await;
    assert!(!app.bayes[0].has_exited(), "bayes rode it out");
}
