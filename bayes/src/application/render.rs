//! Drawing models off the event path. The consumer only marks a model as
//! changed (a set insert: never blocks on drawing); this loop draws the
//! marked models' latest state, at most `per_round` each `interval`, on a
//! blocking thread, `default` first. A burst for one model is drawn a few
//! times; 100,000 changed models are drawn at a bounded rate; the final
//! state of each is always drawn.

use super::plot::PlotData;
use super::{Cause, ModelChange, ModelObserver, PartitionStore, PortError};
use domain::{Counts, DefaultDefinitions, History, ModelDefinition};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Most history points read per drawing (the newest); the panel resamples
/// them to a few hundred.
pub const HISTORY_READ: usize = 1_000;

/// Least time the last rendering round at shutdown may take.
const SHUTDOWN_ROUND: Duration = Duration::from_secs(1);

/// Draws plots and stores them (PNG files, in production).
pub trait PlotSink: Send + Sync + 'static {
    /// Draws `plot` of `model` and stores it. Called on a blocking thread.
    ///
    /// # Errors
    /// [`PortError`] if it could not be drawn or stored.
    fn draw(&self, model: &str, plot: &PlotData) -> Result<(), PortError>;

    /// Removes `model`'s plots. Called on a blocking thread.
    ///
    /// # Errors
    /// [`PortError`] if they could not be removed.
    fn remove(&self, model: &str) -> Result<(), PortError>;
}

/// The consumer's side: the set of models changed since they were drawn.
#[derive(Default)]
pub struct Changed {
    models: Mutex<BTreeSet<String>>,
    wake: Notify,
}

impl ModelObserver for Changed {
    fn observe(&self, change: ModelChange) {
        let (ModelChange::Updated(model) | ModelChange::Deleted(model)) = change;
        let inserted = self
            .models
            .lock()
            .is_ok_and(|mut models| models.insert(model));
        if inserted {
            self.wake.notify_one();
        }
    }
}

impl Changed {
    /// Up to `count` changed models, `default` first, removed from the set.
    fn take(&self, count: usize) -> Vec<String> {
        let Ok(mut models) = self.models.lock() else {
            return Vec::new();
        };
        let mut taken = Vec::with_capacity(count.min(models.len()));
        if let Some(default) = models.take("default") {
            taken.push(default);
        }
        while taken.len() < count {
            let Some(model) = models.pop_first() else {
                break;
            };
            taken.push(model);
        }
        taken
    }
}

/// Renders changed models, coalescing bursts.
pub struct RenderLoop {
    sink: Arc<dyn PlotSink>,
    store: Arc<dyn PartitionStore>,
    defaults: DefaultDefinitions,
    interval: Duration,
    per_round: usize,
    changed: Arc<Changed>,
}

impl RenderLoop {
    /// A loop drawing with `sink` at most `per_round` models per `interval`,
    /// loading their state from `store` (`defaults` for a model not stored
    /// yet), and the observer that feeds it. `default` is drawn at start.
    pub fn new(
        sink: Arc<dyn PlotSink>,
        store: Arc<dyn PartitionStore>,
        defaults: DefaultDefinitions,
        interval: Duration,
        per_round: usize,
    ) -> (Self, Arc<Changed>) {
        let changed = Arc::new(Changed::default());
        changed.observe(ModelChange::Updated("default".to_owned()));
        let render = Self {
            sink,
            store,
            defaults,
            interval,
            per_round: per_round.max(1),
            changed: changed.clone(),
        };
        (render, changed)
    }

    /// Runs until `shutdown`; then one more round of what changed since.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let models = self.changed.take(self.per_round);
            if models.is_empty() {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = self.changed.wake.notified() => continue,
                }
            }
            let started = Instant::now();
            for model in models {
                self.draw(model).await;
            }
            let pause = self.interval.saturating_sub(started.elapsed());
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        // One more round, bounded in count and time: a backlog of 100,000
        // models (or Redis gone) must not hold the shutdown.
        let last_round = async {
            for model in self.changed.take(self.per_round) {
                self.draw(model).await;
            }
        };
        if tokio::time::timeout(self.interval.max(SHUTDOWN_ROUND), last_round)
            .await
            .is_err()
        {
            tracing::warn!("the last rendering round was cut short by the shutdown");
        }
        tracing::info!("renderer stopped");
    }

    async fn draw(&self, model: String) {
        let loaded = match self.store.load_with_history(&model, HISTORY_READ).await {
            Ok(loaded) => loaded,
            Err(error) => {
                // Drawn again with its next change; the counts are safe in Redis.
                tracing::warn!(%error, %model, "cannot load the model to draw it");
                metrics::counter!("bayes_render_errors_total").increment(1);
                return;
            }
        };
        let (definition, counts, history) = match loaded {
            Some((state, history)) => (state.definition, state.counts, history),
            None if model == "default" => (None, Counts::ZERO, no_history()),
            None => {
                self.run_blocking(&model, None).await;
                return;
            }
        };
        let definition = definition.unwrap_or_else(|| self.defaults.of_name(&model));
        self.run_blocking(&model, Some((definition, counts, history)))
            .await;
    }

    /// Draws (or, with `None`, removes) `model`'s plots on a blocking thread.
    async fn run_blocking(&self, model: &str, state: Option<(ModelDefinition, Counts, History)>) {
        let (sink, name) = (self.sink.clone(), model.to_owned());
        let started = Instant::now();
        // Computing and encoding a plot is CPU work: keep it off the runtime's threads.
        let done = tokio::task::spawn_blocking(move || match state {
            Some((definition, counts, history)) => {
                let plot = PlotData::new(definition, counts)
                    .map_err(|e| PortError::Failed(Cause::new(e)))?
                    .named(&name)
                    .with_history(definition, &history);
                sink.draw(&name, &plot)
            }
            None => sink.remove(&name),
        })
        .await;
        match done {
            Ok(Ok(())) => {
                metrics::counter!("bayes_renders_total").increment(1);
                metrics::histogram!("bayes_render_seconds").record(started.elapsed().as_secs_f64());
                tracing::debug!(%model, "plot drawn");
            }
            Ok(Err(error)) => {
                metrics::counter!("bayes_render_errors_total").increment(1);
                tracing::error!(%error, %model, "cannot draw the plot");
            }
            Err(error) => {
                metrics::counter!("bayes_render_errors_total").increment(1);
                tracing::error!(%error, %model, "the plot task failed");
            }
        }
    }
}

/// The history of a model not stored yet.
fn no_history() -> History {
    History::new(Vec::new(), 0).expect("no points are in order")
}

#[cfg(test)]
mod tests;
