//! Delivery guarantees: nothing accepted is lost, nothing is counted twice,
//! whatever happens to the subscribers.

use crate::harness::{SETTLE, TestApp, eventually, send_load_for};
use std::time::Duration;

#[tokio::test]
async fn observations_accepted_while_bayes_is_down_are_applied_when_it_starts() {
    let mut app = TestApp::builder().bayes_instances(0).spawn().await;
    let (w, n) = app.load(500, 16).await;
    assert_eq!(n, 500);
    assert_eq!(app.counts().await, (0, 0));

    app.start_bayes();
    assert_eq!(app.wait_for_n(n).await, (w, n));

    // A graceful restart keeps the state and goes on from it.
    assert!(
        app.bayes[0].terminate().await.success(),
        "bayes exits 0 on SIGTERM"
    );
    app.bayes[0].restart();
    let (w2, n2) = app.load(100, 8).await;
    assert_eq!(app.wait_for_n(n + n2).await, (w + w2, n + n2));
}

#[tokio::test]
async fn kill_9_of_bayes_under_load_loses_and_duplicates_nothing() {
    let mut app = TestApp::builder().env("BATCH_SIZE", "50").spawn().await;
    let load = tokio::spawn(send_load_for(
        app.http.clone(),
        app.api_url.clone(),
        Duration::from_secs(2),
        8,
    ));
    let mut in_flight = Vec::new();
    for _ in 0..4 {
        // Down until the load has built a backlog; killed while draining it.
        app.bayes[0].kill();
        eventually("a backlog of 50 entries", SETTLE, || async {
            (app.unapplied().await >= 50).then_some(())
        })
        .await;
        app.bayes[0].restart();
        // Paces the kill: a moment into the drain.
        tokio::time::sleep(Duration::from_millis(30)).await;
        in_flight.push(app.unapplied().await);
        app.bayes[0].kill();
        app.bayes[0].restart();
    }
    eprintln!("kill -9 under load: log entries unapplied at each kill: {in_flight:?}");
    assert!(
        in_flight.iter().any(|u| *u > 0),
        "a kill landed with work in flight: {in_flight:?}"
    );
    let (w, n, refused) = load.await.expect("load finished");
    assert_eq!(refused, 0, "every request was answered 202");
    assert_eq!(app.wait_for_n(n).await, (w, n));
}

#[tokio::test]
async fn two_instances_on_one_log_count_exactly() {
    let app = TestApp::builder().bayes_instances(2).spawn().await;
    let (w, n) = app.load(3_000, 32).await;
    assert_eq!(n, 3_000);
    assert_eq!(app.wait_for_n(n).await, (w, n));
}

#[tokio::test]
async fn a_thousand_publishes_with_two_instances_count_a_thousand() {
    let app = TestApp::builder().bayes_instances(2).spawn().await;
    app.wait_for_subscriber().await;

    for i in 0..1_000u32 {
        let trial: &[u8] = if i % 4 == 0 { b"l" } else { b"w" };
        assert_eq!(
            app.publish(trial).await,
            1,
            "exactly one instance is subscribed"
        );
    }
    assert_eq!(app.wait_for_n(1_000).await, (750, 1_000));
    // Still one forwarder, and a last message as the barrier: once it is
    // counted, everything published before it was forwarded, once.
    assert_eq!(app.publish(b"w").await, 1);
    assert_eq!(app.wait_for_n(1_001).await, (751, 1_001));
}
