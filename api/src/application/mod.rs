//! Use cases of the api and the ports they need.

pub mod access;
pub mod catalog;
pub mod decide;
pub mod ingest;
pub mod memory;
pub mod ports;
pub mod query;

pub use access::{Denied, Scope, Tokens, TokensError};
pub use catalog::{Catalog, DefineError, ListedModel, NamedSummary, PosteriorCurve};
pub use decide::{Compared, DecideError, Decisions, Verdict};
pub use ingest::{Ingest, IngestError};
pub use ports::{Appended, EventId, EventLog, ModelStore, PortError, Readiness};
pub use query::{ModelQuery, QueryError};
