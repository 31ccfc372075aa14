//! Reliability drills: faults, overload and hostile input, with nothing
//! accepted lost and nothing counted twice.

use crate::harness::{SETTLE, TestApp, TimedLoad, eventually, metric, send_load, send_load_for};
use rand::{RngExt, SeedableRng};
use redis::AsyncCommands;
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_crash_under_load_with_aof_loses_nothing_answered_202() {
    let mut app = TestApp::builder()
        .redis_args(&["--appendonly", "yes", "--appendfsync", "always"])
        .spawn()
        .await;
    let load = TimedLoad::start(app.http.clone(), app.api_url.clone(), 16);
    load.wait_for("the load under way", 500, |a| a.accepted)
        .await;

    let killed = Instant::now();
    app.redis.kill();
    assert_eq!(
        app.send("w").await,
        503,
        "the api answers 503 while Redis is down"
    );
    // Down until the load has met the outage, and for a second at least
    // (the outage's length, not a wait for a state), then up again.
    load.wait_for("the load refused while Redis is down", 16, |a| {
        !a.accepted && a.sent > killed
    })
    .await;
    tokio::time::sleep_until(killed + Duration::from_secs(1)).await;
    let restarted = Instant::now();
    // Starting redis-server blocks until it answers: off the load's threads.
    tokio::task::block_in_place(|| app.redis.restart());
    load.wait_for("the load accepted after the restart", 100, |a| {
        a.accepted && a.sent > restarted
    })
    .await;

    let load = load.finish().await;
    let (accepted, failed) = (load.n, load.refused);
    let before = load.count(|a| a.accepted && a.answered < killed);
    let across = load.count(|a| a.across(killed));
    let after = load.count(|a| a.accepted && a.sent > restarted);
    assert!(
        before > 0 && across > 0 && after > 0,
        "{before} answered 202 before the kill, {across} in flight across it, {after} 202 after the restart"
    );
    let (_, applied) = app.wait_until_log_applied().await;
    // Every 202 is in the log and applied once; at most the requests whose
    // answer the crash cut off were stored without a 202.
    assert!(
        applied >= accepted,
        "{applied} applied < {accepted} accepted"
    );
    assert!(
        applied <= accepted + failed,
        "{applied} applied > {accepted} accepted + {failed} unanswered"
    );
    assert_eq!(
        app.group_lag().await,
        (Some(0), 0),
        "the group shows no lag, nothing pending"
    );

    app.wait_for_subscriber().await;
    assert_eq!(app.publish(b"w").await, 1, "bayes subscribed again");
    app.wait_for_n(applied + 1).await;
    eprintln!(
        "redis crash: {before} answered 202 before the kill, {across} in flight across it, \
         Redis down {:?}, {after} answered 202 after the restart; {accepted} answered 202, \
         {failed} not; {applied} in the log and applied once",
        restarted - killed
    );
}

#[tokio::test]
async fn kill_9_of_bayes_at_random_points_many_times_counts_every_202_once() {
    let mut app = TestApp::builder()
        .env("BATCH_SIZE", "20")
        .env("READ_COALESCE_MS", "0")
        .spawn()
        .await;
    app.bayes[0].kill();
    let load = tokio::spawn(send_load_for(
        app.http.clone(),
        app.api_url.clone(),
        Duration::from_secs(4),
        8,
    ));
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    // Each round: bayes down while the load builds a backlog, then up for a
    // moment and killed while it drains it.
    let mut in_flight = Vec::new();
    for _ in 0..15 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..150))).await;
        app.bayes[0].restart();
        tokio::time::sleep(Duration::from_millis(rng.random_range(5..60))).await;
        in_flight.push(app.unapplied().await);
        app.bayes[0].kill();
    }
    app.bayes[0].restart();
    eprintln!("crash loop: log entries unapplied at each kill: {in_flight:?}");
    let landed = in_flight.iter().filter(|u| **u > 0).count();
    assert!(
        landed >= 5,
        "at least a third of the kills landed with work in flight: {in_flight:?}"
    );
    let (w, n, refused) = load.await.unwrap();
    assert_eq!(refused, 0, "every request was answered 202");
    assert_eq!(app.wait_for_n(n).await, (w, n));
    assert_eq!(app.log_observations().await, n);
    eprintln!("crash loop: 15 kill -9 under load; {n} answered 202, {n} applied (w = {w})");
}

