//! One write of a partition's writer: `append.lua` by `EVALSHA` (once by
//! `EVAL` after a Redis restart emptied the script cache), followed, with
//! `REPLICAS_ACK` ≥ 1, by `WAIT` in the same pipeline, so the `WAIT` runs
//! on the connection that made the write (on a cluster, the partition's
//! master's: the pipeline goes where its script's keys live).

use super::plan::Entry;
use crate::application::{Appended, EventId, PortError};
use crate::infrastructure::redis::write_error;
use platform::log_entry::{observations_fields, runs_fields};
use platform::scripts::append::{AppendCall, AppendEntry, AppendReply};
use platform::{PartitionKeys, RedisConnection};
use redis::{ErrorKind, ServerErrorKind, Value};
use std::time::Duration;

/// How long a write's token is kept: past any resend by redis-rs.
const TOKEN_TTL: Duration = Duration::from_secs(60);

/// How writers write.
#[derive(Debug, Clone)]
pub struct WriteSettings {
    /// Approximate bound on the stream's length (`MAXLEN ~`); 0: none.
    pub maxlen: u64,
    /// Replicas that must hold a write before its requests are answered.
    pub replicas_ack: u32,
    /// Longest wait for them.
    pub replicas_timeout: Duration,
    /// How long an Idempotency-Key is remembered.
    pub idempotency_window: Duration,
}

/// Where an entry of a write landed.
pub(super) enum Landed {
    /// Appended as this id.
    New(String),
    /// A retry: the first request under its key landed here.
    Replayed(String, u64),
    /// The key was recorded for other observations.
    KeyReused(String),
}

impl Landed {
    /// The answer of the request at `index` in this entry.
    pub(super) fn answer(&self, index: u64) -> Result<Appended, PortError> {
        match self {
            Self::New(id) => Ok(Appended {
                id: EventId(id.clone()),
                index,
                replayed: false,
            }),
            Self::Replayed(id, index) => Ok(Appended {
                id: EventId(id.clone()),
                index: *index,
                replayed: true,
            }),
            Self::KeyReused(key) => Err(PortError::KeyReused(key.clone())),
        }
    }
}

pub(super) struct Writer {
    connection: RedisConnection,
    keys: PartitionKeys,
    settings: WriteSettings,
    /// This writer's tokens: a random prefix and a count.
    nonce: u64,
    writes: u64,
}

impl Writer {
    pub(super) fn new(
        connection: RedisConnection,
        keys: PartitionKeys,
        settings: WriteSettings,
    ) -> Self {
        Self {
            connection,
            keys,
            settings,
            nonce: rand::random(),
            writes: 0,
        }
    }

