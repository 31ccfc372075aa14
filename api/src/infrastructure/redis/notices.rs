//! Notices of applied batches, for the live view: one subscription to the
//! channel bayes publishes on after each batch, on a connection of its own,
//! fanned out to every open `/events` stream through a broadcast channel.
//! Bounded work per notice: it is passed on as it came (a partition and at
//! most 64 model names). After a reconnect the streams are told to resync,
//! since notices published meanwhile are gone (pub/sub keeps nothing).

use crate::application::Notice;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::broadcast;

/// Notices buffered per stream before a slow one is told to resync.
const BUFFER: usize = 256;

/// The notices' sender, and the subscription to `channel` that feeds it:
/// a loop for the caller to run (and supervise) for as long as the process
/// runs, reconnecting with a growing pause (0.1 s to 2 s) while Redis is
/// away. On a cluster, where a message published on any node reaches every
/// node, each attempt tries the next of `nodes`.
pub fn start(
    nodes: Vec<redis::Client>,
    channel: String,
) -> (
    broadcast::Sender<Notice>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (sender, _) = broadcast::channel(BUFFER);
    let notices = sender.clone();
    let subscription = async move {
        let mut pause = Duration::from_millis(100);
        for client in nodes.iter().cycle() {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                    Ok(()) => {
                        pause = Duration::from_millis(100);
                        let _ = notices.send(Notice::Resync);
                        let mut messages = pubsub.into_on_message();
                        while let Some(message) = messages.next().await {
                            if let Ok(payload) = message.get_payload::<String>() {
                                // No receiver: nobody is watching.
                                let _ = notices.send(Notice::Applied(payload));
                            }
                        }
                        tracing::warn!(%channel, "the notice subscription ended; resubscribing");
                    }
                    Err(error) => tracing::warn!(%error, %channel, "cannot subscribe to notices"),
                },
                Err(error) => tracing::debug!(%error, "cannot connect for notices"),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    };
    (sender, subscription)
}
