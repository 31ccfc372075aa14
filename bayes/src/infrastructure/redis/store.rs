//! The partitions' state in Redis: cursors, model hashes, the apply script.

use super::port_error;
use crate::application::{Applied, Batch, Op, PartitionStore, PortError};
use domain::{ModelDefinition, ModelName, ModelState};
use platform::RedisConnection;
use platform::keys::CONSUMER_GROUP;
use platform::scripts::{APPLY, INIT_PARTITION};
use platform::stored_model::{FIELDS, decode};
use platform::{PartitionKeys, RedisKeys};
use redis::Value;
use std::time::Duration;

/// Most v1 pending entries taken over per script call.
const UPGRADE_BATCH: usize = 1_000;

/// Cursors and models, applied to by `apply.lua`.
pub struct RedisPartitionStore {
    connection: RedisConnection,
    keys: RedisKeys,
    /// Who applies: the cursor records it, so a resent apply is told apart.
    applier: String,
    defaults: ModelDefinition,
    dead_maxlen: u64,
    /// Replicas that must confirm an apply, and the longest wait for them.
    replicas: (u32, Duration),
}

impl RedisPartitionStore {
    /// A store on the shared connection; models first observed get
    /// `defaults`; dead letters are trimmed to about `dead_maxlen`.
    pub fn new(
        connection: RedisConnection,
        keys: RedisKeys,
        applier: String,
        defaults: ModelDefinition,
        dead_maxlen: u64,
    ) -> Self {
        Self {
            connection,
            keys,
            applier,
            defaults,
            dead_maxlen: dead_maxlen.max(1),
            replicas: (0, Duration::ZERO),
        }
    }

    /// Counts an apply done only once `replicas` replicas confirmed it
    /// (`WAIT` on the partition's node), waiting at most `timeout`.
    #[must_use]
    pub fn with_replicas_ack(mut self, replicas: u32, timeout: Duration) -> Self {
        self.replicas = (replicas, timeout);
        self
    }

    /// With `REPLICAS_ACK` ≥ 1: whether enough replicas hold this partition's
    /// writes so far. An apply they did not confirm is reported unavailable:
    /// the worker reads from the stored cursor again, finds its own apply
    /// there (a no-op) and waits again.
    async fn confirm(&self, keys: &PartitionKeys) -> Result<(), PortError> {
        let (replicas, timeout) = self.replicas;
        if replicas == 0 {
            return Ok(());
        }
        let mut wait = redis::cmd("WAIT");
        wait.arg(replicas).arg(timeout.as_millis() as u64);
        let confirmed: i64 = redis::from_redis_value(
            self.connection
                .clone()
                .on_node_of(&keys.cursor, &wait)
                .await
                .map_err(|e| port_error(&e))?,
        )
        .map_err(|e| PortError::Failed(format!("WAIT answered {e}")))?;
        if confirmed < i64::from(replicas) {
            metrics::counter!("bayes_replica_ack_failures_total").increment(1);
            return Err(PortError::Unavailable(format!(
                "{confirmed} of {replicas} replicas confirmed the apply to {} in {timeout:?}",
                keys.cursor
            )));
        }
        Ok(())
    }

    fn partition(&self, partition: u32) -> Result<&PartitionKeys, PortError> {
        self.keys
            .partition(partition)
            .ok_or_else(|| PortError::Failed(format!("no partition {partition}")))
    }

    /// One step of the start: `true` once the partition is ready.
    async fn init_step(&self, keys: &PartitionKeys) -> Result<bool, PortError> {
        let mut invocation = INIT_PARTITION.prepare_invoke();
        invocation
            .key(&keys.cursor)
            .key(&keys.events)
            .key(&keys.dead)
            .key(&keys.models)
            .key(keys.model_key("default"))
            .arg(CONSUMER_GROUP)
            .arg(UPGRADE_BATCH)
            .arg(self.dead_maxlen)
            .arg(self.defaults.prior.to_string())
            .arg(self.defaults.grid.points());
        let (state, counted, lost): (String, u64, u64) = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        if state == "pending" {
            tracing::info!(
                partition = keys.index,
                counted,
                lost,
                "took over entries a v1 consumer left unacknowledged: counted once"
            );
        }
        Ok(state == "ready")
    }
}

