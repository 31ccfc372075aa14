//! A log written with explicit ids over simulated minutes, drained in small
//! batches, then rebuilt with `bayes rebuild`: the same experiments, the
//! same statuses and the same decision events, ids included.

use super::{decisions, moves, stored};
use crate::harness::{TestApp, binary_path, free_port};
use platform::stored_experiment::Status;

const START: u64 = 1_700_000_000_000;

/// The log: two experiments defined, `ab` over a and b — b ahead for five
/// simulated minutes, then a far ahead — and `stopped`, stopped with c
/// after two minutes. One entry per model per second.
fn log() -> Vec<(String, Vec<(&'static str, String)>)> {
    let ab = r#"{"kind":"ab","variants":["a","b"],"threshold":0.002}"#;
    let stopped = r#"{"kind":"bandit","variants":["c","d"],"floor":0.1}"#;
    let mut entries = vec![
        (
            format!("{START}-0"),
            vec![
                ("experiment", "ab".into()),
                ("op", "experiment".into()),
                ("spec", ab.into()),
            ],
        ),
        (
            format!("{START}-1"),
            vec![
                ("experiment", "stopped".into()),
                ("op", "experiment".into()),
                ("spec", stopped.into()),
            ],
        ),
    ];
    let trials = |wins: usize, of: usize| "w".repeat(wins) + &"l".repeat(of - wins);
    for second in 1..600u64 {
        let ms = START + second * 1_000;
        let (a, b) = if second < 300 { (1, 3) } else { (8, 3) };
        entries.push((
            format!("{ms}-0"),
            vec![("model", "a".into()), ("trials", trials(a, 10))],
        ));
        entries.push((
            format!("{ms}-1"),
            vec![("model", "b".into()), ("trials", trials(b, 10))],
        ));
        entries.push((
            format!("{ms}-2"),
            vec![("model", "c".into()), ("trials", trials(5, 10))],
        ));
        if second == 120 {
            entries.push((
                format!("{ms}-3"),
                vec![
                    ("experiment", "stopped".into()),
                    ("op", "experiment_stop".into()),
                    ("variant", "c".into()),
                ],
            ));
        }
    }
    entries
}

fn rebuild(app: &TestApp) {
    let output = std::process::Command::new(binary_path("bayes"))
        .arg("rebuild")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("REDIS_URL", app.redis.url())
        .env("KEY_PREFIX", &app.prefix)
        .env("METRICS_ADDR", format!("127.0.0.1:{}", free_port()))
        .output()
        .expect("run bayes rebuild");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_from_the_log_announces_the_same_events() {
    let mut app = TestApp::builder()
        .bayes_instances(0)
        .bayes_env("BATCH_SIZE", "3")
        .bayes_env("BATCH_MAX", "3")
        .spawn()
        .await;
    let stream = app.keys().partitions()[0].events.clone();
    let mut connection = app.redis.connection().await;
    let entries = log();
    for chunk in entries.chunks(500) {
        let mut pipeline = redis::pipe();
        for (id, fields) in chunk {
            pipeline
                .cmd("XADD")
                .arg(&stream)
                .arg(id)
                .arg(fields)
                .ignore();
        }
        let () = pipeline.query_async(&mut connection).await.unwrap();
    }
    app.start_bayes();
    app.wait_until_every_partition_applied().await;
    // Applied is not yet settled: the last tick is evaluated once the log's
    // clock is past it (at once: it is years ago) and the log idle.
    let live =
        crate::harness::eventually("the last tick settled", crate::harness::SETTLE, || async {
            let events = decisions(&app).await;
            let ab = stored(&app, "ab").await?;
            (ab.record.decision.as_deref() == Some("a")).then_some(events)
        })
        .await;
    let moved = moves(&live);
    assert!(moved.len() >= 3, "{moved:?}");
    assert_eq!(moved[0], ("ab".into(), None, Some("b".into())), "{moved:?}");
    assert_eq!(
        moved.last().unwrap(),
        &(
            "ab".into(),
            moved.last().unwrap().1.clone(),
            Some("a".into())
        )
    );
    assert!(
        moved.contains(&("stopped".into(), None, Some("c".into()))),
        "{moved:?}"
    );
    // Every event is at a tick of log time within the simulated ten minutes.
    for (id, event) in &live {
        assert!(
            event.at > START && event.at <= START + 600_000,
            "{id} {event:?}"
        );
        assert!(id.starts_with(&event.at.to_string()), "{id} {event:?}");
    }
    let ab = stored(&app, "ab").await.unwrap();
    let st = stored(&app, "stopped").await.unwrap();
    assert_eq!(
        (ab.status(), st.status()),
        (Status::Decided, Status::Stopped)
    );

    // The rebuild, with the consumer stopped, from the log alone.
    app.bayes[0].terminate().await;
    rebuild(&app);
    assert_eq!(decisions(&app).await, live, "the same events, ids included");
    assert_eq!(stored(&app, "ab").await.unwrap(), ab);
    assert_eq!(stored(&app, "stopped").await.unwrap(), st);
}
