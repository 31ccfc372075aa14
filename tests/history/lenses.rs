//! Windows and half-lives against a reference from the raw log.

use super::{Entry, INTERVAL, close, simulated_log, write_log};
use crate::harness::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_and_half_lives_match_the_raw_log() {
    let app = TestApp::spawn().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Five simulated hours ending about now (30 s apart on average).
    let entries = simulated_log(now - 5 * 3_600_000, 550);
    let entries: Vec<Entry> = entries.into_iter().filter(|e| e.ms < now).collect();
    write_log(&app, &entries).await;
    app.wait_until_every_partition_applied().await;

    for window in ["2h", "45m"] {
        let (status, body) = app
            .call("GET", &format!("/models/beta?window={window}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        let as_of = body["lens"]["as_of"].as_u64().unwrap();
        let span = platform::log_time::Span::parse(window).unwrap().millis();
        // The window starts at the interval end at or before as_of − window.
        let edge = (as_of - span) / INTERVAL * INTERVAL;
        let inside: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.model == "beta" && e.ms >= edge)
            .collect();
        let n = inside.len() as u64;
        let w = inside.iter().filter(|e| e.win).count() as u64;
        assert!(n > 10, "a window with data");
        assert_eq!(
            (body["w"].as_u64(), body["n"].as_u64()),
            (Some(w), Some(n)),
            "{body}"
        );
    }

    let (status, body) = app.call("GET", "/models/gamma?half_life=1h", None).await;
    assert_eq!(status, 200, "{body}");
    let as_of = body["lens"]["as_of"].as_u64().unwrap();
    let (mut w, mut n) = (0.0, 0.0);
    for entry in entries.iter().filter(|e| e.model == "gamma") {
        let end = (entry.ms / INTERVAL + 1) * INTERVAL;
        let weight = (-(as_of.saturating_sub(end) as f64) / 3_600_000.0).exp2();
        n += weight;
        w += if entry.win { weight } else { 0.0 };
    }
    let (got_w, got_n) = (body["w"].as_f64().unwrap(), body["n"].as_f64().unwrap());
    assert!(
        close(got_w, w) && close(got_n, n),
        "{got_w}/{got_n} vs {w}/{n}"
    );
    assert!(n < 100.0 && n > 5.0, "decayed: {n}");
    // The posterior is the Beta of the decayed evidence.
    let alpha = body["closed_form"]["alpha"].as_f64().unwrap();
    assert!(close(alpha, 1.0 + w), "{alpha} vs {}", 1.0 + w);

    // The same lenses on the decisions.
    let (status, body) = app
        .call("GET", "/compare?models=alpha,gamma&window=1h", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lens"]["window"], "1h");
    let (status, body) = app
        .call("GET", "/choose?models=alpha,beta,gamma&half_life=30m", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lens"]["half_life"], "30m");

    // The chance to win over time: one point per step, each exact.
    let (status, body) = app
        .call("GET", "/compare/history?models=alpha,gamma&step=30m", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let points = body["points"].as_array().unwrap();
    assert!(points.len() >= 8, "{body}");
    let last = points.last().unwrap();
    let p: f64 = last["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["p_best"].as_f64().unwrap())
        .sum();
    assert!((p - 1.0).abs() < 1e-9);
    let (status, compared) = app.call("GET", "/compare?models=alpha,gamma", None).await;
    assert_eq!(status, 200);
    assert!(
        close(
            last["models"][1]["p_best"].as_f64().unwrap(),
            compared["models"][1]["p_best"].as_f64().unwrap()
        ),
        "the last point is the comparison now"
    );
}
