//! Delivery v2 on a real Redis and the real binaries: partitions, leases,
//! the cursor's compare-and-set, the upgrade from v1, loss per partition,
//! and the partition count that is fixed per deployment.

use crate::harness::{SETTLE, TestApp, eventually, metric, run_to_exit};
use std::time::{Duration, Instant};

/// Appends `per_model` single-trial entries (`w`, `w`, `l`, …) for each of
/// `models` to their partitions' streams, as an outside producer would.
async fn preload(app: &TestApp, models: &[String], per_model: u64) -> (u64, u64) {
    let keys = app.keys();
    let mut connection = app.redis.connection().await;
    let (mut w, mut n) = (0, 0);
    for chunk in 0..per_model.div_ceil(500) {
        let mut pipeline = redis::pipe();
        for model in models {
            let name = domain::ModelName::parse(model).expect("valid name");
            let stream = &keys.partition_for(&name).events;
            for i in chunk * 500..((chunk + 1) * 500).min(per_model) {
                let trial = if i % 3 == 2 { "l" } else { "w" };
                pipeline
                    .cmd("XADD")
                    .arg(stream)
                    .arg("*")
                    .arg("model")
                    .arg(model)
                    .arg("trial")
                    .arg(trial)
                    .ignore();
                w += u64::from(trial == "w");
                n += 1;
            }
        }
        let () = pipeline.query_async(&mut connection).await.expect("XADD");
    }
    (w, n)
}

async fn total_applied(app: &TestApp, models: &[String]) -> u64 {
    let mut n = 0;
    for model in models {
        n += app.model_counts(model).await.1;
    }
    n
}

#[tokio::test]
async fn kill_9_of_one_of_three_instances_mid_drain_with_four_partitions_loses_and_repeats_nothing()
{
    let mut app = TestApp::builder()
        .bayes_instances(0)
        .env("PARTITIONS", "4")
        .env("BATCH_SIZE", "50")
        .spawn()
        .await;
    let models: Vec<String> = (0..24).map(|i| format!("arm-{i}")).collect();
    let (w, n) = preload(&app, &models, 1_000).await;
    for _ in 0..3 {
        app.start_bayes();
    }
    let in_flight = eventually("the drain to be under way", SETTLE, || async {
        let applied = total_applied(&app, &models).await;
        (applied > 0).then_some(n - applied)
    })
    .await;
    app.bayes[0].kill();
    assert!(in_flight > 0, "the kill landed while work was in flight");
    eprintln!("kill -9 of one of three instances with {in_flight} of {n} observations unapplied");

    let applied = eventually("every observation applied", SETTLE, || async {
        let applied = total_applied(&app, &models).await;
        assert!(
            applied <= n,
            "{applied} counted of {n}: something was counted twice"
        );
        (applied == n).then_some(applied)
    })
    .await;
    assert_eq!(applied, n);
    let mut wins = 0;
    for model in &models {
        let (mw, mn) = app.model_counts(model).await;
        assert_eq!(mn, 1_000, "{model}");
        wins += mw;
    }
    assert_eq!(wins, w);
    // The survivors share the four partitions evenly: two each.
    for index in [1, 2] {
        let owned = eventually(
            "the partitions to spread over the survivors",
            SETTLE,
            || async {
                let owned = metric(&app.bayes_metrics[index], "bayes_partitions_owned").await;
                (owned == 2.0).then_some(owned)
            },
        )
        .await;
        assert_eq!(owned, 2.0);
    }
}

#[tokio::test]
async fn a_stale_owner_s_batches_are_fenced_by_the_cursor_and_count_nothing() {
    // Two instances forced to own partition 0 at once: both read from the
    // same cursor, and the compare-and-set lets exactly one apply each batch.
    let app = TestApp::builder()
        .bayes_instances(2)
        .env("STATIC_PARTITIONS", "0")
        .env("BATCH_SIZE", "20")
        .env("READ_COALESCE_MS", "0")
        .spawn()
        .await;
    let models = vec!["default".to_owned()];
    let (w, n) = preload(&app, &models, 6_000).await;
    assert_eq!(app.wait_for_n(n).await, (w, n));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.counts().await,
        (w, n),
        "nothing counted after the drain"
    );
    let mut fenced = 0.0;
    for url in &app.bayes_metrics {
        fenced += metric(url, "bayes_batches_fenced_total").await;
    }
    assert!(
        fenced > 0.0,
        "two owners of one partition raced and the cursor fenced one"
    );
    eprintln!("two owners at once: {n} applied exactly, {fenced} stale batches fenced");
}

