//! The consumer loop: read a batch from the log, apply it exactly once in
//! effect, tell the observer, repeat; take over what dead consumers left.
//!
//! Delivery: an entry handed to this consumer stays pending in the group
//! until the apply step acknowledges it, in the same atomic step that counts
//! it. A crash before that step leaves it pending, and some consumer claims
//! it once it has been idle long enough; a crash after it cannot count it
//! again, because only entries whose acknowledgement succeeds are counted.

use super::retry::Backoff;
use super::{ApplyBatch, EventSource, ModelObserver, ModelRepository, PortError, ReadOutcome};
use domain::ModelDefinition;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Most claim calls in one round, so that claiming never starves reading.
const MAX_CLAIMS_PER_ROUND: usize = 64;

/// Consumes the event log into the model.
pub struct Consumer<S> {
    source: S,
    applier: Applier,
    definition: ModelDefinition,
    claim_every: Duration,
}

/// Applies deliveries; cheap to clone, so an apply can run while the next
/// batch is read.
#[derive(Clone)]
struct Applier {
    repository: Arc<dyn ModelRepository>,
    observer: Arc<dyn ModelObserver>,
}

impl<S: EventSource> Consumer<S> {
    /// A consumer of `source` into `repository` under `definition`, claiming
    /// stale entries every `claim_every`.
    pub fn new(
        source: S,
        repository: Arc<dyn ModelRepository>,
        observer: Arc<dyn ModelObserver>,
        definition: ModelDefinition,
        claim_every: Duration,
    ) -> Self {
        Self {
            source,
            applier: Applier {
                repository,
                observer,
            },
            definition,
            claim_every,
        }
    }

    /// Runs until `shutdown`. The batch in hand is finished first; nothing
    /// read is ever dropped (an unapplied batch stays pending in Redis).
    pub async fn run(mut self, shutdown: CancellationToken) {
        if !self.start(&shutdown).await {
            return;
        }
        let mut next_claim = Instant::now();
        let mut backoff = Backoff::default();
        // At most one apply runs while the next batch is read: Redis and
        // this process work at the same time, and applies stay in order.
        let mut applying: Option<JoinHandle<()>> = None;
        while !shutdown.is_cancelled() {
            if Instant::now() >= next_claim {
                finish(applying.take()).await;
                self.claim_stale(&shutdown).await;
                next_claim = Instant::now() + self.claim_every;
            }
            // Not raced against shutdown: a read returns within its block
            // time, and cancelling it could strand entries Redis delivered.
            match self.source.read().await {
                Ok(outcome) => {
                    backoff.reset();
                    finish(applying.take()).await;
                    if !outcome.entries.is_empty() || outcome.lost > 0 {
                        applying = Some(tokio::spawn(
                            self.applier.clone().apply(outcome, shutdown.clone()),
                        ));
                    }
                }
                Err(error) => {
                    metrics::counter!("bayes_redis_errors_total", "op" => "read").increment(1);
                    tracing::warn!(%error, "cannot read the event log; retrying");
                    if !backoff.wait(&shutdown).await {
                        break;
                    }
                }
            }
        }
        finish(applying.take()).await;
        if let Err(error) = self.source.leave().await {
            tracing::debug!(%error, "could not leave the consumer group");
        }
        tracing::info!("consumer stopped");
    }

    /// Creates the group, stores the definition and loads the state,
    /// retrying while the store is away. `false` if shutdown came first.
    async fn start(&mut self, shutdown: &CancellationToken) -> bool {
        let mut backoff = Backoff::default();
        loop {
            match self.try_start().await {
                Ok(()) => return true,
                Err(error) => {
                    tracing::warn!(%error, "cannot start consuming; retrying");
                    if !backoff.wait(shutdown).await {
                        return false;
                    }
                }
            }
        }
    }

