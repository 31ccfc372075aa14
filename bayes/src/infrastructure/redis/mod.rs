//! Redis adapters for the subscriber's ports.

mod event_source;
mod ingress;
mod reply;
mod repository;

pub use event_source::{EventSourceSettings, RedisEventSource};
pub use ingress::{RedisChannel, RedisIngressLog};
pub use repository::RedisModelRepository;

use crate::application::PortError;

/// Sorts a Redis error into "try again later" or "something is wrong".
pub(crate) fn port_error(error: &redis::RedisError) -> PortError {
    if platform::redis_conn::is_unavailable(error) {
        PortError::Unavailable(error.to_string())
    } else {
        PortError::Failed(error.to_string())
    }
}
