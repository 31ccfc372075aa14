//! What the use cases need from the outside world, as traits.

use async_trait::async_trait;
use domain::{ModelState, Observation};
use serde::Serialize;

/// The id the event log gave an appended observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EventId(pub String);

/// Why a port could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The store is unreachable or did not answer in time; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store answered, but with something we cannot use.
    #[error("store failed: {0}")]
    Failed(String),
}

/// The durable, append-only log of observations.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Appends one observation; returns only once it is stored.
    async fn append(&self, observation: Observation) -> Result<EventId, PortError>;

    /// Appends all observations or none; returns their ids in order.
    async fn append_all(&self, observations: &[Observation]) -> Result<Vec<EventId>, PortError>;
}

/// Read access to the model the subscriber maintains.
#[async_trait]
pub trait ModelStore: Send + Sync {
    /// The counts and definition as stored now.
    async fn load(&self) -> Result<ModelState, PortError>;
}

/// Whether the service's dependencies answer.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when the store answers.
    async fn check(&self) -> Result<(), PortError>;
}
