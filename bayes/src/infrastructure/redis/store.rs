//! The partitions' state in Redis: cursors, model hashes, the apply script.
//! Each partition's models are cached as of its cursor ([`ModelCache`]),
//! so an apply writes every touched model's state once.

use super::model_cache::ModelCache;
use super::port_error;
use crate::application::{ApplyOutcome, Batch, Cause, PartitionStore, PortError};
use domain::{DefaultDefinitions, ModelName, ModelState};
use platform::RedisConnection;
use platform::StoredModel;
use platform::failure::server_code;
use platform::keys::CONSUMER_GROUP;
use platform::log_time::HistorySettings;
use platform::scripts::INIT_PARTITION;
use platform::scripts::apply::ApplyReply;
use platform::scripts::apply::NO_CURSOR;
use platform::stored_model::{FIELDS, decode_hash};
use platform::{PartitionKeys, RedisKeys};
use std::time::Duration;
use tokio::sync::Mutex;

/// Most models cached per partition (about 100 bytes each); past it the
/// cache starts afresh, so bayes's memory stays bounded however many
/// models there are.
pub const MAX_CACHED_MODELS: usize = 1_000_000;

mod experiments;
mod history;
mod scripts;

/// Most v1 pending entries taken over per script call.
const UPGRADE_BATCH: usize = 1_000;

/// Cursors and models, applied to by `apply.lua`.
pub struct RedisPartitionStore {
    connection: RedisConnection,
    keys: RedisKeys,
    /// Who applies: the cursor records it, so a resent apply is told apart.
    applier: String,
    defaults: DefaultDefinitions,
    dead_maxlen: u64,
    /// Replicas that must confirm an apply, and the longest wait for them.
    replicas: (u32, Duration),
    /// The history's interval and retention (`None`: history off).
    history: Option<HistorySettings>,
    /// Each partition's models as of its cursor; a partition's applies run
    /// one at a time, so its lock is never contended.
    caches: Vec<Mutex<ModelCache>>,
    /// A drill's fault: abort the process just before the first
    /// announcement (after its batch was applied), as a kill -9 there would.
    abort_before_announce: bool,
}

impl RedisPartitionStore {
    /// A store on the shared connection; models first observed get
    /// `defaults` (`default` its own, every other model the named one);
    /// dead letters are trimmed to about `dead_maxlen`.
    pub fn new(
        connection: RedisConnection,
        keys: RedisKeys,
        applier: String,
        defaults: DefaultDefinitions,
        dead_maxlen: u64,
    ) -> Self {
        Self {
            connection,
            applier,
            defaults,
            dead_maxlen: dead_maxlen.max(1),
            replicas: (0, Duration::ZERO),
            history: None,
            caches: (0..keys.partition_count())
                .map(|_| Mutex::new(ModelCache::default()))
                .collect(),
            keys,
            abort_before_announce: false,
        }
    }

    /// With `true`, aborts the process before its first announcement (the
    /// drill's `FAULT_INJECT=abort-before-announce`).
    #[must_use]
    pub fn with_abort_before_announce(mut self, abort: bool) -> Self {
        self.abort_before_announce = abort;
        self
    }

