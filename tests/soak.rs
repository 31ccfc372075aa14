//! The soak: a steady load for SOAK_SECONDS (300 under CI, else 60), with
//! memory, the consumer group's lag and error logs watched throughout. Run on its own
//! by scripts/test (`cargo test -p e2e -- --ignored`), so nothing else
//! competes with it for the two cores.

use crate::harness::{TestApp, send_load_for};
use std::time::Duration;

fn soak_duration() -> Duration {
    let default = if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        300
    } else {
        60
    };
    let seconds = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    Duration::from_secs(seconds)
}

#[tokio::test]
#[ignore = "slow: scripts/test runs it on its own, after the other suites"]
async fn soak_under_steady_load_memory_is_flat_nothing_piles_up_no_errors() {
    let app = TestApp::builder()
        .env("RENDER_INTERVAL_MS", "1000")
        .spawn()
        .await;
    let duration = soak_duration();
    let load = tokio::spawn(send_load_for(
        app.http.clone(),
        app.api_url.clone(),
        duration,
        4,
    ));

    let mut samples = Vec::new();
    let started = tokio::time::Instant::now();
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let lag = app.group_lag().await.0.unwrap_or(u64::MAX);
        samples.push((app.api.rss_mb(), app.bayes[0].rss_mb(), lag as usize));
    }
    let (w, n, refused) = load.await.unwrap();
    assert_eq!(refused, 0, "every request was accepted");
    assert_eq!(
        app.wait_for_n(n).await,
        (w, n),
        "every observation applied once"
    );

    let third = samples.len() / 3;
    assert!(third >= 2, "too short a soak to judge: {samples:?}");
    let peak = |from: usize, to: usize, pick: fn(&(f64, f64, usize)) -> f64| {
        samples[from..to].iter().map(pick).fold(0.0, f64::max)
    };
    for (name, pick) in [
        ("api", (|s: &(f64, f64, usize)| s.0) as fn(&_) -> f64),
        ("bayes", |s| s.1),
    ] {
        let early = peak(0, third, pick);
        let late = peak(samples.len() - third, samples.len(), pick);
        assert!(
            late <= early * 1.25 + 8.0,
            "{name} RSS grew from {early:.1} MB to {late:.1} MB: {samples:?}"
        );
    }
    let most_lag = samples.iter().map(|s| s.2).max().unwrap_or(0);
    assert!(
        most_lag <= 5_000,
        "the log's lag piled up to {most_lag} entries"
    );
    for (name, log) in [("api", app.api_log()), ("bayes", app.bayes_logs())] {
        let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
        assert!(errors.is_empty(), "{name} logged errors: {errors:?}");
    }
    eprintln!(
        "soak: {n} observations in {duration:?}; RSS api {:.1}→{:.1} MB, bayes {:.1}→{:.1} MB; most lag {most_lag} entries",
        samples[0].0,
        samples[samples.len() - 1].0,
        samples[0].1,
        samples[samples.len() - 1].1
    );
}
