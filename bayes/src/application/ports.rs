//! What the subscriber's use cases need from the outside world, as traits.

use super::Batch;
use async_trait::async_trait;
use domain::{History, ModelState, Observation};

pub use platform::Cause;

/// Why a port could not do its work.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PortError {
    /// The store is unreachable or did not answer in time; retrying may work.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// The store answered with an error or something we cannot use.
    #[error("store failed: {0}")]
    Failed(#[source] Cause),
}

/// One read of a partition's log.
#[derive(Debug, Default)]
pub struct Read {
    /// The entries after the position read from, decoded (empty: none yet).
    pub batch: Batch,
    /// Entries retention trimmed before they were applied (now recorded).
    pub lost: u64,
}

/// A partition's log, read by position on a connection of its own (a
/// blocking read would stall anything sharing it).
#[async_trait]
pub trait PartitionLog: Send {
    /// The entries after `after`; waits a bounded time when there are none
    /// and then returns an empty batch.
    async fn read(&mut self, after: &str) -> Result<Read, PortError>;
}

/// Opens readers of partitions, each with its own connection.
pub trait LogReaders: Send + Sync {
    /// A reader of partition `partition`.
    ///
    /// # Errors
    /// [`PortError`] if no connection can be set up.
    fn reader(&self, partition: u32) -> Result<Box<dyn PartitionLog>, PortError>;
}

/// What applying a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Applied now: the cursor moved to the batch's end.
    Applied,
    /// This applier had already applied exactly this batch: a request
    /// resent after a lost reply. Nothing changed; success.
    Replayed,
    /// The cursor was elsewhere: another owner applied past the batch's
    /// start. Nothing changed; this instance must re-read from `cursor`.
    Fenced {
        /// The stored cursor.
        cursor: String,
    },
}

/// The partitions' state in the store: cursors and models.
#[async_trait]
pub trait PartitionStore: Send + Sync {
    /// Prepares the partition for cursor delivery (taking over a v1
    /// consumer group exactly once) and returns its committed cursor.
    async fn open(&self, partition: u32) -> Result<String, PortError>;

    /// Applies `batch` in one atomic step if the partition's cursor is
    /// `batch.after`: counts, definitions, deletions, dead letters, cursor.
    async fn apply(&self, partition: u32, batch: &Batch) -> Result<ApplyOutcome, PortError>;

    /// A model's stored state, `None` if it does not exist.
    async fn load(&self, model: &str) -> Result<Option<ModelState>, PortError>;

    /// A model's stored state and its newest history points, at most
    /// `points` of them (a bounded read, for drawing), oldest first and
    /// ending with the open point, the state's counts; empty when the model
    /// has no history. `None` if the model does not exist.
    async fn load_with_history(
        &self,
        model: &str,
        points: usize,
    ) -> Result<Option<(ModelState, History)>, PortError>;
}

/// Who owns which partition: instances register as alive and lease
/// partitions for a time to live.
#[async_trait]
pub trait Leases: Send + Sync {
    /// Registers this instance as alive; the live instances, sorted.
    async fn heartbeat(&self) -> Result<Vec<String>, PortError>;

    /// Takes partition `partition`'s lease if free, renews it if ours; `true` if ours.
    async fn acquire(&self, partition: u32) -> Result<bool, PortError>;

    /// Gives the lease up, if ours.
    async fn release(&self, partition: u32) -> Result<(), PortError>;

    /// Deregisters this instance.
    async fn leave(&self) -> Result<(), PortError>;
}

/// A model whose state changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelChange {
    /// Counts or definition changed.
    Updated(String),
    /// Deleted.
    Deleted(String),
}

/// Told about every applied change (the plot renderer listens).
pub trait ModelObserver: Send + Sync {
    /// `change` was applied. Must return at once.
    fn observe(&self, change: ModelChange);
}

/// What forwarding channel messages did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// Appended to the event log.
    Appended,
    /// Appended to the dead-letter stream.
    DeadLettered,
    /// Not done: another instance holds the forwarding lease.
    NotLeader,
}

/// The log as the pub/sub forwarder writes to it: only while holding the
/// forwarding lease, so that one PUBLISH is forwarded by one instance.
#[async_trait]
pub trait ForwardLog: Send + Sync {
    /// Takes the lease if it is free, renews it if it is ours; `true` if ours.
    async fn acquire(&self) -> Result<bool, PortError>;

    /// Appends the observations of each model to its partition's log, if
    /// the lease is still ours (checked atomically with each append).
    async fn forward(
        &self,
        observations: &[(String, Vec<Observation>)],
    ) -> Result<Forwarded, PortError>;

    /// Dead-letters a bad message, if the lease is still ours.
    async fn dead_letter(&self, reason: &str, raw: &str) -> Result<Forwarded, PortError>;

    /// Gives the lease up, if it is ours.
    async fn release(&self) -> Result<(), PortError>;
}

/// A message from the legacy channels: its channel name and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMessage {
    /// `update_model` or `update_model:<name>`.
    pub channel: String,
    /// The payload.
    pub payload: Vec<u8>,
}

/// A subscription to the legacy pub/sub channels.
#[async_trait]
pub trait ChannelMessages: Send {
    /// (Re)connects and subscribes.
    async fn subscribe(&mut self) -> Result<(), PortError>;

    /// The next message; `None` when the connection is gone.
    async fn next(&mut self) -> Option<ChannelMessage>;

    /// A message already received, if there is one, without waiting.
    fn ready(&mut self) -> Option<ChannelMessage>;

    /// Stops receiving messages (drops the subscription).
    async fn unsubscribe(&mut self);
}

/// What the referee needs: the experiments homed in a partition, their
/// variants' evidence at a moment of log time, and the announcement of a
/// change of decision.
#[async_trait]
pub trait ExperimentStore: Send + Sync {
    /// Every experiment homed in `partition`, as stored.
    async fn experiments(
        &self,
        partition: u32,
    ) -> Result<Vec<(String, platform::stored_experiment::StoredExperiment)>, PortError>;

    /// The partition a model of this name lives in.
    fn partition_of(&self, name: &str) -> u32;

    /// Redis's clock, Unix ms: the log's time now (entries appended from
    /// now on have ids at or after it).
    async fn now(&self) -> Result<u64, PortError>;

    /// For each experiment, its variants' definitions and evidence at log
    /// time `at` under its lens, in [`domain::Experiment::order`].
    async fn evidence(
        &self,
        experiments: &[&domain::Experiment],
        at: u64,
    ) -> Result<Vec<Vec<(domain::ModelDefinition, domain::Evidence)>>, PortError>;

    /// Records and appends `event` if the partition's cursor is still
    /// `cursor` and the experiment's record still at `seq`.
    async fn announce(
        &self,
        partition: u32,
        cursor: &str,
        seq: u64,
        event: &platform::stored_experiment::DecisionEvent,
    ) -> Result<platform::scripts::announce::AnnounceReply, PortError>;
}
