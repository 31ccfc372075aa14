//! The event log with group commit: one writer per partition appends, as
//! one write, every observation queued while its previous write was in
//! flight — one `trials` entry per model (several entries in one
//! MULTI/EXEC, all or none). Each request is answered once the write holding
//! it is acknowledged, with the entry's id and the request's index in it.
//!
//! Under load, the cost per request in Redis and here falls with the group
//! size instead of rising with the request rate. The queues are bounded: a
//! full one answers "overloaded" at once (503 with Retry-After), so memory
//! stays flat however hard clients push.

use super::port_error;
use crate::application::{Appended, EventId, EventLog, PortError};
use domain::{ModelName, Observation};
use platform::log_entry::observations_fields;
use platform::{PartitionKeys, RedisKeys};
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot, watch};

/// Most observations in one write, so one write stays a bounded size.
const MAX_GROUP_OBSERVATIONS: usize = 200_000;

struct Request {
    model: String,
    trials: String,
    reply: oneshot::Sender<Result<Appended, PortError>>,
}

/// Appends through one group-committing writer per partition.
pub struct GroupCommitLog {
    keys: RedisKeys,
    queues: Vec<mpsc::Sender<Request>>,
}

impl GroupCommitLog {
    /// Starts a writer per partition on `connection`, each with a queue of
    /// `capacity` requests; streams are trimmed to about `maxlen` (0: never).
    /// Writers wait for `open` to turn true (the partition count checked).
    pub fn start(
        connection: ConnectionManager,
        keys: RedisKeys,
        maxlen: u64,
        capacity: usize,
        open: watch::Receiver<bool>,
    ) -> Self {
        let queues = keys
            .partitions()
            .iter()
            .map(|partition| {
                let (sender, receiver) = mpsc::channel(capacity.max(1));
                let writer = Writer {
                    connection: connection.clone(),
                    keys: partition.clone(),
                    maxlen,
                };
                tokio::spawn(writer.run(receiver, open.clone()));
                sender
            })
            .collect();
        Self { keys, queues }
    }
}

#[async_trait::async_trait]
impl EventLog for GroupCommitLog {
    async fn append(
        &self,
        model: &ModelName,
        observations: &[Observation],
    ) -> Result<Appended, PortError> {
        let partition = self.keys.partition_for(model).index as usize;
        let (reply, answer) = oneshot::channel();
        let request = Request {
            model: model.as_str().to_owned(),
            trials: observations.iter().map(|o| o.as_str()).collect(),
            reply,
        };
        self.queues[partition]
            .try_send(request)
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => {
                    metrics::counter!("api_ingest_overloaded_total").increment(1);
                    PortError::Overloaded(format!(
                        "the write queue of partition {partition} is full"
                    ))
                }
                mpsc::error::TrySendError::Closed(_) => {
                    PortError::Failed("the log writer stopped".into())
                }
            })?;
        answer
            .await
            .map_err(|_| PortError::Failed("the log writer dropped a request".into()))?
    }
}

struct Writer {
    connection: ConnectionManager,
    keys: PartitionKeys,
    maxlen: u64,
}

impl Writer {
    async fn run(mut self, mut queue: mpsc::Receiver<Request>, mut open: watch::Receiver<bool>) {
        if open.wait_for(|open| *open).await.is_err() {
            return;
        }
        while let Some(first) = queue.recv().await {
            let mut group = vec![first];
            let mut observations = group[0].trials.len();
            while observations < MAX_GROUP_OBSERVATIONS {
                let Ok(request) = queue.try_recv() else { break };
                observations += request.trials.len();
                group.push(request);
            }
            self.write(group).await;
        }
    }

    /// Writes a group and answers each of its requests.
    async fn write(&mut self, group: Vec<Request>) {
        // One entry per model, in the order models first appear; each
        // request's trials are contiguous in its model's entry.
        let mut entries: Vec<(String, String)> = Vec::new();
        let mut placed = Vec::with_capacity(group.len());
        for request in &group {
            let entry = match entries
                .iter()
                .position(|(model, _)| *model == request.model)
            {
                Some(entry) => entry,
                None => {
                    entries.push((request.model.clone(), String::new()));
                    entries.len() - 1
                }
            };
            placed.push((entry, entries[entry].1.len() as u64));
            entries[entry].1.push_str(&request.trials);
        }
        let result = self.append(&entries).await;
        metrics::histogram!("api_group_commit_requests").record(group.len() as f64);
        for (request, (entry, index)) in group.into_iter().zip(placed) {
            let answer = match &result {
                Ok(ids) => Ok(Appended {
                    id: EventId(ids[entry].clone()),
                    index,
                }),
                Err(error) => Err(error.clone()),
            };
            // The client may have gone (a timeout): its trials are stored all the same.
            let _ = request.reply.send(answer);
        }
    }

    async fn append(&mut self, entries: &[(String, String)]) -> Result<Vec<String>, PortError> {
        let mut pipeline = redis::pipe();
        if entries.len() > 1 {
            // MULTI/EXEC: all the entries or, if EXEC never arrives, none.
            pipeline.atomic();
        }
        for (model, trials) in entries {
            let mut xadd = redis::cmd("XADD");
            xadd.arg(&self.keys.events);
            if self.maxlen > 0 {
                // `~` lets Redis trim whole nodes only: O(1) amortised per append.
                xadd.arg("MAXLEN").arg("~").arg(self.maxlen);
            }
            xadd.arg("*");
            for (field, value) in observations_fields(model, trials) {
                xadd.arg(field).arg(value);
            }
            pipeline.add_command(xadd);
        }
        let ids: Vec<String> = pipeline
            .query_async(&mut self.connection)
            .await
            .map_err(|e| port_error(&e))?;
        if ids.len() == entries.len() {
            Ok(ids)
        } else {
            Err(PortError::Failed(format!(
                "{} ids for {} entries",
                ids.len(),
                entries.len()
            )))
        }
    }
}
