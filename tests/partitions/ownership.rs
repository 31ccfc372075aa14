//! Partitions owned by lease: a kill -9 of one of three instances mid-drain,
//! and two owners at once fenced by the cursor.

use super::{preload, total_applied};
use crate::harness::{SETTLE, TestApp, eventually, metric};

#[tokio::test]
async fn kill_9_of_one_of_three_instances_mid_drain_with_four_partitions_loses_and_repeats_nothing()
{
    let mut app = TestApp::builder()
        .bayes_instances(0)
        .env("PARTITIONS", "4")
        .env("BATCH_SIZE", "50")
        .spawn()
        .await;
    let models: Vec<String> = (0..24).map(|i| format!("arm-{i}")).collect();
    let (w, n) = preload(&app, &models, 1_000).await;
    for _ in 0..3 {
        app.start_bayes();
    }
    let in_flight = eventually("the drain to be under way", SETTLE, || async {
        let applied = total_applied(&app, &models).await;
        (applied > 0).then_some(n - applied)
    })
    .await;
    app.bayes[0].kill();
    assert!(in_flight > 0, "the kill landed while work was in flight");
    eprintln!("kill -9 of one of three instances with {in_flight} of {n} observations unapplied");

    let applied = eventually("every observation applied", SETTLE, || async {
        let applied = total_applied(&app, &models).await;
        assert!(
            applied <= n,
            "{applied} counted of {n}: something was counted twice"
        );
        (applied == n).then_some(applied)
    })
    .await;
    assert_eq!(applied, n);
    let mut wins = 0;
    for model in &models {
        let (mw, mn) = app.model_counts(model).await;
        assert_eq!(mn, 1_000, "{model}");
        wins += mw;
    }
    assert_eq!(wins, w);
    // The survivors share the four partitions evenly: two each.
    for index in [1, 2] {
        let owned = eventually(
            "the partitions to spread over the survivors",
            SETTLE,
            || async {
                let owned = metric(&app.bayes_metrics[index], "bayes_partitions_owned").await;
                (owned == 2.0).then_some(owned)
            },
        )
        .await;
        assert_eq!(owned, 2.0);
    }
}

#[tokio::test]
async fn a_stale_owner_s_batches_are_fenced_by_the_cursor_and_count_nothing() {
    // Two instances forced to own partition 0 at once: both read from the
    // same cursor, and the compare-and-set lets exactly one apply each batch.
    let app = TestApp::builder()
        .bayes_instances(2)
        .env("STATIC_PARTITIONS", "0")
        .env("BATCH_SIZE", "20")
        .env("READ_COALESCE_MS", "0")
        .spawn()
        .await;
    let models = vec!["default".to_owned()];
    let (w, n) = preload(&app, &models, 6_000).await;
    assert_eq!(app.wait_for_n(n).await, (w, n));
    // One entry more as the barrier: once it is counted, any batch read
    // before it was applied or fenced.
    let (bw, bn) = preload(&app, &models, 1).await;
    assert_eq!(
        app.wait_for_n(n + bn).await,
        (w + bw, n + bn),
        "nothing counted after the drain"
    );
    let mut fenced = 0.0;
    for url in &app.bayes_metrics {
        fenced += metric(url, "bayes_batches_fenced_total").await;
    }
    assert!(
        fenced > 0.0,
        "two owners of one partition raced and the cursor fenced one"
    );
    eprintln!("two owners at once: {n} applied exactly, {fenced} stale batches fenced");
}
