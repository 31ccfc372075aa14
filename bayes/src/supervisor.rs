//! Supervised tasks: every long-running task of the process is awaited
//! together with the shutdown signal. A task that ends before shutdown —
//! returning, failing or panicking — stops the process with an error naming
//! it (a restart policy outside, such as compose's `restart:`, brings it
//! back), instead of leaving a process that answers metrics and does nothing.

use std::future::Future;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What a task returns.
type Handle = JoinHandle<anyhow::Result<()>>;

/// A named task.
pub struct Task {
    name: &'static str,
    handle: Handle,
}

impl Task {
    /// Spawns `future` as the task `name`.
    pub fn spawn(
        name: &'static str,
        future: impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) -> Self {
        Self {
            name,
            handle: tokio::spawn(future),
        }
    }
}

/// Tasks stopped together by one token.
pub struct Stage {
    /// Cancelled to stop the stage.
    pub stop: CancellationToken,
    /// Its tasks.
    pub tasks: Vec<Task>,
}

/// Waits for `shutdown` or for any task to end. Then stops the stages in
/// order, each awaited before the next (the renderer, last, draws the state
/// the consumers left).
///
/// # Errors
/// A task that ended before shutdown, or failed while stopping, named.
pub async fn supervise(
    stages: Vec<Stage>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut slots: Vec<(usize, &'static str, Option<Handle>)> = Vec::new();
    let mut tokens = Vec::new();
    for (stage, Stage { stop, tasks }) in stages.into_iter().enumerate() {
        tokens.push(stop);
        slots.extend(tasks.into_iter().map(|t| (stage, t.name, Some(t.handle))));
    }
    let early = {
        let watched = futures_util::future::select_all(slots.iter_mut().map(|(_, _, handle)| {
            Box::pin(async move {
                match handle.as_mut() {
                    Some(handle) => handle.await,
                    None => std::future::pending().await,
                }
            })
        }));
        tokio::select! {
            () = shutdown => None,
            (result, index, _) = watched => Some((index, result)),
        }
    };
    let mut failure = None;
    if let Some((index, result)) = early {
        let name = slots[index].1;
        slots[index].2 = None;
        metrics::gauge!("bayes_ready").set(0.0);
        let why = describe(result);
        tracing::error!(task = name, %why, "a task ended before shutdown; stopping");
        failure = Some(anyhow::anyhow!("task {name} ended before shutdown: {why}"));
    }
    for (stage, token) in tokens.iter().enumerate() {
        token.cancel();
        for (_, name, handle) in slots.iter_mut().filter(|(s, _, _)| *s == stage) {
            let Some(handle) = handle.take() else {
                continue;
            };
            if let Err(error) = handle.await.map_err(anyhow::Error::from).and_then(|r| r) {
                tracing::error!(task = *name, error = %format!("{error:#}"), "a task failed while stopping");
                failure.get_or_insert(error.context(format!("task {name} failed")));
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

fn describe(result: Result<anyhow::Result<()>, tokio::task::JoinError>) -> String {
    match result {
        Ok(Ok(())) => "it returned".to_owned(),
        Ok(Err(error)) => format!("{error:#}"),
        Err(error) => format!(
            "it panicked: {}",
            crate::application::ownership::panic_message(error)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_panicking_task_stops_the_rest_with_an_error_naming_it() {
        let stop = CancellationToken::new();
        let quiet = stop.clone();
        let tasks = vec![
            Task::spawn("renderer", async move {
                quiet.cancelled().await;
                Ok(())
            }),
            Task::spawn("consumer", async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                panic!("the port broke");
            }),
        ];
        let stages = vec![Stage { stop, tasks }];
        let error = supervise(stages, std::future::pending()).await.unwrap_err();
        let message = format!("{error:#}");
        assert!(
            message.contains("task consumer ended before shutdown: it panicked: the port broke"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn at_shutdown_every_task_is_stopped_and_awaited() {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let tasks = vec![Task::spawn("consumer", async move {
            token.cancelled().await;
            Ok(())
        })];
        supervise(vec![Stage { stop, tasks }], async {})
            .await
            .unwrap();
    }
}
