//! What the use cases need from the outside world, as traits.

use async_trait::async_trait;
use domain::{ModelDefinition, ModelName, ModelState, Observation};
use serde::Serialize;

/// The id the event log gave an appended observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EventId(pub String);

/// Why a port could not do its work.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PortError {
    /// The store is unreachable or did not answer in time; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store answered, but with something we cannot use.
    #[error("store failed: {0}")]
    Failed(String),
    /// Too much is waiting to be written; retrying after a pause may work.
    /// Nothing was stored.
    #[error("overloaded: {0}")]
    Overloaded(String),
}

/// Where an appended observation landed: the log entry holding it and its
/// index among the entry's trials (a group commit holds many requests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appended {
    /// The entry's id.
    pub id: EventId,
    /// The index of the first of the request's trials in the entry.
    pub index: u64,
}

/// The durable, append-only log of observations, definitions and deletions.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Appends `observations` of `model`, all or none, in one log entry;
    /// returns only once it is stored.
    async fn append(
        &self,
        model: &ModelName,
        observations: &[Observation],
    ) -> Result<Appended, PortError>;

    /// Appends the (re)definition of `model`; bayes applies it in log order.
    async fn define(
        &self,
        model: &ModelName,
        definition: ModelDefinition,
    ) -> Result<EventId, PortError>;

    /// Appends the deletion of `model`; bayes applies it in log order.
    async fn delete(&self, model: &ModelName) -> Result<EventId, PortError>;
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
}

/// Whether the service's dependencies answer.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when the store answers.
    async fn check(&self) -> Result<(), PortError>;
}
