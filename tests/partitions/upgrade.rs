//! A v1 deployment upgraded in place, and a start with another partition
//! count refused.

use crate::harness::{TestApp, run_to_exit};

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
