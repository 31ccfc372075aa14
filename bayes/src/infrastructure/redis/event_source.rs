//! The event log read through the consumer group, on a connection of its
//! own (a blocking `XREADGROUP` would hold up anything sharing it).

use super::port_error;
use super::reply::{entries, int, is_empty_reply, xread_entries};
use crate::application::{Claimed, EventSource, PortError, ReadOutcome};
use async_trait::async_trait;
use platform::RedisKeys;
use platform::keys::CONSUMER_GROUP;
use redis::aio::ConnectionManager;
use redis::{Script, Value};
use std::time::{Duration, Instant};

/// How often a consumer at the end of the log still checks for trimmed entries.
const LOSS_CHECK_EVERY: Duration = Duration::from_secs(1);

/// How the consumer reads.
#[derive(Debug, Clone)]
pub struct EventSourceSettings {
    /// This consumer's name in the group.
    pub consumer: String,
    /// Most entries per read.
    pub batch_size: usize,
    /// Longest wait for new entries in one read.
    pub block: Duration,
    /// Pending entries idle this long belong to a dead consumer and are claimed.
    pub claim_idle: Duration,
    /// After a short batch, wait this long before reading again so that
    /// entries arriving meanwhile are applied together: under load, batches
    /// of hundreds instead of a handful, for this much added latency.
    pub coalesce: Duration,
}

/// Reads `<prefix>:events` through the group `bayes`.
pub struct RedisEventSource {
    connection: ConnectionManager,
    keys: RedisKeys,
    settings: EventSourceSettings,
    claim_cursor: String,
    /// Whether the last read came back short of a full batch: the group is at
    /// the end of the log, where retention (which trims the oldest entries)
    /// cannot overtake it.
    at_tail: bool,
    /// Entries the last read returned.
    last_read: usize,
    last_loss_check: Option<Instant>,
    loss_check: &'static str,
    claim_script: Script,
    leave_script: Script,
}

impl RedisEventSource {
    /// A source on `connection`, which must not time out before `settings.block`.
    pub fn new(
        connection: ConnectionManager,
        keys: RedisKeys,
        settings: EventSourceSettings,
    ) -> Self {
        Self {
            connection,
            keys,
            settings,
            claim_cursor: "0-0".to_owned(),
            at_tail: false,
            last_read: 0,
            last_loss_check: None,
            loss_check: include_str!("scripts/loss_check.lua"),
            claim_script: Script::new(include_str!("scripts/claim.lua")),
            leave_script: Script::new(include_str!("scripts/leave.lua")),
        }
    }

    /// Catching up: count entries trimmed before the group read them and
    /// read a batch, in one MULTI/EXEC so nothing is trimmed in between. (The
    /// read stays a plain command: inside a script its reply would be
    /// converted to Lua tables and back, which doubled its cost.)
    async fn read_ready(&mut self) -> redis::RedisResult<(u64, Value)> {
        let mut transaction = redis::pipe();
        transaction
            .atomic()
            .cmd("EVAL")
            .arg(self.loss_check)
            .arg(2)
            .arg(&self.keys.events)
            .arg(&self.keys.model)
            .arg(CONSUMER_GROUP)
            .add_command(self.xreadgroup(None));
        let (lost, entries): (u64, Value) = transaction.query_async(&mut self.connection).await?;
        Ok((lost, entries))
    }

    fn xreadgroup(&self, block: Option<Duration>) -> redis::Cmd {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(CONSUMER_GROUP)
            .arg(&self.settings.consumer)
            .arg("COUNT")
            .arg(self.settings.batch_size);
        if let Some(block) = block {
            cmd.arg("BLOCK").arg(block.as_millis() as u64);
        }
        cmd.arg("STREAMS").arg(&self.keys.events).arg(">");
        cmd
    }

    /// Caught up: wait for new entries. A reader at the end of the log
    /// cannot be overtaken by trimming, which removes the oldest entries.
    async fn read_blocking(&mut self) -> redis::RedisResult<Value> {
        self.xreadgroup(Some(self.settings.block))
            .query_async(&mut self.connection)
            .await
    }

