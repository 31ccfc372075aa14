use super::*;
use crate::application::fakes::MemoryStore;
use crate::application::{Batch, Op};

#[derive(Default)]
struct RecordingSink(Mutex<Vec<(String, Option<Counts>)>>);

impl PlotSink for RecordingSink {
    fn draw(&self, model: &str, plot: &PlotData) -> Result<(), PortError> {
        self.0
            .lock()
            .unwrap()
            .push((model.to_owned(), Some(plot.counts)));
        Ok(())
    }

    fn remove(&self, model: &str) -> Result<(), PortError> {
        self.0.lock().unwrap().push((model.to_owned(), None));
        Ok(())
    }
}

async fn add(store: &MemoryStore, model: &str, wins: u64, trials: u64) {
    let after = store.open(0).await.unwrap();
    let batch = Batch {
        last: format!(
            "{}-0",
            crate::application::batch::id_millis(&after).unwrap_or(0) + 1
        ),
        after,
        entries: 1,
        ops: vec![Op::Add {
            model: model.into(),
            wins,
            trials,
            at: 0,
        }],
        ..Batch::default()
    };
    store.apply(0, &batch).await.unwrap();
}

/// Waits up to 10 s for `what` to hold of the drawings.
async fn until(
    sink: &RecordingSink,
    what: &str,
    check: impl Fn(&[(String, Option<Counts>)]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check(&sink.0.lock().unwrap()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_burst_is_drawn_a_few_times_and_the_final_state_always() {
    let (sink, store) = (
        Arc::new(RecordingSink::default()),
        Arc::new(MemoryStore::default()),
    );
    let (render, changed) = RenderLoop::new(
        sink.clone(),
        store.clone(),
        domain::DefaultDefinitions::default(),
        Duration::from_millis(50),
        4,
    );
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(render.run(shutdown.clone()));
    for _ in 0..10_000 {
        add(&store, "default", 1, 2).await;
        changed.observe(ModelChange::Updated("default".into()));
    }
    let last = Counts::new(10_000, 20_000).unwrap();
    until(&sink, "the final state", |d| {
        d.last() == Some(&("default".into(), Some(last)))
    })
    .await;
    shutdown.cancel();
    task.await.unwrap();
    let drawn = sink.0.lock().unwrap().len();
    assert!(drawn < 40, "{drawn} drawings for one burst");
}

#[tokio::test]
async fn many_models_are_drawn_at_the_bounded_rate_and_deleted_ones_removed() {
    let (sink, store) = (
        Arc::new(RecordingSink::default()),
        Arc::new(MemoryStore::default()),
    );
    for i in 0..50 {
        add(&store, &format!("m{i}"), 1, 1).await;
    }
    let (render, changed) = RenderLoop::new(
        sink.clone(),
        store.clone(),
        domain::DefaultDefinitions::default(),
        Duration::from_millis(100),
        10,
    );
    for i in 0..50 {
        changed.observe(ModelChange::Updated(format!("m{i}")));
    }
    changed.observe(ModelChange::Deleted("gone".into()));
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(render.run(shutdown.clone()));
    until(&sink, "every model drawn", |d| d.len() == 52).await;
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "52 drawings at 10 per 100 ms take 5 rounds"
    );
    shutdown.cancel();
    task.await.unwrap();
    let drawn = sink.0.lock().unwrap();
    assert_eq!(
        drawn[0],
        ("default".into(), Some(Counts::ZERO)),
        "default first, its prior"
    );
    assert!(drawn.contains(&("gone".into(), None)));
}

#[tokio::test]
async fn a_large_backlog_does_not_hold_the_shutdown() {
    let (sink, store) = (
        Arc::new(RecordingSink::default()),
        Arc::new(MemoryStore::default()),
    );
    let (render, changed) = RenderLoop::new(
        sink.clone(),
        store,
        domain::DefaultDefinitions::default(),
        Duration::from_secs(3600),
        10,
    );
    for i in 0..100_000 {
        changed.observe(ModelChange::Updated(format!("m{i}")));
    }
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), render.run(shutdown))
        .await
        .expect("the renderer stops with 100,000 models waiting");
    let drawn = sink.0.lock().unwrap().len();
    assert!(drawn <= 20, "one bounded round at most: {drawn} drawn");
}
