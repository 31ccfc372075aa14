//! What operators rely on: configuration errors, metrics, the OpenAPI
//! document, graceful shutdown.

use crate::harness::{
    RedisServer, SETTLE, TestApp, eventually, free_port, metric, run_to_exit, send_load,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::TcpListener;

/// Valid settings for both binaries against `redis`, with `overrides` applied.
fn settings(
    redis: &RedisServer,
    graphs: &str,
    overrides: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("REDIS_URL", redis.url()),
        ("KEY_PREFIX", "badconfig".to_owned()),
        ("GRAPHS_DIR", graphs.to_owned()),
        ("METRICS_ADDR", format!("127.0.0.1:{}", free_port())),
        ("API_ADDR", format!("127.0.0.1:{}", free_port())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (key, value) in overrides {
        env.retain(|(k, _)| k != key);
        env.push(((*key).to_owned(), (*value).to_owned()));
    }
    env
}

#[test]
fn bad_configuration_stops_the_start_with_one_clear_line() {
    let redis = RedisServer::start();
    // Held for the whole test, so the address stays taken.
    let held = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let taken = held.local_addr().expect("its address").to_string();
    let file = tempfile::NamedTempFile::new().unwrap();
    let file = file.path().display().to_string();
    let graphs = tempfile::tempdir().unwrap();
    let graphs = graphs.path().display().to_string();
    let cases = [
        (
            "api",
            vec![("REDIS_URL", "http://:hunter2@localhost")],
            "invalid REDIS_URL http://:***@localhost",
        ),
        (
            "api",
            vec![("API_ADDR", taken.as_str())],
            "cannot listen on API_ADDR",
        ),
        (
            "api",
            vec![("API_ADDR", "not-an-address")],
            "invalid value 'not-an-address'",
        ),
        (
            "api",
            vec![("KEY_PREFIX", "")],
            "invalid value '' for '--key-prefix",
        ),
        (
            "bayes",
            vec![("PRIOR", "beta:-1,1")],
            "Beta shapes must be >= 1",
        ),
        ("bayes", vec![("PRIOR", "step:2")], "0 <= T < 1"),
        (
            "bayes",
            vec![("GRID_POINTS", "1")],
            "grid points must be between 2 and 10000000, got 1",
        ),
        (
            "bayes",
            vec![("PRIOR", "beta:2,2"), ("GRID_POINTS", "2")],
            "has no mass on a grid of 2 points",
        ),
        (
            "bayes",
            vec![("GRAPHS_DIR", file.as_str())],
            "is not a writable directory",
        ),
        (
            "bayes",
            vec![("METRICS_ADDR", taken.as_str())],
            "cannot serve metrics on METRICS_ADDR",
        ),
        (
            "bayes",
            vec![("REDIS_URL", "redis://:hunter2@")],
            "invalid REDIS_URL",
        ),
    ];
    for (binary, overrides, expected) in cases {
        let env = settings(&redis, &graphs, &overrides);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, stderr) = run_to_exit(binary, &env);
        assert!(
            !status.success(),
            "{binary} {overrides:?} started: {stderr}"
        );
        // Ours is one line; clap adds a blank line and "For more information, try '--help'".
        assert!(
            stderr.trim_end().lines().count() <= 3,
            "{binary} {overrides:?}: {stderr}"
        );
        let first_line = stderr.lines().next().unwrap_or_default();
        assert!(
            first_line.contains(expected),
            "{binary} {overrides:?}: {first_line:?} lacks {expected:?}"
        );
        assert!(
            !stderr.contains("hunter2"),
            "a password was printed: {stderr}"
        );
    }
    drop(held);
    let mut connection = redis.client().get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut connection).unwrap();
    assert!(keys.is_empty(), "a refused start did work: {keys:?}");
}

