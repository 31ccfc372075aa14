//! What an operator asks of the service: where each partition stands
//! (`bayes status`), and rebuilding every model from the retained log
//! (`bayes rebuild`), which replays each partition's log from the start
//! through the same compare-and-set apply the consumers use.

use super::referee::Referee;
use super::{ApplyOutcome, LogReaders, PartitionStore, PortError};
use async_trait::async_trait;

/// Where one partition stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionReport {
    /// Its index.
    pub partition: u32,
    /// Its log stream's key.
    pub stream: String,
    /// The instance holding its lease, if any.
    pub owner: Option<String>,
    /// The last applied entry.
    pub cursor: String,
    /// Entries ever appended to its log.
    pub entries_added: u64,
    /// Entries applied or lost so far.
    pub read: u64,
    /// Entries retention trimmed before they were applied.
    pub lost: u64,
    /// Append time (Unix ms) of the oldest entry not applied yet.
    pub oldest_unapplied_ms: Option<u64>,
    /// Models in the partition.
    pub models: u64,
    /// Closed history points its models' streams hold.
    pub history_points: u64,
    /// On a Redis Cluster, the master serving the partition's slot.
    pub node: Option<String>,
}

impl PartitionReport {
    /// Entries appended and not applied yet.
    #[must_use]
    pub fn lag(&self) -> u64 {
        self.entries_added.saturating_sub(self.read)
    }

    /// How long the oldest unapplied entry has waited, at `now_ms`.
    #[must_use]
    pub fn lag_seconds(&self, now_ms: u64) -> f64 {
        self.oldest_unapplied_ms
            .map_or(0.0, |at| now_ms.saturating_sub(at) as f64 / 1000.0)
    }
}

/// Reading and resetting partitions, for the operator's commands.
#[async_trait]
pub trait PartitionAdmin: Send + Sync {
    /// Where `partition` stands.
    async fn report(&self, partition: u32) -> Result<PartitionReport, PortError>;

    /// Deletes the partition's models and moves its cursor back to the
    /// start of its log. Refused (with the reason) when the log is not whole.
    async fn reset(&self, partition: u32) -> Result<(), PortError>;
}

/// Replays `partition`'s log from the start into `store`, calling
/// `progress(applied, total)` as it goes; returns the entries applied.
///
/// # Errors
/// A refused reset (the log was trimmed) or a store that fails.
pub async fn rebuild(
    partition: u32,
    admin: &dyn PartitionAdmin,
    readers: &dyn LogReaders,
    store: &dyn PartitionStore,
    mut referee: Option<&mut Referee>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, PortError> {
    let total = admin.report(partition).await?.entries_added;
    admin.reset(partition).await?;
    let mut reader = readers.reader(partition)?;
    let mut position = store.open(partition).await?;
    if let Some(referee) = referee.as_deref_mut() {
        referee.open(&position).await?;
    }
    let mut applied = 0;
    progress(0, total);
    loop {
        let read = reader.read(&position).await?;
        if let Some(referee) = referee.as_deref_mut() {
            // The same ticks as the consumers evaluate: the same decisions.
            let over = referee
                .pending()
                .is_some_and(|p| read.batch.is_empty() || read.batch.tick > p);
            // Superseded: a running consumer applied past us, and its
            // referee announces what we would have (the record keeps it once).
            if over {
                let _ = referee.settle(&position).await?;
            }
        }
        if read.batch.is_empty() {
            // Caught up with what the log held; consumers take it from here.
            let report = admin.report(partition).await?;
            if report.read >= total {
                return Ok(applied);
            }
            continue;
        }
        if let Some(referee) = referee.as_deref_mut() {
            referee.note(&read.batch);
        }
        match store.apply(partition, &read.batch).await? {
            ApplyOutcome::Applied | ApplyOutcome::Replayed => {
                applied += read.batch.entries;
                position = read.batch.last;
            }
            // A running consumer applied it first: go on from where it is.
            ApplyOutcome::Fenced { cursor } => position = cursor,
        }
        progress(admin.report(partition).await?.read.min(total), total);
    }
}
