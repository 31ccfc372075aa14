//! What the use cases need from the outside world, as traits.

use super::Guard;
use async_trait::async_trait;
use domain::{Experiment, History, ModelDefinition, ModelName, ModelState, Observation};
use platform::stored_experiment::{DecisionEvent, StoredExperiment};
use serde::Serialize;

pub use platform::Cause;

/// The id the event log gave an appended observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EventId(pub String);

/// Why a port could not do its work. Each variant says whether a write
/// was stored: no (`Unavailable`, `OutOfMemory`, `Overloaded`, `KeyReused`),
/// yes but not confirmed (`Unconfirmed`), or unknown (`Unknown`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum PortError {
    /// The store is unreachable or refused the command; nothing was
    /// stored, and retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// The store is full (Redis at `maxmemory` under `noeviction`); nothing
    /// was stored, and retrying once memory is freed works.
    #[error("store out of memory: {0}")]
    OutOfMemory(#[source] Cause),
    /// The write was stored on the primary, but fewer replicas than asked
    /// for confirmed it in time (`REPLICAS_ACK`): it may yet be lost in a
    /// failover, and a retry without an Idempotency-Key counts it twice.
    #[error("stored, not confirmed: {0}")]
    Unconfirmed(#[source] Cause),
    /// The write was sent and no answer came (a dropped connection, a
    /// timeout): it may or may not be stored.
    #[error("outcome unknown: {0}")]
    Unknown(#[source] Cause),
    /// The store answered, but with something we cannot use.
    #[error("store failed: {0}")]
    Failed(#[source] Cause),
    /// Too much is waiting to be written; retrying after a pause may work.
    /// Nothing was stored.
    #[error("overloaded: {0}")]
    Overloaded(#[source] Cause),
    /// The request's Idempotency-Key was used for other observations of
    /// the model within the window. Nothing was stored.
    #[error("the Idempotency-Key {0:?} was used for other observations of this model")]
    KeyReused(String),
}

/// Where an appended observation landed: the log entry holding it and its
/// index among the entry's trials (a group commit holds many requests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appended {
    /// The entry's id.
    pub id: EventId,
    /// The index of the first of the request's trials in the entry.
    pub index: u64,
    /// Whether this answers a retry: the request's Idempotency-Key was
    /// recorded already, and nothing more was stored.
    #[serde(skip)]
    pub replayed: bool,
}

/// The durable, append-only log of observations, definitions and deletions.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Appends `observations` of `model`, all or none, in one log entry;
    /// returns only once it is stored. With a `guard` whose key was
    /// recorded for this model within the window, appends nothing and
    /// answers where the first request landed (or [`PortError::KeyReused`]
    /// if that request had other observations).
    async fn append(
        &self,
        model: &ModelName,
        observations: &[Observation],
        guard: Option<&Guard>,
    ) -> Result<Appended, PortError>;

    /// Appends the (re)definition of `model`; bayes applies it in log order.
    async fn define(
        &self,
        model: &ModelName,
        definition: ModelDefinition,
    ) -> Result<EventId, PortError>;

    /// Appends the deletion of `model`; bayes applies it in log order.
    async fn delete(&self, model: &ModelName) -> Result<EventId, PortError>;

    /// Appends the (re)definition of the experiment `name`, in its
    /// partition; bayes applies it in log order.
    async fn define_experiment(
        &self,
        name: &ModelName,
        experiment: &Experiment,
    ) -> Result<EventId, PortError>;

    /// Appends the stop of the experiment `name`, with `variant` chosen.
    async fn stop_experiment(
        &self,
        name: &ModelName,
        variant: &ModelName,
    ) -> Result<EventId, PortError>;

    /// Appends the deletion of the experiment `name` (its models stay).
    async fn delete_experiment(&self, name: &ModelName) -> Result<EventId, PortError>;
}

/// Read access to the models the subscriber maintains.
#[async_trait]
pub trait ModelStore: Send + Sync {
    /// `model`'s counts and definition as stored now; `None` if it does not exist.
    async fn load(&self, model: &ModelName) -> Result<Option<ModelState>, PortError>;

    /// Up to `limit` models in name order, after `after` if given.
    async fn list(
        &self,
        after: Option<&ModelName>,
        limit: usize,
    ) -> Result<Vec<(ModelName, ModelState)>, PortError>;

    /// How many models exist.
    async fn count(&self) -> Result<u64, PortError>;

    /// The store's clock, Unix ms: "now" in log time (Redis stamps the
    /// log's ids with it).
    async fn now(&self) -> Result<u64, PortError>;

    /// `model`'s history over `range`, with its state; `None` if it does
    /// not exist.
    async fn history(
        &self,
        model: &ModelName,
        range: HistoryRange,
    ) -> Result<Option<StoredHistory>, PortError>;

    /// The experiment `name` as bayes stored it; `None` if it does not
    /// exist (or bayes has not applied its definition yet).
    async fn experiment(&self, name: &ModelName) -> Result<Option<StoredExperiment>, PortError>;

    /// Up to `limit` experiments in name order, after `after` if given.
    async fn experiments(
        &self,
        after: Option<&ModelName>,
        limit: usize,
    ) -> Result<Vec<(ModelName, StoredExperiment)>, PortError>;

    /// The decisions announced for the experiment `name`, newest first, at
    /// most `limit`: each with its stream id.
    async fn decisions(
        &self,
        name: &ModelName,
        limit: usize,
    ) -> Result<Vec<(String, DecisionEvent)>, PortError>;
}

/// Which of a model's history points to read: the last at or before
/// `from` (the counts then), and those after it up to `to`, at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRange {
    /// Unix ms.
    pub from: u64,
    /// Unix ms, inclusive.
    pub to: u64,
    /// Most points after `from`.
    pub limit: usize,
}

impl HistoryRange {
    /// Every point.
    pub const ALL: Self = Self {
        from: 0,
        to: u64::MAX,
        limit: usize::MAX,
    };

    /// Only the point giving the counts at `t`.
    #[must_use]
    pub const fn at(t: u64) -> Self {
        Self {
            from: t,
            to: t,
            limit: 0,
        }
    }
}

/// A model's history as read.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredHistory {
    /// Its counts and definition now.
    pub state: ModelState,
    /// The points read (the model's newest counts last, when in range).
    pub history: History,
    /// Points after `to`'s limit were left out.
    pub more: bool,
}

/// Whether the service's dependencies answer.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// What the store says of itself when it answers; an error when it
    /// does not, or when it is a cluster that cannot serve every slot.
    async fn check(&self) -> Result<StoreHealth, PortError>;
}

/// The store's health, for `/readyz`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoreHealth {
    /// On a Redis Cluster, its state as `CLUSTER INFO` reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterHealth>,
    /// Each master's memory and eviction policy.
    pub memory: Vec<MemoryHealth>,
    /// What an operator should know (an eviction policy that may drop keys with a TTL).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A Redis master's memory, from `INFO memory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryHealth {
    /// `host:port` on a cluster; empty on one endpoint.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// Bytes in use.
    pub used_bytes: u64,
    /// `maxmemory`; 0: no limit.
    pub max_bytes: u64,
    /// `maxmemory-policy`.
    pub policy: String,
}

/// A Redis Cluster's state, from `CLUSTER INFO`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterHealth {
    /// `ok`, or `fail` while some slot is unserved.
    pub state: String,
    /// Slots served by a reachable master (16,384 when whole).
    pub slots_ok: u32,
    /// Masters serving slots.
    pub masters: u32,
    /// Nodes known, masters and replicas.
    pub known_nodes: u32,
}
