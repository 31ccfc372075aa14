//! The grid posterior: `ln prior_i + w ln p_i + (n - w) ln(1 - p_i)`,
//! normalised with log-sum-exp, and the summaries read off it.

use crate::prior::xlogy;
use crate::{Counts, Grid, Prior};
use rand::{Rng, RngExt};
use serde::Serialize;
use statrs::function::factorial::ln_binomial;

/// A normalised posterior over the points of a grid, with the prior and
/// counts it was formed from (so it can tell when it is pinned, see
/// [`Posterior::pinned`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    grid: Grid,
    prior: Prior,
    counts: Counts,
    probabilities: Vec<f64>,
}

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
        /// Wins.
        w: u64,
        /// Trials.
        n: u64,
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

impl Posterior {
    /// The posterior of `prior` after `counts`, on `grid`.
    ///
    /// Computed in log space, so any `n` (10^12 and beyond) neither
    /// underflows nor overflows; at `p = 0` and `p = 1`, `0 * ln 0` is taken
    /// as its limit 0, so `w = 0` and `w = n` are exact.
    ///
    /// # Errors
    /// [`PosteriorError::NoMass`] if prior × likelihood is zero everywhere.
    pub fn new(grid: Grid, prior: Prior, counts: Counts) -> Result<Self, PosteriorError> {
        let (w, l) = (counts.w() as f64, counts.losses() as f64);
        let mut probabilities: Vec<f64> = (0..grid.points())
            .map(|i| {
                let (p, q) = (grid.p(i), grid.q(i));
                prior.ln_density(p, q) + xlogy(w, p) + xlogy(l, q)
            })
            .collect();
        let max = probabilities
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        if max == f64::NEG_INFINITY {
            return Err(PosteriorError::NoMass {
                prior,
                w: counts.w(),
                n: counts.n(),
                points: grid.points(),
            });
        }
        let mut total = 0.0;
        for x in &mut probabilities {
            *x = (*x - max).exp();
            total += *x;
        }
        for x in &mut probabilities {
            *x /= total;
        }
        Ok(Self {
            grid,
            prior,
            counts,
            probabilities,
        })
    }

    /// The grid it lives on.
    #[must_use]
    pub const fn grid(&self) -> Grid {
        self.grid
    }

    /// The prior it was formed with.
    #[must_use]
    pub const fn prior(&self) -> Prior {
        self.prior
    }

    /// The counts it was formed from.
    #[must_use]
    pub const fn counts(&self) -> Counts {
        self.counts
    }

    /// Probability of each grid point; sums to 1.
    #[must_use]
    pub fn probabilities(&self) -> &[f64] {
        &self.probabilities
    }

    /// Posterior mean of `p`.
    #[must_use]
    pub fn mean(&self) -> f64 {
        self.expect(|p| p)
    }

    /// Posterior standard deviation of `p`.
    #[must_use]
    pub fn sd(&self) -> f64 {
        let mean = self.mean();
        self.expect(|p| (p - mean) * (p - mean)).sqrt()
    }

    /// The grid point of highest probability (the first, on a tie).
    #[must_use]
    pub fn map(&self) -> f64 {
        self.grid.p(self.map_index())
    }

    /// Probability mass on grid points strictly below `p`.
    #[must_use]
    pub fn mass_below(&self, p: f64) -> f64 {
        self.grid
            .iter()
            .zip(&self.probabilities)
            .filter(|(x, _)| *x < p)
            .map(|(_, m)| m)
            .sum()
    }

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

    /// Posterior predictive: the probability of exactly `wins` wins in the
    /// next `trials` trials, `Σ_i post_i C(m, k) p_i^k (1 - p_i)^(m - k)`.
    ///
    /// # Errors
    /// [`PosteriorError::Predictive`] when `wins > trials`.
    pub fn predictive(&self, wins: u64, trials: u64) -> Result<f64, PosteriorError> {
        if wins > trials {
            return Err(PosteriorError::Predictive { wins, trials });
        }
        let ln_choose = ln_binomial(trials, wins);
        let (k, l) = (wins as f64, (trials - wins) as f64);
        Ok(self
            .probabilities
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let (p, q) = (self.grid.p(i), self.grid.q(i));
                m * (ln_choose + xlogy(k, p) + xlogy(l, q)).exp()
            })
            .sum())
    }

    /// `count` draws of `p` from the posterior, by inverse CDF with the
    /// caller's random number generator (seed it for reproducible draws).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, count: usize) -> Vec<f64> {
        let mut cumulative = Vec::with_capacity(self.probabilities.len());
        let mut running = 0.0;
        for m in &self.probabilities {
            running += m;
            cumulative.push(running);
        }
        let last = self.probabilities.len() - 1;
        (0..count)
            .map(|_| {
                let u = rng.random::<f64>() * running;
                let i = cumulative.partition_point(|c| *c <= u).min(last);
                self.grid.p(i)
            })
            .collect()
    }

    /// The index of [`Posterior::map`].
    pub(crate) fn map_index(&self) -> usize {
        let mut best = 0;
        for (i, m) in self.probabilities.iter().enumerate() {
            if *m > self.probabilities[best] {
                best = i;
            }
        }
        best
    }

    fn expect(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.grid
            .iter()
            .zip(&self.probabilities)
            .map(|(p, m)| f(p) * m)
            .sum()
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
