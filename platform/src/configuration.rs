//! Configuration both services share: how flags become typed values at the
//! boundary, and the definition new models get.

use clap::Args;
use domain::{Grid, ModelDefinition, Prior};
use std::time::Duration;

/// Parses a count of milliseconds (the `*_MS` variables) into a `Duration`.
///
/// # Errors
/// A message for a value that is not a whole number of milliseconds.
pub fn millis(text: &str) -> Result<Duration, String> {
    text.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("{text:?} is not a whole number of milliseconds"))
}

/// As [`millis`], refusing zero.
///
/// # Errors
/// As [`millis`], and for `0`.
pub fn positive_millis(text: &str) -> Result<Duration, String> {
    let duration = millis(text)?;
    if duration.is_zero() {
        Err("must be at least 1 millisecond".to_owned())
    } else {
        Ok(duration)
    }
}

/// The definition a model gets when it is first observed without one.
#[derive(Debug, Clone, Args)]
pub struct ModelDefaults {
    /// Prior of new models: `uniform`, `step:T` (0 <= T < 1) or `beta:A,B` (A, B >= 1).
    #[arg(long, env = "PRIOR", default_value = "step:0.1", value_parser = Prior::parse)]
    pub prior: Prior,

    /// Grid points of new models' posterior approximation (2 to 10,000,000).
    #[arg(long, env = "GRID_POINTS", default_value = "120", value_parser = Grid::parse)]
    pub grid_points: Grid,
}

impl ModelDefaults {
    /// The default definition.
    #[must_use]
    pub fn definition(&self) -> ModelDefinition {
        ModelDefinition {
            prior: self.prior,
            grid: self.grid_points,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_become_durations_at_the_boundary() {
        assert_eq!(millis("1500"), Ok(Duration::from_millis(1500)));
        assert!(millis("1.5").is_err());
        assert!(millis("-1").is_err());
        assert!(positive_millis("0").is_err());
    }
}