    /// Writes `entries`, all or none; where each landed.
    ///
    /// On one endpoint, a write without Idempotency-Keys is plain `XADD`s
    /// (in `MULTI`/`EXEC` when there are several): redis-rs's connection
    /// there never resends a command, so no guard is needed, and Redis
    /// spends on it what an `XADD` costs. Keyed requests, and every write
    /// on a cluster (whose client resends after an I/O error), go through
    /// `append.lua`, which checks the keys and the write's token in the
    /// same step.
    pub(super) async fn write(&mut self, entries: &[Entry<'_>]) -> Result<Vec<Landed>, PortError> {
        let cluster = self.connection.is_cluster();
        if !cluster && !entries.iter().any(|e| matches!(e, Entry::Guarded(..))) {
            return self.write_plain(entries).await;
        }
        self.writes += 1;
        let token = self
            .keys
            .write_token(&format!("{:016x}.{}", self.nonce, self.writes));
        let mut replies = self.send(&token, entries, false).await;
        if let Err(error) = &replies
            && error.kind() == ErrorKind::Server(ServerErrorKind::NoScript)
        {
            // The script did not run: send its source (the token makes a
            // resend harmless in any case).
            replies = self.send(&token, entries, true).await;
        }
        let replies = replies.map_err(|e| write_error(e, cluster))?;
        let mut replies = replies.into_iter();
        let landed = replies.next().unwrap_or(Value::Nil);
        if self.settings.replicas_ack > 0 {
            self.check_replicas(replies.next())?;
        }
        parse(&landed, entries)
    }

    /// The plain write: `XADD` per entry (in `MULTI`/`EXEC` when several),
    /// then `WAIT` with `REPLICAS_ACK`, in one pipeline.
    async fn write_plain(&mut self, entries: &[Entry<'_>]) -> Result<Vec<Landed>, PortError> {
        let atomic = entries.len() > 1;
        let mut pipeline = redis::pipe();
        if atomic {
            pipeline.cmd("MULTI");
        }
        for entry in entries {
            let xadd = pipeline.cmd("XADD").arg(&self.keys.events);
            if self.settings.maxlen > 0 {
                xadd.arg("MAXLEN").arg("~").arg(self.settings.maxlen);
            }
            xadd.arg("*");
            match entry {
                Entry::Runs(runs) => xadd.arg(runs_fields(&runs_of(runs))),
                Entry::Event(fields) => xadd.arg(*fields),
                // Plain writes hold no keyed entry (see `write`).
                Entry::Guarded(model, trials, _) => xadd.arg(observations_fields(model, trials)),
            };
        }
        if atomic {
            pipeline.cmd("EXEC");
        }
        if self.settings.replicas_ack > 0 {
            pipeline
                .cmd("WAIT")
                .arg(self.settings.replicas_ack)
                .arg(self.settings.replicas_timeout.as_millis() as u64);
        }
        let replies: Vec<Value> = pipeline
            .query_async(&mut self.connection)
            .await
            .map_err(|e| write_error(e, false))?;
        // MULTI's OK and a QUEUED per entry come before EXEC's reply.
        let skip = if atomic { entries.len() + 1 } else { 0 };
        let mut replies = replies.into_iter().skip(skip);
        let ids = match (atomic, replies.next()) {
            (true, Some(Value::Array(ids))) => ids,
            (false, Some(id)) => vec![id],
            (_, other) => {
                return Err(PortError::Unknown(
                    format!("unexpected XADD reply {other:?}").into(),
                ));
            }
        };
        if self.settings.replicas_ack > 0 {
            self.check_replicas(replies.next())?;
        }
        if ids.len() != entries.len() {
            return Err(PortError::Unknown(
                format!("{} ids for {} entries", ids.len(), entries.len()).into(),
            ));
        }
        ids.into_iter()
            .map(|id| match redis::from_redis_value::<String>(id) {
                Ok(id) => Ok(Landed::New(id)),
                Err(e) => Err(PortError::Unknown(
                    format!("unexpected XADD reply: {e}").into(),
                )),
            })
            .collect()
    }

    async fn send(
        &mut self,
        token: &str,
        entries: &[Entry<'_>],
        source: bool,
    ) -> redis::RedisResult<Vec<Value>> {
        let entries: Vec<AppendEntry> = entries
            .iter()
            .map(|entry| match entry {
                Entry::Runs(runs) => AppendEntry {
                    guard: None,
                    fields: runs_fields(&runs_of(runs)),
                },
                Entry::Guarded(model, trials, guard) => AppendEntry {
                    guard: Some((
                        self.keys.idempotency(model, guard.key.as_str()),
                        guard.fingerprint.clone(),
                    )),
                    fields: owned(&observations_fields(model, trials)),
                },
                Entry::Event(fields) => AppendEntry {
                    guard: None,
                    fields: owned(fields),
                },
            })
            .collect();
        let call = AppendCall {
            stream: &self.keys.events,
            token,
            maxlen: self.settings.maxlen,
            token_ttl_ms: TOKEN_TTL.as_millis() as u64,
            window_ms: self.settings.idempotency_window.as_millis() as u64,
            entries: &entries,
        };
        let mut pipeline = redis::pipe();
        pipeline.add_command(call.command(source));
        if self.settings.replicas_ack > 0 {
            pipeline
                .cmd("WAIT")
                .arg(self.settings.replicas_ack)
                .arg(self.settings.replicas_timeout.as_millis() as u64);
        }
        pipeline.query_async(&mut self.connection).await
    }

    fn check_replicas(&self, reply: Option<Value>) -> Result<(), PortError> {
        let acknowledged = match reply {
            Some(Value::Int(n)) => n,
            other => {
                return Err(PortError::Unconfirmed(
                    format!("unexpected WAIT reply {other:?}").into(),
                ));
            }
        };
        if acknowledged < i64::from(self.settings.replicas_ack) {
            metrics::counter!("api_replica_ack_failures_total").increment(1);
            return Err(PortError::Unconfirmed(
                format!(
                    "{acknowledged} of the {} replicas asked for confirmed the write to {} in {:?}",
                    self.settings.replicas_ack, self.keys.events, self.settings.replicas_timeout
                )
                .into(),
            ));
        }
        Ok(())
    }
}

/// Where each entry landed, from the script's reply.
fn parse(reply: &Value, entries: &[Entry<'_>]) -> Result<Vec<Landed>, PortError> {
    // The script ran, so its entries are likely stored: unknown, not "failed".
    let replies =
        AppendReply::parse(reply, entries.len()).map_err(|e| PortError::Unknown(e.into()))?;
    replies
        .into_iter()
        .zip(entries)
        .map(|(landed, entry)| match (landed, entry) {
            (AppendReply::New(id), _) => Ok(Landed::New(id)),
            (
                AppendReply::Recorded {
                    fingerprint,
                    id,
                    index,
                },
                Entry::Guarded(_, _, guard),
            ) => Ok(if guard.fingerprint == fingerprint {
                Landed::Replayed(id, index)
            } else {
                Landed::KeyReused(guard.key.as_str().to_owned())
            }),
            (AppendReply::Recorded { .. }, _) => Err(PortError::Unknown(
                "a record answered for an entry without a key".into(),
            )),
        })
        .collect()
}

/// Fields as the append call takes them.
fn owned<F: AsRef<str>, V: AsRef<str>>(fields: &[(F, V)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(f, v)| (f.as_ref().to_owned(), v.as_ref().to_owned()))
        .collect()
}

/// Runs as the entry format takes them.
fn runs_of<'a>(runs: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    runs.iter()
        .map(|(model, trials)| (*model, trials.as_str()))
        .collect()
}
