//! Priors over the proportion `p`, written and read as short specs:
//! `uniform`, `step:T` and `beta:A,B`.

use std::fmt;
use std::str::FromStr;

/// A prior density over `p` in `[0, 1]`, up to a constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    /// Flat: every grid point equally likely.
    Uniform,
    /// 1 where `p > threshold`, else 0. The original's default is `step:0.1`.
    Step {
        /// Points at or below it get no prior mass; `0 <= threshold < 1`.
        threshold: f64,
    },
    /// `Beta(alpha, beta)`, with `alpha, beta >= 1` (see [`PriorError::BetaShape`]).
    Beta {
        /// First shape parameter.
        alpha: f64,
        /// Second shape parameter.
        beta: f64,
    },
}

/// Why a prior spec is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriorError {
    /// Not one of the known forms.
    #[error(
        "unknown prior {given:?}: expected \"uniform\", \"step:T\" (0 <= T < 1) or \"beta:A,B\" (A, B >= 1)"
    )]
    Unknown {
        /// The spec given.
        given: String,
    },
    /// A number that does not parse or is not finite.
    #[error("prior {given:?}: {part:?} is not a finite number")]
    NotANumber {
        /// The spec given.
        given: String,
        /// The offending part.
        part: String,
    },
    /// `step:T` outside `[0, 1)` puts no mass anywhere or equals `uniform`.
    #[error("prior {given:?}: the step threshold must satisfy 0 <= T < 1")]
    StepThreshold {
        /// The spec given.
        given: String,
    },
    /// A Beta shape below 1 has an unbounded density at `p = 0` or `p = 1`,
    /// both of which are grid points, so no grid can evaluate it.
    #[error(
        "prior {given:?}: Beta shapes must be >= 1 (below 1 the density is infinite at p = 0 or p = 1, which are grid points)"
    )]
    BetaShape {
        /// The spec given.
        given: String,
    },
}

impl Prior {
    /// The original's prior: no mass at or below 0.1.
    pub const DEFAULT: Self = Self::Step { threshold: 0.1 };

    /// Parses `uniform`, `step:T` or `beta:A,B`.
    ///
    /// # Errors
    /// A [`PriorError`] naming the spec and what is wrong with it.
    pub fn parse(spec: &str) -> Result<Self, PriorError> {
        let number = |part: &str| -> Result<f64, PriorError> {
            part.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| PriorError::NotANumber {
                    given: spec.to_owned(),
                    part: part.to_owned(),
                })
        };
        if spec == "uniform" {
            return Ok(Self::Uniform);
        }
        if let Some(threshold) = spec.strip_prefix("step:") {
            let threshold = number(threshold)?;
            if !(0.0..1.0).contains(&threshold) {
                return Err(PriorError::StepThreshold {
                    given: spec.to_owned(),
                });
            }
            return Ok(Self::Step { threshold });
        }
        if let Some((alpha, beta)) = spec.strip_prefix("beta:").and_then(|s| s.split_once(',')) {
            let (alpha, beta) = (number(alpha)?, number(beta)?);
            if alpha < 1.0 || beta < 1.0 {
                return Err(PriorError::BetaShape {
                    given: spec.to_owned(),
                });
            }
            return Ok(Self::Beta { alpha, beta });
        }
        Err(PriorError::Unknown {
            given: spec.to_owned(),
        })
    }

    /// The log density at `p` (with `q = 1 - p` given exactly), up to a
    /// constant; `-inf` where the prior has no mass.
    #[must_use]
    pub fn ln_density(self, p: f64, q: f64) -> f64 {
        match self {
            Self::Uniform => 0.0,
            Self::Step { threshold } if p > threshold => 0.0,
            Self::Step { .. } => f64::NEG_INFINITY,
            Self::Beta { alpha, beta } => xlogy(alpha - 1.0, p) + xlogy(beta - 1.0, q),
        }
    }

    /// The `(alpha, beta)` of the conjugate Beta this prior is, if it is one.
    #[must_use]
    pub const fn beta_shape(self) -> Option<(f64, f64)> {
        match self {
            Self::Uniform => Some((1.0, 1.0)),
            Self::Beta { alpha, beta } => Some((alpha, beta)),
            Self::Step { .. } => None,
        }
    }
}

/// `x * ln(y)` with `0 * ln(0) = 0`, the limit, instead of NaN.
pub(crate) fn xlogy(x: f64, y: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x * y.ln() }
}

impl Default for Prior {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FromStr for Prior {
    type Err = PriorError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        Self::parse(spec)
    }
}

impl fmt::Display for Prior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Uniform => f.write_str("uniform"),
            Self::Step { threshold } => write!(f, "step:{threshold}"),
            Self::Beta { alpha, beta } => write!(f, "beta:{alpha},{beta}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_known_forms_parse() {
        assert_eq!(Prior::parse("uniform"), Ok(Prior::Uniform));
        assert_eq!(Prior::parse("step:0.1"), Ok(Prior::Step { threshold: 0.1 }));
        assert_eq!(Prior::parse("step:0"), Ok(Prior::Step { threshold: 0.0 }));
        assert_eq!(
            Prior::parse("beta:2,3.5"),
            Ok(Prior::Beta {
                alpha: 2.0,
                beta: 3.5
            })
        );
        assert_eq!(Prior::default().to_string(), "step:0.1");
    }

    #[test]
    fn bad_specs_are_refused_with_the_reason() {
        let cases = [
            ("step:2", "0 <= T < 1"),
            ("step:1", "0 <= T < 1"),
            ("step:-0.5", "0 <= T < 1"),
            ("step:x", "\"x\" is not a finite number"),
            ("step:NaN", "\"NaN\" is not a finite number"),
            ("beta:-1,1", "Beta shapes must be >= 1"),
            ("beta:0.5,0.5", "Beta shapes must be >= 1"),
            ("beta:x", "unknown prior"),
            ("beta:x,1", "\"x\" is not a finite number"),
            ("beta:1,inf", "\"inf\" is not a finite number"),
            ("Uniform", "unknown prior"),
            ("", "unknown prior"),
            ("normal:0,1", "unknown prior"),
        ];
        for (spec, reason) in cases {
            let message = Prior::parse(spec).expect_err(spec).to_string();
            assert!(message.contains(reason), "{spec}: {message}");
            assert!(message.contains(&format!("{spec:?}")), "{spec}: {message}");
        }
    }

    #[test]
    fn step_has_no_mass_at_or_below_the_threshold() {
        let prior = Prior::parse("step:0.5").unwrap();
        assert_eq!(prior.ln_density(0.5, 0.5), f64::NEG_INFINITY);
        assert_eq!(prior.ln_density(0.51, 0.49), 0.0);
    }

    #[test]
    fn beta_edges_are_finite_or_minus_infinity_never_nan() {
        let flat_edge = Prior::Beta {
            alpha: 1.0,
            beta: 2.0,
        };
        assert_eq!(flat_edge.ln_density(0.0, 1.0), 0.0);
        assert_eq!(flat_edge.ln_density(1.0, 0.0), f64::NEG_INFINITY);
    }

    proptest! {
        #[test]
        fn display_round_trips(kind in 0..3u8, a in 1.0..1e6f64, b in 1.0..1e6f64, t in 0.0..1.0f64) {
            let prior = match kind {
                0 => Prior::Uniform,
                1 => Prior::Step { threshold: t },
                _ => Prior::Beta { alpha: a, beta: b },
            };
            prop_assert_eq!(Prior::parse(&prior.to_string()), Ok(prior));
        }
    }
}
