//! The api's long-running tasks besides the server, built with the
//! application and run under the supervisor: the partition writers (a dead
//! one would fail every write to its partition while the probes answer
//! 200), the subscription to notices and the metrics upkeep.

use metrics_exporter_prometheus::PrometheusHandle;
use platform::supervisor::{Stage, Task};
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The tasks behind the server, in the order they stop.
pub(crate) struct Background {
    /// One per partition; they stop once the server has answered its requests.
    pub(crate) writers: Vec<Task>,
    /// Stops the writers.
    pub(crate) writing: CancellationToken,
    /// Notices and the metrics upkeep: dropped last, they hold nothing.
    pub(crate) upkeep: Vec<Task>,
    /// Stops them.
    pub(crate) upkeeping: CancellationToken,
}

impl Background {
    /// The writers as given, and the upkeep tasks for `notices` and `metrics`.
    pub(crate) fn new(
        writers: Vec<Task>,
        writing: CancellationToken,
        notices: impl Future<Output = ()> + Send + 'static,
        metrics: PrometheusHandle,
    ) -> Self {
        let upkeeping = CancellationToken::new();
        let upkeep = vec![
            Task::cancellable("notices", upkeeping.clone(), ended(notices)),
            Task::cancellable("metrics-upkeep", upkeeping.clone(), upkeep(metrics)),
        ];
        Self {
            writers,
            writing,
            upkeep,
            upkeeping,
        }
    }

    /// With `FAULT_INJECT=panic-writer`, the writer of partition 0 panics a
    /// moment after start, as a bug in it would.
    pub(crate) fn inject(mut self, fault: Option<&str>) -> Self {
        if fault == Some("panic-writer")
            && let Some(writer) = self.writers.first_mut()
        {
            *writer = Task::new(writer.name().to_owned(), async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!("fault injected: FAULT_INJECT=panic-writer");
            });
        }
        self
    }

    /// The stages: `serving` first (the server, which drains its requests),
    /// then the writers, then the upkeep.
    pub(crate) fn stages(self, serving: Stage) -> Vec<Stage> {
        vec![
            serving,
            Stage {
                stop: self.writing,
                tasks: self.writers,
            },
            Stage {
                stop: self.upkeeping,
                tasks: self.upkeep,
            },
        ]
    }
}

async fn ended(work: impl Future<Output = ()>) -> anyhow::Result<()> {
    work.await;
    Ok(())
}

/// Drains the histograms' buckets every 5 s, so memory stays bounded.
async fn upkeep(metrics: PrometheusHandle) -> anyhow::Result<()> {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        every.tick().await;
        metrics.run_upkeep();
    }
}
