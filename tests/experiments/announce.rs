//! An A/B test decided once, a flip announced once more, and the same
//! through kill -9 between an apply and its announcement.

use super::{decisions, define, moves, observe, stored};
use crate::harness::{SETTLE, TestApp, eventually, metric};
use platform::partition::partition_of;
use platform::stored_experiment::Status;
use serde_json::json;

fn spec() -> serde_json::Value {
    json!({"kind": "ab", "variants": ["control", "v1"], "baseline": "control", "threshold": 0.001})
}

/// Evaluations bayes `k` made so far.
async fn evaluated(app: &TestApp, k: usize) -> f64 {
    metric(&app.bayes_metrics[k], "bayes_decisions_evaluated_total").await
}

/// Waits until bayes `k` evaluated again after `before`: whatever it was
/// going to announce by then is announced.
async fn evaluated_after(app: &TestApp, k: usize, before: f64) {
    eventually("another evaluation", SETTLE, || async {
        (evaluated(app, k).await > before).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ab_test_is_decided_once_and_a_flip_is_announced_once_more() {
    let app = TestApp::spawn().await;
    define(&app, "checkout", spec()).await;
    observe(&app, "control", 100, 1_000).await;
    observe(&app, "v1", 300, 1_000).await;
    let first = eventually("a decision", SETTLE, || async {
        let events = decisions(&app).await;
        (!events.is_empty()).then_some(events)
    })
    .await;
    let (id, event) = &first[0];
    assert_eq!(
        (event.from.as_deref(), event.to.as_deref()),
        (None, Some("v1"))
    );
    assert_eq!((event.status, event.seq), (Status::Decided, 1));
    assert_eq!(
        event.counts,
        vec![
            ("control".to_owned(), [100.0, 1_000.0]),
            ("v1".to_owned(), [300.0, 1_000.0])
        ]
    );
    assert!(event.p_best.unwrap() > 0.999 && event.expected_loss.unwrap() < 0.001);
    // Its id is the log time it was reached at: the end of a tick (1 s).
    assert!(
        id.ends_with("-0") && event.at % 1_000 == 0,
        "{id} {}",
        event.at
    );
    assert_eq!(id, &format!("{}-0", event.at));

    // More evidence that changes nothing: evaluated, not announced.
    let before = evaluated(&app, 0).await;
    observe(&app, "control", 10, 100).await;
    evaluated_after(&app, 0, before).await;
    assert_eq!(decisions(&app).await.len(), 1, "no change, no announcement");

    // The control overtakes in one entry: exactly one more.
    observe(&app, "control", 9_000, 10_000).await;
    let events = eventually("the flip", SETTLE, || async {
        let events = decisions(&app).await;
        (events.len() >= 2).then_some(events)
    })
    .await;
    let before = evaluated(&app, 0).await;
    observe(&app, "v1", 1, 10).await;
    evaluated_after(&app, 0, before).await;
    assert_eq!(decisions(&app).await.len(), 2, "{events:?}");
    let flip = &events[1].1;
    assert_eq!(
        (flip.from.as_deref(), flip.to.as_deref(), flip.seq),
        (Some("v1"), Some("control"), 2)
    );
    assert!(flip.at > event.at);
    let hash = stored(&app, "checkout").await.unwrap();
    assert_eq!(hash.status(), Status::Decided);
    assert_eq!(hash.record.decision.as_deref(), Some("control"));
    assert_eq!((hash.record.seq, hash.record.decided_at), (2, flip.at));
}

/// Two experiments over 2 partitions: `exp-k`, whose variant arm-1 lives
/// in another partition than it (its evaluation reads that partition's
/// counts), and `exp-a`, whose variants live with it.
const SPLIT: (&str, &str, &str) = ("exp-k", "arm-1", "arm-0");
const TOGETHER: (&str, &str, &str) = ("exp-a", "arm-2", "arm-4");

fn check_partitions() {
    let p = |name| partition_of(name, 2);
    assert_ne!(p(SPLIT.0), p(SPLIT.1), "pick other names");
    assert_eq!(p(SPLIT.0), p(SPLIT.2), "pick other names");
    assert_eq!(
        [p(TOGETHER.1), p(TOGETHER.2)],
        [p(TOGETHER.0); 2],
        "pick other names"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_apply_and_announcement_and_a_takeover_announce_once() {
    let mut app = TestApp::builder()
        .env("PARTITIONS", "2")
        .bayes_instances(0)
        .spawn()
        .await;
    check_partitions();
    app.start_bayes_with(&[("FAULT_INJECT", "abort-before-announce")]);
    for (name, a, b) in [SPLIT, TOGETHER] {
        let spec = json!({"kind": "ab", "variants": [a, b], "threshold": 0.001});
        define(&app, name, spec).await;
        observe(&app, a, 100, 1_000).await;
        observe(&app, b, 300, 1_000).await;
    }
    // The first instance applies the batches, then dies where it would announce.
    eventually("the first instance aborting", SETTLE, || {
        let exited = app.bayes[0].has_exited();
        async move { exited.then_some(()) }
    })
    .await;
    assert!(
        app.bayes_logs()
            .contains("aborting before the announcement")
    );
    assert!(decisions(&app).await.is_empty(), "nothing was announced");

    // A second instance takes both partitions over, applies what is left
    // and announces each decision once.
    app.start_bayes();
    let events = eventually("the announcements", SETTLE, || async {
        let events = decisions(&app).await;
        (events.len() >= 2).then_some(events)
    })
    .await;
    assert_eq!(app.model_counts(SPLIT.2).await, (300, 1_000));
    assert_eq!(app.model_counts(TOGETHER.2).await, (300, 1_000));
    let before = evaluated(&app, 1).await;
    evaluated_after(&app, 1, before).await;
    let mut moved = moves(&decisions(&app).await);
    moved.sort();
    let expected = vec![
        (TOGETHER.0.to_owned(), None, Some(TOGETHER.2.to_owned())),
        (SPLIT.0.to_owned(), None, Some(SPLIT.2.to_owned())),
    ];
    assert_eq!(moved, expected, "{events:?}");

    // Killed after announcing, a third instance evaluates again on opening
    // and finds both announced.
    app.bayes[1].kill();
    app.start_bayes();
    eventually("the third instance's first evaluation", SETTLE, || async {
        (evaluated(&app, 2).await > 0.0).then_some(())
    })
    .await;
    assert_eq!(decisions(&app).await.len(), 2);
    // And it goes on: a flip is announced once.
    let (name, a, b) = SPLIT;
    observe(&app, a, 9_000, 10_000).await;
    let events = eventually("the flip", SETTLE, || async {
        let events = decisions(&app).await;
        (events.len() >= 3).then_some(events)
    })
    .await;
    let flip = &events[2].1;
    assert_eq!(
        (
            flip.experiment.as_str(),
            flip.from.as_deref(),
            flip.to.as_deref()
        ),
        (name, Some(b), Some(a))
    );
}
