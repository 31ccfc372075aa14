//! The referee's reads and writes: the experiments homed in a partition,
//! their variants' evidence at a moment of log time (one pipeline per
//! partition the variants live in: a partition's keys share one slot), and
//! the announce script.

use super::RedisPartitionStore;
use crate::application::{Cause, ExperimentStore, PortError};
use crate::infrastructure::redis::port_error;
use domain::{Evidence, Experiment, ExperimentLens, History, ModelDefinition, ModelName};
use platform::notice::Notice;
use platform::partition::partition_of;
use platform::scripts::announce::{AnnounceCall, AnnounceReply};
use platform::stored_experiment::{self, DecisionEvent, StoredExperiment};
use platform::stored_history::decode_points;
use platform::stored_model::{FIELDS, decode_hash};
use redis::Value;
use std::collections::BTreeMap;

/// How many half-lives back a decayed evidence reads: older observations
/// weigh under 2^-20 (one in a million), and are counted at that weight.
const HALF_LIVES_READ: u64 = 20;

/// One variant's reads: its hash, and the history its lens needs.
struct VariantRead {
    name: ModelName,
    partition: u32,
    /// Index of the hash's reply in its partition's pipeline (the history's follows).
    reply: usize,
}

#[async_trait::async_trait]
impl ExperimentStore for RedisPartitionStore {
    fn partition_of(&self, name: &str) -> u32 {
        partition_of(name, self.keys.partition_count())
    }

    async fn experiments(
        &self,
        partition: u32,
    ) -> Result<Vec<(String, StoredExperiment)>, PortError> {
        let keys = self.partition(partition)?;
        let mut connection = self.connection.clone();
        let names: Vec<String> = redis::cmd("ZRANGE")
            .arg(&keys.experiments)
            .arg(0)
            .arg(-1)
            .query_async(&mut connection)
            .await
            .map_err(port_error)?;
        let mut experiments = Vec::with_capacity(names.len());
        for chunk in names.chunks(500) {
            let mut pipe = redis::pipe();
            for name in chunk {
                pipe.cmd("HMGET")
                    .arg(keys.experiment_key(name))
                    .arg(&stored_experiment::FIELDS);
            }
            let values: Vec<[Option<String>; 9]> = pipe
                .query_async(&mut connection)
                .await
                .map_err(port_error)?;
            for (name, values) in chunk.iter().zip(values) {
                match stored_experiment::decode(&values) {
                    Ok(Some(stored)) => experiments.push((name.clone(), stored)),
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(experiment = %name, %error, "experiment hash does not decode; skipped")
                    }
                }
            }
        }
        Ok(experiments)
    }

    async fn now(&self) -> Result<u64, PortError> {
        let (seconds, micros): (u64, u64) = redis::cmd("TIME")
            .query_async(&mut self.connection.clone())
            .await
            .map_err(port_error)?;
        Ok(seconds * 1000 + micros / 1000)
    }

    async fn evidence(
        &self,
        experiments: &[&Experiment],
        at: u64,
    ) -> Result<Vec<Vec<(ModelDefinition, Evidence)>>, PortError> {
        // One pipeline per partition, each variant's hash then its history read.
        let mut pipes: BTreeMap<u32, (redis::Pipeline, usize)> = BTreeMap::new();
        let mut reads: Vec<Vec<VariantRead>> = Vec::with_capacity(experiments.len());
        for experiment in experiments {
            let lens = experiment.lens();
            let mut variants = Vec::new();
            for name in experiment.order() {
                let partition = ExperimentStore::partition_of(self, name.as_str());
                let keys = self.partition(partition)?;
                let (pipe, replies) = pipes.entry(partition).or_insert_with(|| (redis::pipe(), 0));
                pipe.cmd("HMGET").arg(keys.model(name)).arg(&FIELDS);
                let history = keys.history_key(name.as_str());
                match lens {
                    ExperimentLens::All => {}
                    ExperimentLens::Window(ms) => {
                        pipe.cmd("XREVRANGE")
                            .arg(&history)
                            .arg(at.saturating_sub(ms))
                            .arg("-")
                            .arg("COUNT")
                            .arg(1);
                    }
                    ExperimentLens::HalfLife(ms) => {
                        let from = at.saturating_sub(ms.saturating_mul(HALF_LIVES_READ));
                        pipe.cmd("XRANGE").arg(&history).arg(from).arg(at);
                    }
                }
                variants.push(VariantRead {
                    name: name.clone(),
                    partition,
                    reply: *replies,
                });
                *replies += if lens == ExperimentLens::All { 1 } else { 2 };
            }
            reads.push(variants);
        }
        let mut replies: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
        for (partition, (pipe, _)) in pipes {
            let values: Vec<Value> = pipe
                .query_async(&mut self.connection.clone())
                .await
                .map_err(port_error)?;
            replies.insert(partition, values);
        }
        let mut evidence = Vec::with_capacity(experiments.len());
        for (experiment, variants) in experiments.iter().zip(reads) {
            let mut of_experiment = Vec::with_capacity(variants.len());
            for read in variants {
                let values = replies
                    .get(&read.partition)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                of_experiment.push(self.variant(experiment.lens(), at, &read, values)?);
            }
            evidence.push(of_experiment);
        }
        Ok(evidence)
    }

    async fn announce(
        &self,
        partition: u32,
        cursor: &str,
        seq: u64,
        event: &DecisionEvent,
    ) -> Result<AnnounceReply, PortError> {
        if self.abort_before_announce {
            tracing::error!(experiment = %event.experiment, "fault injected: aborting before the announcement");
            std::process::abort();
        }
        let keys = self.partition(partition)?;
        let notice = Notice::of_experiment(partition, &event.experiment).to_json();
        let call = AnnounceCall {
            keys,
            cursor,
            seq,
            event,
            notice: Some((&self.keys.applied, &notice)),
        };
        let reply: Value = call
            .invocation()
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(port_error)?;
        AnnounceReply::parse(&reply).map_err(|e| PortError::Failed(e.into()))
    }
}

