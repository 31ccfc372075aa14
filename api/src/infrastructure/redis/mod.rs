//! Redis adapters for the api's ports, on one shared multiplexed connection.
//!
//! Reads clone the same `RedisConnection`, so concurrent requests'
//! commands are written back to back on one socket and their replies read in
//! order: pipelining without a lock or a connection per request. Writes go
//! through the group-commit writers, one per partition.

mod experiment_store;
mod group_commit;
mod model_store;
pub mod notices;
mod readiness;

pub use group_commit::{GroupCommitLog, WriteSettings};
pub use model_store::RedisModelStore;
pub use readiness::RedisReadiness;

use crate::application::{Cause, PortError};

/// Sorts a failed read: Redis is out of memory, or away (503). A read
/// stores nothing, so whatever Redis said it is "try again later", never a
/// 500.
pub(crate) fn port_error(error: redis::RedisError) -> PortError {
    if platform::failure::is_out_of_memory(&error) {
        metrics::counter!("api_redis_oom_total").increment(1);
        PortError::OutOfMemory(Cause::new(error))
    } else {
        PortError::Unavailable(Cause::new(error))
    }
}

/// Sorts a failed write by what became of it: not run (nothing stored),
/// refused for want of memory, or unknown (sent, no answer).
pub(crate) fn write_error(error: redis::RedisError, cluster: bool) -> PortError {
    use platform::failure::{Outcome, outcome};
    match outcome(&error, cluster) {
        Outcome::NotRun => PortError::Unavailable(Cause::new(error)),
        Outcome::OutOfMemory => port_error(error),
        Outcome::Unknown => {
            metrics::counter!("api_write_outcome_unknown_total").increment(1);
            PortError::Unknown(Cause::new(error))
        }
    }
}
