//! Use cases of the api and the ports they need.

pub mod access;
pub mod catalog;
pub mod decide;
pub mod idempotency;
pub mod ingest;
pub mod memory;
pub mod ports;
pub mod query;

pub use access::{Denied, Scope, Tokens, TokensError};
pub use catalog::{Catalog, DefineError, ListedModel, NamedSummary, PosteriorCurve};
pub use decide::{Compared, DecideError, Decisions, Verdict};
pub use idempotency::{BadKey, Guard, IdempotencyKey};
pub use ingest::{Ingest, IngestError};
pub use ports::{
    Appended, ClusterHealth, EventId, EventLog, ModelStore, PortError, Readiness, StoreHealth,
};
pub use query::{ModelQuery, QueryError};
