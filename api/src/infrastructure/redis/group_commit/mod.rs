//! The event log with group commit: one writer per partition appends, as
//! one write, every observation queued while its previous write was in
//! flight — one `trials` entry per model, all in one script call (all or
//! none). Each request is answered once the write holding it is
//! acknowledged, with the entry's id and the request's index in it.
//!
//! Definitions and deletions travel the same queue, so a model's events keep
//! the order in which they were accepted: a request's trials are merged
//! into an earlier entry of its model only if no definition or deletion of
//! that model came between them.
//!
//! A request with an Idempotency-Key is an entry of its own, which the
//! write skips if the key is recorded (a retry); the key is recorded in the
//! same script as the entries. Each write carries a token, so a write that
//! redis-rs resends after a reconnect appends nothing twice. With
//! `REPLICAS_ACK` ≥ 1 the write is followed, in the same pipeline on the
//! same connection, by `WAIT`: requests are answered only once that many
//! replicas hold it.
//!
//! Under load, the cost per request in Redis and here falls with the group
//! size instead of rising with the request rate. The queues are bounded: a
//! full one answers "overloaded" at once (503 with Retry-After), so memory
//! stays flat however hard clients push.

mod plan;
mod write;

use crate::application::{Appended, EventId, EventLog, Guard, PortError};
use domain::{Experiment, ModelDefinition, ModelName, Observation};
use plan::plan;
use platform::log_entry::{definition_fields, deletion_fields, experiments};
use platform::supervisor::Task;
use platform::{RedisConnection, RedisKeys};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
pub use write::WriteSettings;
use write::Writer;

/// Most observations in one write, so one write stays a bounded size.
const MAX_GROUP_OBSERVATIONS: usize = 200_000;

struct Request {
    model: String,
    payload: Payload,
    reply: oneshot::Sender<Result<Appended, PortError>>,
}

/// What a request appends.
enum Payload {
    /// Observations, as a string of `w`/`l`.
    Trials(String),
    /// Observations under an Idempotency-Key: an entry of their own.
    Guarded(String, Guard),
    /// A definition or deletion: an entry of its own.
    Event(Vec<(&'static str, String)>),
}

impl Payload {
    fn observations(&self) -> usize {
        match self {
            Self::Trials(trials) | Self::Guarded(trials, _) => trials.len(),
            Self::Event(_) => 0,
        }
    }
}

/// Appends through one group-committing writer per partition.
pub struct GroupCommitLog {
    keys: RedisKeys,
    queues: Vec<mpsc::Sender<Request>>,
}

impl GroupCommitLog {
    /// A writer per partition on `connection`, each with a queue of
    /// `capacity` requests, writing as `settings` say: the log, and the
    /// writers as tasks `partition-writer-<i>` for the caller to supervise
    /// (a writer that died would fail every write to its partition). Writers
    /// wait for `open` to turn true (the partition count checked); once
    /// `stop` is cancelled each writes what is queued and ends.
    pub fn start(
        connection: RedisConnection,
        keys: RedisKeys,
        settings: WriteSettings,
        capacity: usize,
        open: watch::Receiver<bool>,
        stop: &CancellationToken,
    ) -> (Self, Vec<Task>) {
        let (queues, writers) = keys
            .partitions()
            .iter()
            .map(|partition| {
                let (sender, receiver) = mpsc::channel(capacity.max(1));
                let writer = Writer::new(connection.clone(), partition.clone(), settings.clone());
                let name = format!("partition-writer-{}", partition.index);
                let work = run(writer, receiver, open.clone(), stop.clone());
                (sender, Task::new(name, work))
            })
            .unzip();
        (Self { keys, queues }, writers)
    }

    /// Queues `payload` on its model's partition and waits for its write.
    async fn submit(&self, model: &ModelName, payload: Payload) -> Result<Appended, PortError> {
        let partition = self.keys.partition_for(model).index as usize;
        let (reply, answer) = oneshot::channel();
        let request = Request {
            model: model.as_str().to_owned(),
            payload,
            reply,
        };
        self.queues[partition]
            .try_send(request)
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => {
                    metrics::counter!("api_ingest_overloaded_total").increment(1);
                    PortError::Overloaded(
                        format!("the write queue of partition {partition} is full").into(),
                    )
                }
                mpsc::error::TrySendError::Closed(_) => PortError::Unavailable(
                    format!("the log writer of partition {partition} stopped").into(),
                ),
            })?;
        answer
            .await
            .map_err(|_| PortError::Unknown("the log writer stopped with the request".into()))?
    }
}

