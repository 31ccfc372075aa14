//! Reads the model hashes and the models index that bayes maintains.

use super::port_error;
use crate::application::{Cause, ModelStore, PortError};
use async_trait::async_trait;
use domain::{ModelName, ModelState};
use platform::RedisConnection;
use platform::RedisKeys;
use platform::stored_model::{FIELDS, decode_hash};

/// Reads `<model hash>` with one `HMGET`.
#[derive(Clone)]
pub struct RedisModelStore {
    connection: RedisConnection,
    keys: RedisKeys,
}

impl RedisModelStore {
    /// A store reading the model hashes under `keys`.
    pub fn new(connection: RedisConnection, keys: RedisKeys) -> Self {
        Self { connection, keys }
    }
}

#[async_trait]
impl ModelStore for RedisModelStore {
    async fn load(&self, model: &ModelName) -> Result<Option<ModelState>, PortError> {
        let values: [Option<String>; 6] = redis::cmd("HMGET")
            .arg(self.keys.model(model))
            .arg(&FIELDS)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(port_error)?;
        stored(values)
    }

    /// Each partition's index gives its next `limit` names after `after`
    /// (`ZRANGE … BYLEX`, O(log M + limit)); the smallest `limit` of them
    /// are read with one pipeline of `HMGET`s per partition (one hash tag
    /// each, so it also holds on a cluster).
    async fn list(
        &self,
        after: Option<&ModelName>,
        limit: usize,
    ) -> Result<Vec<(ModelName, ModelState)>, PortError> {
        let start = after.map_or_else(|| "-".to_owned(), |name| format!("({name}"));
        let mut names = Vec::new();
        for partition in self.keys.partitions() {
            let page: Vec<String> = redis::cmd("ZRANGE")
                .arg(&partition.models)
                .arg(&start)
                .arg("+")
                .arg("BYLEX")
                .arg("LIMIT")
                .arg(0)
                .arg(limit)
                .query_async(&mut self.connection.clone())
                .await
                .map_err(port_error)?;
            names.extend(page.into_iter().map(|name| (name, partition)));
        }
        names.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        names.truncate(limit);
        let mut models = Vec::with_capacity(names.len());
        for partition in self.keys.partitions() {
            let mine: Vec<&String> = names
                .iter()
                .filter(|(_, p)| p.index == partition.index)
                .map(|(name, _)| name)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let mut pipeline = redis::pipe();
            for name in &mine {
                pipeline
                    .cmd("HMGET")
                    .arg(partition.model_key(name))
                    .arg(&FIELDS);
            }
            let values: Vec<[Option<String>; 6]> = pipeline
                .query_async(&mut self.connection.clone())
                .await
                .map_err(port_error)?;
            for (name, values) in mine.into_iter().zip(values) {
                // Deleted between the two reads: not listed.
                if let Some(state) = stored(values)? {
                    let name = ModelName::parse(name).map_err(|e| {
                        PortError::Failed(format!("the models index holds {name:?}: {e}").into())
                    })?;
                    models.push((name, state));
                }
            }
        }
        models.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(models)
    }

    async fn count(&self) -> Result<u64, PortError> {
        let mut total = 0;
        for partition in self.keys.partitions() {
            let models: u64 = redis::cmd("ZCARD")
                .arg(&partition.models)
                .query_async(&mut self.connection.clone())
                .await
                .map_err(port_error)?;
            total += models;
        }
        Ok(total)
    }
}

/// A model hash's values; `None` when the hash does not exist.
fn stored(values: [Option<String>; 6]) -> Result<Option<ModelState>, PortError> {
    decode_hash(values)
        .map(|stored| stored.map(|s| s.state))
        .map_err(|e| PortError::Failed(Cause::new(e)))
}
