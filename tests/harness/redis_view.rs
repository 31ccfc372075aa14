//! What a test reads back from Redis: the counts, the log, the cursor, the
//! consumer group, the dead letters, the channels.

use super::{SETTLE, TestApp, eventually};
use redis::AsyncCommands;

impl TestApp {
    /// The deployment's keys (its `PARTITIONS` from the environment given).
    pub fn keys(&self) -> platform::RedisKeys {
        let partitions = self
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == "PARTITIONS")
            .map_or(1, |(_, v)| v.parse().expect("PARTITIONS is a number"));
        platform::RedisKeys::new(&self.prefix, partitions)
    }

    /// The counts `(w, n)` of `model` as stored now, wherever it lives.
    pub async fn model_counts(&self, model: &str) -> (u64, u64) {
        let name = domain::ModelName::parse(model).expect("a valid model name");
        let mut connection = self.redis.connection().await;
        let (w, n): (Option<u64>, Option<u64>) = redis::cmd("HMGET")
            .arg(self.keys().model(&name))
            .arg("w")
            .arg("n")
            .query_async(&mut connection)
            .await
            .expect("HMGET model");
        (w.unwrap_or(0), n.unwrap_or(0))
    }

    /// Log entries appended and not applied yet (the partition's lag),
    /// read atomically: what a kill at this moment leaves in flight.
    pub async fn unapplied(&self) -> u64 {
        let mut connection = self.redis.connection().await;
        let answer: redis::RedisResult<(
            std::collections::HashMap<String, redis::Value>,
            Option<u64>,
        )> = redis::pipe()
            .atomic()
            .cmd("XINFO")
            .arg("STREAM")
            .arg(self.key("events"))
            .cmd("HGET")
            .arg(self.key("cursor"))
            .arg("read")
            .query_async(&mut connection)
            .await;
        let (info, read) = match answer {
            Ok(answer) => answer,
            // Nothing appended yet, and bayes has not started the partition.
            Err(error) if error.to_string().contains("no such key") => return 0,
            Err(error) => panic!("XINFO STREAM and the cursor: {error}"),
        };
        let added = info
            .get("entries-added")
            .and_then(|v| redis::from_redis_value::<u64>(v.clone()).ok())
            .expect("entries-added");
        added.saturating_sub(read.unwrap_or(0))
    }

    /// A Redis key under this test's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.prefix)
    }

    /// The counts `(w, n)` as stored in Redis now.
    pub async fn counts(&self) -> (u64, u64) {
        self.model_counts("default").await
    }

    /// Waits until the stored `n` is exactly `n`; panics if it passes or never gets there.
    pub async fn wait_for_n(&self, n: u64) -> (u64, u64) {
        eventually(&format!("n = {n}"), SETTLE, || async {
            let counts = self.counts().await;
            assert!(
                counts.1 <= n,
                "counted {} observations, more than the {n} sent",
                counts.1
            );
            (counts.1 == n).then_some(counts)
        })
        .await
    }

    /// Waits until something is subscribed to the pub/sub channels (bayes
    /// subscribes to the pattern `<channel>*`).
    pub async fn wait_for_subscriber(&self) {
        let mut connection = self.redis.connection().await;
        eventually("a subscriber on the channel", SETTLE, || {
            let mut connection = connection.clone();
            async move {
                let patterns: u64 = redis::cmd("PUBSUB")
                    .arg("NUMPAT")
                    .query_async(&mut connection)
                    .await
                    .ok()?;
                (patterns == 1).then_some(())
            }
        })
        .await;
        let _: () = connection
            .set(self.key("probe"), 1)
            .await
            .expect("redis answers");
    }

    /// `PUBLISH <channel> payload`; returns how many subscribers received it.
    pub async fn publish(&self, payload: &[u8]) -> u64 {
        let mut connection = self.redis.connection().await;
        connection
            .publish(&self.channel, payload)
            .await
            .expect("PUBLISH")
    }

    /// Entries of the dead-letter stream, as field maps.
    pub async fn dead_letters(&self) -> Vec<std::collections::HashMap<String, String>> {
        let mut connection = self.redis.connection().await;
        let reply: redis::streams::StreamRangeReply = connection
            .xrange_all(self.key("dead"))
            .await
            .expect("XRANGE dead");
        reply
            .ids
            .into_iter()
            .map(|entry| {
                entry
                    .map
                    .into_iter()
                    .map(|(k, v)| (k, redis::from_redis_value::<String>(v).unwrap_or_default()))
                    .collect()
            })
            .collect()
    }

    /// Observations the event log holds now: one per `trial` entry, one per
    /// letter of a `trials` entry (a group commit).
    pub async fn log_observations(&self) -> u64 {
        let mut connection = self.redis.connection().await;
        let reply: redis::streams::StreamRangeReply = connection
            .xrange_all(self.key("events"))
            .await
            .expect("XRANGE events");
        reply
            .ids
            .iter()
            .map(|entry| {
                let trials = entry
                    .get::<String>("trials")
                    .or_else(|| entry.get::<String>("trial"))
                    .unwrap_or_default();
                trials.bytes().filter(|b| *b == b'w' || *b == b'l').count() as u64
            })
            .sum()
    }

    /// A field of the partition's cursor hash (`id`, `read`, `lost`), 0 when absent.
    pub async fn cursor_field(&self, field: &str) -> u64 {
        let mut connection = self.redis.connection().await;
        let value: Option<u64> = connection
            .hget(self.key("cursor"), field)
            .await
            .expect("HGET cursor");
        value.unwrap_or(0)
    }

    /// What `XINFO STREAM` says of the log: `(entries-added, length)`.
    pub async fn log_info(&self) -> (u64, u64) {
        let mut connection = self.redis.connection().await;
        let info: redis::streams::StreamInfoStreamReply = connection
            .xinfo_stream(self.key("events"))
            .await
            .expect("XINFO STREAM");
        let added: u64 = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(self.key("events"))
            .query_async::<std::collections::HashMap<String, redis::Value>>(&mut connection)
            .await
            .ok()
            .and_then(|map| {
                map.get("entries-added")
                    .and_then(|v| redis::from_redis_value::<u64>(v.clone()).ok())
            })
            .expect("entries-added");
        (added, info.length as u64)
    }

    /// The consumer group `bayes`'s lag as `XINFO GROUPS` reports it (the
    /// cursor moves the group), and its pending count (always 0 in v2).
    pub async fn group_lag(&self) -> (Option<u64>, u64) {
        let mut connection = self.redis.connection().await;
        let groups: Vec<std::collections::HashMap<String, redis::Value>> = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(self.key("events"))
            .query_async(&mut connection)
            .await
            .expect("XINFO GROUPS");
        let group = groups
            .into_iter()
            .find(|g| {
                g.get("name")
                    .and_then(|v| redis::from_redis_value::<String>(v.clone()).ok())
                    .as_deref()
                    == Some("bayes")
            })
            .expect("the group bayes exists");
        let number = |key: &str| {
            group
                .get(key)
                .and_then(|v| redis::from_redis_value::<u64>(v.clone()).ok())
        };
        (number("lag"), number("pending").unwrap_or(0))
    }

    /// Waits until bayes applied every entry appended so far to every
    /// partition (entries added = the cursor's `read`): a barrier, after
    /// which nothing already written can change a count any more.
    pub async fn wait_until_every_partition_applied(&self) {
        let keys = self.keys();
        let connection = self.redis.connection().await;
        eventually("every partition's log applied", SETTLE, || {
            let (mut connection, keys) = (connection.clone(), &keys);
            async move {
                for partition in keys.partitions() {
                    let exists: bool = connection.exists(&partition.events).await.ok()?;
                    let added = if exists {
                        let info: std::collections::HashMap<String, redis::Value> =
                            redis::cmd("XINFO")
                                .arg("STREAM")
                                .arg(&partition.events)
                                .query_async(&mut connection)
                                .await
                                .ok()?;
                        redis::from_redis_value::<u64>(info.get("entries-added")?.clone()).ok()?
                    } else {
                        0
                    };
                    let read: Option<u64> =
                        connection.hget(&partition.cursor, "read").await.ok()?;
                    if read.unwrap_or(0) != added {
                        return None;
                    }
                }
                Some(())
            }
        })
        .await;
    }

    /// Waits until the stored `n` equals the observations the log holds;
    /// returns `(w, n)`. For drills where some requests may have been
    /// stored without their answer arriving.
    pub async fn wait_until_log_applied(&self) -> (u64, u64) {
        eventually("every logged observation applied", SETTLE, || async {
            let logged = self.log_observations().await;
            let counts = self.counts().await;
            assert!(
                counts.1 <= logged,
                "counted {} observations of a log holding {logged}",
                counts.1
            );
            (counts.1 == logged).then_some(counts)
        })
        .await
    }
}
