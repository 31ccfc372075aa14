//! History in log time on the real binaries: a log written with explicit
//! ids over simulated hours gives, point for point, the history computed
//! here from the raw entries — after a drain interrupted by kill -9, a
//! second instance taking the partitions over, and `bayes rebuild`; windows
//! and half-lives against a reference from the raw log; bad ranges 400.

use crate::harness::{SETTLE, TestApp, eventually, free_port};
use serde_json::Value;
use std::collections::BTreeMap;

const INTERVAL: u64 = 60_000;
const MODELS: [&str; 3] = ["alpha", "beta", "gamma"];

/// One observation of the simulated log.
#[derive(Debug, Clone, Copy)]
struct Entry {
    ms: u64,
    model: &'static str,
    win: bool,
}

/// `count` entries from `start`, 2 to 60 s apart (so some intervals are
/// empty), over the three models with rates 20%, 50%, 80%: deterministic.
fn simulated_log(start: u64, count: usize) -> Vec<Entry> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut ms = start;
    (0..count)
        .map(|_| {
            ms += 2_000 + next() % 58_000;
            let k = (next() % 3) as usize;
            let win = next() % 10 < [2, 5, 8][k];
            Entry {
                ms,
                model: MODELS[k],
                win,
            }
        })
        .collect()
}

/// The history of `model` from the raw log: its cumulative `(w, n)` at the
/// end of each interval in which it changed.
fn reference(entries: &[Entry], model: &str) -> Vec<(u64, u64, u64)> {
    let mut points: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let (mut w, mut n) = (0, 0);
    for entry in entries.iter().filter(|e| e.model == model) {
        n += 1;
        w += u64::from(entry.win);
        points.insert((entry.ms / INTERVAL + 1) * INTERVAL, (w, n));
    }
    points.into_iter().map(|(t, (w, n))| (t, w, n)).collect()
}

async fn write_log(app: &TestApp, entries: &[Entry]) {
    let mut connection = app.redis.connection().await;
    let keys = app.keys();
    for chunk in entries.chunks(500) {
        let mut pipeline = redis::pipe();
        for entry in chunk {
            let name = domain::ModelName::parse(entry.model).unwrap();
            pipeline
                .cmd("XADD")
                .arg(&keys.partition_for(&name).events)
                .arg(format!("{}-0", entry.ms))
                .arg("model")
                .arg(entry.model)
                .arg("trial")
                .arg(if entry.win { "w" } else { "l" })
                .ignore();
        }
        let () = pipeline.query_async(&mut connection).await.unwrap();
    }
}

async fn history(app: &TestApp, model: &str) -> Vec<(u64, u64, u64)> {
    let (status, body) = app
        .call("GET", &format!("/models/{model}/history"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let int = |k: &str| p[k].as_u64().unwrap();
            (int("t"), int("w"), int("n"))
        })
        .collect()
}

/// The closed points as stored: the stream's `<t>-0 w n` entries.
async fn stored_points(app: &TestApp, model: &str) -> Vec<(u64, u64, u64)> {
    let name = domain::ModelName::parse(model).unwrap();
    let mut connection = app.redis.connection().await;
    let entries: Vec<(String, Vec<(String, u64)>)> = redis::cmd("XRANGE")
        .arg(app.keys().history(&name))
        .arg("-")
        .arg("+")
        .query_async(&mut connection)
        .await
        .unwrap();
    entries
        .into_iter()
        .map(|(id, fields)| {
            let t = id.strip_suffix("-0").unwrap().parse().unwrap();
            let field = |k: &str| fields.iter().find(|(f, _)| f == k).unwrap().1;
            (t, field("w"), field("n"))
        })
        .collect()
}

async fn assert_histories(app: &TestApp, entries: &[Entry], when: &str) {
    for model in MODELS {
        let expected = reference(entries, model);
        assert!(expected.len() > 50, "a long history for {model}");
        assert_eq!(history(app, model).await, expected, "{model} {when}");
        // The newest point is the open one (in the model hash); the stream
        // holds every closed one.
        let closed = &expected[..expected.len() - 1];
        assert_eq!(stored_points(app, model).await, closed, "{model} {when}");
    }
}

/// Observations applied so far, over every partition.
async fn applied(app: &TestApp) -> u64 {
    let mut total = 0;
    for model in MODELS {
        total += app.model_counts(model).await.1;
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_the_log_s_point_for_point_through_kill_takeover_and_rebuild() {
    let mut app = TestApp::builder()
        .bayes_instances(0)
        .env("PARTITIONS", "2")
        .bayes_env("BATCH_SIZE", "5")
        .bayes_env("BATCH_MAX", "5")
        .spawn()
        .await;
    // A day of simulated log time, three years ago.
    let start = 1_700_000_000_000;
    let entries = simulated_log(start, 3_000);
    write_log(&app, &entries).await;
    let total = entries.len() as u64;

    app.start_bayes();
    let at_kill = eventually("the drain under way", SETTLE, || async {
        let done = applied(&app).await;
        (done > 0).then_some(done)
    })
    .await;
    app.bayes[0].kill();
    let after_kill = applied(&app).await;
    assert!(
        after_kill < total,
        "killed mid-drain: {at_kill}..{after_kill} of {total} applied"
    );

    // Another instance takes both partitions over and drains the rest.
    app.start_bayes();
    app.wait_until_every_partition_applied().await;
    assert_eq!(applied(&app).await, total);
    assert_histories(&app, &entries, "after kill -9 and a takeover").await;
    assert_eq!(status_points(&app), closed_points(&entries), "bayes status");

    // A rebuild from the log gives the same history.
    bayes_command(&app, "rebuild");
    app.wait_until_every_partition_applied().await;
    assert_histories(&app, &entries, "after a rebuild").await;
    assert_eq!(status_points(&app), closed_points(&entries), "bayes status");
}

fn operator_env(app: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        ("REDIS_URL", app.redis.url()),
        ("KEY_PREFIX", app.prefix.clone()),
        ("PARTITIONS", "2".to_owned()),
        ("METRICS_ADDR", format!("127.0.0.1:{}", free_port())),
    ]
}

fn bayes_command(app: &TestApp, command: &str) -> String {
    let output = std::process::Command::new(crate::harness::binary_path("bayes"))
        .arg(command)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(operator_env(app).iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run bayes");
    assert!(
        output.status.success(),
        "bayes {command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The closed points `bayes status` counts.
fn status_points(app: &TestApp) -> u64 {
    let status = bayes_command(app, "status");
    let line = status
        .lines()
        .find(|l| l.starts_with("history: "))
        .unwrap_or_else(|| panic!("a history line in {status}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Every model's points but its open one.
fn closed_points(entries: &[Entry]) -> u64 {
    MODELS
        .iter()
        .map(|m| reference(entries, m).len() as u64 - 1)
        .sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

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
