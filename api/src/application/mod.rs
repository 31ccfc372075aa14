//! Use cases of the api and the ports they need.

pub mod access;
pub mod catalog;
pub mod curve;
pub mod decide;
pub mod experiments;
pub mod history;
pub mod idempotency;
pub mod ingest;
pub mod lens;
pub mod live;
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
pub mod model_limit;
pub mod model_list;
pub mod ports;
pub mod query;
pub mod verdict;

pub use access::{Denied, Scope, Tokens, TokensError};
pub use catalog::{Catalog, DefineError, ListedModel, NamedSummary};
pub use curve::PosteriorCurve;
pub use decide::{Choice, DecideError, Decisions, ModelWarning};
pub use experiments::{Experiments, ExperimentsError};
pub use idempotency::{BadKey, Guard, IdempotencyKey};
pub use ingest::{Ingest, IngestError};
pub use live::Notice;
pub use model_limit::ModelLimit;
pub use model_list::{ModelList, ModelListError};
pub use ports::{
    Appended, Cause, ClusterHealth, EventId, EventLog, HistoryRange, MemoryHealth, ModelStore,
    PortError, Readiness, StoreHealth, StoredHistory,
};
pub use query::{ModelQuery, QueryError};
pub use verdict::{Compared, Outcome, Verdict};
