//! Reading a model's history for drawing: its hash, then at most a bounded
//! number of its newest stream points, with `XRANGE` only (the commands
//! bayes's least-privilege Redis user is granted).
//!
//! The stream holds one point per interval of log time, so the newest
//! `limit` points all lie in the last `limit` intervals before the open
//! point: a stream of at most `limit` entries is read whole, a longer one
//! from `t − limit · interval` on.

use crate::application::{Cause, PortError};
use crate::infrastructure::redis::port_error;
use domain::{History, HistoryPoint, ModelState};
use platform::RedisConnection;
use platform::stored_history::decode_points;
use platform::stored_model::{FIELDS, StoredModel, decode_hash};
use redis::Value;

/// Where a model's state and history are.
pub(super) struct HistoryKeys {
    /// The model hash.
    pub model: String,
    /// The history stream.
    pub history: String,
}

/// The model's state and its newest history points (at most `limit`,
/// the open point last); `interval` is the history's (`None`: off, so no
/// points are read).
pub(super) async fn load_with_history(
    connection: &RedisConnection,
    keys: &HistoryKeys,
    interval: Option<u64>,
    limit: usize,
) -> Result<Option<(ModelState, History)>, PortError> {
    // The hash first: points are only ever appended before a newer open
    // point, so every stream point read after it that belongs to this
    // state is older than its `t`; newer ones are dropped.
    let values: [Option<String>; 6] = redis::cmd("HMGET")
        .arg(&keys.model)
        .arg(&FIELDS)
        .query_async(&mut connection.clone())
        .await
        .map_err(port_error)?;
    let Some(stored) = decode_hash(values).map_err(|e| PortError::Failed(Cause::new(e)))? else {
        return Ok(None);
    };
    let (Some(interval), true, true) = (interval, stored.changed > 0, limit > 0) else {
        return Ok(Some((stored.state, open_only(&stored))));
    };
    let closed = limit - 1;
    let mut points = if closed == 0 {
        Vec::new()
    } else {
        let all = range(connection, &keys.history, "-".to_owned(), closed + 1).await?;
        if all.len() <= closed {
            all
        } else {
            let span = interval.saturating_mul(closed as u64);
            let start = stored.changed.saturating_sub(span);
            range(connection, &keys.history, format!("{start}-0"), closed).await?
        }
    };
    points.retain(|p| p.t < stored.changed && p.counts.n() <= stored.state.counts.n());
    points.extend(stored.open_point());
    let known_from = stored.known_from;
    let history = History::new(points, known_from).unwrap_or_else(|error| {
        tracing::warn!(%error, key = %keys.history, "the history is out of order: not drawn");
        open_only(&stored)
    });
    Ok(Some((stored.state, history)))
}

/// The open point alone (none if the counts never changed with history on).
fn open_only(stored: &StoredModel) -> History {
    let points = stored.open_point().into_iter().collect();
    History::new(points, stored.known_from).expect("one point is always in order")
}

/// Up to `count` points of `stream` from `start` on.
async fn range(
    connection: &RedisConnection,
    stream: &str,
    start: String,
    count: usize,
) -> Result<Vec<HistoryPoint>, PortError> {
    let reply: Value = redis::cmd("XRANGE")
        .arg(stream)
        .arg(start)
        .arg("+")
        .arg("COUNT")
        .arg(count)
        .query_async(&mut connection.clone())
        .await
        .map_err(port_error)?;
    decode_points(&reply).map_err(|e| PortError::Failed(format!("{stream}: {e}").into()))
}
