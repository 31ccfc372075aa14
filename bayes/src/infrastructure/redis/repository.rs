//! The model hash: the definition, the counts, and the atomic apply step.

use super::port_error;
use crate::application::{Applied, ApplyBatch, ModelRepository, PortError};
use async_trait::async_trait;
use domain::{Counts, ModelDefinition, ModelState};
use platform::RedisKeys;
use platform::keys::CONSUMER_GROUP;
use platform::stored_model::{FIELD_GRID_POINTS, FIELD_PRIOR, FIELDS, decode};
use redis::Script;
use redis::aio::ConnectionManager;

/// The model in `<prefix>:model`, applied to by `apply.lua`.
pub struct RedisModelRepository {
    connection: ConnectionManager,
    keys: RedisKeys,
    dead_maxlen: u64,
    apply_script: Script,
}

impl RedisModelRepository {
    /// A repository on the shared connection; the dead-letter stream is
    /// trimmed to about `dead_maxlen` entries.
    pub fn new(connection: ConnectionManager, keys: RedisKeys, dead_maxlen: u64) -> Self {
        Self {
            connection,
            keys,
            dead_maxlen: dead_maxlen.max(1),
            apply_script: Script::new(include_str!("scripts/apply.lua")),
        }
    }
}

#[async_trait]
impl ModelRepository for RedisModelRepository {
    async fn define(
        &self,
        definition: ModelDefinition,
    ) -> Result<Option<ModelDefinition>, PortError> {
        let previous = self.load().await?.definition;
        redis::cmd("HSET")
            .arg(&self.keys.model)
            .arg(FIELD_PRIOR)
            .arg(definition.prior.to_string())
            .arg(FIELD_GRID_POINTS)
            .arg(definition.grid.points())
            .query_async::<()>(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        Ok(previous)
    }

    async fn load(&self) -> Result<ModelState, PortError> {
        let values: [Option<String>; 4] = redis::cmd("HMGET")
            .arg(&self.keys.model)
            .arg(&FIELDS)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        decode(values).map_err(|e| PortError::Failed(e.to_string()))
    }

    async fn apply(&self, batch: &ApplyBatch) -> Result<Applied, PortError> {
        let mut invocation = self.apply_script.prepare_invoke();
        invocation
            .key(&self.keys.events)
            .key(&self.keys.model)
            .key(&self.keys.dead)
            .arg(CONSUMER_GROUP)
            .arg(batch.wins.len())
            .arg(batch.losses.len())
            .arg(batch.dead.len())
            .arg(self.dead_maxlen)
            .arg(&batch.wins)
            .arg(&batch.losses);
        for dead in &batch.dead {
            invocation.arg(&dead.id).arg(&dead.reason).arg(&dead.raw);
        }
        let (w, n, counted, dead): (u64, u64, u64, u64) = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        let counts =
            Counts::new(w, n).map_err(|e| PortError::Failed(format!("stored counts: {e}")))?;
        Ok(Applied {
            counts,
            counted,
            dead,
            skipped: (batch.len() as u64).saturating_sub(counted + dead),
        })
    }
}
