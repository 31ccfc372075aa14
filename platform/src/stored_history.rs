//! A model's history stream `<base>history:<name>` (see `keys`): an entry
//! `<t>-0 w <w> n <n>` per closed interval, written by `apply.lua` and read
//! by both services through [`decode_points`]. The newest, open point is
//! the model hash's (`StoredModel::open_point`).

use crate::StoredModel;
use crate::log_time::id_millis;
use domain::{Counts, HistoryPoint};
use redis::Value;

/// Wins before the point's time.
pub const FIELD_W: &str = "w";
/// Trials before the point's time.
pub const FIELD_N: &str = "n";

impl StoredModel {
    /// The history's open point: the counts now, at the end of the interval
    /// they last changed in; `None` if they never changed with history on.
    #[must_use]
    pub fn open_point(&self) -> Option<HistoryPoint> {
        (self.changed > 0).then_some(HistoryPoint {
            t: self.changed,
            counts: self.state.counts,
        })
    }
}

/// The points of an `XRANGE` / `XREVRANGE` reply of a history stream, in
/// the reply's order, read in place (no string per value).
///
/// # Errors
/// An entry that is not a point, described.
pub fn decode_points(reply: &Value) -> Result<Vec<HistoryPoint>, String> {
    let bad = |what: &Value| format!("a history entry that is not a point: {what:?}");
    let Value::Array(entries) = reply else {
        return Err(bad(reply));
    };
    entries
        .iter()
        .map(|entry| point(entry).ok_or_else(|| bad(entry)))
        .collect()
}

fn point(entry: &Value) -> Option<HistoryPoint> {
    let Value::Array(parts) = entry else {
        return None;
    };
    let (Some(id), Some(Value::Array(fields))) = (parts.first(), parts.get(1)) else {
        return None;
    };
    let t = id_millis(std::str::from_utf8(bytes(id)?).ok()?)?;
    let field = |name: &str| {
        fields
            .chunks(2)
            .find(|pair| bytes(&pair[0]) == Some(name.as_bytes()))
            .and_then(|pair| std::str::from_utf8(bytes(pair.get(1)?)?).ok()?.parse().ok())
    };
    let counts = Counts::new(field(FIELD_W)?, field(FIELD_N)?).ok()?;
    Some(HistoryPoint { t, counts })
}

fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.as_bytes()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, fields: &[&str]) -> Value {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        Value::Array(vec![
            bulk(id),
            Value::Array(fields.iter().map(|f| bulk(f)).collect()),
        ])
    }

    #[test]
    fn entries_decode_to_points_in_order() {
        let reply = Value::Array(vec![
            entry("60000-0", &["w", "1", "n", "2"]),
            entry("120000-0", &["n", "5", "w", "3"]),
        ]);
        let points = decode_points(&reply).unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!(
            (points[1].t, points[1].counts),
            (120_000, Counts::new(3, 5).unwrap())
        );
    }

    #[test]
    fn what_is_not_a_point_is_named() {
        for bad in [
            entry("60000-0", &["w", "3", "n", "2"]),
            entry("60000-0", &["w", "x", "n", "2"]),
            entry("soon-0", &["w", "1", "n", "2"]),
            entry("60000-0", &["n", "2"]),
            Value::Nil,
        ] {
            let reply = Value::Array(vec![bad]);
            assert!(decode_points(&reply).unwrap_err().contains("not a point"));
        }
        assert!(decode_points(&Value::Nil).is_err());
    }

    #[test]
    fn the_open_point_is_the_hash_s_counts_at_its_t() {
        let mut stored = StoredModel {
            state: domain::ModelState {
                counts: Counts::new(2, 4).unwrap(),
                definition: None,
            },
            changed: 0,
            known_from: 0,
        };
        assert_eq!(stored.open_point(), None);
        stored.changed = 180_000;
        assert_eq!(
            stored.open_point().map(|p| (p.t, p.counts.n())),
            Some((180_000, 4))
        );
    }
}
