//! The experiment hash `<base>experiment:<name>` and the decisions stream
//! `<base>decisions`: their fields and how they decode. bayes writes both
//! (the definition, stop and deletion in the apply script, fenced by the
//! cursor; each change of decision in the announce script, fenced by the
//! cursor and by the record's `seq`); the api only reads them.

use domain::{Experiment, ExperimentDraft};
use serde::{Deserialize, Serialize};

/// The definition, as the JSON of an [`ExperimentDraft`].
pub const FIELD_SPEC: &str = "spec";
/// Log time (Unix ms) of the entry that last defined it.
pub const FIELD_DEFINED_AT: &str = "defined_at";
/// The winner last announced; empty or absent: none.
pub const FIELD_DECISION: &str = "decision";
/// How many announcements were made (the record's version, compared and set).
pub const FIELD_SEQ: &str = "seq";
/// Log time of the last announcement.
pub const FIELD_DECIDED_AT: &str = "decided_at";
/// The winner's chance to be best at the last announcement.
pub const FIELD_P_BEST: &str = "p_best";
/// The winner's expected loss at the last announcement.
pub const FIELD_EXPECTED_LOSS: &str = "expected_loss";
/// The variant chosen when it was stopped; absent while it runs.
pub const FIELD_STOPPED: &str = "stopped";
/// Log time of the stop.
pub const FIELD_STOPPED_AT: &str = "stopped_at";

/// The fields in the order [`decode`] takes them (for `HMGET`).
pub const FIELDS: [&str; 9] = [
    FIELD_SPEC,
    FIELD_DEFINED_AT,
    FIELD_DECISION,
    FIELD_SEQ,
    FIELD_DECIDED_AT,
    FIELD_P_BEST,
    FIELD_EXPECTED_LOSS,
    FIELD_STOPPED,
    FIELD_STOPPED_AT,
];

/// Where an experiment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Collecting: no winner at its threshold.
    Running,
    /// A winner at its threshold.
    Decided,
    /// Stopped by hand, with a variant chosen.
    Stopped,
}

impl Status {
    /// As the stream and the answers spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Decided => "decided",
            Self::Stopped => "stopped",
        }
    }
}

/// The last announced decision: what the next announcement is compared with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// The winner announced last (`None`: no winner).
    pub decision: Option<String>,
    /// Announcements so far.
    pub seq: u64,
    /// Log time of the last one (0: none yet).
    pub decided_at: u64,
    /// The winner's chance to be best then.
    pub p_best: Option<f64>,
    /// Its expected loss then.
    pub expected_loss: Option<f64>,
}

/// An experiment hash, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExperiment {
    /// The definition.
    pub experiment: Experiment,
    /// Log time of its definition.
    pub defined_at: u64,
    /// The last announced decision.
    pub record: Record,
    /// The variant chosen and when, if it was stopped.
    pub stopped: Option<(String, u64)>,
}

impl StoredExperiment {
    /// Running, decided or stopped.
    #[must_use]
    pub fn status(&self) -> Status {
        if self.stopped.is_some() {
            Status::Stopped
        } else if self.record.decision.is_some() {
            Status::Decided
        } else {
            Status::Running
        }
    }
}

/// A hash that does not decode: someone else wrote to it.
#[derive(Debug, thiserror::Error)]
#[error("experiment hash field {field:?} holds {value:?}: {reason}")]
pub struct StoredExperimentError {
    field: &'static str,
    value: String,
    reason: String,
}

fn number<T: std::str::FromStr>(
    field: &'static str,
    value: Option<&String>,
) -> Result<Option<T>, StoredExperimentError>
where
    T::Err: std::fmt::Display,
{
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse().map_err(|e: T::Err| StoredExperimentError {
                field,
                value: v.clone(),
                reason: e.to_string(),
            })
        })
        .transpose()
}

/// Decodes the values of [`FIELDS`], in that order, as `HMGET` returns
/// them; `None` when the hash does not exist (no `spec`).
///
/// # Errors
/// [`StoredExperimentError`] naming the first field that does not decode.
pub fn decode(
    values: &[Option<String>; 9],
) -> Result<Option<StoredExperiment>, StoredExperimentError> {
    let [
        spec,
        defined_at,
        decision,
        seq,
        decided_at,
        p_best,
        loss,
        stopped,
        stopped_at,
    ] = values.each_ref();
    let Some(spec) = spec else {
        return Ok(None);
    };
    let invalid = |reason: String| StoredExperimentError {
        field: FIELD_SPEC,
        value: spec.clone(),
        reason,
    };
    let draft: ExperimentDraft = serde_json::from_str(spec).map_err(|e| invalid(e.to_string()))?;
    let experiment = Experiment::new(&draft).map_err(|e| invalid(e.to_string()))?;
    Ok(Some(StoredExperiment {
        experiment,
        defined_at: number(FIELD_DEFINED_AT, defined_at.as_ref())?.unwrap_or(0),
        record: Record {
            decision: decision.clone().filter(|d| !d.is_empty()),
            seq: number(FIELD_SEQ, seq.as_ref())?.unwrap_or(0),
            decided_at: number(FIELD_DECIDED_AT, decided_at.as_ref())?.unwrap_or(0),
            p_best: number(FIELD_P_BEST, p_best.as_ref())?,
            expected_loss: number(FIELD_EXPECTED_LOSS, loss.as_ref())?,
        },
        stopped: stopped
            .clone()
            .map(|s| {
                Ok((
                    s,
                    number(FIELD_STOPPED_AT, stopped_at.as_ref())?.unwrap_or(0),
                ))
            })
            .transpose()?,
    }))
}

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

    #[test]
    fn a_hash_decodes_with_its_status() {
        let spec = r#"{"kind":"ab","variants":["a","b"]}"#.to_owned();
        let mut values: [Option<String>; 9] = Default::default();
        assert_eq!(decode(&values).unwrap(), None);
        values[0] = Some(spec);
        let running = decode(&values).unwrap().unwrap();
        assert_eq!(running.status(), Status::Running);
        assert_eq!(running.record, Record::default());
        values[2] = Some("b".into());
        values[3] = Some("1".into());
        assert_eq!(decode(&values).unwrap().unwrap().status(), Status::Decided);
        values[7] = Some("a".into());
        assert_eq!(decode(&values).unwrap().unwrap().status(), Status::Stopped);
        values[3] = Some("x".into());
        assert!(decode(&values).is_err());
    }
}
