//! Configuration as operators meet it: a bad setting stops the start with
//! one clear line, and `--help` documents every setting with its default.

use crate::harness::{RedisServer, free_port, run_to_exit};
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
