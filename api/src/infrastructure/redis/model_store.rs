//! Reads the model hashes that bayes maintains, and answers readiness.

use super::port_error;
use crate::application::{ModelStore, PortError, Readiness};
use async_trait::async_trait;
use domain::{ModelName, ModelState};
use platform::RedisKeys;
use platform::stored_model::{FIELDS, decode};
use redis::aio::ConnectionManager;

/// Reads `<model hash>` with one `HMGET`.
#[derive(Clone)]
pub struct RedisModelStore {
    connection: ConnectionManager,
    keys: RedisKeys,
}

impl RedisModelStore {
    /// A store reading the model hashes under `keys`.
    pub fn new(connection: ConnectionManager, keys: RedisKeys) -> Self {
        Self { connection, keys }
    }
}

#[async_trait]
impl ModelStore for RedisModelStore {
    async fn load(&self, model: &ModelName) -> Result<ModelState, PortError> {
        let values: [Option<String>; 4] = redis::cmd("HMGET")
            .arg(self.keys.model(model))
            .arg(&FIELDS)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        decode(values).map_err(|e| PortError::Failed(e.to_string()))
    }
}

#[async_trait]
impl Readiness for RedisModelStore {
    async fn check(&self) -> Result<(), PortError> {
        redis::cmd("PING")
            .query_async::<()>(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))
    }
}
