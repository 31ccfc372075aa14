//! Reads the model hashes and the models index that bayes maintains.

use super::{experiment_store, port_error};
use crate::application::{Cause, HistoryRange, ModelStore, PortError, StoredHistory};
use async_trait::async_trait;
use domain::{History, HistoryPoint, ModelName, ModelState};
use platform::RedisConnection;
use platform::RedisKeys;
use platform::StoredModel;
use platform::stored_experiment::{DecisionEvent, StoredExperiment};
use platform::stored_history::decode_points;
use platform::stored_model::{FIELDS, decode_hash};
use redis::Value;

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

    async fn now(&self) -> Result<u64, PortError> {
        let (seconds, micros): (u64, u64) = redis::cmd("TIME")
            .query_async(&mut self.connection.clone())
            .await
            .map_err(port_error)?;
        Ok(seconds * 1_000 + micros / 1_000)
    }

    async fn history(
        &self,
        model: &ModelName,
        range: HistoryRange,
    ) -> Result<Option<StoredHistory>, PortError> {
        let (hash, stream) = (self.keys.model(model), self.keys.history(model));
        let Some((stored, points, more)) =
            read_history(&self.connection, hash, stream, range).await?
        else {
            return Ok(None);
        };
        let history = History::new(points, stored.known_from)
            .map_err(|e| PortError::Failed(Cause::new(e)))?;
        Ok(Some(StoredHistory {
            state: stored.state,
            history,
            more,
        }))
    }

    async fn experiment(&self, name: &ModelName) -> Result<Option<StoredExperiment>, PortError> {
        experiment_store::experiment(&self.connection, &self.keys, name).await
    }

    async fn experiments(
        &self,
        after: Option<&ModelName>,
        limit: usize,
    ) -> Result<Vec<(ModelName, StoredExperiment)>, PortError> {
        experiment_store::experiments(&self.connection, &self.keys, after, limit).await
    }

    async fn decisions(
        &self,
        name: &ModelName,
        limit: usize,
    ) -> Result<Vec<(String, DecisionEvent)>, PortError> {
        experiment_store::decisions(&self.connection, &self.keys, name, limit).await
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

/// The history of a model hash read with its stream: the point at or
/// before `range.from`, those after it up to `range.to` (at most
/// `range.limit`, and whether more were left out), and the hash's open
/// point where it falls.
async fn read_history(
    connection: &RedisConnection,
    hash: String,
    stream: String,
    range: HistoryRange,
) -> Result<Option<(StoredModel, Vec<HistoryPoint>, bool)>, PortError> {
    let mut pipeline = redis::pipe();
    pipeline.cmd("HMGET").arg(&hash).arg(&FIELDS);
    // The point at or before `from` (none can be at 0: that would be a
    // scan of the whole stream backwards for nothing).
    let before = range.from > 0;
    if before {
        pipeline
            .cmd("XREVRANGE")
            .arg(&stream)
            .arg(range.from.min(range.to))
            .arg("-")
            .arg("COUNT")
            .arg(1);
    }
    let after = range.limit > 0 && range.to > range.from;
    if after {
        pipeline
            .cmd("XRANGE")
            .arg(&stream)
            .arg(format!("({}", range.from))
            .arg(range.to)
            .arg("COUNT")
            .arg(range.limit.saturating_add(1).min(1 << 30));
    }
    let mut replies: Vec<Value> = pipeline
        .query_async(&mut connection.clone())
        .await
        .map_err(port_error)?;
    let decode =
        |reply: &Value| decode_points(reply).map_err(|e| PortError::Failed(Cause::message(e)));
    let mut later = if after {
        replies
            .pop()
            .map_or(Ok(Vec::new()), |reply| decode(&reply))?
    } else {
        Vec::new()
    };
    let mut points = if before {
        replies
            .pop()
            .map_or(Ok(Vec::new()), |reply| decode(&reply))?
    } else {
        Vec::new()
    };
    let values: [Option<String>; 6] = replies
        .pop()
        .map(redis::from_redis_value)
        .transpose()
        .map_err(|e| PortError::Failed(Cause::new(e)))?
        .unwrap_or_default();
    let Some(model) = decode_hash(values).map_err(|e| PortError::Failed(Cause::new(e)))? else {
        return Ok(None);
    };
    let more = later.len() > range.limit;
    later.truncate(range.limit);
    points.extend(later);
    // The open point: the newest, not yet in the stream.
    if let Some(open) = model.open_point()
        && !more
        && open.t <= range.to
        && points.last().is_none_or(|p| p.t < open.t)
    {
        if open.t <= range.from {
            points.clear();
        }
        points.push(open);
    }
    Ok(Some((model, points, more)))
}

/// A model hash's values; `None` when the hash does not exist.
fn stored(values: [Option<String>; 6]) -> Result<Option<ModelState>, PortError> {
    decode_hash(values)
        .map(|stored| stored.map(|s| s.state))
        .map_err(|e| PortError::Failed(Cause::new(e)))
}
