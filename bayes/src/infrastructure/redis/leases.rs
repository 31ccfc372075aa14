//! Partition ownership in Redis: a registry of live instances and a lease
//! per partition, both with a time to live.

use super::{claim_lease, port_error, release_lease};
use crate::application::{Leases, PortError};
use platform::RedisConnection;
use platform::RedisKeys;
use platform::scripts::HEARTBEAT;
use std::time::Duration;

/// The leases of `instance`, held for `ttl` per renewal.
pub struct RedisLeases {
    connection: RedisConnection,
    keys: RedisKeys,
    instance: String,
    ttl: Duration,
}

impl RedisLeases {
    /// Leases for `instance` on the shared connection.
    pub fn new(
        connection: RedisConnection,
        keys: RedisKeys,
        instance: String,
        ttl: Duration,
    ) -> Self {
        Self {
            connection,
            keys,
            instance,
            ttl,
        }
    }

    fn owner_key(&self, partition: u32) -> Result<&str, PortError> {
        self.keys
            .partition(partition)
            .map(|keys| keys.owner.as_str())
            .ok_or_else(|| PortError::Failed(format!("no partition {partition}").into()))
    }
}

#[async_trait::async_trait]
impl Leases for RedisLeases {
    async fn heartbeat(&self) -> Result<Vec<String>, PortError> {
        let mut connection = self.connection.clone();
        let mut invocation = HEARTBEAT.prepare_invoke();
        invocation
            .key(&self.keys.instances)
            .arg(&self.instance)
            .arg(self.ttl.as_millis() as u64);
        invocation
            .invoke_async::<u64>(&mut connection)
            .await
            .map_err(port_error)?;
        let mut alive: Vec<String> = redis::cmd("ZRANGE")
            .arg(&self.keys.instances)
            .arg(0)
            .arg(-1)
            .query_async(&mut connection)
            .await
            .map_err(port_error)?;
        // By name: every instance must see the same order to agree on shares.
        alive.sort();
        Ok(alive)
    }

    async fn acquire(&self, partition: u32) -> Result<bool, PortError> {
        let owner = self.owner_key(partition)?;
        claim_lease(&self.connection, owner, &self.instance, self.ttl).await
    }

    async fn release(&self, partition: u32) -> Result<(), PortError> {
        let owner = self.owner_key(partition)?;
        release_lease(&self.connection, owner, &self.instance).await
    }

    async fn leave(&self) -> Result<(), PortError> {
        redis::cmd("ZREM")
            .arg(&self.keys.instances)
            .arg(&self.instance)
            .query_async::<i64>(&mut self.connection.clone())
            .await
            .map(drop)
            .map_err(port_error)
    }
}
