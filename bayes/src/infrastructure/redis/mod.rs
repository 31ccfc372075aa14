//! Redis adapters for the subscriber's ports.

mod admin;
mod ingress;
mod leases;
mod log_reader;
mod raw;
mod reply;
mod store;

pub use admin::RedisPartitionAdmin;
pub use ingress::{RedisChannel, RedisIngressLog};
pub use leases::RedisLeases;
pub use log_reader::{ReadSettings, RedisLogReaders};
pub use store::RedisPartitionStore;

use crate::application::PortError;

/// Sorts a Redis error into "try again later" or "something is wrong".
pub(crate) fn port_error(error: &redis::RedisError) -> PortError {
    if platform::redis_conn::is_unavailable(error) {
        PortError::Unavailable(error.to_string())
    } else {
        PortError::Failed(error.to_string())
    }
}
