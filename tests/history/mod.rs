//! History in log time on the real binaries: a log written with explicit
//! ids over simulated hours gives, point for point, the history computed
//! here from the raw entries — after a drain interrupted by kill -9, a
//! second instance taking the partitions over, and `bayes rebuild`; windows
//! and half-lives against a reference from the raw log; bad ranges 400.

mod lenses;
mod refusals;
mod replay;

use crate::harness::{TestApp, free_port};
use std::collections::BTreeMap;

pub(super) const INTERVAL: u64 = 60_000;
pub(super) const MODELS: [&str; 3] = ["alpha", "beta", "gamma"];

/// One observation of the simulated log.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub ms: u64,
    pub model: &'static str,
    pub win: bool,
}

/// `count` entries from `start`, 2 to 60 s apart (so some intervals are
/// empty), over the three models with rates 20%, 50%, 80%: deterministic.
pub(super) fn simulated_log(start: u64, count: usize) -> Vec<Entry> {
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
pub(super) fn reference(entries: &[Entry], model: &str) -> Vec<(u64, u64, u64)> {
    let mut points: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let (mut w, mut n) = (0, 0);
    for entry in entries.iter().filter(|e| e.model == model) {
        n += 1;
        w += u64::from(entry.win);
        points.insert((entry.ms / INTERVAL + 1) * INTERVAL, (w, n));
    }
    points.into_iter().map(|(t, (w, n))| (t, w, n)).collect()
}

pub(super) async fn write_log(app: &TestApp, entries: &[Entry]) {
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

pub(super) async fn history(app: &TestApp, model: &str) -> Vec<(u64, u64, u64)> {
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
pub(super) async fn stored_points(app: &TestApp, model: &str) -> Vec<(u64, u64, u64)> {
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

pub(super) async fn assert_histories(app: &TestApp, entries: &[Entry], when: &str) {
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
pub(super) async fn applied(app: &TestApp) -> u64 {
    let mut total = 0;
    for model in MODELS {
        total += app.model_counts(model).await.1;
    }
    total
}

pub(super) fn operator_env(app: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        ("REDIS_URL", app.redis.url()),
        ("KEY_PREFIX", app.prefix.clone()),
        ("PARTITIONS", "2".to_owned()),
        ("METRICS_ADDR", format!("127.0.0.1:{}", free_port())),
    ]
}

pub(super) fn bayes_command(app: &TestApp, command: &str) -> String {
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
pub(super) fn status_points(app: &TestApp) -> u64 {
    let status = bayes_command(app, "status");
    let line = status
        .lines()
        .find(|l| l.starts_with("history: "))
        .unwrap_or_else(|| panic!("a history line in {status}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Every model's points but its open one.
pub(super) fn closed_points(entries: &[Entry]) -> u64 {
    MODELS
        .iter()
        .map(|m| reference(entries, m).len() as u64 - 1)
        .sum()
}

pub(super) fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}