#[tokio::test]
async fn a_v1_deployment_upgrades_in_place_counting_every_entry_once() {
    let mut app = TestApp::builder().bayes_instances(0).spawn().await;
    let mut connection = app.redis.connection().await;
    let (events, model) = (app.key("events"), app.key("model"));
    // The v1 layout, written as v1 left it: 300 entries, a group that
    // delivered 200 to a consumer that acknowledged (and counted) 100.
    for i in 0..300 {
        let trial = if i == 150 {
            "x"
        } else if i % 3 == 2 {
            "l"
        } else {
            "w"
        };
        let _: String = redis::cmd("XADD")
            .arg(&events)
            .arg("*")
            .arg("trial")
            .arg(trial)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
    let () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&events)
        .arg("bayes")
        .arg("0")
        .query_async(&mut connection)
        .await
        .unwrap();
    let delivered: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("bayes")
        .arg("v1-consumer")
        .arg("COUNT")
        .arg(200)
        .arg("STREAMS")
        .arg(&events)
        .arg(">")
        .query_async(&mut connection)
        .await
        .unwrap();
    let ids: Vec<String> = delivered.keys[0].ids.iter().map(|e| e.id.clone()).collect();
    let acked: Vec<&String> = ids.iter().take(100).collect();
    let () = redis::cmd("XACK")
        .arg(&events)
        .arg("bayes")
        .arg(&acked)
        .query_async::<i64>(&mut connection)
        .await
        .map(drop)
        .unwrap();
    let wins = (0..100).filter(|i| i % 3 != 2).count() as u64;
    let () = redis::cmd("HSET")
        .arg(&model)
        .arg("w")
        .arg(wins)
        .arg("n")
        .arg(100)
        .arg("prior")
        .arg("uniform")
        .arg("grid_points")
        .arg(50)
        .query_async::<i64>(&mut connection)
        .await
        .map(drop)
        .unwrap();

    app.start_bayes();
    let expected_w = (0..300).filter(|i| *i != 150 && i % 3 != 2).count() as u64;
    assert_eq!(app.wait_for_n(299).await, (expected_w, 299));
    assert_eq!(
        app.group_lag().await,
        (Some(0), 0),
        "no pending entries, no lag"
    );
    let dead = app.dead_letters().await;
    assert_eq!(
        dead.len(),
        1,
        "the bad entry, pending in v1, dead-lettered: {dead:?}"
    );
    let state: Vec<String> = redis::cmd("HMGET")
        .arg(&model)
        .arg("prior")
        .arg("grid_points")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(state, ["uniform", "50"], "the v1 definition is kept");
    // A restart takes the cursor from where it is: nothing again.
    app.bayes[0].kill();
    app.bayes[0].restart();
    assert_eq!(app.send("w").await, 202);
    assert_eq!(app.wait_for_n(300).await, (expected_w + 1, 300));
}