    async fn try_start(&mut self) -> Result<(), PortError> {
        self.source.prepare().await?;
        let previous = self.applier.repository.define(self.definition).await?;
        if let Some(previous) = previous.filter(|p| *p != self.definition) {
            tracing::info!(
                previous_prior = %previous.prior,
                previous_grid_points = previous.grid.points(),
                prior = %self.definition.prior,
                grid_points = self.definition.grid.points(),
                "model definition changed; the counts are kept and reinterpreted"
            );
        }
        let state = self.applier.repository.load().await?;
        tracing::info!(w = state.counts.w(), n = state.counts.n(), "model loaded");
        self.applier.observer.observe(state.counts);
        Ok(())
    }

    /// Claims and applies entries that dead consumers left pending.
    async fn claim_stale(&mut self, shutdown: &CancellationToken) {
        for _ in 0..MAX_CLAIMS_PER_ROUND {
            match self.source.claim().await {
                Ok(claimed) if claimed.entries.is_empty() && claimed.lost == 0 => return,
                Ok(claimed) => {
                    metrics::counter!("bayes_entries_claimed_total")
                        .increment(claimed.entries.len() as u64);
                    tracing::info!(
                        entries = claimed.entries.len(),
                        "claimed entries left pending by another consumer"
                    );
                    self.applier.clone().apply(claimed, shutdown.clone()).await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot claim stale entries");
                    return;
                }
            }
        }
    }
}

impl Applier {
    /// Applies one delivery, retrying while the store is away.
    async fn apply(self, outcome: ReadOutcome, shutdown: CancellationToken) {
        if outcome.lost > 0 {
            metrics::counter!("bayes_entries_lost_total").increment(outcome.lost);
            tracing::error!(
                lost = outcome.lost,
                "the event log trimmed entries before any consumer applied them: they are lost \
                 (raise STREAM_MAXLEN or keep bayes running)"
            );
        }
        if outcome.entries.is_empty() {
            return;
        }
        let ages = entry_ages(&outcome.entries);
        let batch = ApplyBatch::decode(outcome.entries);
        for dead in &batch.dead {
            tracing::warn!(id = %dead.id, reason = %dead.reason, "entry is not an observation; dead-lettered");
        }
        let mut backoff = Backoff::default();
        loop {
            match self.repository.apply(&batch).await {
                Ok(applied) => {
                    self.observer.observe(applied.counts);
                    record_applied(&applied, batch.len(), &ages);
                    tracing::debug!(
                        counted = applied.counted,
                        dead = applied.dead,
                        skipped = applied.skipped,
                        w = applied.counts.w(),
                        n = applied.counts.n(),
                        "batch applied"
                    );
                    return;
                }
                Err(error) => {
                    metrics::counter!("bayes_redis_errors_total", "op" => "apply").increment(1);
                    tracing::warn!(%error, entries = batch.len(), "cannot apply batch; retrying");
                    if !backoff.wait(&shutdown).await {
                        tracing::warn!(
                            "stopping with a batch unapplied; its entries stay pending and will be claimed"
                        );
                        return;
                    }
                }
            }
        }
    }
}

/// Waits for an apply in flight, if any.
async fn finish(applying: Option<JoinHandle<()>>) {
    if let Some(task) = applying
        && let Err(error) = task.await
    {
        tracing::error!(%error, "an apply task failed");
    }
}

/// Seconds since each entry was appended (its id carries the append time).
fn entry_ages(entries: &[super::StreamEntry]) -> Vec<f64> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    entries
        .iter()
        .filter_map(|entry| super::batch::id_millis(&entry.id))
        .map(|appended| now_ms.saturating_sub(appended) as f64 / 1000.0)
        .collect()
}

fn record_applied(applied: &super::Applied, batch_len: usize, ages: &[f64]) {
    metrics::counter!("bayes_observations_applied_total").increment(applied.counted);
    metrics::counter!("bayes_entries_dead_lettered_total", "source" => "log")
        .increment(applied.dead);
    metrics::counter!("bayes_entries_skipped_total").increment(applied.skipped);
    metrics::histogram!("bayes_batch_size").record(batch_len as f64);
    metrics::gauge!("bayes_model_n").set(applied.counts.n() as f64);
    let lag = metrics::histogram!("bayes_apply_lag_seconds");
    for age in ages {
        lag.record(*age);
    }
}
