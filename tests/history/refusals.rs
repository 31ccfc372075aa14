//! Bad ranges, steps and lenses are refused and count nothing; retention,
//! redefinition and deletion keep the history's meaning.

use super::{Entry, INTERVAL, history, simulated_log, write_log};
use crate::harness::{SETTLE, TestApp, eventually};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ranges_steps_and_lenses_are_400_and_count_nothing() {
    let app = TestApp::builder()
        .env("HISTORY_RETENTION", "1h")
        .spawn()
        .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let entries: Vec<Entry> = simulated_log(now - 4 * 3_600_000, 400)
        .into_iter()
        .filter(|e| e.ms < now)
        .collect();
    write_log(&app, &entries).await;
    app.wait_until_every_partition_applied().await;
    let before = app.model_counts("alpha").await;

    // Past the retention, older points are gone but the last before it.
    let points = history(&app, "alpha").await;
    let (status, body) = app.call("GET", "/models/alpha/history", None).await;
    assert_eq!(status, 200);
    let known_from = body["known_from"].as_u64().unwrap();
    assert!(known_from > entries[0].ms, "trimmed: {body}");
    assert_eq!(points[0].0, known_from, "the base point is kept");
    let newest = points.last().unwrap().0;
    assert!(
        points[1..]
            .iter()
            .all(|p| p.0 + 3_600_000 + 10 * INTERVAL > newest),
        "every other point within the retention"
    );

    for (path, needle) in [
        ("/models/alpha/history?from=yesterday", "from"),
        ("/models/alpha/history?to=-3", "to"),
        ("/models/alpha/history?from=2000&to=1000", "after"),
        ("/models/alpha/history?step=90s", "multiple"),
        ("/models/alpha/history?step=0", "step"),
        ("/models/alpha/history?step=1y", "step"),
        ("/models/alpha?window=soon", "window"),
        ("/models/alpha?window=0m", "window"),
        ("/models/alpha?half_life=-1h", "half_life"),
        ("/models/alpha?window=1h&half_life=1h", "not both"),
        ("/models/alpha?window=3h", "goes back to"),
        ("/compare?models=alpha,beta&window=3h", "goes back to"),
        ("/choose?models=alpha,beta&half_life=x", "half_life"),
        ("/compare/history?models=alpha", "at least 2"),
    ] {
        let (status, body) = app.call("GET", path, None).await;
        assert_eq!(status, 400, "{path}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(needle), "{path}: {error}");
    }
    let (status, _) = app.call("GET", "/models/nobody/history", None).await;
    assert_eq!(status, 404);
    let (status, body) = app.call("GET", "/models/alpha?window=30m", None).await;
    assert_eq!(status, 200, "a window within the history: {body}");
    assert_eq!(app.model_counts("alpha").await, before, "nothing counted");
    let _: &Value = &body;

    // A redefined prior recomputes every point's summary from its counts.
    let (_, old) = app.call("GET", "/models/beta/history", None).await;
    let (status, _) = app
        .call(
            "PUT",
            "/models/beta",
            Some(serde_json::json!({"prior": "beta:50,50"})),
        )
        .await;
    assert_eq!(status, 202);
    let new = eventually("beta redefined", SETTLE, || async {
        let (_, new) = app.call("GET", "/models/beta/history", None).await;
        (new["points"][0]["mean"] != old["points"][0]["mean"]).then_some(new)
    })
    .await;
    assert_eq!(
        new["points"][0]["n"], old["points"][0]["n"],
        "the same counts"
    );
    let (a, b) = (50 + new["points"][0]["w"].as_u64().unwrap(), 50.0);
    let n = new["points"][0]["n"].as_u64().unwrap() as f64;
    let mean = new["points"][0]["mean"].as_f64().unwrap();
    assert!((mean - a as f64 / (b * 2.0 + n)).abs() < 1e-12, "{mean}");

    // A deleted model's history goes with it; created again, it starts afresh.
    let name = domain::ModelName::parse("gamma").unwrap();
    assert_eq!(app.call("DELETE", "/models/gamma", None).await.0, 202);
    eventually("gamma deleted", SETTLE, || async {
        (app.call("GET", "/models/gamma/history", None).await.0 == 404).then_some(())
    })
    .await;
    let mut connection = app.redis.connection().await;
    let exists: bool = redis::cmd("EXISTS")
        .arg(app.keys().history(&name))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(!exists, "its history stream is gone");
    let (status, _) = app
        .call(
            "POST",
            "/models/gamma/observations",
            Some(serde_json::json!({"w": 1, "l": 1})),
        )
        .await;
    assert_eq!(status, 202);
    let points = eventually("gamma created again", SETTLE, || async {
        let (status, body) = app.call("GET", "/models/gamma/history", None).await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(points["points"].as_array().unwrap().len(), 1, "{points}");
    assert_eq!(points["known_from"], 0);
    assert_eq!(points["points"][0]["n"], 2);
}
