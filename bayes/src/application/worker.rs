//! Consuming one partition: read after the cursor, apply the batch in one
//! compare-and-set step, tell the observer, repeat.
//!
//! Delivery: the committed cursor is stored with the state and moved by the
//! same atomic script that counts a batch, so a crash before the script
//! changes nothing (the batch is read again from the cursor) and a crash
//! after it never reads the batch again. The next batch is read while the
//! previous one is applied (applies stay in order: at most one in flight).
//! The compare-and-set is the fence: a stale owner's apply changes nothing,
//! and this worker stops when it sees one, so the ownership loop can decide.

use super::referee::{Referee, Superseded};
use super::retry::{Backoff, Episode};
use super::{
    ApplyOutcome, Batch, ExperimentStore, LogReaders, ModelChange, ModelObserver, Op,
    PartitionStore,
};
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Why a worker stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerStop {
    /// Asked to (shutdown, or the lease moved on).
    Stopped,
    /// Another owner applied past this worker's position.
    Fenced,
}

/// What every partition worker shares.
#[derive(Clone)]
pub struct Workers {
    readers: Arc<dyn LogReaders>,
    store: Arc<dyn PartitionStore>,
    observer: Arc<dyn ModelObserver>,
    /// The experiments' store and the decisions' tick, ms (`None`: no
    /// experiments are evaluated).
    referee: Option<(Arc<dyn ExperimentStore>, u64)>,
}

impl Workers {
    /// Workers reading with `readers`, applying to `store`, telling `observer`.
    pub fn new(
        readers: Arc<dyn LogReaders>,
        store: Arc<dyn PartitionStore>,
        observer: Arc<dyn ModelObserver>,
    ) -> Self {
        Self {
            readers,
            store,
            observer,
            referee: None,
        }
    }

    /// Evaluates each partition's experiments in ticks of `tick` ms of log
    /// time, from `experiments`.
    #[must_use]
    pub fn with_referee(mut self, experiments: Arc<dyn ExperimentStore>, tick: u64) -> Self {
        self.referee = Some((experiments, tick));
        self
    }

    /// Starts consuming `partition` until `stop`.
    pub fn start(&self, partition: u32, stop: CancellationToken) -> JoinHandle<WorkerStop> {
        tokio::spawn(self.clone().run(partition, stop))
    }

    /// Consumes `partition` until `stop` or a fence. The batch in hand is
    /// finished first; nothing read is dropped unapplied except by a stop,
    /// and then it is read again from the cursor by the next owner.
    pub async fn run(self, partition: u32, stop: CancellationToken) -> WorkerStop {
        let Some(mut position) = self.open(partition, &stop).await else {
            return WorkerStop::Stopped;
        };
        let mut reader = loop {
            match self.readers.reader(partition) {
                Ok(reader) => break reader,
                Err(error) => {
                    tracing::error!(%error, partition, "cannot set up a reader; retrying");
                    if !Backoff::default().wait(&stop).await {
                        return WorkerStop::Stopped;
                    }
                }
            }
        };
        let mut referee = match &self.referee {
            Some((experiments, tick)) => {
                let mut referee = Referee::new(experiments.clone(), partition, *tick);
                let mut retrying = Retrying::new("cannot load the experiments", partition);
                loop {
                    match referee.open(&position).await {
                        Ok(()) => break retrying.recovered(),
                        Err(error) => {
                            if !retrying.failed(&error, &stop).await {
                                return WorkerStop::Stopped;
                            }
                        }
                    }
                }
                Some(referee)
            }
            None => None,
        };
        tracing::info!(partition, cursor = %position, "consuming partition");
        let mut backoff = Backoff::default();
        let mut failing = Episode::default();
        let mut applying: Option<JoinHandle<Option<ApplyOutcome>>> = None;
        let outcome = loop {
            if stop.is_cancelled() {
                break WorkerStop::Stopped;
            }
            // Not raced against `stop`: a read returns within its block time.
            let read = match reader.read(&position).await {
                Ok(read) => read,
                Err(error) => {
                    metrics::counter!("bayes_redis_errors_total", "op" => "read").increment(1);
                    failing.failed("cannot read the log", Some(partition), &error);
                    if !backoff.wait(&stop).await {
                        break WorkerStop::Stopped;
                    }
                    // A reader that keeps failing gets a connection of its
                    // own again: after a failover redis-rs's cluster
                    // connection can keep sending the loss check's
                    // transaction to the old master (`MOVED` inside a
                    // transaction refreshes no slots), and never recover.
                    if failing.failures() >= 2
                        && let Ok(fresh) = self.readers.reader(partition)
                    {
                        reader = fresh;
                    }
                    continue;
                }
            };
            failing.recovered("cannot read the log", Some(partition));
            backoff.reset();
            if let Some(stopped) = finish(applying.take(), partition).await {
                break stopped;
            }
            report_lost(read.lost, partition);
            if let Some(referee) = referee.as_mut() {
                // Before a batch of a later tick is applied, or once the
                // log's clock passed the tick while it is idle: the counts
                // stored are those at the tick's end.
                match self
                    .referee_step(referee, &read.batch, &position, partition, &stop)
                    .await
                {
                    Some(Ok(())) => {}
                    Some(Err(Superseded)) => break WorkerStop::Fenced,
                    None => break WorkerStop::Stopped,
                }
            }
            if read.batch.is_empty() {
                continue;
            }
            if let Some(referee) = referee.as_mut() {
                referee.note(&read.batch);
            }
            position.clone_from(&read.batch.last);
            applying = Some(tokio::spawn(self.clone().apply(
                partition,
                read.batch,
                stop.clone(),
            )));
        };
        finish(applying.take(), partition).await.unwrap_or(outcome)
    }

