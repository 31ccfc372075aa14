//! Credible intervals read off a grid posterior.

use super::{Posterior, PosteriorError};
use serde::Serialize;

/// A closed interval `[lo, hi]` of proportions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(into = "[f64; 2]")]
pub struct Interval {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

impl From<Interval> for [f64; 2] {
    fn from(interval: Interval) -> Self {
        [interval.lo, interval.hi]
    }
}

impl Interval {
    /// Whether `p` lies in the interval, ends included.
    #[must_use]
    pub fn contains(self, p: f64) -> bool {
        self.lo <= p && p <= self.hi
    }
}

impl Posterior {
    /// Highest posterior density interval: the narrowest run of grid points
    /// holding at least `mass`, grown from the MAP by always taking the more
    /// probable neighbour. Every posterior here is unimodal (a log-concave
    /// likelihood times a log-concave or step prior), for which this is the
    /// highest-density region, and it contains the MAP by construction.
    ///
    /// # Errors
    /// [`PosteriorError::Mass`] if `mass` is not in `(0, 1]`.
    pub fn hpdi(&self, mass: f64) -> Result<Interval, PosteriorError> {
        check_mass(mass)?;
        let probs = &self.probabilities;
        let (mut lo, mut hi) = (self.map_index(), self.map_index());
        let mut held = probs[lo];
        while held < mass - MASS_TOLERANCE && (lo > 0 || hi + 1 < probs.len()) {
            let left = if lo > 0 { probs[lo - 1] } else { -1.0 };
            let right = probs.get(hi + 1).copied().unwrap_or(-1.0);
            if left >= right {
                lo -= 1;
                held += left;
            } else {
                hi += 1;
                held += right;
            }
        }
        Ok(Interval {
            lo: self.grid.p(lo),
            hi: self.grid.p(hi),
        })
    }

    /// Percentile (equal-tailed) interval: the grid quantiles at
    /// `(1 - mass) / 2` and `1 - (1 - mass) / 2`.
    ///
    /// # Errors
    /// [`PosteriorError::Mass`] if `mass` is not in `(0, 1]`.
    pub fn percentile_interval(&self, mass: f64) -> Result<Interval, PosteriorError> {
        check_mass(mass)?;
        let tail = (1.0 - mass) / 2.0;
        Ok(Interval {
            lo: self.quantile(tail),
            hi: self.quantile(1.0 - tail),
        })
    }

    /// The first grid point at which the cumulative mass reaches `u`.
    fn quantile(&self, u: f64) -> f64 {
        let mut cumulative = 0.0;
        for (i, m) in self.probabilities.iter().enumerate() {
            cumulative += m;
            if cumulative >= u - MASS_TOLERANCE {
                return self.grid.p(i);
            }
        }
        1.0
    }
}

/// Slack for sums of floating-point masses compared against a target.
const MASS_TOLERANCE: f64 = 1e-12;

fn check_mass(mass: f64) -> Result<(), PosteriorError> {
    if mass > 0.0 && mass <= 1.0 {
        Ok(())
    } else {
        Err(PosteriorError::Mass(mass))
    }
}
