//! Waiting between attempts: exponential backoff that gives way to shutdown.

use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Doubling delays from `min` up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    /// Delays from `min`, doubling, capped at `max`.
    #[must_use]
    pub const fn new(min: Duration, max: Duration) -> Self {
        Self {
            next: min,
            min,
            max,
        }
    }

    /// Back to the shortest delay, after a success.
    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// Sleeps the next delay. `false` if shutdown came first.
    pub async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        tokio::select! {
            () = shutdown.cancelled() => false,
            () = tokio::time::sleep(delay) => true,
        }
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(50), Duration::from_secs(2))
    }
}

/// A run of failures of one operation, logged once: the first failure as
/// a warning, the rest at debug level, and the recovery with how many
/// attempts failed and for how long. An outage (Redis away or out of
/// memory for minutes) then costs two log lines, not one per attempt.
#[derive(Debug, Default)]
pub struct Episode {
    failures: u64,
    since: Option<std::time::Instant>,
}

impl Episode {
    /// Records a failure of `what` (on `partition`, if any); logs the first.
    pub fn failed(&mut self, what: &str, partition: Option<u32>, error: &dyn std::fmt::Display) {
        self.failures += 1;
        if self.failures == 1 {
            self.since = Some(std::time::Instant::now());
            tracing::warn!(%error, ?partition, "{what}; retrying (logged again when it recovers)");
        } else {
            tracing::debug!(%error, ?partition, failures = self.failures, "{what}; retrying");
        }
    }

    /// Records a success; logs the end of an episode of failures.
    pub fn recovered(&mut self, what: &str, partition: Option<u32>) {
        if self.failures == 0 {
            return;
        }
        let seconds = self
            .since
            .map_or(0.0, |since| since.elapsed().as_secs_f64());
        tracing::info!(
            ?partition,
            failures = self.failures,
            seconds,
            "{what}: recovered"
        );
        self.failures = 0;
        self.since = None;
    }

    /// Failures since the last success.
    #[must_use]
    pub fn failures(&self) -> u64 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_episode_counts_failures_until_it_recovers() {
        let mut episode = Episode::default();
        episode.recovered("nothing", None);
        assert_eq!(episode.failures(), 0);
        episode.failed("cannot apply", Some(1), &"OOM");
        episode.failed("cannot apply", Some(1), &"OOM");
        assert_eq!(episode.failures(), 2);
        episode.recovered("cannot apply", Some(1));
        assert_eq!(episode.failures(), 0);
    }
}
