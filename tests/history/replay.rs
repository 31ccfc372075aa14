//! The history of a log drained through kill -9, a takeover and a rebuild
//! is the log's, point for point.

use super::{
    applied, assert_histories, bayes_command, closed_points, simulated_log, status_points,
    write_log,
};
use crate::harness::{SETTLE, TestApp, eventually};

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
