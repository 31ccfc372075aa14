//! The legacy pub/sub forwarder: `PUBLISH update_model w` is appended to the
//! log of the model `default`, `PUBLISH update_model:<name> w` to `<name>`'s,
//! and from there applied like any other entry.
//!
//! Pub/sub keeps nothing for a subscriber that is away, so this path is
//! at-most-once. To keep it from being at-least-twice with several bayes
//! instances, only the holder of a lease in Redis subscribes, and every
//! forward checks the lease atomically with the append. A message is thus
//! forwarded only by the instance holding the lease at that instant, and an
//! instance subscribes only after taking the lease, so it never sees a
//! message that an earlier holder already forwarded.

use super::batch::printable;
use super::retry::Backoff;
use super::{ChannelMessage, ChannelMessages, ForwardLog, Forwarded, PortError};
use domain::{ModelName, Observation};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Most messages appended in one step.
const MAX_FORWARD_BATCH: usize = 1_000;

/// Forwards the channel into the log while this instance holds the lease.
pub struct Forwarder<M> {
    log: Arc<dyn ForwardLog>,
    messages: M,
    channel: String,
    renew_every: Duration,
}

impl<M: ChannelMessages> Forwarder<M> {
    /// Forwards `messages` from `channel` and `channel:<name>` into `log`,
    /// renewing (or trying to take) the lease every `renew_every`, which must
    /// be well under the lease's TTL.
    pub fn new(
        log: Arc<dyn ForwardLog>,
        messages: M,
        channel: String,
        renew_every: Duration,
    ) -> Self {
        Self {
            log,
            messages,
            channel,
            renew_every,
        }
    }

    /// Runs until `shutdown`, then gives the lease up.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut backoff = Backoff::new(
            Duration::from_millis(100),
            self.renew_every.max(Duration::from_millis(100)),
        );
        while !shutdown.is_cancelled() {
            match self.log.acquire().await {
                Ok(true) => {}
                Ok(false) => {
                    if !Backoff::new(self.renew_every, self.renew_every)
                        .wait(&shutdown)
                        .await
                    {
                        break;
                    }
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot take the pub/sub forwarding lease; retrying");
                    backoff.wait(&shutdown).await;
                    continue;
                }
            }
            if let Err(error) = self.messages.subscribe().await {
                tracing::warn!(%error, "cannot subscribe to the pub/sub channel; retrying");
                backoff.wait(&shutdown).await;
                continue;
            }
            backoff.reset();
            metrics::counter!("bayes_pubsub_subscriptions_total").increment(1);
            tracing::info!(
                "forwarding the pub/sub channel into the event log (this instance holds the lease)"
            );
            self.lead(&shutdown).await;
            self.messages.unsubscribe().await;
        }
        if let Err(error) = self.log.release().await {
            tracing::debug!(%error, "could not release the forwarding lease; it expires by itself");
        }
        tracing::info!("pub/sub forwarder stopped");
    }

    /// Forwards messages until the lease or the connection is lost, or shutdown.
    async fn lead(&mut self, shutdown: &CancellationToken) {
        let mut renew = tokio::time::interval(self.renew_every);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        renew.tick().await;
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                _ = renew.tick() => match self.log.acquire().await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("another instance took the forwarding lease; stopping forwarding");
                        return;
                    }
                    Err(error) => tracing::warn!(%error, "cannot renew the forwarding lease"),
                },
                message = self.messages.next() => match message {
                    Some(first) => {
                        // Whatever else has arrived goes in the same atomic append.
                        let mut messages = vec![first];
                        while messages.len() < MAX_FORWARD_BATCH {
                            let Some(message) = self.messages.ready() else { break };
                            messages.push(message);
                        }
                        if self.forward(&messages).await == Some(Forwarded::NotLeader) {
                            tracing::warn!("lost the forwarding lease; stopping forwarding");
                            return;
                        }
                    }
                    None => {
                        tracing::warn!("pub/sub connection lost; subscribing again");
                        return;
                    }
                },
            }
        }
    }

    /// Appends the observations among `messages` (one step per partition)
    /// and dead-letters the rest. `None` if Redis failed, in which case the
    /// messages are lost, as pub/sub messages are when nobody can take them.
    async fn forward(&self, messages: &[ChannelMessage]) -> Option<Forwarded> {
        let mut by_model: Vec<(String, Vec<Observation>)> = Vec::new();
        for message in messages {
            match self.observation(message) {
                Ok((model, observation)) => match by_model.iter_mut().find(|(m, _)| *m == model) {
                    Some((_, observations)) => observations.push(observation),
                    None => by_model.push((model, vec![observation])),
                },
                Err(reason) => {
                    tracing::warn!(%reason, channel = %message.channel, "pub/sub message is not an observation; dead-lettered");
                    let result = self
                        .log
                        .dead_letter(&reason, &printable(&message.payload))
                        .await;
                    self.record(result, 1)?;
                }
            }
        }
        if by_model.is_empty() {
            return Some(Forwarded::DeadLettered);
        }
        let count = by_model.iter().map(|(_, o)| o.len() as u64).sum();
        let result = self.log.forward(&by_model).await;
        self.record(result, count)
    }

    /// The model a message is for (from its channel) and its observation.
    fn observation(&self, message: &ChannelMessage) -> Result<(String, Observation), String> {
        let model = match message.channel.strip_prefix(self.channel.as_str()) {
            Some("") => ModelName::default_model(),
            Some(suffix) => suffix
                .strip_prefix(':')
                .ok_or_else(|| {
                    format!(
                        "channel {:?} is not {:?} or {:?}",
                        message.channel,
                        self.channel,
                        format!("{}:<model>", self.channel)
                    )
                })
                .and_then(|name| ModelName::parse(name).map_err(|e| e.to_string()))?,
            None => return Err(format!("channel {:?} is not ours", message.channel)),
        };
        let observation = Observation::parse_bytes(&message.payload).map_err(|e| e.to_string())?;
        Ok((model.as_str().to_owned(), observation))
    }

    fn record(&self, result: Result<Forwarded, PortError>, messages: u64) -> Option<Forwarded> {
        match result {
            Ok(forwarded) => {
                let outcome = match forwarded {
                    Forwarded::Appended => "appended",
                    Forwarded::DeadLettered => "dead_lettered",
                    Forwarded::NotLeader => "not_leader",
                };
                metrics::counter!("bayes_pubsub_messages_total", "outcome" => outcome)
                    .increment(messages);
                Some(forwarded)
            }
            Err(error) => {
                metrics::counter!("bayes_pubsub_messages_total", "outcome" => "lost")
                    .increment(messages);
                metrics::counter!("bayes_redis_errors_total", "op" => "forward").increment(1);
                tracing::error!(%error, messages, "cannot forward pub/sub messages; they are lost (pub/sub is at-most-once)");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
