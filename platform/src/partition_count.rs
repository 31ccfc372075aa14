//! The partition count is fixed per deployment: it decides which partition
//! each model lives in, so starting with another value would silently move
//! models away from their counts. The first start records it in Redis;
//! later starts compare and refuse a different value.

use crate::RedisKeys;
use redis::AsyncCommands;
use redis::aio::ConnectionLike;

/// Why a start is refused.
#[derive(Debug, thiserror::Error)]
pub enum PartitionCountError {
    /// Redis holds another count for this prefix.
    #[error(
        "PARTITIONS={configured}, but the deployment under KEY_PREFIX {prefix} was created with \
         PARTITIONS={stored}; the count is fixed per deployment (another value would map models to \
         other partitions): start with PARTITIONS={stored}, or use a new KEY_PREFIX"
    )]
    Mismatch {
        /// The prefix.
        prefix: String,
        /// What Redis holds.
        stored: String,
        /// What this process was started with.
        configured: u32,
    },
    /// Redis did not answer.
    #[error("cannot check the partition count: {0}")]
    Redis(#[from] redis::RedisError),
}

/// Records the configured partition count, or checks it against the one
/// recorded. A deployment from before partitions (a `<prefix>:events`
/// stream and no recorded count) has one partition.
///
/// # Errors
/// [`PartitionCountError::Mismatch`] naming both values.
pub async fn ensure<C: ConnectionLike + Send + Sync>(
    connection: &mut C,
    keys: &RedisKeys,
) -> Result<(), PartitionCountError> {
    let configured = keys.partition_count();
    let mismatch = |stored: String| PartitionCountError::Mismatch {
        prefix: keys.prefix().to_owned(),
        stored,
        configured,
    };
    let mut stored: Option<String> = connection.get(&keys.partition_count).await?;
    if stored.is_none() {
        let v1_log = format!("{}:events", keys.prefix());
        let v1: bool = configured != 1 && connection.exists(&v1_log).await?;
        if v1 {
            return Err(mismatch(
                "1 (a v1 layout: one log at ".to_owned() + &v1_log + ")",
            ));
        }
        let set: bool = connection.set_nx(&keys.partition_count, configured).await?;
        if !set {
            stored = connection.get(&keys.partition_count).await?;
        }
    }
    match stored {
        Some(stored) if stored != configured.to_string() => Err(mismatch(stored)),
        _ => Ok(()),
    }
}