#[async_trait::async_trait]
impl PartitionStore for RedisPartitionStore {
    async fn open(&self, partition: u32) -> Result<String, PortError> {
        let keys = self.partition(partition)?;
        while !self.init_step(keys).await? {}
        let cursor: Option<String> = redis::cmd("HGET")
            .arg(&keys.cursor)
            .arg("id")
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        cursor
            .ok_or_else(|| PortError::Failed(format!("{} has no id after its start", keys.cursor)))
    }

    async fn apply(&self, partition: u32, batch: &Batch) -> Result<Applied, PortError> {
        let keys = self.partition(partition)?;
        let mut invocation = APPLY.prepare_invoke();
        invocation
            .key(&keys.cursor)
            .key(&keys.events)
            .key(&keys.dead)
            .key(&keys.models);
        for op in &batch.ops {
            invocation.key(keys.model_key(op.model()));
        }
        invocation
            .arg(&batch.after)
            .arg(&batch.last)
            .arg(batch.entries)
            .arg(&self.applier)
            .arg(CONSUMER_GROUP)
            .arg(self.dead_maxlen)
            .arg(self.defaults.prior.to_string())
            .arg(self.defaults.grid.points())
            .arg(batch.ops.len())
            .arg(batch.dead.len());
        for op in &batch.ops {
            match op {
                Op::Add {
                    model,
                    wins,
                    trials,
                } => invocation.arg("a").arg(model).arg(wins).arg(trials),
                Op::Define { model, definition } => invocation
                    .arg("d")
                    .arg(model)
                    .arg(definition.prior.to_string())
                    .arg(definition.grid.points()),
                Op::Delete { model } => invocation.arg("x").arg(model).arg("").arg(""),
            };
        }
        for dead in &batch.dead {
            invocation.arg(&dead.id).arg(&dead.reason).arg(&dead.raw);
        }
        invocation
            .arg(&self.keys.applied)
            .arg(notice(partition, batch));
        let reply: Vec<Value> = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        let applied = outcome(&reply)?;
        if !matches!(applied, Applied::Fenced { .. }) {
            self.confirm(keys).await?;
        }
        Ok(applied)
    }

    async fn load(&self, model: &str) -> Result<Option<ModelState>, PortError> {
        let name = ModelName::parse(model).map_err(|e| PortError::Failed(e.to_string()))?;
        let values: [Option<String>; 4] = redis::cmd("HMGET")
            .arg(self.keys.model(&name))
            .arg(&FIELDS)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        decode(values)
            .map(Some)
            .map_err(|e| PortError::Failed(e.to_string()))
    }
}

fn outcome(reply: &[Value]) -> Result<Applied, PortError> {
    let text = |value: Option<&Value>| match value {
        Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        Some(Value::SimpleString(text)) => text.clone(),
        _ => String::new(),
    };
    match text(reply.first()).as_str() {
        "applied" => Ok(Applied::Applied),
        "replayed" => Ok(Applied::Replayed),
        "fenced" => Ok(Applied::Fenced {
            cursor: text(reply.get(1)),
        }),
        other => Err(PortError::Failed(format!(
            "unexpected apply reply {other:?}"
        ))),
    }
}

/// Most model names one notice carries; past it, `more` says so.
const NOTICE_MODELS: usize = 64;

/// `{"partition":i,"models":[…],"more":bool}`: the models a batch changed,
/// bounded. Names are `[A-Za-z0-9_.-]`, so they need no escaping.
fn notice(partition: u32, batch: &Batch) -> String {
    let mut models: Vec<&str> = batch.ops.iter().map(Op::model).collect();
    models.sort_unstable();
    models.dedup();
    let more = models.len() > NOTICE_MODELS;
    models.truncate(NOTICE_MODELS);
    let names: Vec<String> = models.iter().map(|m| format!("\"{m}\"")).collect();
    format!(
        "{{\"partition\":{partition},\"models\":[{}],\"more\":{more}}}",
        names.join(",")
    )
}
