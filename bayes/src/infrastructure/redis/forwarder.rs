//! The pub/sub side: the forwarding lease, lease-checked appends to each
//! model's partition, and the subscription to `<channel>` and `<channel>:*`.

use super::{claim_lease, port_error, release_lease};
use crate::application::{ChannelMessage, ChannelMessages, ForwardLog, Forwarded, PortError};
use async_trait::async_trait;
use domain::Observation;
use futures_util::{FutureExt, StreamExt};
use platform::RedisConnection;
use platform::RedisKeys;
use platform::log_entry::{DEFAULT_MODEL, SOURCE, SOURCE_PUBSUB};
use platform::partition::partition_of;
use platform::scripts::{LEASE_APPEND, LEASE_FORWARD};
use redis::Client;
use redis::aio::PubSubStream;
use std::time::Duration;

/// Lease-checked writes to the log and the dead-letter stream.
pub struct RedisForwardLog {
    connection: RedisConnection,
    keys: RedisKeys,
    instance: String,
    lease_ttl: Duration,
    stream_maxlen: u64,
    dead_maxlen: u64,
}

impl RedisForwardLog {
    /// Writes as `instance`, holding the lease for `lease_ttl` per renewal.
    pub fn new(
        connection: RedisConnection,
        keys: RedisKeys,
        instance: String,
        lease_ttl: Duration,
        stream_maxlen: u64,
        dead_maxlen: u64,
    ) -> Self {
        Self {
            connection,
            keys,
            instance,
            lease_ttl,
            stream_maxlen,
            dead_maxlen: dead_maxlen.max(1),
        }
    }

    /// Takes or renews `lease`; whether it is ours.
    async fn claim(&self, lease: &str) -> Result<bool, PortError> {
        claim_lease(&self.connection, lease, &self.instance, self.lease_ttl).await
    }

    async fn append_if_leader(
        &self,
        fence: &str,
        stream: &str,
        maxlen: u64,
        fields: &[(&str, &str)],
    ) -> Result<Forwarded, PortError> {
        let mut invocation = LEASE_APPEND.prepare_invoke();
        invocation
            .key(fence)
            .key(stream)
            .arg(&self.instance)
            .arg(maxlen);
        for (field, value) in fields {
            invocation.arg(*field).arg(*value);
        }
        let appended: i64 = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(port_error)?;
        Ok(if appended == 1 {
            Forwarded::Appended
        } else {
            Forwarded::NotLeader
        })
    }
}

#[async_trait]
impl ForwardLog for RedisForwardLog {
    /// The lease, then its fence in every partition: a new holder forwards
    /// only once the previous holder's fences are gone (released, or
    /// expired a lease period after its last renewal), so no message is
    /// forwarded by two instances even though the claims are not atomic.
    async fn acquire(&self) -> Result<bool, PortError> {
        if !self.claim(&self.keys.ingress_lease).await? {
            return Ok(false);
        }
        let claims = self
            .keys
            .partitions()
            .iter()
            .map(|partition| self.claim(&partition.ingress));
        let claimed = futures_util::future::try_join_all(claims).await?;
        Ok(claimed.into_iter().all(|ours| ours))
    }

    async fn forward(
        &self,
        observations: &[(String, Vec<Observation>)],
    ) -> Result<Forwarded, PortError> {
        // One lease-checked append per partition: a script touches one slot.
        let mut by_partition: Vec<(u32, Vec<(String, String)>)> = Vec::new();
        for (model, list) in observations {
            let partition = partition_of(model, self.keys.partition_count());
            let trials: String = list.iter().map(|o| o.as_str()).collect();
            let model = if model == DEFAULT_MODEL {
                String::new()
            } else {
                model.clone()
            };
            match by_partition.iter_mut().find(|(p, _)| *p == partition) {
                Some((_, entries)) => entries.push((model, trials)),
                None => by_partition.push((partition, vec![(model, trials)])),
            }
        }
        for (partition, entries) in by_partition {
            let Some(keys) = self.keys.partition(partition) else {
                continue;
            };
            let mut invocation = LEASE_FORWARD.prepare_invoke();
            invocation
                .key(&keys.ingress)
                .key(&keys.events)
                .arg(&self.instance)
                .arg(self.stream_maxlen);
            for (model, trials) in &entries {
                invocation.arg(model).arg(trials);
            }
            let appended: i64 = invocation
                .invoke_async(&mut self.connection.clone())
                .await
                .map_err(port_error)?;
            if appended == 0 {
                return Ok(Forwarded::NotLeader);
            }
        }
        Ok(Forwarded::Appended)
    }