    /// The partition's committed cursor, retrying while the store is away.
    async fn open(&self, partition: u32, stop: &CancellationToken) -> Option<String> {
        let mut backoff = Backoff::default();
        let mut failing = Episode::default();
        loop {
            match self.store.open(partition).await {
                Ok(cursor) => {
                    failing.recovered("cannot open the partition", Some(partition));
                    return Some(cursor);
                }
                Err(error) => {
                    failing.failed("cannot open the partition", Some(partition), &error);
                    if !backoff.wait(stop).await {
                        return None;
                    }
                }
            }
        }
    }

    /// Applies one batch, retrying while the store fails; `None` if `stop`
    /// came first (the batch stays after the cursor, to be read again).
    async fn apply(
        self,
        partition: u32,
        batch: Batch,
        stop: CancellationToken,
    ) -> Option<ApplyOutcome> {
        for dead in &batch.dead {
            tracing::warn!(partition, id = %dead.id, reason = %dead.reason, "entry is not an event; dead-lettered");
        }
        let mut backoff = Backoff::default();
        let mut failing = Episode::default();
        loop {
            match self.store.apply(partition, &batch).await {
                Ok(applied) => {
                    failing.recovered("cannot apply a batch", Some(partition));
                    self.record(partition, &batch, &applied);
                    return Some(applied);
                }
                Err(error) => {
                    metrics::counter!("bayes_redis_errors_total", "op" => "apply").increment(1);
                    failing.failed("cannot apply a batch", Some(partition), &error);
                    if !backoff.wait(&stop).await {
                        tracing::warn!(
                            partition,
                            "stopping with a batch unapplied; it is read again from the cursor"
                        );
                        return None;
                    }
                }
            }
        }
    }

    fn record(&self, partition: u32, batch: &Batch, applied: &ApplyOutcome) {
        if let ApplyOutcome::Fenced { cursor } = applied {
            metrics::counter!("bayes_batches_fenced_total").increment(1);
            tracing::warn!(partition, batch_after = %batch.after, %cursor,
                "another owner applied past this batch; it changed nothing (fenced)");
            return;
        }
        if *applied == ApplyOutcome::Replayed {
            metrics::counter!("bayes_batches_replayed_total").increment(1);
        }
        for op in &batch.ops {
            self.observer.observe(match op {
                Op::Delete { model } => ModelChange::Deleted(model.clone()),
                other => ModelChange::Updated(other.model().to_owned()),
            });
        }
        metrics::counter!("bayes_observations_applied_total").increment(batch.observations());
        metrics::counter!("bayes_entries_applied_total").increment(batch.entries);
        metrics::counter!("bayes_entries_dead_lettered_total", "source" => "log")
            .increment(batch.dead.len() as u64);
        metrics::histogram!("bayes_batch_size").record(batch.entries as f64);
        if let Some(first) = batch.first_millis {
            metrics::histogram!("bayes_apply_lag_seconds").record(age_seconds(first));
        }
        tracing::debug!(
            partition,
            entries = batch.entries,
            observations = batch.observations(),
            "batch applied"
        );
    }
}

/// Waits for the apply in flight, if any; `Some` if the worker must stop.
async fn finish(
    applying: Option<JoinHandle<Option<ApplyOutcome>>>,
    partition: u32,
) -> Option<WorkerStop> {
    let task = applying?;
    match task.await {
        Ok(Some(ApplyOutcome::Fenced { .. })) => Some(WorkerStop::Fenced),
        Ok(Some(_)) => None,
        Ok(None) => Some(WorkerStop::Stopped),
        Err(error) if error.is_panic() => {
            // A panic in an apply is a bug: surface it to the supervisor.
            tracing::error!(partition, "an apply task panicked");
            std::panic::resume_unwind(error.into_panic())
        }
        Err(_) => Some(WorkerStop::Stopped),
    }
}

fn report_lost(lost: u64, partition: u32) {
    if lost > 0 {
        metrics::counter!("bayes_entries_lost_total").increment(lost);
        tracing::error!(
            lost,
            partition,
            "retention trimmed entries before they were applied: they are lost \
             (raise STREAM_MAXLEN or keep bayes running)"
        );
    }
}

/// Seconds since `millis` (Unix ms).
fn age_seconds(millis: u64) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    now.saturating_sub(millis) as f64 / 1000.0
}

mod between;
use between::Retrying;

#[cfg(test)]
mod tests;
