//! Reads the model hash that bayes maintains.

use super::port_error;
use crate::application::{ModelStore, PortError};
use async_trait::async_trait;
use domain::ModelState;
use platform::stored_model::{FIELDS, decode};
use redis::aio::ConnectionManager;

/// Reads `<prefix>:model` with one `HMGET`.
#[derive(Clone)]
pub struct RedisModelStore {
    connection: ConnectionManager,
    key: String,
}

impl RedisModelStore {
    /// A store reading the hash at `key`.
    pub fn new(connection: ConnectionManager, key: String) -> Self {
        Self { connection, key }
    }
}

#[async_trait]
impl ModelStore for RedisModelStore {
    async fn load(&self) -> Result<ModelState, PortError> {
        let values: [Option<String>; 4] = redis::cmd("HMGET")
            .arg(&self.key)
            .arg(&FIELDS)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        decode(values).map_err(|e| PortError::Failed(e.to_string()))
    }
}