    /// Writes each model's history, `history`'s interval and retention.
    #[must_use]
    pub fn with_history(mut self, history: Option<HistorySettings>) -> Self {
        let interval = history.map_or(0, |h| h.interval);
        self.caches = (0..self.keys.partition_count())
            .map(|_| Mutex::new(ModelCache::new(interval)))
            .collect();
        self.history = history;
        self
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
                .map_err(port_error)?,
        )
        .map_err(|e| PortError::Failed(Cause::context("WAIT failed", e)))?;
        if confirmed < i64::from(replicas) {
            metrics::counter!("bayes_replica_ack_failures_total").increment(1);
            return Err(PortError::Unavailable(
                format!(
                    "{confirmed} of {replicas} replicas confirmed the apply to {} in {timeout:?}",
                    keys.cursor
                )
                .into(),
            ));
        }
        Ok(())
    }

    fn partition(&self, partition: u32) -> Result<&PartitionKeys, PortError> {
        self.keys
            .partition(partition)
            .ok_or_else(|| PortError::Failed(format!("no partition {partition}").into()))
    }

    fn cache(&self, partition: u32) -> Result<&Mutex<ModelCache>, PortError> {
        self.caches
            .get(partition as usize)
            .ok_or_else(|| PortError::Failed(format!("no partition {partition}").into()))
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
            .arg(self.defaults.default_model.prior.to_string())
            .arg(self.defaults.default_model.grid.points());
        let (state, counted, lost): (String, u64, u64) = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(port_error)?;
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
        // Opened again (started, or taken over): the cursor may have moved.
        self.cache(partition)?.lock().await.drop_all();
        while !self.init_step(keys).await? {}
        let cursor: Option<String> = redis::cmd("HGET")
            .arg(&keys.cursor)
            .arg("id")
            .query_async(&mut self.connection.clone())
            .await
            .map_err(port_error)?;
        cursor.ok_or_else(|| {
            PortError::Failed(format!("{} has no id after its start", keys.cursor).into())
        })
    }

    async fn apply(&self, partition: u32, batch: &Batch) -> Result<ApplyOutcome, PortError> {
        let keys = self.partition(partition)?;
        let mut cache = self.cache(partition)?.lock().await;
        cache.start_at(&batch.after);
        if cache.len() > MAX_CACHED_MODELS {
            cache.drop_all();
            cache.start_at(&batch.after);
        }
        let missing = cache.missing(batch);
        for (model, state) in missing.iter().zip(self.load_all(keys, &missing).await?) {
            cache.learn(model, state);
        }
        let plan = cache
            .plan(batch, &self.defaults)
            .map_err(|e| PortError::Failed(Cause::new(e)))?;
        let reply = match self.call(keys, partition, batch, &plan).await {
            Ok(reply) => reply,
            Err(error) if server_code(&error).as_deref() == Some(NO_CURSOR) => {
                // The partition's cursor is gone: a failover promoted a
                // replica that never received its start (replication is
                // asynchronous), so nothing after it either. Start the
                // partition again; the worker reads from its cursor.
                tracing::warn!(
                    partition,
                    "the partition's cursor is gone (lost in a failover?): starting it again"
                );
                cache.drop_all();
                drop(cache);
                let cursor = self.open(partition).await?;
                return Ok(ApplyOutcome::Fenced { cursor });
            }
            Err(error) => return Err(port_error(error)),
        };
        let applied = match ApplyReply::parse(&reply).map_err(|e| PortError::Failed(e.into()))? {
            ApplyReply::Applied => {
                cache.commit(plan, &batch.last);
                ApplyOutcome::Applied
            }
            ApplyReply::Replayed => {
                // Applied before (a resent call, or a retry after the
                // replicas did not confirm it): the plan may have been made
                // from counts that already held this batch. Read them again.
                cache.drop_all();
                ApplyOutcome::Replayed
            }
            ApplyReply::Fenced { cursor } => {
                // Another owner moved the cursor: what we knew may be stale.
                cache.drop_all();
                return Ok(ApplyOutcome::Fenced { cursor });
            }
        };
        drop(cache);
        self.confirm(keys).await?;
        Ok(applied)
    }

    async fn load(&self, model: &str) -> Result<Option<ModelState>, PortError> {
        let name = ModelName::parse(model).map_err(|e| PortError::Failed(Cause::new(e)))?;
        let values: [Option<String>; 6] = redis::cmd("HMGET")
            .arg(self.keys.model(&name))
            .arg(&FIELDS)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(port_error)?;
        Ok(stored(values)?.map(|s| s.state))
    }

    async fn load_with_history(
        &self,
        model: &str,
        points: usize,
    ) -> Result<Option<(ModelState, domain::History)>, PortError> {
        let name = ModelName::parse(model).map_err(|e| PortError::Failed(Cause::new(e)))?;
        let keys = history::HistoryKeys {
            model: self.keys.model(&name),
            history: self.keys.history(&name),
        };
        let interval = self.history.map(|h| h.interval);
        history::load_with_history(&self.connection, &keys, interval, points).await
    }
}

/// A model hash's values; `None` when the hash does not exist.
fn stored(values: [Option<String>; 6]) -> Result<Option<StoredModel>, PortError> {
    decode_hash(values).map_err(|e| PortError::Failed(Cause::new(e)))
}
