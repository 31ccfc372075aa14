//! The decisions stream's entries: one per change of an experiment's
//! decision or its stop, written by bayes's scripts, read by the api and
//! by any consumer of the stream.

use super::Status;
use serde::{Deserialize, Serialize};

/// One entry of the decisions stream: a change of an experiment's decision
/// (none → a winner, a winner → another, a winner → none) or its stop.
/// Its stream id is `<at>-<k>`: the log time it was reached at, so a
/// rebuild from the log gives the same ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionEvent {
    /// The experiment.
    pub experiment: String,
    /// The announcement's number for this experiment (1, 2, …).
    pub seq: u64,
    /// Its status after the change.
    pub status: Status,
    /// The winner before (`None`: none).
    pub from: Option<String>,
    /// The winner after (`None`: none), or the variant a stop chose.
    pub to: Option<String>,
    /// `to`'s chance to be best (absent for none, and for a stop).
    pub p_best: Option<f64>,
    /// `to`'s expected loss, likewise.
    pub expected_loss: Option<f64>,
    /// Log time (Unix ms) of the counts it was computed from.
    pub at: u64,
    /// Each variant's `[w, n]` it was computed from (under the experiment's
    /// window or decay: fractional then).
    pub counts: Vec<(String, [f64; 2])>,
}

/// A count as JSON: an integer when it is one (`250`, not `250.0`).
fn count(value: f64) -> serde_json::Value {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        serde_json::json!(value as i64)
    } else {
        serde_json::json!(value)
    }
}

/// Stream field names of a [`DecisionEvent`].
pub mod event_fields {
    /// `experiment`.
    pub const EXPERIMENT: &str = "experiment";
    /// `seq`.
    pub const SEQ: &str = "seq";
    /// `status`.
    pub const STATUS: &str = "status";
    /// `from` (empty: none).
    pub const FROM: &str = "from";
    /// `to` (empty: none).
    pub const TO: &str = "to";
    /// `p_best` (empty: none).
    pub const P_BEST: &str = "p_best";
    /// `expected_loss` (empty: none).
    pub const EXPECTED_LOSS: &str = "expected_loss";
    /// `at`.
    pub const AT: &str = "at";
    /// `counts`: JSON `{"variant": [w, n], …}`.
    pub const COUNTS: &str = "counts";
}

impl DecisionEvent {
    /// The fields of its stream entry (`seq` is the script's to set).
    #[must_use]
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        use event_fields as f;
        let counts: serde_json::Map<String, serde_json::Value> = self
            .counts
            .iter()
            .map(|(name, [w, n])| (name.clone(), serde_json::json!([count(*w), count(*n)])))
            .collect();
        let text = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
        vec![
            (f::EXPERIMENT, self.experiment.clone()),
            (f::STATUS, self.status.as_str().to_owned()),
            (f::FROM, self.from.clone().unwrap_or_default()),
            (f::TO, self.to.clone().unwrap_or_default()),
            (f::P_BEST, text(self.p_best)),
            (f::EXPECTED_LOSS, text(self.expected_loss)),
            (f::AT, self.at.to_string()),
            (f::COUNTS, serde_json::Value::Object(counts).to_string()),
        ]
    }

    /// Reads a stream entry's fields.
    ///
    /// # Errors
    /// What is missing or does not decode.
    pub fn parse(fields: &[(String, String)]) -> Result<Self, String> {
        use event_fields as f;
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| format!("no {name:?} field"))
        };
        let optional = |name: &str| get(name).map(|v| (!v.is_empty()).then(|| v.to_owned()));
        let float = |name: &str| -> Result<Option<f64>, String> {
            optional(name)?
                .map(|v| v.parse().map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let status = match get(f::STATUS)? {
            "running" => Status::Running,
            "decided" => Status::Decided,
            "stopped" => Status::Stopped,
            other => return Err(format!("status {other:?}")),
        };
        let counts: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(get(f::COUNTS)?).map_err(|e| format!("counts: {e}"))?;
        let counts = counts
            .into_iter()
            .map(|(name, pair)| {
                let pair: [f64; 2] =
                    serde_json::from_value(pair).map_err(|e| format!("counts: {e}"))?;
                Ok((name, pair))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            experiment: get(f::EXPERIMENT)?.to_owned(),
            seq: get(f::SEQ)?.parse().map_err(|e| format!("seq: {e}"))?,
            status,
            from: optional(f::FROM)?,
            to: optional(f::TO)?,
            p_best: float(f::P_BEST)?,
            expected_loss: float(f::EXPECTED_LOSS)?,
            at: get(f::AT)?.parse().map_err(|e| format!("at: {e}"))?,
            counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_back_from_its_fields() {
        let event = DecisionEvent {
            experiment: "checkout".into(),
            seq: 2,
            status: Status::Decided,
            from: None,
            to: Some("v1".into()),
            p_best: Some(0.97),
            expected_loss: Some(0.0001),
            at: 1_700_000_001_000,
            counts: vec![
                ("control".into(), [10.0, 100.0]),
                ("v1".into(), [20.5, 100.0]),
            ],
        };
        let mut fields: Vec<(String, String)> = event
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        fields.push(("seq".into(), "2".into()));
        assert_eq!(DecisionEvent::parse(&fields), Ok(event));
        assert!(DecisionEvent::parse(&fields[1..]).is_err());
    }
}
