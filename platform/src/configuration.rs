//! Configuration both services share: how flags become typed values at the
//! boundary, and the definition new models get.

use clap::Args;
use domain::{Counts, DefaultDefinitions, Grid, ModelDefinition, Prior};
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

/// The definitions models get when first observed without one: the model
/// `default` (the v1 routes) keeps the original's `PRIOR`/`GRID_POINTS`;
/// every other model gets `MODEL_PRIOR`/`MODEL_GRID_POINTS`, fine enough
/// for the small rates of A/B tests (see [`DefaultDefinitions`]).
#[derive(Debug, Clone, Args)]
pub struct ModelDefaults {
    /// Prior of the model `default` (the v1 routes): `uniform`, `step:T` (0 <= T < 1) or `beta:A,B` (A, B >= 1).
    #[arg(long, env = "PRIOR", default_value = "step:0.1", value_parser = Prior::parse)]
    pub prior: Prior,

    /// Grid points of the model `default` (2 to 10,000,000).
    #[arg(long, env = "GRID_POINTS", default_value = "120", value_parser = Grid::parse)]
    pub grid_points: Grid,

    /// Prior of named models created without a definition (as PRIOR).
    #[arg(long, env = "MODEL_PRIOR", default_value = "uniform", value_parser = Prior::parse)]
    pub model_prior: Prior,

    /// Grid points of named models created without a definition (2 to 10,000,000).
    #[arg(long, env = "MODEL_GRID_POINTS", default_value = "10001", value_parser = Grid::parse)]
    pub model_grid_points: Grid,
}

impl ModelDefaults {
    /// The default definitions, each checked to have mass on its grid.
    ///
    /// # Errors
    /// A message naming the setting whose prior has no mass on its grid.
    pub fn definitions(&self) -> Result<DefaultDefinitions, String> {
        let checked = |definition: ModelDefinition, prior: &str, points: &str| {
            definition
                .summary(Counts::ZERO)
                .map(|_| definition)
                .map_err(|_| {
                    format!(
                        "{prior} {} has no mass on a grid of {} points ({points})",
                        definition.prior, definition.grid
                    )
                })
        };
        Ok(DefaultDefinitions {
            default_model: checked(
                ModelDefinition {
                    prior: self.prior,
                    grid: self.grid_points,
                },
                "PRIOR",
                "GRID_POINTS",
            )?,
            named: checked(
                ModelDefinition {
                    prior: self.model_prior,
                    grid: self.model_grid_points,
                },
                "MODEL_PRIOR",
                "MODEL_GRID_POINTS",
            )?,
        })
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

    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        defaults: ModelDefaults,
    }

    fn definitions(args: &[&str]) -> Result<DefaultDefinitions, String> {
        use clap::Parser;
        let flags = Flags::try_parse_from(std::iter::once("test").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        flags.defaults.definitions()
    }

    #[test]
    fn default_keeps_the_originals_prior_and_named_models_get_their_own() {
        assert_eq!(definitions(&[]), Ok(DefaultDefinitions::default()));
        let set =
            definitions(&["--model-prior", "beta:2,50", "--model-grid-points", "2001"]).unwrap();
        assert_eq!(set.named.prior.to_string(), "beta:2,50");
        assert_eq!(set.named.grid.points(), 2001);
        assert_eq!(set.default_model.prior.to_string(), "step:0.1");
        let refused = definitions(&["--model-prior", "beta:2,2", "--model-grid-points", "2"]);
        assert_eq!(
            refused,
            Err(
                "MODEL_PRIOR beta:2,2 has no mass on a grid of 2 points (MODEL_GRID_POINTS)".into()
            )
        );
    }
}
