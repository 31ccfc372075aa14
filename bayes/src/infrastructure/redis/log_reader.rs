//! Reading a partition's log with plain `XREAD` after a position, each
//! reader on a connection of its own (a blocking `XREAD` would stall
//! anything sharing a multiplexed connection). On plain TCP the replies are
//! decoded in place from a raw connection; on TLS through redis-rs.

use super::port_error;
use super::raw::{RawConnection, RawError};
use super::reply::add_entries;
use crate::application::{BatchBuilder, LogReaders, PartitionLog, PortError, Read};
use platform::RedisConnection;
use platform::scripts::LOSS_CHECK_SOURCE;
use platform::{PartitionKeys, RedisSettings};
use redis::{ConnectionAddr, ConnectionInfo, Value};
use std::time::{Duration, Instant};

mod raw_read;
use raw_read::{raw_error, raw_read};

/// How often a reader at the end of the log still checks for trimmed entries.
const LOSS_CHECK_EVERY: Duration = Duration::from_secs(1);

/// How readers read.
#[derive(Debug, Clone)]
pub struct ReadSettings {
    /// Most entries per read at the end of the log.
    pub batch_size: usize,
    /// Most entries per read while behind: a full read doubles the next
    /// read's size up to this, a short one brings it back to `batch_size`,
    /// so a backlog drains in large batches (whose per-model writes
    /// amortise) and a log that keeps up keeps small, quick ones.
    pub batch_max: usize,
    /// Longest wait for new entries in one read.
    pub block: Duration,
    /// After a read that found entries, wait this long before the next
    /// blocking read, so entries arriving meanwhile apply together: under
    /// load, batches of hundreds instead of a handful, for this much latency.
    pub coalesce: Duration,
    /// Decode replies in place over a raw connection (plain TCP only);
    /// `false`: redis-rs's `Value` (the comparison in BENCHMARKS.md).
    pub raw: bool,
    /// The history's interval, ms (`None`: history off): each add is told
    /// the interval its entries fall in.
    pub interval: Option<u64>,
    /// The decisions' tick, ms (`None`: none): a batch holds one tick's entries.
    pub tick: Option<u64>,
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
            .ok_or_else(|| PortError::Failed(format!("no partition {partition}").into()))?
            .clone();
        let info = self.redis.client().get_connection_info().clone();
        // Plain TCP to one endpoint: a raw connection whose replies are
        // decoded in place. TLS, a cluster (whose redirections redis-rs
        // follows): redis-rs's connection and its `Value`.
        let raw = self.read.raw && !self.redis.is_cluster();
        let transport = if matches!(info.addr(), ConnectionAddr::Tcp(..)) && raw {
            Transport::Raw(Box::new(RawTransport {
                info,
                timeout: self.redis.timeout,
                connection: None,
            }))
        } else {
            let connection = self
                .redis
                .blocking_connection(self.read.block)
                .map_err(port_error)?;
            Transport::Managed(connection)
        };
        Ok(Box::new(RedisPartitionLog {
            transport,
            keys,
            partitions: self.redis.keys.partition_count(),
            count: self.read.batch_size.max(1),
            settings: self.read.clone(),
            at_tail: false,
            last_read: 0,
            last_loss_check: None,
        }))
    }
}

/// How a reader talks to Redis.
enum Transport {
    /// A raw connection (plain TCP), connected on first use and after a failure.
    Raw(Box<RawTransport>),
    /// redis-rs's self-reconnecting connection.
    Managed(RedisConnection),
}

/// A raw connection and what it needs to (re)connect.
struct RawTransport {
    info: ConnectionInfo,
    timeout: Duration,
    connection: Option<RawConnection>,
}

struct RedisPartitionLog {
    transport: Transport,
    keys: PartitionKeys,
    partitions: u32,
    settings: ReadSettings,
    /// Most entries the next read takes.
    count: usize,
    /// Whether the last read came back short of a full batch: the reader is
    /// at the end of the log, where retention (which trims the oldest
    /// entries) cannot overtake it.
    at_tail: bool,
    last_read: u64,
    last_loss_check: Option<Instant>,
}