#[async_trait::async_trait]
impl EventLog for GroupCommitLog {
    async fn append(
        &self,
        model: &ModelName,
        observations: &[Observation],
        guard: Option<&Guard>,
    ) -> Result<Appended, PortError> {
        let trials = observations.iter().map(|o| o.as_str()).collect();
        let payload = match guard {
            Some(guard) => Payload::Guarded(trials, guard.clone()),
            None => Payload::Trials(trials),
        };
        self.submit(model, payload).await
    }

    async fn define(
        &self,
        model: &ModelName,
        definition: ModelDefinition,
    ) -> Result<EventId, PortError> {
        let fields = definition_fields(model.as_str(), definition);
        Ok(self.submit(model, Payload::Event(fields)).await?.id)
    }

    async fn delete(&self, model: &ModelName) -> Result<EventId, PortError> {
        let fields = deletion_fields(model.as_str());
        Ok(self.submit(model, Payload::Event(fields)).await?.id)
    }

    // An experiment's entries go to the partition of its name (that of a
    // model of the same name), queued like a model's definition: in order.
    async fn define_experiment(
        &self,
        name: &ModelName,
        experiment: &Experiment,
    ) -> Result<EventId, PortError> {
        let fields = experiments::definition_fields(name.as_str(), experiment);
        Ok(self.submit(name, Payload::Event(fields)).await?.id)
    }

    async fn stop_experiment(
        &self,
        name: &ModelName,
        variant: &ModelName,
    ) -> Result<EventId, PortError> {
        let fields = experiments::stop_fields(name.as_str(), variant.as_str());
        Ok(self.submit(name, Payload::Event(fields)).await?.id)
    }

    async fn delete_experiment(&self, name: &ModelName) -> Result<EventId, PortError> {
        let fields = experiments::deletion_fields(name.as_str());
        Ok(self.submit(name, Payload::Event(fields)).await?.id)
    }
}

/// A partition's writer: takes every request queued while its previous
/// write was in flight, writes them as one, answers each. Once `stop` is
/// cancelled the queue is closed and what it holds is written (requests
/// whose client gave up are stored all the same), then it ends.
async fn run(
    mut writer: Writer,
    mut queue: mpsc::Receiver<Request>,
    mut open: watch::Receiver<bool>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    tokio::select! {
        // The check gone without opening: the api stops before any write.
        opened = open.wait_for(|open| *open) => if opened.is_err() { return Ok(()) },
        () = stop.cancelled() => return Ok(()),
    }
    loop {
        let next = tokio::select! {
            biased;
            request = queue.recv() => request,
            () = stop.cancelled() => {
                queue.close();
                queue.recv().await
            }
        };
        let Some(first) = next else {
            return Ok(());
        };
        let mut group = vec![first];
        let mut observations = group[0].payload.observations();
        while observations < MAX_GROUP_OBSERVATIONS {
            let Ok(request) = queue.try_recv() else { break };
            observations += request.payload.observations();
            group.push(request);
        }
        let (entries, placed) = plan(&group);
        let result = writer.write(&entries).await;
        metrics::histogram!("api_group_commit_requests").record(group.len() as f64);
        for (request, (entry, index)) in group.into_iter().zip(placed) {
            let answer = match &result {
                Ok(landed) => landed[entry].answer(index),
                Err(error) => Err(error.clone()),
            };
            // The client may have gone (a timeout): its trials are stored all the same.
            let _ = request.reply.send(answer);
        }
    }
}