impl RedisPartitionStore {
    /// One variant's definition and evidence under `lens` at `at`, from its
    /// replies in `values`.
    fn variant(
        &self,
        lens: ExperimentLens,
        at: u64,
        read: &VariantRead,
        values: &[Value],
    ) -> Result<(ModelDefinition, Evidence), PortError> {
        let bad = |e: String| PortError::Failed(Cause::from(e));
        let hash = values
            .get(read.reply)
            .ok_or_else(|| bad(format!("no reply for {}", read.name)))?;
        let fields: [Option<String>; 6] =
            redis::from_redis_value(hash.clone()).map_err(|e| bad(e.to_string()))?;
        let stored = decode_hash(fields).map_err(|e| bad(e.to_string()))?;
        let definition = stored
            .and_then(|s| s.state.definition)
            .unwrap_or_else(|| self.defaults.of(&read.name));
        let Some(stored) = stored else {
            return Ok((definition, Evidence::default()));
        };
        let counts = stored.state.counts;
        let points = match lens {
            ExperimentLens::All => return Ok((definition, counts.into())),
            _ => values
                .get(read.reply + 1)
                .map(decode_points)
                .transpose()
                .map_err(bad)?
                .unwrap_or_default(),
        };
        let mut points: Vec<_> = points.into_iter().filter(|p| p.t <= at).collect();
        points.extend(
            stored
                .open_point()
                .filter(|p| points.last().is_none_or(|l| l.t < p.t)),
        );
        let history = History::new(points, stored.known_from).map_err(|e| bad(e.to_string()))?;
        let evidence = match lens {
            ExperimentLens::Window(ms) => {
                let start = at.saturating_sub(ms);
                // A window past what the history holds counts what it holds.
                let since = history
                    .since(start, counts)
                    .or_else(|_| history.since(stored.known_from, counts))
                    .unwrap_or(counts);
                since.into()
            }
            ExperimentLens::HalfLife(ms) => history.decayed(at, ms),
            ExperimentLens::All => counts.into(),
        };
        Ok((definition, evidence))
    }
}
