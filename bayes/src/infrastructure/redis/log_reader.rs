//! Reading a partition's log with plain `XREAD` after a position, each
//! reader on a connection of its own (a blocking `XREAD` would stall
//! anything sharing a multiplexed connection).

use super::port_error;
use super::reply::add_entries;
use crate::application::{BatchBuilder, LogReaders, PartitionLog, PortError, Read};
use platform::scripts::LOSS_CHECK_SOURCE;
use platform::{PartitionKeys, RedisSettings};
use redis::Value;
use redis::aio::ConnectionManager;
use std::time::{Duration, Instant};

/// How often a reader at the end of the log still checks for trimmed entries.
const LOSS_CHECK_EVERY: Duration = Duration::from_secs(1);

/// How readers read.
#[derive(Debug, Clone)]
pub struct ReadSettings {
    /// Most entries per read.
    pub batch_size: usize,
    /// Longest wait for new entries in one read.
    pub block: Duration,
    /// After a read that found entries, wait this long before the next
    /// blocking read, so entries arriving meanwhile apply together: under
    /// load, batches of hundreds instead of a handful, for this much latency.
    pub coalesce: Duration,
}

/// Opens a reader per partition, each with its own connection.
pub struct RedisLogReaders {
    redis: RedisSettings,
    read: ReadSettings,
}

impl RedisLogReaders {
    /// Readers of `redis`'s partitions.
    pub fn new(redis: RedisSettings, read: ReadSettings) -> Self {
        Self { redis, read }
    }
}

impl LogReaders for RedisLogReaders {
    fn reader(&self, partition: u32) -> Result<Box<dyn PartitionLog>, PortError> {
        let keys = self
            .redis
            .keys
            .partition(partition)
            .ok_or_else(|| PortError::Failed(format!("no partition {partition}")))?
            .clone();
        let connection = self
            .redis
            .blocking_connection_manager(self.read.block)
            .map_err(|e| port_error(&e))?;
        Ok(Box::new(RedisPartitionLog {
            connection,
            keys,
            partitions: self.redis.keys.partition_count(),
            settings: self.read.clone(),
            at_tail: false,
            last_read: 0,
            last_loss_check: None,
        }))
    }
}

struct RedisPartitionLog {
    connection: ConnectionManager,
    keys: PartitionKeys,
    partitions: u32,
    settings: ReadSettings,
    /// Whether the last read came back short of a full batch: the reader is
    /// at the end of the log, where retention (which trims the oldest
    /// entries) cannot overtake it.
    at_tail: bool,
    last_read: u64,
    last_loss_check: Option<Instant>,
}

impl RedisPartitionLog {
    fn xread(&self, after: &str, block: Option<Duration>) -> redis::Cmd {
        let mut cmd = redis::cmd("XREAD");
        cmd.arg("COUNT").arg(self.settings.batch_size);
        if let Some(block) = block {
            cmd.arg("BLOCK").arg(block.as_millis() as u64);
        }
        cmd.arg("STREAMS").arg(&self.keys.events).arg(after);
        cmd
    }

    /// Catching up: count what retention trimmed before it was applied and
    /// read a batch, in one MULTI/EXEC so nothing is trimmed in between.
    async fn read_checked(&mut self, after: &str) -> redis::RedisResult<(u64, Value)> {
        let mut transaction = redis::pipe();
        transaction
            .atomic()
            .cmd("EVAL")
            .arg(LOSS_CHECK_SOURCE)
            .arg(2)
            .arg(&self.keys.cursor)
            .arg(&self.keys.events)
            .add_command(self.xread(after, None));
        transaction.query_async(&mut self.connection).await
    }

    /// The next entries, undecoded, and how many were lost. Catching up (or
    /// once a second): the loss-checking transaction. At the end of the
    /// log: one blocking read, after the coalescing pause if the last read
    /// found entries.
    async fn fetch(&mut self, after: &str) -> redis::RedisResult<(u64, Value)> {
        let check_due = !self.at_tail
            || self
                .last_loss_check
                .is_none_or(|at| at.elapsed() >= LOSS_CHECK_EVERY);
        if check_due {
            self.last_loss_check = Some(Instant::now());
            let (lost, ready) = self.read_checked(after).await?;
            if !is_empty(&ready) {
                return Ok((lost, ready));
            }
            let blocking = self.xread(after, Some(self.settings.block));
            return Ok((lost, blocking.query_async(&mut self.connection).await?));
        }
        if self.last_read > 0 && !self.settings.coalesce.is_zero() {
            tokio::time::sleep(self.settings.coalesce).await;
        }
        let blocking = self.xread(after, Some(self.settings.block));
        Ok((0, blocking.query_async(&mut self.connection).await?))
    }
}

#[async_trait::async_trait]
impl PartitionLog for RedisPartitionLog {
    async fn read(&mut self, after: &str) -> Result<Read, PortError> {
        let (lost, value) = self.fetch(after).await.map_err(|e| port_error(&e))?;
        let mut builder = BatchBuilder::new(after);
        add_entries(&value, &self.keys, self.partitions, &mut builder)?;
        self.last_read = builder.entries();
        self.at_tail = (builder.entries() as usize) < self.settings.batch_size;
        Ok(Read {
            batch: builder.finish(),
            lost,
        })
    }
}

/// Whether an `XREAD` reply holds nothing.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Nil => true,
        Value::Array(items) => items.is_empty(),
        Value::Map(items) => items.is_empty(),
        _ => false,
    }
}
