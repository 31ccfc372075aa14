//! An experiment's definition as written, and how its fields are refused.

use serde::{Deserialize, Serialize};

use super::ExperimentKind;

/// How far the weights may sum from 1 (they are decimals a user typed).
const WEIGHT_SUM_TOLERANCE: f64 = 1e-9;

/// A definition as written: every field optional but the variants, checked
/// by [`Experiment::new`]. Also the form kept in the log and in Redis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentDraft {
    /// `ab` or `bandit`.
    pub kind: Option<ExperimentKind>,
    /// The variants' model names, 2 to 20.
    #[serde(default)]
    pub variants: Vec<String>,
    /// The variant the others are compared with (default: the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The expected loss a winner may carry (default 0.0025).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// `ab`: each variant's share of the traffic, in the variants' order,
    /// summing to 1 (default: equal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
    /// `bandit`: the least share of draws each arm gets, in `[0, 1/K]`
    /// (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<f64>,
    /// Read only the last this many milliseconds of log time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
    /// Decay the evidence with this half-life, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life_ms: Option<u64>,
}

/// A definition refused, naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ExperimentError {
    /// The field at fault (`variants`, `baseline`, `weights`, …).
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

pub(super) fn refuse(field: &'static str, reason: impl Into<String>) -> ExperimentError {
    ExperimentError {
        field,
        reason: reason.into(),
    }
}

/// The weights of an A/B test of `count` variants: given, or equal.
pub(super) fn weights(given: Option<&[f64]>, count: usize) -> Result<Vec<f64>, ExperimentError> {
    let Some(given) = given else {
        return Ok(vec![1.0 / count as f64; count]);
    };
    if given.len() != count {
        return Err(refuse(
            "weights",
            format!(
                "one weight per variant: {count} variants, {} weights",
                given.len()
            ),
        ));
    }
    if let Some(w) = given.iter().find(|w| !(**w > 0.0 && **w <= 1.0)) {
        return Err(refuse("weights", format!("each weight in (0, 1], got {w}")));
    }
    let sum: f64 = given.iter().sum();
    if (sum - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
        return Err(refuse("weights", format!("must sum to 1, sum to {sum}")));
    }
    Ok(given.to_vec())
}
