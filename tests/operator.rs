//! The operator's commands on the real binary: `bayes status` and `bayes rebuild`.

use crate::harness::{SETTLE, TestApp, eventually, free_port};

fn command_env(app: &TestApp, partitions: &str) -> Vec<(String, String)> {
    vec![
        ("REDIS_URL".to_owned(), app.redis.url()),
        ("KEY_PREFIX".to_owned(), app.prefix.clone()),
        ("PARTITIONS".to_owned(), partitions.to_owned()),
        (
            "METRICS_ADDR".to_owned(),
            format!("127.0.0.1:{}", free_port()),
        ),
    ]
}

fn run(
    app: &TestApp,
    partitions: &str,
    command: &str,
) -> (std::process::ExitStatus, String, String) {
    let env = command_env(app, partitions);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let output = std::process::Command::new(crate::harness::binary_path("bayes"))
        .arg(command)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .output()
        .expect("run bayes");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status, text(&output.stdout), text(&output.stderr))
}

async fn all_counts(app: &TestApp, models: &[&str]) -> Vec<(u64, u64)> {
    let mut counts = Vec::new();
    for model in models {
        counts.push(app.model_counts(model).await);
    }
    counts
}

#[tokio::test]
async fn status_shows_each_partition_s_owner_cursor_and_lag() {
    let app = TestApp::builder().env("PARTITIONS", "3").spawn().await;
    let (w, n) = app.load(300, 8).await;
    assert_eq!(app.wait_for_n(n).await, (w, n));
    let (status, stdout, stderr) = eventually("every partition owned", SETTLE, || async {
        let out = run(&app, "3", "status");
        let owned = out.1.lines().skip(1).take(3).all(|l| l.contains("bayes-0"));
        owned.then_some(out)
    })
    .await;
    assert!(status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        7,
        "a header, three partitions, models, history, memory:\n{stdout}"
    );
    assert_eq!(lines[4], "models: 1 in all", "{stdout}");
    assert!(lines[5].starts_with("history: "), "{stdout}");
    assert!(
        lines[6].starts_with("redis: ") && lines[6].ends_with("maxmemory-policy noeviction: ok"),
        "{stdout}"
    );
    let lines = &lines[..4];
    assert!(lines[0].contains("lag (s)"), "{stdout}");
    for line in &lines[1..] {
        let columns: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(columns[3], "0", "no lag after the drain: {line}");
    }
    // Another partition count is refused, naming both.
    let (status, _, stderr) = run(&app, "2", "status");
    assert!(
        !status.success() && stderr.contains("PARTITIONS=3"),
        "{stderr}"
    );
}

#[tokio::test]
async fn rebuild_recomputes_every_model_from_the_log_while_bayes_runs_and_refuses_a_trimmed_log() {
    let app = TestApp::builder().env("PARTITIONS", "2").spawn().await;
    let keys = app.keys();
    let models = ["default", "a", "b", "c", "d"];
    let mut connection = app.redis.connection().await;
    for (i, model) in models.iter().enumerate() {
        let name = domain::ModelName::parse(model).unwrap();
        let stream = &keys.partition_for(&name).events;
        for k in 0..200 + i * 10 {
            let trial = if k % 4 == 0 { "l" } else { "w" };
            let _: String = redis::cmd("XADD")
                .arg(stream)
                .arg("*")
                .arg("model")
                .arg(*model)
                .arg("trial")
                .arg(trial)
                .query_async(&mut connection)
                .await
                .unwrap();
        }
    }
    let total: u64 = (0..5).map(|i| 200 + i * 10).sum();
    eventually("every model applied", SETTLE, || async {
        let counts = all_counts(&app, &models).await;
        (counts.iter().map(|c| c.1).sum::<u64>() == total).then_some(())
    })
    .await;
    let before = all_counts(&app, &models).await;
    // Wrong counts, as a bug or a hand edit would leave them.
    for model in &models {
        let name = domain::ModelName::parse(model).unwrap();
        let () = redis::cmd("HSET")
            .arg(keys.model(&name))
            .arg("w")
            .arg(1)
            .arg("n")
            .arg(2)
            .query_async::<i64>(&mut connection)
            .await
            .map(drop)
            .unwrap();
    }

    let (status, stdout, stderr) = run(&app, "2", "rebuild");
    assert!(status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("partition 0: rebuilt") && stdout.contains("partition 1: rebuilt"),
        "{stdout}"
    );
    let after = eventually("the rebuilt counts", SETTLE, || async {
        let counts = all_counts(&app, &models).await;
        (counts == before).then_some(counts)
    })
    .await;
    assert_eq!(after, before);

    // Trim one partition's log: its rebuild is refused and changes nothing.
    let name = domain::ModelName::parse("a").unwrap();
    let stream = keys.partition_for(&name).events.clone();
    let () = redis::cmd("XTRIM")
        .arg(&stream)
        .arg("MAXLEN")
        .arg(10)
        .query_async::<i64>(&mut connection)
        .await
        .map(drop)
        .unwrap();
    let (status, _, stderr) = run(&app, "2", "rebuild");
    assert!(
        !status.success(),
        "a rebuild of a trimmed log must be refused"
    );
    assert!(stderr.contains("no longer in the log"), "{stderr}");
    assert_eq!(
        app.model_counts("a").await,
        before[1],
        "the refused partition kept its counts"
    );
}
