//! What the subscriber's use cases need from the outside world, as traits.

use super::{ApplyBatch, StreamEntry};
use async_trait::async_trait;
use domain::{Counts, ModelDefinition, ModelState, Observation};

/// Why a port could not do its work.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PortError {
    /// The store is unreachable or did not answer in time; retrying may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store answered with an error or something we cannot use.
    #[error("store failed: {0}")]
    Failed(String),
}

/// Entries handed to this consumer, and how many the log lost before any
/// consumer could read them (trimmed by retention while bayes lagged).
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Entries to apply, oldest first.
    pub entries: Vec<StreamEntry>,
    /// Entries trimmed away unread (or trimmed while pending).
    pub lost: u64,
}

/// What a claim of stale pending entries returned.
pub type Claimed = ReadOutcome;

/// The event log, read through a consumer group.
#[async_trait]
pub trait EventSource: Send {
    /// Creates the consumer group at the start of the log if it is missing.
    /// Never deletes anything.
    async fn prepare(&mut self) -> Result<(), PortError>;

    /// The next entries for this consumer; waits a bounded time when there
    /// are none and then returns an empty outcome.
    async fn read(&mut self) -> Result<ReadOutcome, PortError>;

    /// Takes over entries another consumer left pending for too long. Called
    /// repeatedly until it returns no entries.
    async fn claim(&mut self) -> Result<Claimed, PortError>;

    /// Removes this consumer from the group if it holds no pending entries.
    async fn leave(&mut self) -> Result<(), PortError>;
}

/// The result of applying a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The counts after the batch.
    pub counts: Counts,
    /// Observations newly counted.
    pub counted: u64,
    /// Entries newly dead-lettered.
    pub dead: u64,
    /// Entries someone else had already applied (acknowledged before us).
    pub skipped: u64,
}

/// The model's state in the store.
#[async_trait]
pub trait ModelRepository: Send + Sync {
    /// Stores the model definition; returns the one stored before, if any.
    async fn define(
        &self,
        definition: ModelDefinition,
    ) -> Result<Option<ModelDefinition>, PortError>;

    /// The stored counts and definition.
    async fn load(&self) -> Result<ModelState, PortError>;

    /// In one atomic step: acknowledges every entry of the batch and adds to
    /// the counts (or dead-letters) exactly those whose acknowledgement
    /// succeeded. Applying the same batch twice counts it once.
    async fn apply(&self, batch: &ApplyBatch) -> Result<Applied, PortError>;
}

/// Told about every new state of the counts (the plot renderer listens).
pub trait ModelObserver: Send + Sync {
    /// The counts changed to `counts`. Must return at once.
    fn observe(&self, counts: Counts);
}

/// What forwarding a channel message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// Appended to the event log.
    Appended,
    /// Appended to the dead-letter stream.
    DeadLettered,
    /// Not done: another instance holds the forwarding lease.
    NotLeader,
}

/// The log as the pub/sub ingress writes to it: only while holding the
/// forwarding lease, so that one PUBLISH is forwarded by one instance.
#[async_trait]
pub trait IngressLog: Send + Sync {
    /// Takes the lease if it is free, renews it if it is ours; `true` if ours.
    async fn acquire(&self) -> Result<bool, PortError>;

    /// Appends the observations, if the lease is still ours (checked atomically).
    async fn forward(&self, observations: &[Observation]) -> Result<Forwarded, PortError>;

    /// Dead-letters a bad message, if the lease is still ours.
    async fn dead_letter(&self, reason: &str, raw: &str) -> Result<Forwarded, PortError>;

    /// Gives the lease up, if it is ours.
    async fn release(&self) -> Result<(), PortError>;
}

/// A subscription to the legacy pub/sub channel.
#[async_trait]
pub trait ChannelMessages: Send {
    /// (Re)connects and subscribes.
    async fn subscribe(&mut self) -> Result<(), PortError>;

    /// The next message's payload; `None` when the connection is gone.
    async fn next(&mut self) -> Option<Vec<u8>>;

    /// A message already received, if there is one, without waiting.
    fn ready(&mut self) -> Option<Vec<u8>>;

    /// Stops receiving messages (drops the subscription).
    async fn unsubscribe(&mut self);
}