#[test]
fn help_documents_every_setting_with_its_default() {
    for (binary, settings) in [
        (
            "api",
            &[
                "REDIS_URL",
                "KEY_PREFIX",
                "API_ADDR",
                "GRAPHS_DIR",
                "STREAM_MAXLEN",
                "LOG_FORMAT",
            ][..],
        ),
        (
            "bayes",
            &[
                "REDIS_URL",
                "KEY_PREFIX",
                "REDIS_CHANNEL",
                "GRAPHS_DIR",
                "PRIOR",
                "GRID_POINTS",
                "RENDER_INTERVAL_MS",
                "SNAPSHOTS_KEEP",
                "METRICS_ADDR",
                "STREAM_MAXLEN",
            ][..],
        ),
    ] {
        let output = std::process::Command::new(crate::harness::binary_path(binary))
            .arg("--help")
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        for setting in settings {
            assert!(
                help.contains(&format!("[env: {setting}=")),
                "{binary} --help lacks {setting}"
            );
        }
        assert!(
            help.contains("[default: "),
            "{binary} --help shows defaults"
        );
    }
}

#[tokio::test]
async fn metrics_move_with_observations() {
    let app = TestApp::spawn().await;
    for trial in ["w", "l", "w", "x"] {
        app.send(trial).await;
    }
    app.wait_for_n(3).await;

    assert_eq!(
        metric(&app.api_url, "api_observations_accepted_total").await,
        3.0
    );
    assert_eq!(
        metric(&app.api_url, "api_errors_total{kind=\"bad_request\"}").await,
        1.0
    );
    let bayes = &app.bayes_metrics[0];
    eventually("bayes to count 3 applied", SETTLE, || async {
        (metric(bayes, "bayes_observations_applied_total").await == 3.0).then_some(())
    })
    .await;
    assert!(metric(bayes, "bayes_apply_lag_seconds_count").await >= 1.0);
    eventually("a render to be counted", SETTLE, || async {
        (metric(bayes, "bayes_renders_total").await >= 1.0).then_some(())
    })
    .await;
    assert!(metric(bayes, "bayes_batch_size_count").await >= 1.0);
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let app = TestApp::builder().bayes_instances(0).spawn().await;
    let document: Value = app
        .get("/openapi.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths: BTreeSet<&str> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "/update_model/{trial}",
        "/update_model",
        "/model",
        "/healthz",
        "/readyz",
        "/graphs/posterior.png",
        "/metrics",
        "/models",
        "/models/{name}",
        "/models/{name}/observations",
        "/models/{name}/posterior",
        "/graphs/{name}/posterior.png",
        "/compare",
        "/choose",
        "/session",
    ]
    .into();
    assert_eq!(paths, expected);
    assert!(document["paths"]["/update_model"]["post"]["responses"]["413"].is_object());
    assert!(document["components"]["schemas"]["ModelSummary"]["properties"]["hpdi_89"].is_object());
}

#[tokio::test]
async fn sigterm_during_load_loses_nothing_answered_202() {
    let mut app = TestApp::spawn().await;
    let load = tokio::spawn(send_load(
        app.http.clone(),
        app.api_url.clone(),
        100_000,
        32,
    ));
    eventually("the load under way", SETTLE, || async {
        (app.counts().await.1 >= 1_000).then_some(())
    })
    .await;
    assert!(
        app.bayes[0].terminate().await.success(),
        "bayes exits 0 mid-load"
    );
    let stopped_at = app.counts().await.1;
    app.bayes[0].restart();
    eventually("bayes applying again", SETTLE, || async {
        (app.counts().await.1 > stopped_at).then_some(())
    })
    .await;
    assert!(!load.is_finished(), "the api is stopped mid-load");
    assert!(app.api.terminate().await.success(), "api exits 0 mid-load");

    let (w, n) = load.await.unwrap();
    assert!(
        n > 0 && n < 100_000,
        "the api stopped mid-load ({n} accepted)"
    );
    assert_eq!(
        app.wait_for_n(n).await,
        (w, n),
        "every 202 was applied, once"
    );
}

#[tokio::test]
async fn logs_are_json_on_request_with_the_effective_configuration() {
    let mut app = TestApp::builder().env("LOG_FORMAT", "json").spawn().await;
    assert_eq!(app.send("w").await, 202);
    app.wait_for_n(1).await;
    assert!(app.api.terminate().await.success());
    let log = app.api_log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let start = lines
        .iter()
        .find(|line| line["message"] == "api starting")
        .expect("a start line");
    assert_eq!(start["key_prefix"], app.prefix.as_str());
    assert!(
        start["redis_url"]
            .as_str()
            .unwrap()
            .starts_with("redis://127.0.0.1:")
    );
    assert!(
        app.bayes_logs()
            .lines()
            .any(|l| l.contains("\"message\":\"bayes starting\""))
    );
}
