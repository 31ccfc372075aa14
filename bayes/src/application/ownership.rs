//! Which partitions this instance consumes. With leases: instances register
//! as alive, each takes its even share of the partitions (`PARTITIONS /
//! alive`, the remainder to the first in name order) and renews their
//! leases; an instance that dies stops renewing, so within a lease period
//! its partitions are free and the others take them. Ownership is an
//! optimisation, not the guarantee: the cursor compare-and-set fences a
//! stale owner. Static: a fixed list, no leases (an operator's choice).

use super::retry::{Backoff, Episode};
use super::{Leases, WorkerStop, Workers};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How partitions are assigned to this instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// By lease, renewed every `renew_every` (a third of the TTL).
    Leased {
        /// How often leases are renewed and shares recomputed.
        renew_every: Duration,
    },
    /// Always these partitions, without leases.
    Static(Vec<u32>),
}

/// Consumes this instance's partitions until shutdown.
pub struct Ownership {
    leases: Arc<dyn Leases>,
    workers: Workers,
    partitions: u32,
    instance: String,
    owned: BTreeMap<u32, Running>,
}

struct Running {
    stop: CancellationToken,
    task: JoinHandle<WorkerStop>,
}

/// A worker task panicked: a bug, which stops the process.
#[derive(Debug, thiserror::Error)]
#[error("the worker of partition {partition} panicked: {message}")]
pub struct WorkerPanicked {
    partition: u32,
    message: String,
}

impl Ownership {
    /// Ownership of `partitions` partitions for `instance`.
    pub fn new(
        leases: Arc<dyn Leases>,
        workers: Workers,
        partitions: u32,
        instance: String,
    ) -> Self {
        Self {
            leases,
            workers,
            partitions,
            instance,
            owned: BTreeMap::new(),
        }
    }

    /// Runs until `shutdown`, then stops every worker (each finishes its
    /// batch in hand) and gives the leases up.
    ///
    /// # Errors
    /// [`WorkerPanicked`] if a worker panicked.
    pub async fn run(
        mut self,
        assignment: Assignment,
        shutdown: CancellationToken,
    ) -> Result<(), WorkerPanicked> {
        let leased = matches!(assignment, Assignment::Leased { .. });
        let result = match assignment {
            Assignment::Static(partitions) => self.run_static(&partitions, &shutdown).await,
            Assignment::Leased { renew_every } => self.run_leased(renew_every, &shutdown).await,
        };
        let stopping: Vec<u32> = self.owned.keys().copied().collect();
        for partition in stopping {
            self.stop(partition).await?;
            // Handed over at once instead of after a lease period.
            if leased && let Err(error) = self.leases.release(partition).await {
                tracing::debug!(%error, partition, "could not release; the lease expires by itself");
            }
        }
        if let Err(error) = self.leases.leave().await {
            tracing::debug!(%error, "could not deregister; the registration expires by itself");
        }
        tracing::info!("consumer stopped");
        result
    }

    async fn run_static(
        &mut self,
        partitions: &[u32],
        shutdown: &CancellationToken,
    ) -> Result<(), WorkerPanicked> {
        for &partition in partitions {
            self.start(partition);
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(Duration::from_millis(200)) => self.restart_fenced(true).await?,
            }
        }
    }

    async fn run_leased(
        &mut self,
        renew_every: Duration,
        shutdown: &CancellationToken,
    ) -> Result<(), WorkerPanicked> {
        let mut tick = tokio::time::interval(renew_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut backoff = Backoff::new(renew_every / 4, renew_every);
        let mut failing = Episode::default();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            self.restart_fenced(false).await?;
            match self.rebalance().await {
                Ok(()) => {
                    failing.recovered("cannot renew partition leases", None);
                    backoff.reset();
                }
                Err(error) => {
                    failing.failed("cannot renew partition leases", None, &error);
                    backoff.wait(shutdown).await;
                }
            }
        }
    }

    /// Renews what is ours, gives up what is over our share, takes free
    /// partitions up to it.
    async fn rebalance(&mut self) -> Result<(), super::PortError> {
        let alive = self.leases.heartbeat().await?;
        let share = share(self.partitions, &alive, &self.instance);
        let owned: Vec<u32> = self.owned.keys().copied().collect();
        for partition in owned {
            if !self.leases.acquire(partition).await? {
                tracing::warn!(partition, "lost the partition's lease; stopping its worker");
                self.stop(partition)
                    .await
                    .map_err(|e| super::PortError::Failed(super::Cause::new(e)))?;
            }
        }
        while self.owned.len() > share {
            let Some(&partition) = self.owned.keys().next_back() else {
                break;
            };
            self.stop(partition)
                .await
                .map_err(|e| super::PortError::Failed(super::Cause::new(e)))?;
            self.leases.release(partition).await?;
            tracing::info!(partition, share, "gave the partition up to even the load");
        }
        let rank = alive
            .iter()
            .position(|name| *name == self.instance)
            .unwrap_or(0) as u32;
        for offset in 0..self.partitions {
            if self.owned.len() >= share {
                break;
            }
            // Each instance starts looking at a different place, so they rarely race.
            let partition =
                (rank * self.partitions / alive.len().max(1) as u32 + offset) % self.partitions;
            if !self.owned.contains_key(&partition) && self.leases.acquire(partition).await? {
                self.start(partition);
            }
        }
        metrics::gauge!("bayes_partitions_owned").set(self.owned.len() as f64);
        Ok(())
    }

    fn start(&mut self, partition: u32) {
        let stop = CancellationToken::new();
        let task = self.workers.start(partition, stop.clone());
        self.owned.insert(partition, Running { stop, task });
    }

    async fn stop(&mut self, partition: u32) -> Result<WorkerStop, WorkerPanicked> {
        let Some(running) = self.owned.remove(&partition) else {
            return Ok(WorkerStop::Stopped);
        };
        running.stop.cancel();
        joined(partition, running.task.await)
    }

    /// Workers that ended by themselves were fenced: with leases, the
    /// partition is let go (the next rebalance may take it back); static
    /// ones start again from the stored cursor.
    async fn restart_fenced(&mut self, restart: bool) -> Result<(), WorkerPanicked> {
        let ended: Vec<u32> = self
            .owned
            .iter()
            .filter(|(_, r)| r.task.is_finished())
            .map(|(p, _)| *p)
            .collect();
        for partition in ended {
            self.stop(partition).await?;
            if restart {
                self.start(partition);
            } else if let Err(error) = self.leases.release(partition).await {
                tracing::debug!(%error, partition, "could not release a fenced partition");
            }
        }
        Ok(())
    }
}

fn joined(
    partition: u32,
    result: Result<WorkerStop, tokio::task::JoinError>,
) -> Result<WorkerStop, WorkerPanicked> {
    result.map_err(|error| WorkerPanicked {
        partition,
        message: panic_message(error),
    })
}

/// What a failed task said, for the log line that names it.
pub fn panic_message(error: tokio::task::JoinError) -> String {
    if !error.is_panic() {
        return error.to_string();
    }
    let payload = error.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// This instance's even share of `partitions` among the `alive` (sorted):
/// `partitions / alive`, one more for the first `partitions % alive`.
#[must_use]
pub fn share(partitions: u32, alive: &[String], instance: &str) -> usize {
    let count = alive.len().max(1) as u32;
    let rank = alive
        .iter()
        .position(|name| name == instance)
        .unwrap_or(alive.len()) as u32;
    (partitions / count + u32::from(rank < partitions % count)) as usize
}

#[cfg(test)]
mod tests;
