//! Reads the experiment hashes, the experiments indexes and the decisions
//! streams that bayes maintains (`platform::stored_experiment` decodes them).

use super::port_error;
use crate::application::{Cause, PortError};
use domain::ModelName;
use platform::stored_experiment::{DecisionEvent, FIELDS, StoredExperiment, decode};
use platform::{RedisConnection, RedisKeys};
use redis::streams::StreamRangeReply;

/// Most entries of a decisions stream one read scans for an experiment's
/// own (the stream is its partition's: other experiments' entries are
/// skipped).
const MOST_SCANNED: usize = 100_000;

/// The experiment `name`, with one `HMGET`.
pub(super) async fn experiment(
    connection: &RedisConnection,
    keys: &RedisKeys,
    name: &ModelName,
) -> Result<Option<StoredExperiment>, PortError> {
    let values: [Option<String>; 9] = redis::cmd("HMGET")
        .arg(keys.experiment(name))
        .arg(&FIELDS)
        .query_async(&mut connection.clone())
        .await
        .map_err(port_error)?;
    stored(name.as_str(), &values)
}

/// Up to `limit` experiments after `after`, by name: each partition's index
/// gives its next `limit` names (`ZRANGE … BYLEX`), the smallest `limit`
/// of them are read with one pipeline of `HMGET`s per partition.
pub(super) async fn experiments(
    connection: &RedisConnection,
    keys: &RedisKeys,
    after: Option<&ModelName>,
    limit: usize,
) -> Result<Vec<(ModelName, StoredExperiment)>, PortError> {
    let start = after.map_or_else(|| "-".to_owned(), |name| format!("({name}"));
    let mut names: Vec<(String, u32)> = Vec::new();
    // One read per partition (each its own slot on a cluster).
    for partition in keys.partitions() {
        let page: Vec<String> = redis::cmd("ZRANGE")
            .arg(&partition.experiments)
            .arg(&start)
            .arg("+")
            .arg("BYLEX")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut connection.clone())
            .await
            .map_err(port_error)?;
        names.extend(page.into_iter().map(|name| (name, partition.index)));
    }
    names.sort_unstable();
    names.truncate(limit);
    let mut found = Vec::with_capacity(names.len());
    for partition in keys.partitions() {
        let mine: Vec<&String> = names
            .iter()
            .filter(|(_, index)| *index == partition.index)
            .map(|(name, _)| name)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let mut pipeline = redis::pipe();
        for name in &mine {
            pipeline
                .cmd("HMGET")
                .arg(partition.experiment_key(name))
                .arg(&FIELDS);
        }
        let values: Vec<[Option<String>; 9]> = pipeline
            .query_async(&mut connection.clone())
            .await
            .map_err(port_error)?;
        for (name, values) in mine.into_iter().zip(values) {
            // Deleted between the two reads: not listed.
            if let Some(experiment) = stored(name, &values)? {
                let name = ModelName::parse(name).map_err(|e| {
                    PortError::Failed(format!("the experiments index holds {name:?}: {e}").into())
                })?;
                found.push((name, experiment));
            }
        }
    }
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// The decisions of `name`, newest first, at most `limit`: its partition's
/// decisions stream read backwards in chunks, keeping its own entries.
pub(super) async fn decisions(
    connection: &RedisConnection,
    keys: &RedisKeys,
    name: &ModelName,
    limit: usize,
) -> Result<Vec<(String, DecisionEvent)>, PortError> {
    let stream = &keys.partition_for_experiment(name).decisions;
    let chunk = limit.saturating_mul(4).clamp(100, 10_000);
    let mut end = "+".to_owned();
    let mut found = Vec::new();
    let mut scanned = 0;
    while found.len() < limit && scanned < MOST_SCANNED {
        let reply: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(stream)
            .arg(&end)
            .arg("-")
            .arg("COUNT")
            .arg(chunk)
            .query_async(&mut connection.clone())
            .await
            .map_err(port_error)?;
        let read = reply.ids.len();
        scanned += read;
        for entry in reply.ids {
            let fields: Vec<(String, String)> = entry
                .map
                .iter()
                .filter_map(|(k, v)| {
                    redis::from_redis_value::<String>(v.clone())
                        .ok()
                        .map(|v| (k.clone(), v))
                })
                .collect();
            let mine = fields
                .iter()
                .any(|(k, v)| k == "experiment" && v == name.as_str());
            if mine && found.len() < limit {
                let event = DecisionEvent::parse(&fields).map_err(|e| {
                    PortError::Failed(Cause::message(format!(
                        "decision {} of {name} does not decode: {e}",
                        entry.id
                    )))
                })?;
                found.push((entry.id.clone(), event));
            }
            end = format!("({}", entry.id);
        }
        if read < chunk {
            break;
        }
    }
    Ok(found)
}

/// An experiment hash's values; `None` when it does not exist.
fn stored(name: &str, values: &[Option<String>; 9]) -> Result<Option<StoredExperiment>, PortError> {
    decode(values).map_err(|e| {
        PortError::Failed(Cause::context(
            format!("the experiment hash of {name} does not decode"),
            e,
        ))
    })
}
