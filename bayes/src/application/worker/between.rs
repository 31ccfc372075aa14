//! The worker's steps between two batches: the referee's evaluation of a
//! tick that is over, and the retrying of a step while the store fails.

use super::Workers;
use crate::application::referee::{Referee, Superseded};
use crate::application::retry::{Backoff, Episode};
use crate::application::{Batch, PortError};
use tokio_util::sync::CancellationToken;

impl Workers {
    /// The referee's part between two batches: settle the pending tick if
    /// it is over. `None` if `stop` came while the store failed.
    pub(super) async fn referee_step(
        &self,
        referee: &mut Referee,
        batch: &Batch,
        cursor: &str,
        partition: u32,
        stop: &CancellationToken,
    ) -> Option<Result<(), Superseded>> {
        let Some(store) = self.referee.as_ref().map(|(s, _)| s.clone()) else {
            return Some(Ok(()));
        };
        if batch.is_empty()
            && referee.watches_elsewhere()
            && referee.pending().is_none()
            && let Ok(now) = store.now().await
        {
            referee.poll_elsewhere(now);
        }
        let Some(pending) = referee.pending() else {
            return Some(Ok(()));
        };
        let due = if batch.is_empty() {
            // Idle: the tick is over once the log's clock passed its end.
            store.now().await.is_ok_and(|now| now >= pending)
        } else {
            batch.tick > pending
        };
        if !due {
            return Some(Ok(()));
        }
        let mut retrying = Retrying::new("cannot evaluate the experiments", partition);
        loop {
            match referee.settle(cursor).await {
                Ok(outcome) => {
                    retrying.recovered();
                    return Some(outcome);
                }
                Err(error) => {
                    if !retrying.failed(&error, stop).await {
                        return None;
                    }
                }
            }
        }
    }
}

/// A step retried while the store fails, logged once an episode.
pub(super) struct Retrying {
    what: &'static str,
    partition: u32,
    backoff: Backoff,
    failing: Episode,
}

impl Retrying {
    pub(super) fn new(what: &'static str, partition: u32) -> Self {
        Self {
            what,
            partition,
            backoff: Backoff::default(),
            failing: Episode::default(),
        }
    }

    /// Logs `error` and waits; `false` if `stop` came first.
    pub(super) async fn failed(&mut self, error: &PortError, stop: &CancellationToken) -> bool {
        self.failing.failed(self.what, Some(self.partition), error);
        self.backoff.wait(stop).await
    }

    pub(super) fn recovered(&mut self) {
        self.failing.recovered(self.what, Some(self.partition));
    }
}