    async fn dead_letter(&self, reason: &str, raw: &str) -> Result<Forwarded, PortError> {
        let fields = [(SOURCE, SOURCE_PUBSUB), ("reason", reason), ("raw", raw)];
        // Pub/sub's bad messages go to the first partition's dead letters.
        let first = &self.keys.partitions()[0];
        let forwarded = self
            .append_if_leader(&first.ingress, &first.dead, self.dead_maxlen, &fields)
            .await?;
        Ok(match forwarded {
            Forwarded::Appended => Forwarded::DeadLettered,
            other => other,
        })
    }

    /// The fences first, then the lease: a successor waits for our fences.
    async fn release(&self) -> Result<(), PortError> {
        let fences = self.keys.partitions().iter().map(|p| p.ingress.as_str());
        for lease in fences.chain([self.keys.ingress_lease.as_str()]) {
            release_lease(&self.connection, lease, &self.instance).await?;
        }
        Ok(())
    }
}

/// A subscription to the channel on a connection of its own. On a cluster
/// (a message published on any node reaches every node) each subscription
/// tries the next of the nodes given.
pub struct RedisChannel {
    nodes: Vec<Client>,
    attempts: usize,
    channel: String,
    timeout: Duration,
    messages: Option<PubSubStream>,
}

impl RedisChannel {
    /// Subscribes to `channel` on one of `nodes`, waiting at most `timeout` to connect.
    pub fn new(nodes: Vec<Client>, channel: String, timeout: Duration) -> Self {
        Self {
            nodes,
            attempts: 0,
            channel,
            timeout,
            messages: None,
        }
    }
}

#[async_trait]
impl ChannelMessages for RedisChannel {
    async fn subscribe(&mut self) -> Result<(), PortError> {
        self.messages = None;
        let at = self.attempts % self.nodes.len().max(1);
        self.attempts = self.attempts.wrapping_add(1);
        let client = self
            .nodes
            .get(at)
            .ok_or_else(|| PortError::Failed("no Redis node to subscribe on".into()))?;
        let subscribe = async {
            let mut pubsub = client.get_async_pubsub().await?;
            // One pattern for `<channel>` and `<channel>:<model>`; the
            // forwarder refuses what else `<channel>*` matches.
            pubsub.psubscribe(format!("{}*", self.channel)).await?;
            Ok::<_, redis::RedisError>(pubsub.into_on_message())
        };
        let messages = tokio::time::timeout(self.timeout, subscribe)
            .await
            .map_err(|_| PortError::Unavailable("timed out subscribing".into()))?
            .map_err(port_error)?;
        self.messages = Some(messages);
        Ok(())
    }

    async fn next(&mut self) -> Option<ChannelMessage> {
        let message = self.messages.as_mut()?.next().await?;
        Some(channel_message(&message))
    }

    fn ready(&mut self) -> Option<ChannelMessage> {
        let message = self.messages.as_mut()?.next().now_or_never()??;
        Some(channel_message(&message))
    }

    async fn unsubscribe(&mut self) {
        // Dropping the stream closes its connection, which ends the subscription.
        self.messages = None;
    }
}

fn channel_message(message: &redis::Msg) -> ChannelMessage {
    ChannelMessage {
        channel: message.get_channel_name().to_owned(),
        payload: message.get_payload_bytes().to_vec(),
    }
}
