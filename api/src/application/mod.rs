//! Use cases of the api and the ports they need.

pub mod ingest;
pub mod ports;
pub mod query;

pub use ingest::{Ingest, IngestError};
pub use ports::{Appended, EventId, EventLog, ModelStore, PortError, Readiness};
pub use query::{ModelQuery, QueryError};
