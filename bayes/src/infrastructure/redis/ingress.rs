//! The pub/sub side: the forwarding lease, lease-checked appends, and the
//! channel subscription.

use super::port_error;
use crate::application::{ChannelMessages, Forwarded, IngressLog, PortError};
use async_trait::async_trait;
use domain::Observation;
use futures_util::{FutureExt, StreamExt};
use platform::RedisKeys;
use redis::aio::{ConnectionManager, PubSubStream};
use redis::{Client, Script};
use std::time::Duration;

/// Lease-checked writes to the log and the dead-letter stream.
pub struct RedisIngressLog {
    connection: ConnectionManager,
    keys: RedisKeys,
    instance: String,
    lease_ttl: Duration,
    stream_maxlen: u64,
    dead_maxlen: u64,
    acquire: Script,
    release: Script,
    append: Script,
    forward: Script,
}

impl RedisIngressLog {
    /// Writes as `instance`, holding the lease for `lease_ttl` per renewal.
    pub fn new(
        connection: ConnectionManager,
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
            acquire: Script::new(include_str!("scripts/lease_acquire.lua")),
            release: Script::new(include_str!("scripts/lease_release.lua")),
            append: Script::new(include_str!("scripts/lease_append.lua")),
            forward: Script::new(include_str!("scripts/lease_forward.lua")),
        }
    }

    async fn append_if_leader(
        &self,
        stream: &str,
        maxlen: u64,
        fields: &[(&str, &str)],
    ) -> Result<Forwarded, PortError> {
        let mut invocation = self.append.prepare_invoke();
        invocation
            .key(&self.keys.ingress_lease)
            .key(stream)
            .arg(&self.instance)
            .arg(maxlen);
        for (field, value) in fields {
            invocation.arg(*field).arg(*value);
        }
        let appended: i64 = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        Ok(if appended == 1 {
            Forwarded::Appended
        } else {
            Forwarded::NotLeader
        })
    }
}

#[async_trait]
impl IngressLog for RedisIngressLog {
    async fn acquire(&self) -> Result<bool, PortError> {
        let mut invocation = self.acquire.prepare_invoke();
        invocation
            .key(&self.keys.ingress_lease)
            .arg(&self.instance)
            .arg(self.lease_ttl.as_millis() as u64);
        let ours: i64 = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        Ok(ours == 1)
    }

    async fn forward(&self, observations: &[Observation]) -> Result<Forwarded, PortError> {
        let mut invocation = self.forward.prepare_invoke();
        invocation
            .key(&self.keys.ingress_lease)
            .key(&self.keys.events)
            .arg(&self.instance)
            .arg(self.stream_maxlen);
        for observation in observations {
            invocation.arg(observation.as_str());
        }
        let appended: i64 = invocation
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| port_error(&e))?;
        Ok(if appended > 0 {
            Forwarded::Appended
        } else {
            Forwarded::NotLeader
        })
    }

    async fn dead_letter(&self, reason: &str, raw: &str) -> Result<Forwarded, PortError> {
        let fields = [("source", "pubsub"), ("reason", reason), ("raw", raw)];
        let forwarded = self
            .append_if_leader(&self.keys.dead, self.dead_maxlen, &fields)
            .await?;
        Ok(match forwarded {
            Forwarded::Appended => Forwarded::DeadLettered,
            other => other,
        })
    }

    async fn release(&self) -> Result<(), PortError> {
        let mut invocation = self.release.prepare_invoke();
        invocation.key(&self.keys.ingress_lease).arg(&self.instance);
        invocation
            .invoke_async::<i64>(&mut self.connection.clone())
            .await
            .map(drop)
            .map_err(|e| port_error(&e))
    }
}

/// A subscription to the channel on a connection of its own.
pub struct RedisChannel {
    client: Client,
    channel: String,
    timeout: Duration,
    messages: Option<PubSubStream>,
}

impl RedisChannel {
    /// Subscribes to `channel` with `client`, waiting at most `timeout` to connect.
    pub fn new(client: Client, channel: String, timeout: Duration) -> Self {
        Self {
            client,
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
        let subscribe = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            Ok::<_, redis::RedisError>(pubsub.into_on_message())
        };
        let messages = tokio::time::timeout(self.timeout, subscribe)
            .await
            .map_err(|_| PortError::Unavailable("timed out subscribing".into()))?
            .map_err(|e| port_error(&e))?;
        self.messages = Some(messages);
        Ok(())
    }

    async fn next(&mut self) -> Option<Vec<u8>> {
        let message = self.messages.as_mut()?.next().await?;
        Some(message.get_payload_bytes().to_vec())
    }

    fn ready(&mut self) -> Option<Vec<u8>> {
        let message = self.messages.as_mut()?.next().now_or_never()??;
        Some(message.get_payload_bytes().to_vec())
    }

    async fn unsubscribe(&mut self) {
        // Dropping the stream closes its connection, which ends the subscription.
        self.messages = None;
    }
}
