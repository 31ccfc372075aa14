//! The grid posterior: `ln prior_i + w ln p_i + (n - w) ln(1 - p_i)`,
//! normalised with log-sum-exp, and the summaries read off it. `w` and `n`
//! are real ([`Evidence`]): integer counts and decayed, fractional ones
//! take the same path.

mod error;
mod interval;

pub use error::PosteriorError;
pub use interval::Interval;

use crate::prior::xlogy;
use crate::{Evidence, Grid, Prior};
use rand::{Rng, RngExt};
use statrs::function::factorial::ln_binomial;

/// A normalised posterior over the points of a grid, with the prior and
/// evidence it was formed from (so it can tell when it is pinned, see
/// [`Posterior::pinned`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    grid: Grid,
    prior: Prior,
    evidence: Evidence,
    probabilities: Vec<f64>,
}

impl Posterior {
    /// The posterior of `prior` after `evidence` (integer [`crate::Counts`]
    /// or fractional, decayed [`Evidence`]), on `grid`.
    ///
    /// Computed in log space, so any `n` (10^12 and beyond) neither
    /// underflows nor overflows; at `p = 0` and `p = 1`, `0 * ln 0` is taken
    /// as its limit 0, so `w = 0` and `w = n` are exact. Fractional `w`,
    /// `n` enter the likelihood `p^w (1 − p)^(n − w)` as they are.
    ///
    /// # Errors
    /// [`PosteriorError::NoMass`] if prior × likelihood is zero everywhere.
    pub fn new(
        grid: Grid,
        prior: Prior,
        evidence: impl Into<Evidence>,
    ) -> Result<Self, PosteriorError> {
        let evidence = evidence.into();
        let (w, l) = (evidence.w(), evidence.losses());
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
                w: evidence.w(),
                n: evidence.n(),
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
            evidence,
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

    /// The evidence it was formed from.
    #[must_use]
    pub const fn evidence(&self) -> Evidence {
        self.evidence
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
