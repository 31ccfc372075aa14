//! The PNGs in GRAPHS_DIR, drawn off the event path, and their HTTP route.

use crate::harness::{SETTLE, TestApp, eventually};
use serde_json::json;
use std::path::Path;

fn decode(bytes: &[u8]) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("PNG frame");
    let drawn = pixels[..info.buffer_size()]
        .chunks(3)
        .filter(|px| px != &[255, 255, 255])
        .count();
    (info.width, info.height, drawn)
}

fn snapshots(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("graphs dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("n_") && name.ends_with(".png"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn bayes_draws_the_prior_at_start_and_each_new_state() {
    let app = TestApp::spawn().await;
    let latest = app.graphs.path().join("posterior.png");
    eventually("the prior's plot", SETTLE, || async {
        latest.exists().then_some(())
    })
    .await;
    let (width, height, drawn) = decode(&std::fs::read(&latest).unwrap());
    assert_eq!((width, height), (900, 600));
    assert!(drawn > 5_000, "not blank");

    for trial in ["w", "l", "w", "w", "w", "l", "w", "l", "w"] {
        assert_eq!(app.send(trial).await, 202);
    }
    app.wait_for_n(9).await;
    let snapshot = app.graphs.path().join("n_9_w_6.png");
    eventually("the n = 9 snapshot", SETTLE, || async {
        snapshot.exists().then_some(())
    })
    .await;
    assert_eq!(
        std::fs::read(&snapshot).unwrap(),
        std::fs::read(&latest).unwrap(),
        "latest = final state"
    );
}

#[tokio::test]
async fn the_api_serves_the_latest_plot() {
    let app = TestApp::spawn().await;
    let latest = app.graphs.path().join("posterior.png");
    eventually("the prior's plot", SETTLE, || async {
        latest.exists().then_some(())
    })
    .await;

    let response = app.get("/graphs/posterior.png").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let body = response.bytes().await.unwrap();
    assert_eq!(decode(&body).0, 900);

    for path in [
        "/graphs/../Cargo.toml",
        "/graphs/%2e%2e/Cargo.toml",
        "/graphs/n_0_w_0.png",
        "/graphs/",
    ] {
        let status = app.get(path).await.unwrap().status();
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn a_burst_of_100000_is_drawn_a_handful_of_times_ending_with_the_final_state() {
    let app = TestApp::builder()
        .env("SNAPSHOTS_KEEP", "100000")
        .spawn()
        .await;
    for _ in 0..10 {
        let response = app
            .http
            .post(format!("{}/update_model", app.api_url))
            .json(&json!({ "trials": "wwwwwwwlll".repeat(1_000) }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }
    app.wait_for_n(100_000).await;
    let last = app.graphs.path().join("n_100000_w_70000.png");
    eventually("the final state's plot", SETTLE, || async {
        last.exists().then_some(())
    })
    .await;

    let drawn = snapshots(app.graphs.path());
    assert!(
        drawn.len() <= 30,
        "{} renders for one burst: {drawn:?}",
        drawn.len()
    );
    let latest = std::fs::read(app.graphs.path().join("posterior.png")).unwrap();
    assert_eq!(
        latest,
        std::fs::read(&last).unwrap(),
        "posterior.png shows the final counts"
    );
}

#[tokio::test]
async fn snapshots_stay_within_their_bound() {
    let app = TestApp::builder()
        .env("SNAPSHOTS_KEEP", "3")
        .env("RENDER_INTERVAL_MS", "1")
        .spawn()
        .await;
    for i in 1..=8u64 {
        assert_eq!(app.send("w").await, 202);
        app.wait_for_n(i).await;
        let name = format!("n_{i}_w_{i}.png");
        eventually(&name, SETTLE, || async {
            app.graphs.path().join(&name).exists().then_some(())
        })
        .await;
    }
    let drawn = snapshots(app.graphs.path());
    assert_eq!(drawn, ["n_6_w_6.png", "n_7_w_7.png", "n_8_w_8.png"]);
}

/// Appends `trials` for `model` to the log at log time `ms` (explicit ids).
async fn log_trials(app: &TestApp, model: &str, ms: u64, trials: &[&str]) {
    let mut connection = app.redis.connection().await;
    for (seq, trial) in trials.iter().enumerate() {
        let _: String = redis::cmd("XADD")
            .arg(app.key("events"))
            .arg(format!("{ms}-{seq}"))
            .arg("model")
            .arg(model)
            .arg("trial")
            .arg(trial)
            .query_async(&mut connection)
            .await
            .expect("XADD with an explicit id");
    }
}

/// Non-white pixels right of the posterior panel (900 px wide), and those
/// of the band's light blue.
fn right_of_posterior(bytes: &[u8]) -> (u32, u32, usize, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("PNG frame");
    let (mut drawn, mut band) = (0, 0);
    for (i, px) in pixels[..info.buffer_size()].chunks(3).enumerate() {
        if (i as u32 % info.width) < 950 {
            continue;
        }
        drawn += usize::from(px != [255, 255, 255]);
        band += usize::from(px[0] > 150 && u16::from(px[2]) > u16::from(px[0]) + 20);
    }
    (info.width, info.height, drawn, band)
}

#[tokio::test]
async fn a_model_with_a_history_is_drawn_with_its_posterior_over_log_time() {
    let mut app = TestApp::builder().bayes_instances(0).spawn().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Three simulated hours, ending an hour ago: a batch every 10 minutes,
    // its rate of w climbing; `single` gets all its trials in one minute.
    let start = now - 4 * 3_600_000;
    let mut trials = 0;
    for step in 0..18u64 {
        let wins = 3 + (step / 3) as usize;
        let batch: Vec<&str> = (0..10).map(|i| if i < wins { "w" } else { "l" }).collect();
        log_trials(&app, "trend", start + step * 600_000, &batch).await;
        trials += batch.len() as u64;
    }
    log_trials(&app, "single", start + 18 * 600_000, &["w", "l", "w", "w"]).await;
    app.start_bayes();

    eventually("bayes applied the whole log", SETTLE, || async {
        let done = app.unapplied().await == 0
            && app.model_counts("trend").await.1 == trials
            && app.model_counts("single").await.1 == 4;
        done.then_some(())
    })
    .await;
    let trend = app.graphs.path().join("trend").join("posterior.png");
    let (width, height, drawn, band) =
        eventually("trend's plot with its history", SETTLE, || async {
            let drawn = right_of_posterior(&std::fs::read(&trend).ok()?);
            (drawn.0 > 900).then_some(drawn)
        })
        .await;
    assert_eq!(
        (width, height),
        (1_600, 600),
        "a history panel right of the posterior"
    );
    assert!(drawn > 10_000, "the history panel is drawn: {drawn} pixels");
    assert!(band > 2_000, "the 89% band is shaded: {band} pixels");

    let single = app.graphs.path().join("single").join("posterior.png");
    let (width, height, drawn, _) = eventually("single's plot", SETTLE, || async {
        Some(right_of_posterior(&std::fs::read(&single).ok()?))
    })
    .await;
    assert_eq!(
        (width, height, drawn),
        (900, 600, 0),
        "one point: no history panel"
    );
    if let Some(dir) = std::env::var_os("GRAPHS_KEEP") {
        std::fs::copy(&trend, Path::new(&dir).join("trend.png")).unwrap();
    }
}
