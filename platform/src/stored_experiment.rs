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

mod event;
pub use event::{DecisionEvent, event_fields};

#[cfg(test)]
mod tests {
    use super::*;

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
