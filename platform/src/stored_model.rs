//! The model hash `<prefix>:model`: its fields and how they decode.
//!
//! bayes owns it (it adds to `w` and `n` in the apply script and writes the
//! definition at start); the api only reads it.

use domain::{Counts, Grid, ModelDefinition, ModelState, Prior};

/// Wins so far.
pub const FIELD_W: &str = "w";
/// Trials so far.
pub const FIELD_N: &str = "n";
/// The prior spec, e.g. `step:0.1`.
pub const FIELD_PRIOR: &str = "prior";
/// The grid size.
pub const FIELD_GRID_POINTS: &str = "grid_points";
/// The end of the interval of log time in which the counts last changed
/// (Unix ms; absent or 0: never, or history off). The history's open point:
/// `(t, w, n)` is the history's newest point, not yet in its stream.
pub const FIELD_T: &str = "t";

/// The time from which the history is known (Unix ms): absent or 0, since
/// the model began; otherwise the oldest point kept (older ones were
/// dropped past the retention, or the model counted before it had history).
pub const FIELD_FROM: &str = "from";

/// The fields in the order [`decode`] takes them (for `HMGET`).
pub const FIELDS: [&str; 6] = [
    FIELD_W,
    FIELD_N,
    FIELD_PRIOR,
    FIELD_GRID_POINTS,
    FIELD_T,
    FIELD_FROM,
];

/// A model hash, decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredModel {
    /// Counts and definition.
    pub state: ModelState,
    /// [`FIELD_T`]: when the counts last changed, as an interval end (0: never).
    pub changed: u64,
    /// [`FIELD_FROM`]: the history is known from this time on (0: from the start).
    pub known_from: u64,
}

/// A hash that does not decode: someone else wrote to it.
#[derive(Debug, thiserror::Error)]
#[error("model hash field {field:?} holds {value:?}: {reason}")]
pub struct StoredModelError {
    field: &'static str,
    value: String,
    reason: String,
}

/// Decodes the values of [`FIELDS`], in that order, as `HMGET` returns them.
///
/// # Errors
/// [`StoredModelError`] naming the first field that does not decode.
pub fn decode(values: [Option<String>; 6]) -> Result<StoredModel, StoredModelError> {
    let [w, n, prior, grid_points, changed, known_from] = values;
    let w = parse_count(FIELD_W, w)?;
    let n = parse_count(FIELD_N, n)?;
    let counts = Counts::new(w, n).map_err(|e| StoredModelError {
        field: FIELD_W,
        value: w.to_string(),
        reason: e.to_string(),
    })?;
    let definition = match (prior, grid_points) {
        (Some(prior), Some(points)) => Some(ModelDefinition {
            prior: Prior::parse(&prior).map_err(|e| error(FIELD_PRIOR, &prior, &e))?,
            grid: Grid::parse(&points).map_err(|e| error(FIELD_GRID_POINTS, &points, &e))?,
        }),
        _ => None,
    };
    Ok(StoredModel {
        state: ModelState { counts, definition },
        changed: parse_count(FIELD_T, changed)?,
        known_from: parse_count(FIELD_FROM, known_from)?,
    })
}

/// Decodes a model hash as `HMGET` of [`FIELDS`] returns it: `None` when
/// the hash does not exist (every field absent).
///
/// # Errors
/// As [`decode`].
pub fn decode_hash(values: [Option<String>; 6]) -> Result<Option<StoredModel>, StoredModelError> {
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    decode(values).map(Some)
}

fn parse_count(field: &'static str, value: Option<String>) -> Result<u64, StoredModelError> {
    value.map_or(Ok(0), |text| {
        text.parse().map_err(|e| error(field, &text, &e))
    })
}

fn error(field: &'static str, value: &str, reason: &dyn std::fmt::Display) -> StoredModelError {
    StoredModelError {
        field,
        value: value.to_owned(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn an_absent_hash_is_zero_counts_without_definition() {
        let model = decode([None, None, None, None, None, None]).unwrap();
        assert_eq!(model.state.counts, Counts::ZERO);
        assert_eq!(model.state.definition, None);
        assert_eq!(model.changed, 0);
    }

    #[test]
    fn a_full_hash_decodes() {
        let model = decode([
            some("6"),
            some("9"),
            some("uniform"),
            some("20"),
            some("60000"),
            None,
        ])
        .unwrap();
        assert_eq!(model.state.counts, Counts::new(6, 9).unwrap());
        assert_eq!(model.state.definition.unwrap().grid.points(), 20);
        assert_eq!(model.changed, 60_000);
    }

    #[test]
    fn corrupt_fields_are_named() {
        let message = decode([some("x"), some("9"), None, None, None, None])
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"w\" holds \"x\""), "{message}");
        let message = decode([some("10"), some("9"), None, None, None, None])
            .unwrap_err()
            .to_string();
        assert!(message.contains("exceeds"), "{message}");
        let message = decode([None, None, some("beta:0,1"), some("9"), None, None])
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"prior\""), "{message}");
        let message = decode([None, None, None, None, some("soon"), None])
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"t\""), "{message}");
    }
}
