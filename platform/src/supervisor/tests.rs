//! The supervisor with tasks that panic, return, fail and stop slowly.

use super::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A task that, once `stop` is cancelled, takes a while to finish and then
/// says so in `stopped`: only a supervisor that awaits it sees the flag set.
fn slow_to_stop(name: &str, stop: &CancellationToken, stopped: &Arc<AtomicBool>) -> Task {
    let (stop, stopped) = (stop.clone(), stopped.clone());
    Task::new(name, async move {
        stop.cancelled().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        stopped.store(true, Ordering::SeqCst);
        Ok(())
    })
}

fn panicking(name: &str) -> Task {
    Task::new(name, async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        panic!("the port broke");
    })
}

#[tokio::test]
async fn a_panicking_task_stops_the_rest_with_an_error_naming_it_after_awaiting_them() {
    let stop = CancellationToken::new();
    let stopped = Arc::new(AtomicBool::new(false));
    let tasks = vec![
        slow_to_stop("renderer", &stop, &stopped),
        panicking("consumer"),
    ];
    let mut early = None;
    let error = supervise(
        vec![Stage {
            stop: stop.clone(),
            tasks,
        }],
        std::future::pending(),
        |name| {
            early = Some(name.to_owned());
        },
    )
    .await
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("task consumer ended before shutdown: it panicked: the port broke"),
        "{message}"
    );
    assert_eq!(early.as_deref(), Some("consumer"), "told before stopping");
    assert!(stop.is_cancelled(), "the other task was cancelled");
    assert!(stopped.load(Ordering::SeqCst), "and awaited");
}

#[tokio::test]
async fn a_task_that_returns_before_shutdown_is_an_error_too() {
    let stop = CancellationToken::new();
    let stopped = Arc::new(AtomicBool::new(false));
    let tasks = vec![
        Task::new("writer-0", async { Ok(()) }),
        slow_to_stop("writer-1", &stop, &stopped),
    ];
    let error = supervise(vec![Stage { stop, tasks }], std::future::pending(), |_| {})
        .await
        .unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        "task writer-0 ended before shutdown: it returned"
    );
    assert!(stopped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn at_shutdown_every_task_is_stopped_and_awaited_stage_by_stage() {
    let (first, second) = (CancellationToken::new(), CancellationToken::new());
    let order = Arc::new(Mutex::new(Vec::new()));
    let task = |name: &'static str, stop: &CancellationToken, pause: u64| {
        let (stop, order) = (stop.clone(), order.clone());
        Task::new(name, async move {
            stop.cancelled().await;
            tokio::time::sleep(Duration::from_millis(pause)).await;
            order.lock().unwrap().push(name);
            Ok(())
        })
    };
    let stages = vec![
        Stage {
            stop: first.clone(),
            tasks: vec![task("server", &first, 50), task("check", &first, 20)],
        },
        Stage {
            stop: second.clone(),
            tasks: vec![task("writer", &second, 0)],
        },
    ];
    let mut early = false;
    supervise(stages, async {}, |_| early = true).await.unwrap();
    assert!(!early);
    assert_eq!(
        *order.lock().unwrap(),
        ["check", "server", "writer"],
        "the second stage stops only once the first has ended"
    );
}

#[tokio::test]
async fn a_finite_task_may_finish_but_not_fail() {
    let stop = CancellationToken::new();
    let stopped = Arc::new(AtomicBool::new(false));
    let tasks = vec![
        Task::new("check", async { Ok(()) }).finite(),
        slow_to_stop("server", &stop, &stopped),
    ];
    let shutdown = tokio::time::sleep(Duration::from_millis(50));
    supervise(vec![Stage { stop, tasks }], shutdown, |_| {})
        .await
        .expect("a finished finite task stops nothing");
    assert!(stopped.load(Ordering::SeqCst));

    let stop = CancellationToken::new();
    let tasks = vec![
        Task::new("check", async { anyhow::bail!("PARTITIONS=4 but 1") }).finite(),
        slow_to_stop("server", &stop, &stopped),
    ];
    let error = supervise(vec![Stage { stop, tasks }], std::future::pending(), |_| {})
        .await
        .unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        "task check ended before shutdown: PARTITIONS=4 but 1"
    );
}

#[tokio::test]
async fn a_cancellable_task_is_dropped_at_stop_and_a_failure_while_stopping_is_named() {
    let stop = CancellationToken::new();
    let token = stop.clone();
    let tasks = vec![
        Task::cancellable("notices", stop.clone(), std::future::pending()),
        Task::new("writer", async move {
            token.cancelled().await;
            anyhow::bail!("could not flush")
        }),
    ];
    let error = supervise(vec![Stage { stop, tasks }], async {}, |_| {})
        .await
        .unwrap_err();
    assert_eq!(format!("{error:#}"), "task writer failed: could not flush");
}

#[tokio::test]
async fn dropping_the_supervisor_aborts_its_tasks() {
    let alive = Arc::new(());
    let held = alive.clone();
    let tasks = vec![Task::new("forever", async move {
        let _held = held;
        std::future::pending().await
    })];
    let stages = vec![Stage {
        stop: CancellationToken::new(),
        tasks,
    }];
    let supervising = supervise(stages, std::future::pending(), |_| {});
    let _ = tokio::time::timeout(Duration::from_millis(20), supervising).await;
    tokio::task::yield_now().await;
    assert_eq!(Arc::strong_count(&alive), 1, "nothing was left detached");
}
