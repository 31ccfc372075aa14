//! A task that dies stops its process, non-zero, naming it: bayes's
//! partition consumer and the api's partition writer.

use crate::harness::{TestApp, run_to_exit};
use std::time::Instant;

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

#[tokio::test]
async fn a_panicking_partition_writer_stops_the_api_non_zero_naming_the_task() {
    let app = TestApp::builder().bayes_instances(0).spawn().await;
    let graphs = tempfile::tempdir().unwrap();
    let api_addr = format!("127.0.0.1:{}", crate::harness::free_port());
    let env = [
        ("REDIS_URL", app.redis.url()),
        ("KEY_PREFIX", app.prefix.clone()),
        ("PARTITIONS", "1".to_owned()),
        ("GRAPHS_DIR", graphs.path().display().to_string()),
        ("API_ADDR", api_addr),
        ("FAULT_INJECT", "panic-writer".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = Instant::now();
    let (status, stderr) = run_to_exit("api", &env);
    let took = started.elapsed();
    assert!(!status.success(), "the api exited 0 with a dead writer");
    assert!(
        stderr
            .contains("task partition-writer-0 ended before shutdown: it panicked: fault injected"),
        "{stderr}"
    );
    eprintln!("a panicking partition writer: the api exited {status} after {took:?}");
}
