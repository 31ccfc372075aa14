//! Drawing the model off the event path: the consumer only replaces the
//! latest counts in a watch channel (never blocks, never allocates); this
//! loop draws the latest state at most once per interval, on a blocking
//! thread, and always draws the final state once the stream goes quiet.

use super::plot::PlotData;
use super::{ModelObserver, PortError};
use domain::{Counts, ModelDefinition};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Draws plots and stores them (PNG files, in production).
pub trait PlotSink: Send + Sync + 'static {
    /// Draws `plot` and stores it. Called on a blocking thread.
    ///
    /// # Errors
    /// [`PortError`] if it could not be drawn or stored.
    fn draw(&self, plot: &PlotData) -> Result<(), PortError>;
}

/// The consumer's side of the channel: holds the latest counts.
pub struct LatestCounts(watch::Sender<Option<Counts>>);

impl ModelObserver for LatestCounts {
    fn observe(&self, counts: Counts) {
        self.0.send_if_modified(|latest| {
            let changed = *latest != Some(counts);
            *latest = Some(counts);
            changed
        });
    }
}

/// Renders the latest counts, coalescing bursts.
pub struct RenderLoop {
    sink: Arc<dyn PlotSink>,
    definition: ModelDefinition,
    interval: Duration,
    latest: watch::Receiver<Option<Counts>>,
}

impl RenderLoop {
    /// A loop drawing with `sink` at most once per `interval`, and the
    /// observer that feeds it.
    pub fn new(
        sink: Arc<dyn PlotSink>,
        definition: ModelDefinition,
        interval: Duration,
    ) -> (Self, LatestCounts) {
        let (sender, latest) = watch::channel(None);
        let render = Self {
            sink,
            definition,
            interval,
            latest,
        };
        (render, LatestCounts(sender))
    }

    /// Runs until `shutdown`; draws the latest state once more if it changed
    /// since the last drawing.
    pub async fn run(mut self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                changed = self.latest.changed() => if changed.is_err() { break },
            }
            let started = Instant::now();
            self.draw_latest().await;
            let pause = self.interval.saturating_sub(started.elapsed());
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        if self.latest.has_changed().unwrap_or(false) {
            self.draw_latest().await;
        }
        tracing::info!("renderer stopped");
    }

    async fn draw_latest(&mut self) {
        let Some(counts) = *self.latest.borrow_and_update() else {
            return;
        };
        let (sink, definition) = (self.sink.clone(), self.definition);
        let started = Instant::now();
        // Computing and encoding a plot is CPU work: keep it off the runtime's threads.
        let drawn = tokio::task::spawn_blocking(move || {
            let plot =
                PlotData::new(definition, counts).map_err(|e| PortError::Failed(e.to_string()))?;
            sink.draw(&plot)
        })
        .await;
        let seconds = started.elapsed().as_secs_f64();
        match drawn {
            Ok(Ok(())) => {
                metrics::counter!("bayes_renders_total").increment(1);
                metrics::histogram!("bayes_render_seconds").record(seconds);
                tracing::debug!(w = counts.w(), n = counts.n(), seconds, "plot drawn");
            }
            Ok(Err(error)) => {
                metrics::counter!("bayes_render_errors_total").increment(1);
                tracing::error!(%error, "cannot draw the plot");
            }
            Err(error) => {
                metrics::counter!("bayes_render_errors_total").increment(1);
                tracing::error!(%error, "the plot task failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct RecordingSink(Mutex<Vec<Counts>>);

    impl PlotSink for RecordingSink {
        fn draw(&self, plot: &PlotData) -> Result<(), PortError> {
            self.0.lock().unwrap().push(plot.counts);
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_burst_is_drawn_a_few_times_and_the_final_state_always() {
        let sink = Arc::new(RecordingSink::default());
        let (render, observer) = RenderLoop::new(
            sink.clone(),
            ModelDefinition::default(),
            Duration::from_millis(50),
        );
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(render.run(shutdown.clone()));

        for n in 1..=100_000u64 {
            observer.observe(Counts::new(n / 2, n).unwrap());
            if n % 10_000 == 0 {
                tokio::task::yield_now().await;
            }
        }
        let last = Counts::new(50_000, 100_000).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while sink.0.lock().unwrap().last() != Some(&last) {
            assert!(Instant::now() < deadline, "the final state was never drawn");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        shutdown.cancel();
        task.await.unwrap();

        let drawn = sink.0.lock().unwrap();
        assert!(drawn.len() < 20, "{} drawings for one burst", drawn.len());
    }

    #[tokio::test]
    async fn the_latest_state_is_drawn_at_shutdown() {
        let sink = Arc::new(RecordingSink::default());
        let (render, observer) = RenderLoop::new(
            sink.clone(),
            ModelDefinition::default(),
            Duration::from_secs(3600),
        );
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(render.run(shutdown.clone()));
        observer.observe(Counts::new(1, 1).unwrap());
        while sink.0.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        observer.observe(Counts::new(1, 2).unwrap());
        shutdown.cancel();
        task.await.unwrap();
        assert_eq!(
            sink.0.lock().unwrap().last(),
            Some(&Counts::new(1, 2).unwrap())
        );
    }
}