    /// The next batch, undecoded, and how many entries were lost. Catching
    /// up (or once a second): the loss-checking transaction. At the end of
    /// the log: one blocking read, which returns as soon as anything
    /// arrives, after the coalescing pause if the last read found entries.
    async fn fetch(&mut self) -> redis::RedisResult<(u64, Value)> {
        let check_due = !self.at_tail
            || self
                .last_loss_check
                .is_none_or(|at| at.elapsed() >= LOSS_CHECK_EVERY);
        if check_due {
            self.last_loss_check = Some(Instant::now());
            let (lost, ready) = self.read_ready().await?;
            if !is_empty_reply(&ready) {
                return Ok((lost, ready));
            }
            return Ok((lost, self.read_blocking().await?));
        }
        if self.last_read > 0 && !self.settings.coalesce.is_zero() {
            tokio::time::sleep(self.settings.coalesce).await;
        }
        Ok((0, self.read_blocking().await?))
    }

    /// The stream or group was deleted under us (someone ran DEL or
    /// XGROUP DESTROY): recreate them at the start of what is left.
    fn is_missing_group(error: &redis::RedisError) -> bool {
        let text = error.to_string();
        text.contains("NOGROUP") || text.contains("no such key")
    }
}

#[async_trait]
impl EventSource for RedisEventSource {
    async fn prepare(&mut self) -> Result<(), PortError> {
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.keys.events)
            .arg(CONSUMER_GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut self.connection)
            .await;
        match created {
            Ok(()) => {
                tracing::info!(stream = %self.keys.events, group = CONSUMER_GROUP, "consumer group created at the start of the log");
                Ok(())
            }
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
            Err(error) => Err(port_error(&error)),
        }
    }

    async fn read(&mut self) -> Result<ReadOutcome, PortError> {
        match self.fetch().await {
            Ok((lost, value)) => {
                let entries = xread_entries(value)?;
                self.at_tail = entries.len() < self.settings.batch_size;
                self.last_read = entries.len();
                Ok(ReadOutcome { entries, lost })
            }
            Err(error) if Self::is_missing_group(&error) => {
                tracing::warn!(%error, "the event log or its consumer group is gone; recreating it");
                self.at_tail = false;
                self.prepare().await?;
                Ok(ReadOutcome::default())
            }
            Err(error) => Err(port_error(&error)),
        }
    }

    async fn claim(&mut self) -> Result<Claimed, PortError> {
        let mut invocation = self.claim_script.prepare_invoke();
        invocation
            .key(&self.keys.events)
            .key(&self.keys.model)
            .arg(CONSUMER_GROUP)
            .arg(&self.settings.consumer)
            .arg(self.settings.claim_idle.as_millis() as u64)
            .arg(&self.claim_cursor)
            .arg(self.settings.batch_size);
        let reply: Vec<Value> = match invocation.invoke_async(&mut self.connection).await {
            Ok(reply) => reply,
            Err(error) if Self::is_missing_group(&error) => return Ok(Claimed::default()),
            Err(error) => return Err(port_error(&error)),
        };
        let mut reply = reply.into_iter();
        let (Some(cursor), Some(claimed), Some(deleted)) =
            (reply.next(), reply.next(), reply.next())
        else {
            return Err(PortError::Failed(
                "XAUTOCLAIM reply has fewer than three parts".into(),
            ));
        };
        self.claim_cursor = match cursor {
            Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Value::SimpleString(text) => text,
            other => return Err(PortError::Failed(format!("XAUTOCLAIM cursor: {other:?}"))),
        };
        Ok(Claimed {
            entries: entries(claimed)?,
            lost: u64::try_from(int(&deleted)?).unwrap_or(0),
        })
    }

    async fn leave(&mut self) -> Result<(), PortError> {
        let mut invocation = self.leave_script.prepare_invoke();
        invocation
            .key(&self.keys.events)
            .arg(CONSUMER_GROUP)
            .arg(&self.settings.consumer);
        invocation
            .invoke_async::<i64>(&mut self.connection)
            .await
            .map(drop)
            .map_err(|e| port_error(&e))
    }
}