#[tokio::test]
async fn scale_out_with_a_kill_and_a_new_instance_counts_exactly_and_the_lease_moves() {
    let mut app = TestApp::builder().bayes_instances(3).spawn().await;
    app.wait_for_subscriber().await;
    for _ in 0..100 {
        assert_eq!(app.publish(b"w").await, 1);
    }
    // Pub/sub is at-most-once: what the leader received but had not yet
    // forwarded dies with it. So its messages are forwarded before it is killed.
    app.wait_for_n(100).await;
    let load = tokio::spawn(send_load(app.http.clone(), app.api_url.clone(), 6_000, 32));

    let mut connection = app.redis.connection().await;
    let leader: String = connection.get(app.key("ingress:lease")).await.unwrap();
    let index: usize = leader.trim_start_matches("bayes-").parse().unwrap();

    let in_flight = app.unapplied().await;
    assert!(!load.is_finished(), "the kill lands while the load runs");
    app.bayes[index].kill();
    eprintln!("scale-out: killed the leader bayes-{index} with {in_flight} log entries unapplied");
    app.start_bayes();
    // The lease expires (1.5 s in tests) and a live instance takes it.
    let new_leader: String = eventually("a new forwarding leader", SETTLE, || {
        let mut connection = connection.clone();
        let key = app.key("ingress:lease");
        let leader = leader.clone();
        async move {
            let holder: Option<String> = connection.get(&key).await.ok()?;
            holder.filter(|h| *h != leader)
        }
    })
    .await;
    assert_ne!(new_leader, format!("bayes-{index}"));
    app.wait_for_subscriber().await;
    for _ in 0..100 {
        assert_eq!(app.publish(b"l").await, 1, "exactly one instance forwards");
    }

    let (w, n) = load.await.unwrap();
    assert_eq!(n, 6_000);
    assert_eq!(app.wait_for_n(n + 200).await, (w + 100, n + 200));
    // One forwarder, and a last message as the barrier: once it is
    // counted, everything published before it was forwarded.
    assert_eq!(app.publish(b"w").await, 1);
    assert_eq!(
        app.wait_for_n(n + 201).await,
        (w + 101, n + 201),
        "no PUBLISH was counted twice"
    );
    eprintln!(
        "scale-out: {n} HTTP + 200 PUBLISH applied exactly; lease moved bayes-{index} -> {new_leader}"
    );
}

#[tokio::test]
async fn a_consumer_that_lags_past_retention_reports_exactly_what_was_trimmed() {
    let mut app = TestApp::builder()
        .bayes_instances(0)
        .env("STREAM_MAXLEN", "300")
        .spawn()
        .await;
    // Two at a time: small group commits, so thousands of entries to trim.
    let (_, sent) = app.load(5_000, 2).await;
    assert_eq!(sent, 5_000);
    let (added, kept) = app.log_info().await;
    assert!(
        kept < added,
        "retention trimmed the log ({kept} of {added} entries kept)"
    );
    let kept_observations = app.log_observations().await;

    app.start_bayes();
    let (_, applied) = app.wait_until_log_applied().await;
    let lost = eventually("the loss to be recorded", SETTLE, || async {
        let lost = app.cursor_field("lost").await;
        (lost > 0).then_some(lost)
    })
    .await;
    assert_eq!(applied, kept_observations);
    // Loss is counted in log entries: what Redis counts and trims.
    assert_eq!(
        kept + lost,
        added,
        "every entry is either applied or reported lost"
    );
    assert!(
        app.bayes_logs().contains("they are lost"),
        "a log line says so"
    );
    assert_eq!(
        metric(&app.bayes_metrics[0], "bayes_entries_lost_total").await,
        lost as f64
    );
    eprintln!(
        "retention: 5000 sent in {added} entries, {kept} entries kept by STREAM_MAXLEN=300 ({applied} observations applied), {lost} entries reported lost"
    );
}

/// redis-rs reads the subscription socket eagerly into its own buffer, so
/// Redis's `client-output-buffer-limit pubsub` rarely trips; Redis dropping
/// the subscriber is the same event as `CLIENT KILL TYPE pubsub`, which this
/// drill does in the middle of a flood.
#[tokio::test]
async fn a_pubsub_flood_with_the_subscriber_dropped_reconnects_and_goes_on() {
    let app = TestApp::builder()
        .redis_args(&[
            "--appendonly",
            "no",
            "--client-output-buffer-limit",
            "pubsub 64kb 32kb 1",
        ])
        .spawn()
        .await;
    app.wait_for_subscriber().await;

    let mut connection = app.redis.connection().await;
    let mut published = 0u64;
    for round in 0..10 {
        let mut flood = redis::pipe();
        for _ in 0..3_000 {
            flood.publish(&app.channel, "w");
        }
        let receivers: Vec<u64> = flood.query_async(&mut connection).await.unwrap();
        published += receivers.iter().sum::<u64>();
        if round == 4 {
            let killed: u64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("pubsub")
                .query_async(&mut connection)
                .await
                .unwrap();
            // bayes's channel subscriber and the api's subscription to notices.
            assert_eq!(killed, 2, "both subscribers dropped");
        }
    }
    let metrics_url = app.bayes_metrics[0].clone();
    eventually("bayes to subscribe again", SETTLE, || async {
        let subscriptions = metric(&metrics_url, "bayes_pubsub_subscriptions_total").await;
        (subscriptions >= 2.0).then_some(())
    })
    .await;
    assert!(
        app.bayes_logs().contains("pub/sub connection lost"),
        "{}",
        app.bayes_logs()
    );
    app.wait_for_subscriber().await;
    // The flood was all wins; a loss published now is the barrier: once it
    // is counted, what reached the subscriber before it was forwarded.
    assert_eq!(app.publish(b"l").await, 1);
    let (w_before, n_before) = eventually("the barrier forwarded", SETTLE, || async {
        let (w, n) = app.counts().await;
        (n == w + 1).then_some((w, n))
    })
    .await;
    assert_eq!(app.wait_until_log_applied().await, (w_before, n_before));
    assert!(
        n_before - 1 <= published,
        "at most once: {} applied of {published} delivered",
        n_before - 1
    );
    assert!(n_before > 1);
    assert_eq!(app.publish(b"l").await, 1);
    assert_eq!(app.wait_for_n(n_before + 1).await, (w_before, n_before + 1));
    eprintln!(
        "pub/sub drop: {published} delivered to a subscriber, {} forwarded (at most once), resubscribed",
        n_before - 1
    );
}
