//! Redis adapters for the subscriber's ports.

mod admin;
mod forwarder;
mod leases;
mod log_reader;
mod model_cache;
mod raw;
mod reply;
mod store;

pub use admin::RedisPartitionAdmin;
pub use forwarder::{RedisChannel, RedisForwardLog};
pub use leases::RedisLeases;
pub use log_reader::{ReadSettings, RedisLogReaders};
pub use store::RedisPartitionStore;

use crate::application::{Cause, PortError};

/// Sorts a Redis error into "try again later" (Redis away, failing over or
/// out of memory: counted in `bayes_redis_oom_total`) or "something is wrong".
pub(crate) fn port_error(error: redis::RedisError) -> PortError {
    if platform::failure::is_out_of_memory(&error) {
        metrics::counter!("bayes_redis_oom_total").increment(1);
    }
    if platform::failure::is_transient(&error) {
        PortError::Unavailable(Cause::new(error))
    } else {
        PortError::Failed(Cause::new(error))
    }
}

/// Takes `lease` for `holder` if free, renews it if theirs (`ttl`); whether
/// it is theirs now. Partition ownership and the pub/sub forwarder's lease
/// and fences are all such leases.
pub(crate) async fn claim_lease(
    connection: &platform::RedisConnection,
    lease: &str,
    holder: &str,
    ttl: std::time::Duration,
) -> Result<bool, PortError> {
    let mut invocation = platform::scripts::LEASE_ACQUIRE.prepare_invoke();
    invocation
        .key(lease)
        .arg(holder)
        .arg(ttl.as_millis() as u64);
    let ours: i64 = invocation
        .invoke_async(&mut connection.clone())
        .await
        .map_err(port_error)?;
    Ok(ours == 1)
}

/// Gives `lease` up if `holder` has it.
pub(crate) async fn release_lease(
    connection: &platform::RedisConnection,
    lease: &str,
    holder: &str,
) -> Result<(), PortError> {
    let mut invocation = platform::scripts::LEASE_RELEASE.prepare_invoke();
    invocation.key(lease).arg(holder);
    invocation
        .invoke_async::<i64>(&mut connection.clone())
        .await
        .map(drop)
        .map_err(port_error)
}
