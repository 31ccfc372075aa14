//! Decisions between models, exact on the grids.
//!
//! Each posterior is a discrete distribution on its own grid; the models
//! compared may have different grids and priors. Everything here is computed
//! from the grid probabilities exactly (to floating point), never by
//! sampling: which model is best and how likely ([`rank`]), what choosing
//! each one risks ([`Ranking::expected_loss`]), how a candidate does against
//! a baseline ([`prob_beats`], [`LiftDistribution`]), the closed-form answer
//! where both posteriors are Betas ([`closed_form_prob_beats`]), and one
//! Thompson-sampling draw ([`Thompson`]). [`compare`] puts them together.
//!
//! Grid points from different grids are compared as rationals
//! (`i / (G - 1)`), with integers, so a tie across grids (0.5 on an 11- and a
//! 21-point grid; 0 and 1 on every grid) is always seen as a tie.

mod best;
mod closed_form;
mod compare;
mod lift;
mod quadrature;
mod resolution;
mod srm;
mod support;
mod thompson;

pub use best::{Ranking, expected_loss, p_best, prob_beats, rank};
pub use closed_form::closed_form_prob_beats;
pub use compare::{BaselineComparison, Comparison, ModelComparison, compare, decide_only};
pub use lift::LiftDistribution;
pub use resolution::{Decision, Resolution, TIE_LIMIT};
pub use srm::{SRM_P_VALUE, SampleRatio, SampleRatioError, sample_ratio};
pub use thompson::{Thompson, thompson_choice};

use crate::PosteriorError;

/// The default risk threshold: a model wins once choosing it is expected to
/// cost at most 0.0025 on the proportion scale (a quarter of a percentage
/// point) against the best of the others.
pub const DEFAULT_THRESHOLD: f64 = 0.0025;

/// The most models one comparison or one draw takes. Bounds the work of a
/// request: the exact sweep is O(S·K²) for `S` support points.
pub const MAX_MODELS: usize = 20;

/// Slack for sums of floating-point masses compared against a target; the
/// same convention as [`crate::Posterior::percentile_interval`].
const MASS_TOLERANCE: f64 = 1e-12;

/// Why a decision cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecisionError {
    /// Fewer models than the question needs.
    #[error("at least {min} models are needed, got {given}")]
    TooFewModels {
        /// Models given.
        given: usize,
        /// Fewest accepted.
        min: usize,
    },
    /// More than [`MAX_MODELS`].
    #[error("at most {max} models can be compared, got {given}")]
    TooManyModels {
        /// Models given.
        given: usize,
        /// Most accepted.
        max: usize,
    },
    /// A risk threshold that is negative, NaN or infinite.
    #[error("the threshold must be a finite number >= 0, got {0}")]
    Threshold(f64),
    /// A Thompson floor outside `[0, 1/K]`.
    #[error("the floor must be between 0 and 1/K = {max} for K models, got {floor}")]
    Floor {
        /// The floor given.
        floor: f64,
        /// `1 / K`.
        max: f64,
    },
    /// A model's posterior cannot be formed (no mass on its grid).
    #[error("model {name:?}: {source}")]
    Posterior {
        /// The model's name.
        name: String,
        /// Why.
        source: PosteriorError,
    },
}

/// Checks that `given` models are between `min` and [`MAX_MODELS`].
fn check_model_count(given: usize, min: usize) -> Result<(), DecisionError> {
    if given < min {
        Err(DecisionError::TooFewModels { given, min })
    } else if given > MAX_MODELS {
        Err(DecisionError::TooManyModels {
            given,
            max: MAX_MODELS,
        })
    } else {
        Ok(())
    }
}