impl RedisPartitionLog {
    fn xread_args(&self, after: &str, block: Option<Duration>) -> Vec<Vec<u8>> {
        let mut args: Vec<Vec<u8>> = vec![
            b"XREAD".to_vec(),
            b"COUNT".to_vec(),
            self.count.to_string().into_bytes(),
        ];
        if let Some(block) = block {
            args.push(b"BLOCK".to_vec());
            args.push((block.as_millis() as u64).to_string().into_bytes());
        }
        args.extend([
            b"STREAMS".to_vec(),
            self.keys.events.clone().into_bytes(),
            after.as_bytes().to_vec(),
        ]);
        args
    }

    /// One read after `after` into `builder`: with `check`, counted
    /// together with what retention trimmed (one MULTI/EXEC, so nothing is
    /// trimmed in between: the loss check is a small `EVAL` beside a plain
    /// `XREAD`, whose reply inside a script would be converted to Lua and
    /// back). Returns the entries lost.
    async fn read_into(
        &mut self,
        after: &str,
        block: Option<Duration>,
        check: bool,
        builder: &mut BatchBuilder,
    ) -> Result<u64, PortError> {
        let xread = self.xread_args(after, block);
        let loss_check: [&[u8]; 5] = [
            b"EVAL",
            LOSS_CHECK_SOURCE.as_bytes(),
            b"2",
            self.keys.cursor.as_bytes(),
            self.keys.events.as_bytes(),
        ];
        let (keys, partitions) = (&self.keys, self.partitions);
        match &mut self.transport {
            Transport::Managed(connection) => {
                let mut xread_cmd = redis::Cmd::new();
                for arg in &xread {
                    xread_cmd.arg(arg.as_slice());
                }
                let (lost, value): (u64, Value) = if check {
                    let mut transaction = redis::pipe();
                    let mut eval = redis::Cmd::new();
                    for arg in loss_check {
                        eval.arg(arg);
                    }
                    transaction
                        .atomic()
                        .add_command(eval)
                        .add_command(xread_cmd);
                    transaction.query_async(connection).await
                } else {
                    xread_cmd
                        .query_async(connection)
                        .await
                        .map(|value| (0, value))
                }
                .map_err(port_error)?;
                add_entries(&value, keys, partitions, builder)?;
                Ok(lost)
            }
            Transport::Raw(raw_transport) => {
                let RawTransport {
                    info,
                    timeout,
                    connection,
                } = &mut **raw_transport;
                let raw = match connection {
                    Some(raw) => raw,
                    None => {
                        let connected = RawConnection::connect(info, *timeout)
                            .await
                            .map_err(raw_error)?;
                        let connected = connected
                            .ok_or_else(|| PortError::Failed("not a TCP address".into()))?;
                        connection.insert(connected)
                    }
                };
                let result = raw_read(
                    raw,
                    &xread,
                    check.then_some(loss_check),
                    block,
                    keys,
                    partitions,
                    builder,
                )
                .await;
                if let Err(RawError::Io(_)) = &result {
                    *connection = None;
                }
                result.map_err(raw_error)
            }
        }
    }
}

#[async_trait::async_trait]
impl PartitionLog for RedisPartitionLog {
    /// Catching up (or once a second): the loss-checking read. At the end
    /// of the log: one blocking read, after the coalescing pause if the
    /// last read found entries.
    async fn read(&mut self, after: &str) -> Result<Read, PortError> {
        let mut builder = BatchBuilder::new(after)
            .with_interval(self.settings.interval)
            .with_tick(self.settings.tick);
        let check_due = !self.at_tail
            || self
                .last_loss_check
                .is_none_or(|at| at.elapsed() >= LOSS_CHECK_EVERY);
        let mut lost = 0;
        if check_due {
            self.last_loss_check = Some(Instant::now());
            lost = self.read_into(after, None, true, &mut builder).await?;
        } else if self.last_read > 0 && !self.settings.coalesce.is_zero() {
            tokio::time::sleep(self.settings.coalesce).await;
        }
        if builder.entries() == 0 {
            self.read_into(after, Some(self.settings.block), false, &mut builder)
                .await?;
        }
        self.last_read = builder.entries();
        let read = builder.entries() as usize;
        // A batch cut at a tick's end left entries behind: not at the tail.
        self.at_tail = read < self.count && !builder.is_cut();
        self.count = if self.at_tail {
            self.settings.batch_size.max(1)
        } else {
            (self.count * 2).min(self.settings.batch_max.max(self.settings.batch_size))
        };
        Ok(Read {
            batch: builder.finish(),
            lost,
        })
    }
}
