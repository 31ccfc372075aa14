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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::{Applied, Claimed, StreamEntry};
    use async_trait::async_trait;
    use domain::{Counts, ModelState};
    use std::collections::{BTreeSet, VecDeque};
    use std::sync::Mutex;

    /// An in-memory log with a pending list, as a consumer group keeps it.
    #[derive(Default)]
    struct Log {
        unread: VecDeque<StreamEntry>,
        pending: BTreeSet<String>,
        /// Entries delivered again, as a claim after a crash would.
        redeliver: Vec<StreamEntry>,
        counts: Counts,
        dead: Vec<String>,
        failures_left: usize,
    }

    struct Source {
        log: Arc<Mutex<Log>>,
        shutdown: CancellationToken,
    }

    #[async_trait]
    impl EventSource for Source {
        async fn prepare(&mut self) -> Result<(), PortError> {
            Ok(())
        }

        async fn read(&mut self) -> Result<ReadOutcome, PortError> {
            let mut log = self.log.lock().unwrap();
            let batch: Vec<StreamEntry> = (0..3).filter_map(|_| log.unread.pop_front()).collect();
            if batch.is_empty() {
                self.shutdown.cancel();
            }
            log.pending.extend(batch.iter().map(|e| e.id.clone()));
            Ok(ReadOutcome {
                entries: batch,
                lost: 0,
            })
        }

        async fn claim(&mut self) -> Result<Claimed, PortError> {
            let entries = std::mem::take(&mut self.log.lock().unwrap().redeliver);
            Ok(Claimed { entries, lost: 0 })
        }

        async fn leave(&mut self) -> Result<(), PortError> {
            Ok(())
        }
    }

    /// Acknowledges and counts like apply.lua: only what was pending counts.
    struct Repository(Arc<Mutex<Log>>);

    #[async_trait]
    impl ModelRepository for Repository {
        async fn define(&self, _: ModelDefinition) -> Result<Option<ModelDefinition>, PortError> {
            Ok(None)
        }

        async fn load(&self) -> Result<ModelState, PortError> {
            let counts = self.0.lock().unwrap().counts;
            Ok(ModelState {
                counts,
                definition: None,
            })
        }

        async fn apply(&self, batch: &ApplyBatch) -> Result<Applied, PortError> {
            let mut log = self.0.lock().unwrap();
            if log.failures_left > 0 {
                log.failures_left -= 1;
                return Err(PortError::Unavailable("down".into()));
            }
            let (mut w, mut n, mut dead) = (0, 0, 0);
            for id in &batch.wins {
                if log.pending.remove(id) {
                    w += 1;
                    n += 1;
                }
            }
            for id in &batch.losses {
                if log.pending.remove(id) {
                    n += 1;
                }
            }
            for entry in &batch.dead {
                if log.pending.remove(&entry.id) {
                    log.dead.push(entry.id.clone());
                    dead += 1;
                }
            }
            log.counts = log.counts.merge(Counts::new(w, n).unwrap()).unwrap();
            Ok(Applied {
                counts: log.counts,
                counted: n,
                dead,
                skipped: batch.len() as u64 - n - dead,
            })
        }
    }

    #[derive(Default)]
    struct LastSeen(Mutex<Option<Counts>>);

    impl ModelObserver for LastSeen {
        fn observe(&self, counts: Counts) {
            *self.0.lock().unwrap() = Some(counts);
        }
    }

    fn entry(i: usize, trial: &str) -> StreamEntry {
        StreamEntry {
            id: format!("1-{i}"),
            fields: vec![(b"trial".to_vec(), trial.as_bytes().to_vec())],
        }
    }

    async fn consume(log: Log) -> (Arc<Mutex<Log>>, Option<Counts>) {
        let log = Arc::new(Mutex::new(log));
        let shutdown = CancellationToken::new();
        let seen = Arc::new(LastSeen::default());
        let consumer = Consumer::new(
            Source {
                log: log.clone(),
                shutdown: shutdown.clone(),
            },
            Arc::new(Repository(log.clone())),
            seen.clone(),
            ModelDefinition::default(),
            Duration::from_secs(3600),
        );
        consumer.run(shutdown).await;
        let last = *seen.0.lock().unwrap();
        (log, last)
    }

    #[tokio::test]
    async fn every_entry_is_applied_once_and_garbage_is_set_aside() {
        let trials = ["w", "l", "w", "x", "w", "W", "l"];
        let log = Log {
            unread: trials
                .iter()
                .enumerate()
                .map(|(i, t)| entry(i, t))
                .collect(),
            ..Log::default()
        };
        let (log, seen) = consume(log).await;
        let log = log.lock().unwrap();
        assert_eq!(log.counts, Counts::new(3, 5).unwrap());
        assert_eq!(log.dead, ["1-3", "1-5"]);
        assert!(log.pending.is_empty());
        assert_eq!(seen, Some(log.counts), "the observer saw the final state");
    }

    #[tokio::test]
    async fn an_entry_delivered_twice_is_counted_once() {
        // Entry 0 was applied by another consumer before this one claimed it.
        let log = Log {
            unread: (0..4).map(|i| entry(i, "w")).collect(),
            redeliver: vec![entry(0, "w")],
            ..Log::default()
        };
        let (log, _) = consume(log).await;
        assert_eq!(log.lock().unwrap().counts, Counts::new(4, 4).unwrap());
    }

    #[tokio::test]
    async fn a_failing_store_is_retried_until_the_batch_is_applied() {
        let log = Log {
            unread: (0..6).map(|i| entry(i, "l")).collect(),
            failures_left: 3,
            ..Log::default()
        };
        let (log, _) = consume(log).await;
        let log = log.lock().unwrap();
        assert_eq!(log.counts, Counts::new(0, 6).unwrap());
        assert_eq!(log.failures_left, 0);
    }
}
