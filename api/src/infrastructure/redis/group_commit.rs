//! The event log with group commit: one writer per partition appends, as
//! one write, every observation queued while its previous write was in
//! flight — one `trials` entry per model (several entries in one
//! MULTI/EXEC, all or none). Each request is answered once the write holding
//! it is acknowledged, with the entry's id and the request's index in it.
//!
//! Definitions and deletions travel the same queue, so a model's events keep
//! the order in which they were accepted: a request's trials are merged
//! into an earlier entry of its model only if no definition or deletion of
//! that model came between them.
//!
//! Under load, the cost per request in Redis and here falls with the group
//! size instead of rising with the request rate. The queues are bounded: a
//! full one answers "overloaded" at once (503 with Retry-After), so memory
//! stays flat however hard clients push.

use super::port_error;
use crate::application::{Appended, EventId, EventLog, PortError};
use domain::{ModelDefinition, ModelName, Observation};
use platform::log_entry::{definition_fields, deletion_fields, observations_fields};
use platform::{PartitionKeys, RedisKeys};
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot, watch};

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
    /// A definition or deletion: an entry of its own.
    Event(Vec<(&'static str, String)>),
}

impl Payload {
    fn observations(&self) -> usize {
        match self {
            Self::Trials(trials) => trials.len(),
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

impl GroupCommitLog {
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

#[async_trait::async_trait]
impl EventLog for GroupCommitLog {
    async fn append(
        &self,
        model: &ModelName,
        observations: &[Observation],
    ) -> Result<Appended, PortError> {
        let trials = observations.iter().map(|o| o.as_str()).collect();
        self.submit(model, Payload::Trials(trials)).await
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
            let mut observations = group[0].payload.observations();
            while observations < MAX_GROUP_OBSERVATIONS {
                let Ok(request) = queue.try_recv() else { break };
                observations += request.payload.observations();
                group.push(request);
            }
            self.write(group).await;
        }
    }

    /// Writes a group and answers each of its requests.
    async fn write(&mut self, group: Vec<Request>) {
        let (entries, placed) = plan(&group);
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

    async fn append(&mut self, entries: &[Entry<'_>]) -> Result<Vec<String>, PortError> {
        let mut pipeline = redis::pipe();
        if entries.len() > 1 {
            // MULTI/EXEC: all the entries or, if EXEC never arrives, none.
            pipeline.atomic();
        }
        for entry in entries {
            let mut xadd = redis::cmd("XADD");
            xadd.arg(&self.keys.events);
            if self.maxlen > 0 {
                // `~` lets Redis trim whole nodes only: O(1) amortised per append.
                xadd.arg("MAXLEN").arg("~").arg(self.maxlen);
            }
            xadd.arg("*");
            match entry {
                Entry::Trials(model, trials) => {
                    for (field, value) in observations_fields(model, trials) {
                        xadd.arg(field).arg(value);
                    }
                }
                Entry::Event(fields) => {
                    for (field, value) in *fields {
                        xadd.arg(*field).arg(value);
                    }
                }
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

/// One entry of a write.
enum Entry<'a> {
    /// A model's run of observations.
    Trials(&'a str, String),
    /// A definition or deletion, with its fields.
    Event(&'a [(&'static str, String)]),
}

/// The entries a group is written as, and where each request landed in
/// them: (entry, index of its first trial). One entry per model's run of
/// observations, in the order models first appear; a definition or deletion
/// is an entry of its own and closes its model's run, so events keep the
/// order in which they were accepted.
fn plan(group: &[Request]) -> (Vec<Entry<'_>>, Vec<(usize, u64)>) {
    let mut entries = Vec::new();
    // The entry holding each model's open run of observations.
    let mut open: HashMap<&str, usize> = HashMap::new();
    let mut placed = Vec::with_capacity(group.len());
    for request in group {
        let model = request.model.as_str();
        match &request.payload {
            Payload::Trials(trials) => {
                let at = *open.entry(model).or_insert_with(|| {
                    entries.push(Entry::Trials(model, String::new()));
                    entries.len() - 1
                });
                if let Entry::Trials(_, run) = &mut entries[at] {
                    placed.push((at, run.len() as u64));
                    run.push_str(trials);
                }
            }
            Payload::Event(fields) => {
                open.remove(model);
                entries.push(Entry::Event(fields));
                placed.push((entries.len() - 1, 0));
            }
        }
    }
    (entries, placed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(model: &str, payload: Payload) -> Request {
        Request {
            model: model.to_owned(),
            payload,
            reply: oneshot::channel().0,
        }
    }

    fn trials(model: &str, trials: &str) -> Request {
        request(model, Payload::Trials(trials.to_owned()))
    }

    fn shown(entries: &[Entry<'_>]) -> Vec<String> {
        entries
            .iter()
            .map(|entry| match entry {
                Entry::Trials(model, trials) => format!("{model}:{trials}"),
                Entry::Event(fields) => format!("{}:{}", fields[0].1, fields[1].1),
            })
            .collect()
    }

    #[test]
    fn observations_of_a_model_share_one_entry() {
        let group = [trials("a", "w"), trials("b", "ll"), trials("a", "lw")];
        let (entries, placed) = plan(&group);
        assert_eq!(shown(&entries), ["a:wlw", "b:ll"]);
        assert_eq!(placed, [(0, 0), (1, 0), (0, 1)]);
    }

    #[test]
    fn a_definition_or_deletion_keeps_its_place_between_observations() {
        let group = [
            trials("a", "w"),
            request("a", Payload::Event(deletion_fields("a"))),
            trials("a", "l"),
            trials("b", "w"),
            trials("a", "w"),
        ];
        let (entries, placed) = plan(&group);
        assert_eq!(shown(&entries), ["a:w", "a:delete", "a:lw", "b:w"]);
        assert_eq!(placed, [(0, 0), (1, 0), (2, 0), (3, 0), (2, 1)]);
    }
}
