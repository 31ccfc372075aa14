use super::*;
use crate::application::fakes::{Changes, MemoryLog, MemoryStore};
use domain::Counts;

async fn consume(trials: &[&str], store: Arc<MemoryStore>) -> (WorkerStop, Arc<Changes>) {
    let drained = CancellationToken::new();
    let log = MemoryLog::of(trials, drained.clone());
    let changes = Arc::new(Changes::default());
    let workers = Workers::new(Arc::new(log), store, changes.clone());
    let stop = workers.run(0, drained).await;
    (stop, changes)
}

#[tokio::test]
async fn every_entry_is_applied_once_and_garbage_is_set_aside() {
    let store = Arc::new(MemoryStore::default());
    let (stop, changes) = consume(&["w", "l", "w", "x", "w", "W", "l"], store.clone()).await;
    assert_eq!(stop, WorkerStop::Stopped);
    assert_eq!(store.counts("default"), Counts::new(3, 5).unwrap());
    let state = store.state.lock().unwrap();
    assert_eq!(state.dead, ["1-4", "1-6"]);
    assert_eq!(state.cursor, "1-7");
    assert_eq!(state.applies, 3, "batches of three");
    assert!(
        changes
            .0
            .lock()
            .unwrap()
            .contains(&ModelChange::Updated("default".into()))
    );
}

#[tokio::test]
async fn a_failing_store_is_retried_until_the_batch_is_applied() {
    let store = Arc::new(MemoryStore::default());
    store.state.lock().unwrap().failures = 3;
    consume(&["l"; 6], store.clone()).await;
    assert_eq!(store.counts("default"), Counts::new(0, 6).unwrap());
    assert_eq!(store.state.lock().unwrap().failures, 0);
}

#[tokio::test]
async fn a_worker_whose_cursor_another_owner_moved_stops_fenced_and_counts_nothing() {
    let store = Arc::new(MemoryStore::default());
    let drained = CancellationToken::new();
    let log = MemoryLog::of(&["w"; 6], drained.clone());
    let workers = Workers::new(Arc::new(log), store.clone(), Arc::new(Changes::default()));
    // The worker opens at 0-0; another owner then applies the first three.
    store.state.lock().unwrap().moved_after_open = Some("1-3".into());
    let stop = workers.run(0, drained).await;
    assert_eq!(stop, WorkerStop::Fenced);
    assert_eq!(
        store.counts("default"),
        Counts::ZERO,
        "the stale batch changed nothing"
    );
}
