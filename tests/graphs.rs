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
