//! The operator's view of partitions in Redis, and their reset for a rebuild.

use super::port_error;
use crate::application::PortError;
use crate::application::batch::id_millis;
use crate::application::operate::{PartitionAdmin, PartitionReport};
use platform::RedisConnection;
use platform::keys::CONSUMER_GROUP;
use platform::scripts::RESET_PARTITION;
use platform::{PartitionKeys, RedisKeys};
use redis::Value;
use std::collections::HashMap;

/// Reads and resets partitions on the shared connection.
pub struct RedisPartitionAdmin {
    connection: RedisConnection,
    keys: RedisKeys,
    applier: String,
}

impl RedisPartitionAdmin {
    /// An admin of the partitions under `keys`; resets are recorded as by `applier`.
    pub fn new(connection: RedisConnection, keys: RedisKeys, applier: String) -> Self {
        Self {
            connection,
            keys,
            applier,
        }
    }

    fn partition(&self, partition: u32) -> Result<&PartitionKeys, PortError> {
        self.keys
            .partition(partition)
            .ok_or_else(|| PortError::Failed(format!("no partition {partition}").into()))
    }
}

#[async_trait::async_trait]
impl PartitionAdmin for RedisPartitionAdmin {
    async fn report(&self, partition: u32) -> Result<PartitionReport, PortError> {
        let keys = self.partition(partition)?;
        let mut connection = self.connection.clone();
        let mut pipeline = redis::pipe();
        pipeline
            .cmd("GET")
            .arg(&keys.owner)
            .cmd("HGETALL")
            .arg(&keys.cursor)
            .cmd("ZCARD")
            .arg(&keys.models);
        let (owner, cursor, models): (Option<String>, HashMap<String, String>, u64) = pipeline
            .query_async(&mut connection)
            .await
            .map_err(port_error)?;
        let stream: Value = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(&keys.events)
            .query_async(&mut connection)
            .await
            .unwrap_or(Value::Nil);
        let entries_added = stream_field(&stream, "entries-added").unwrap_or(0);
        let position = cursor
            .get("id")
            .cloned()
            .unwrap_or_else(|| "0-0".to_owned());
        let next: Value = redis::cmd("XRANGE")
            .arg(&keys.events)
            .arg(format!("({position}"))
            .arg("+")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut connection)
            .await
            .map_err(port_error)?;
        let node = connection
            .node_serving(&keys.events)
            .await
            .map_err(port_error)?;
        let number = |field: &str| cursor.get(field).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(PartitionReport {
            partition,
            stream: keys.events.clone(),
            owner,
            read: number("read"),
            lost: number("lost"),
            cursor: position,
            entries_added,
            oldest_unapplied_ms: first_id(&next).and_then(|id| id_millis(&id)),
            models,
            history_points: number("points"),
            node,
        })
    }

    async fn reset(&self, partition: u32) -> Result<(), PortError> {
        let keys = self.partition(partition)?;
        let mut connection = self.connection.clone();
        let models: Vec<String> = redis::cmd("ZRANGE")
            .arg(&keys.models)
            .arg(0)
            .arg(-1)
            .query_async(&mut connection)
            .await
            .map_err(port_error)?;
        let experiments: Vec<String> = redis::cmd("ZRANGE")
            .arg(&keys.experiments)
            .arg(0)
            .arg(-1)
            .query_async(&mut connection)
            .await
            .map_err(port_error)?;
        let mut invocation = RESET_PARTITION.prepare_invoke();
        invocation
            .key(&keys.cursor)
            .key(&keys.events)
            .key(&keys.models);
        for model in &models {
            invocation.key(keys.model_key(model));
        }
        for model in &models {
            invocation.key(keys.history_key(model));
        }
        invocation.key(&keys.experiments).key(&keys.decisions);
        for experiment in &experiments {
            invocation.key(keys.experiment_key(experiment));
        }
        invocation
            .arg(CONSUMER_GROUP)
            .arg(&self.applier)
            .arg(models.len())
            .arg(experiments.len());
        invocation
            .invoke_async::<String>(&mut connection)
            .await
            .map(drop)
            .map_err(|e| {
                PortError::Failed(format!("partition {partition} cannot be rebuilt: {e}").into())
            })
    }
}

/// An integer field of an `XINFO STREAM` reply (RESP2 flat list or RESP3 map).
fn stream_field(reply: &Value, name: &str) -> Option<u64> {
    let pairs: Vec<(&Value, &Value)> = match reply {
        Value::Array(items) => items.chunks_exact(2).map(|p| (&p[0], &p[1])).collect(),
        Value::Map(items) => items.iter().map(|(k, v)| (k, v)).collect(),
        _ => return None,
    };
    pairs
        .into_iter()
        .find_map(|(key, value)| match (key, value) {
            (Value::BulkString(k), Value::Int(v)) if k == name.as_bytes() => u64::try_from(*v).ok(),
            (Value::SimpleString(k), Value::Int(v)) if k == name => u64::try_from(*v).ok(),
            _ => None,
        })
}

/// The id of the first entry of an `XRANGE` reply.
fn first_id(reply: &Value) -> Option<String> {
    let Value::Array(entries) = reply else {
        return None;
    };
    let Value::Array(entry) = entries.first()? else {
        return None;
    };
    match entry.first()? {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        _ => None,
    }
}
