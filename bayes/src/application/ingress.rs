//! The legacy pub/sub ingress: `PUBLISH update_model w` is appended to the
//! event log and from there applied like any other entry.
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
use super::{ChannelMessages, Forwarded, IngressLog, PortError};
use domain::Observation;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Most messages appended in one step.
const MAX_FORWARD_BATCH: usize = 1_000;

/// Forwards the channel into the log while this instance holds the lease.
pub struct Ingress<M> {
    log: Arc<dyn IngressLog>,
    messages: M,
    renew_every: Duration,
}

impl<M: ChannelMessages> Ingress<M> {
    /// Forwards `messages` into `log`, renewing (or trying to take) the lease
    /// every `renew_every`, which must be well under the lease's TTL.
    pub fn new(log: Arc<dyn IngressLog>, messages: M, renew_every: Duration) -> Self {
        Self {
            log,
            messages,
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
        tracing::info!("pub/sub ingress stopped");
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
                        let mut payloads = vec![first];
                        while payloads.len() < MAX_FORWARD_BATCH {
                            let Some(payload) = self.messages.ready() else { break };
                            payloads.push(payload);
                        }
                        if self.forward(&payloads).await == Some(Forwarded::NotLeader) {
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

    /// Appends the observations among `payloads` in one step and
    /// dead-letters the rest. `None` if Redis failed, in which case the
    /// messages are lost, as pub/sub messages are when nobody can take them.
    async fn forward(&self, payloads: &[Vec<u8>]) -> Option<Forwarded> {
        let mut observations = Vec::with_capacity(payloads.len());
        for payload in payloads {
            match Observation::parse_bytes(payload) {
                Ok(observation) => observations.push(observation),
                Err(error) => {
                    tracing::warn!(reason = %error, "pub/sub message is not an observation; dead-lettered");
                    let result = self
                        .log
                        .dead_letter(&error.to_string(), &printable(payload))
                        .await;
                    self.record(result, 1)?;
                }
            }
        }
        if observations.is_empty() {
            return Some(Forwarded::DeadLettered);
        }
        let result = self.log.forward(&observations).await;
        self.record(result, observations.len() as u64)
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
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// A log that grants the lease while `leader` is set, and records writes.
    #[derive(Default)]
    struct Log {
        leader: Mutex<bool>,
        appended: Mutex<Vec<Observation>>,
        dead: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl IngressLog for Log {
        async fn acquire(&self) -> Result<bool, PortError> {
            Ok(*self.leader.lock().unwrap())
        }

        async fn forward(&self, observations: &[Observation]) -> Result<Forwarded, PortError> {
            if !*self.leader.lock().unwrap() {
                return Ok(Forwarded::NotLeader);
            }
            self.appended
                .lock()
                .unwrap()
                .extend_from_slice(observations);
            Ok(Forwarded::Appended)
        }

        async fn dead_letter(&self, reason: &str, _raw: &str) -> Result<Forwarded, PortError> {
            self.dead.lock().unwrap().push(reason.to_owned());
            Ok(Forwarded::DeadLettered)
        }

        async fn release(&self) -> Result<(), PortError> {
            *self.leader.lock().unwrap() = false;
            Ok(())
        }
    }

    /// Messages already published; ends the test when they run out.
    struct Messages {
        queue: VecDeque<Vec<u8>>,
        subscriptions: Arc<Mutex<usize>>,
        shutdown: CancellationToken,
    }

    #[async_trait]
    impl ChannelMessages for Messages {
        async fn subscribe(&mut self) -> Result<(), PortError> {
            *self.subscriptions.lock().unwrap() += 1;
            Ok(())
        }

        async fn next(&mut self) -> Option<Vec<u8>> {
            match self.queue.pop_front() {
                Some(message) => Some(message),
                None => {
                    self.shutdown.cancel();
                    std::future::pending().await
                }
            }
        }

        fn ready(&mut self) -> Option<Vec<u8>> {
            self.queue.pop_front()
        }

        async fn unsubscribe(&mut self) {}
    }

    async fn run(leader: bool, payloads: &[&[u8]]) -> (Arc<Log>, usize) {
        let log = Arc::new(Log::default());
        *log.leader.lock().unwrap() = leader;
        let shutdown = CancellationToken::new();
        let subscriptions = Arc::new(Mutex::new(0));
        let messages = Messages {
            queue: payloads.iter().map(|p| p.to_vec()).collect(),
            subscriptions: subscriptions.clone(),
            shutdown: shutdown.clone(),
        };
        let ingress = Ingress::new(log.clone(), messages, Duration::from_millis(20));
        if !leader {
            let stop = shutdown.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                stop.cancel();
            });
        }
        ingress.run(shutdown).await;
        let subscribed = *subscriptions.lock().unwrap();
        (log, subscribed)
    }

    #[tokio::test]
    async fn the_leader_forwards_observations_and_dead_letters_the_rest() {
        let (log, subscribed) = run(true, &[b"w", b"l", b"x", b"w", b"", b"W"]).await;
        assert_eq!(subscribed, 1);
        assert_eq!(
            *log.appended.lock().unwrap(),
            [Observation::Win, Observation::Loss, Observation::Win]
        );
        assert_eq!(log.dead.lock().unwrap().len(), 3);
        assert!(
            !*log.leader.lock().unwrap(),
            "the lease is given up at shutdown"
        );
    }

    #[tokio::test]
    async fn an_instance_without_the_lease_never_subscribes() {
        let (log, subscribed) = run(false, &[b"w"]).await;
        assert_eq!(subscribed, 0);
        assert!(log.appended.lock().unwrap().is_empty());
    }
}
