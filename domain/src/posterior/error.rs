//! Why a posterior cannot be formed or asked something.

use crate::Prior;

/// Why a posterior cannot be formed or asked something.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum PosteriorError {
    /// Prior times likelihood is zero at every grid point: the prior puts no
    /// mass on the grid, or the data contradict everything it allows.
    #[error(
        "the prior {prior} times the likelihood of w = {w}, n = {n} is zero on all {points} grid points"
    )]
    NoMass {
        /// The prior.
        prior: Prior,
        /// Wins (integral for undecayed counts; Display writes those
        /// without a fraction, `w = 5`).
        w: f64,
        /// Trials (likewise).
        n: f64,
        /// Grid size.
        points: usize,
    },
    /// A probability mass outside `(0, 1]`.
    #[error("interval mass must be in (0, 1], got {0}")]
    Mass(f64),
    /// Asked for more wins than trials.
    #[error("cannot have {wins} wins in {trials} trials")]
    Predictive {
        /// Wins asked about.
        wins: u64,
        /// Trials asked about.
        trials: u64,
    },
}
