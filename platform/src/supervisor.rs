//! Supervised tasks, for both services: every long-running task of the
//! process runs in one [`JoinSet`], awaited together with the shutdown
//! signal. A task that ends before shutdown — returning, failing or
//! panicking — stops the process with an error naming it (a restart policy
//! outside, such as compose's `restart:`, brings it back), instead of
//! leaving a process that answers its probes and does nothing.
//!
//! Stopping is in stages: each stage's token is cancelled and all its tasks
//! awaited before the next stage's (the api's server drains its requests
//! before the writers that answer them stop; bayes's renderer, last, draws
//! the state its consumers left). Nothing is detached: dropping
//! [`supervise`] aborts whatever still runs.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use tokio::task::{Id, JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

type Work = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// A named task, started by [`supervise`].
pub struct Task {
    name: String,
    finite: bool,
    work: Work,
}

impl Task {
    /// The task `name`: `work` must end by itself once its stage's token is
    /// cancelled (finishing what it holds).
    pub fn new(
        name: impl Into<String>,
        work: impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            finite: false,
            work: Box::pin(work),
        }
    }

    /// The task `name` for a loop that holds nothing to finish: `work` is
    /// dropped at its next await once `stop` is cancelled.
    pub fn cancellable(
        name: impl Into<String>,
        stop: CancellationToken,
        work: impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) -> Self {
        Self::new(name, async move {
            tokio::select! {
                result = work => result,
                () = stop.cancelled() => Ok(()),
            }
        })
    }

    /// Marks a task that may finish its work before shutdown: only its
    /// failure (an error or a panic) stops the process.
    #[must_use]
    pub fn finite(mut self) -> Self {
        self.finite = true;
        self
    }

    /// Its name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Tasks stopped together by one token.
pub struct Stage {
    /// Cancelled to stop the stage.
    pub stop: CancellationToken,
    /// Its tasks.
    pub tasks: Vec<Task>,
}

/// What the set knows of a running task.
struct Running {
    stage: usize,
    name: String,
    finite: bool,
}

/// Starts every task of `stages` and waits for `shutdown` or for a task to
/// end early. On an early end, `on_early_end` is called with the task's name
/// (to mark the process unready) before anything stops. Then stops the
/// stages in order, each awaited before the next.
///
/// # Errors
/// A task that ended before shutdown, or failed while stopping, named.
pub async fn supervise(
    stages: Vec<Stage>,
    shutdown: impl Future<Output = ()>,
    on_early_end: impl FnOnce(&str),
) -> anyhow::Result<()> {
    let mut set = JoinSet::new();
    let mut running = HashMap::new();
    let mut stops = Vec::new();
    for (stage, Stage { stop, tasks }) in stages.into_iter().enumerate() {
        stops.push(stop);
        for task in tasks {
            let id = set.spawn(task.work).id();
            let (name, finite) = (task.name, task.finite);
            running.insert(
                id,
                Running {
                    stage,
                    name,
                    finite,
                },
            );
        }
    }
    let mut shutdown = std::pin::pin!(shutdown);
    let mut failure = None;
    loop {
        // With no task left, `join_next_with_id` gives `None` and only
        // shutdown is awaited.
        let ended = tokio::select! {
            () = &mut shutdown => break,
            Some(ended) = set.join_next_with_id() => identify(ended),
        };
        let Some(task) = running.remove(&ended.0) else {
            continue;
        };
        if task.finite && matches!(ended.1, Ok(Ok(()))) {
            continue;
        }
        on_early_end(&task.name);
        let why = describe(ended.1);
        tracing::error!(task = %task.name, %why, "a task ended before shutdown; stopping");
        failure = Some(anyhow::anyhow!(
            "task {} ended before shutdown: {why}",
            task.name
        ));
        break;
    }
    for (stage, stop) in stops.iter().enumerate() {
        stop.cancel();
        while running.values().any(|task| task.stage == stage) {
            let Some(ended) = set.join_next_with_id().await else {
                break;
            };
            let (id, result) = identify(ended);
            let Some(task) = running.remove(&id) else {
                continue;
            };
            if !matches!(result, Ok(Ok(()))) {
                let why = describe(result);
                tracing::error!(task = %task.name, %why, "a task failed while stopping");
                failure.get_or_insert(anyhow::anyhow!("task {} failed: {why}", task.name));
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

type Ended = (Id, Result<anyhow::Result<()>, JoinError>);

fn identify(ended: Result<(Id, anyhow::Result<()>), JoinError>) -> Ended {
    match ended {
        Ok((id, result)) => (id, Ok(result)),
        Err(error) => (error.id(), Err(error)),
    }
}

fn describe(result: Result<anyhow::Result<()>, JoinError>) -> String {
    match result {
        Ok(Ok(())) => "it returned".to_owned(),
        Ok(Err(error)) => format!("{error:#}"),
        Err(error) => format!("it panicked: {}", panic_message(error)),
    }
}

/// What a failed task said, for the log line that names it.
#[must_use]
pub fn panic_message(error: JoinError) -> String {
    if !error.is_panic() {
        return error.to_string();
    }
    let payload = error.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests;
