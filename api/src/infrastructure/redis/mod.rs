//! Redis adapters for the api's ports, on one shared multiplexed connection.
//!
//! Reads clone the same `RedisConnection`, so concurrent requests'
//! commands are written back to back on one socket and their replies read in
//! order: pipelining without a lock or a connection per request. Writes go
//! through the group-commit writers, one per partition.

mod group_commit;
mod model_store;
pub mod notices;

pub use group_commit::{GroupCommitLog, WriteSettings};
pub use model_store::RedisModelStore;

use crate::application::PortError;

/// Sorts a Redis error into "try again later" (503) or "something is wrong" (500).
pub(crate) fn port_error(error: &redis::RedisError) -> PortError {
    if platform::redis_conn::is_unavailable(error) {
        PortError::Unavailable(error.to_string())
    } else {
        PortError::Failed(error.to_string())
    }
}