#[tokio::test]
async fn a_start_with_another_partition_count_is_refused_naming_both_values() {
    let app = TestApp::spawn().await;
    assert_eq!(app.send("w").await, 202);
    app.wait_for_n(1).await;
    let graphs = tempfile::tempdir().unwrap();
    let metrics_addr = format!("127.0.0.1:{}", crate::harness::free_port());
    let api_addr = format!("127.0.0.1:{}", crate::harness::free_port());
    let env = [
        ("REDIS_URL", app.redis.url()),
        ("KEY_PREFIX", app.prefix.clone()),
        ("PARTITIONS", "4".to_owned()),
        ("GRAPHS_DIR", graphs.path().display().to_string()),
        ("METRICS_ADDR", metrics_addr),
        ("API_ADDR", api_addr),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for binary in ["bayes", "api"] {
        let (status, stderr) = run_to_exit(binary, &env);
        assert!(
            !status.success(),
            "{binary} started with another partition count"
        );
        assert!(
            stderr.contains("PARTITIONS=4") && stderr.contains("PARTITIONS=1"),
            "{binary}: {stderr}"
        );
    }
    assert_eq!(app.model_counts("default").await, (1, 1), "nothing changed");
}

#[tokio::test]
async fn loss_to_retention_is_detected_per_partition() {
    let mut app = TestApp::builder()
        .bayes_instances(0)
        .env("PARTITIONS", "2")
        .spawn()
        .await;
    let keys = app.keys();
    // One model in each partition.
    let (mut trimmed, mut kept) = (None, None);
    for i in 0.. {
        let name = domain::ModelName::parse(&format!("m{i}")).unwrap();
        let slot = if keys.partition_for(&name).index == 0 {
            &mut trimmed
        } else {
            &mut kept
        };
        slot.get_or_insert(name);
        if trimmed.is_some() && kept.is_some() {
            break;
        }
    }
    let (trimmed, kept) = (trimmed.unwrap(), kept.unwrap());
    let mut connection = app.redis.connection().await;
    for (name, count, maxlen) in [(&trimmed, 3_000, 200), (&kept, 50, 0)] {
        let stream = &keys.partition_for(name).events;
        let mut pipeline = redis::pipe();
        for _ in 0..count {
            let xadd = pipeline.cmd("XADD").arg(stream);
            if maxlen > 0 {
                xadd.arg("MAXLEN").arg(maxlen);
            }
            xadd.arg("*")
                .arg("model")
                .arg(name.as_str())
                .arg("trial")
                .arg("w")
                .ignore();
        }
        let () = pipeline.query_async(&mut connection).await.unwrap();
    }
    app.start_bayes();
    let lost_of = |partition: u32| {
        let cursor = keys.partition(partition).unwrap().cursor.clone();
        let client = app.redis.client();
        async move {
            let mut connection = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("HGET")
                .arg(cursor)
                .arg("lost")
                .query_async::<Option<u64>>(&mut connection)
                .await
                .ok()
                .flatten()
        }
    };
    let lost = eventually("the loss in partition 0", SETTLE, || async {
        lost_of(0).await.filter(|l| *l > 0)
    })
    .await;
    assert_eq!(lost, 2_800, "3000 appended, 200 kept");
    assert_eq!(
        eventually("partition 1 applied", SETTLE, || async {
            let counts = app.model_counts(kept.as_str()).await;
            (counts.1 == 50).then_some(counts)
        })
        .await,
        (50, 50)
    );
    assert_eq!(app.model_counts(trimmed.as_str()).await, (200, 200));
    assert_eq!(
        lost_of(1).await,
        Some(0),
        "nothing lost where nothing was trimmed"
    );
}

#[tokio::test]
async fn a_full_ingest_queue_answers_503_with_retry_after_and_stores_nothing_of_it() {
    let app = TestApp::builder().env("INGEST_QUEUE", "2").spawn().await;
    let mut connection = app.redis.connection().await;
    // Writes stall for a second: requests pile up in the bounded queue.
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1_000)
        .arg("WRITE")
        .query_async(&mut connection)
        .await
        .unwrap();
    let requests: Vec<_> = (0..64)
        .map(|_| {
            let (http, url) = (app.http.clone(), format!("{}/update_model/w", app.api_url));
            tokio::spawn(async move {
                let response = http.get(url).send().await.expect("api answers");
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap_or("").to_owned());
                (response.status().as_u16(), retry_after)
            })
        })
        .collect();
    let (mut accepted, mut refused) = (0, 0);
    for request in requests {
        match request.await.unwrap() {
            (202, _) => accepted += 1,
            (503, Some(retry_after)) => {
                assert_eq!(retry_after, "1");
                refused += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(
        refused > 0,
        "the bounded queue refused some of 64 concurrent requests"
    );
    assert_eq!(accepted + refused, 64);
    assert_eq!(app.wait_for_n(accepted).await.1, accepted);
    assert_eq!(
        app.log_observations().await,
        accepted,
        "nothing of a 503 was stored"
    );
    eprintln!("overload: {accepted} accepted, {refused} answered 503 with Retry-After");
}

#[tokio::test]
async fn a_panicking_consumer_stops_bayes_non_zero_naming_the_task() {
    let app = TestApp::builder().bayes_instances(0).spawn().await;
    let graphs = tempfile::tempdir().unwrap();
    let metrics_addr = format!("127.0.0.1:{}", crate::harness::free_port());
    let env = [
        ("REDIS_URL", app.redis.url()),
        ("KEY_PREFIX", app.prefix.clone()),
        ("GRAPHS_DIR", graphs.path().display().to_string()),
        ("METRICS_ADDR", metrics_addr),
        ("FAULT_INJECT", "panic-worker".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = Instant::now();
    let (status, stderr) = run_to_exit("bayes", &env);
    let took = started.elapsed();
    assert!(!status.success(), "bayes exited 0 with a dead consumer");
    assert!(
        stderr.contains("task consumer ended before shutdown: it panicked"),
        "{stderr}"
    );
    eprintln!("a panicking consumer: bayes exited {status} after {took:?}");
}
