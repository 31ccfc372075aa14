//! The exact distribution of the lift `p_candidate − p_baseline` on the
//! grids, and its quantiles.
//!
//! With `a = G_A − 1`, `b = G_B − 1` and `L = lcm(a, b)`, the baseline's
//! point `i / a` is `i·(L/a) / L` and the candidate's `j / b` is
//! `j·(L/b) / L`, so every difference is `n / L` for an integer
//! `n ∈ [−L, L]`: the lift lives on that lattice (`2G − 1` values for equal
//! grids). Its CDF at a lattice point,
//! `P(D ≤ n/L) = Σ_i f_A(i) · F_B(largest j with j·(L/b) ≤ i·(L/a) + n)`,
//! takes one merge-like pass, `O(G_A + G_B)`, in integers; a quantile is the
//! smallest `n` whose CDF reaches the level, found by bisection over
//! `[−L, L]`. So a quantile costs `O((G_A + G_B) · log L)` and never builds the
//! `G_A · G_B` atoms (10^6 for two 1,000-point grids).

use super::MASS_TOLERANCE;
use crate::{Grid, Interval, Posterior, PosteriorError};

// Every integer below is at most 3·L <= 3·MAX_POINTS², so i64 cannot overflow.
const _: () = assert!(3 * (Grid::MAX_POINTS as u128).pow(2) < i64::MAX as u128);

/// The distribution of `p_candidate − p_baseline` for independent posteriors.
#[derive(Debug, Clone)]
pub struct LiftDistribution<'a> {
    baseline: &'a Posterior,
    candidate: &'a Posterior,
    /// `F_B(j)`, the candidate's CDF at each of its grid points.
    candidate_cdf: Vec<f64>,
    /// `L = lcm(a, b)`: the lattice's denominator.
    lattice: i64,
    /// `L / a`: a baseline index in lattice units.
    baseline_step: i64,
    /// `L / b`: a candidate index in lattice units.
    candidate_step: i64,
}

impl<'a> LiftDistribution<'a> {
    /// The lift of `candidate` over `baseline`.
    #[must_use]
    pub fn new(baseline: &'a Posterior, candidate: &'a Posterior) -> Self {
        let last = |p: &Posterior| (p.grid().points() - 1) as i64;
        let (a, b) = (last(baseline), last(candidate));
        let lattice = a / gcd(a, b) * b;
        let candidate_cdf = candidate
            .probabilities()
            .iter()
            .scan(0.0, |running, m| {
                *running += m;
                Some(*running)
            })
            .collect();
        Self {
            baseline,
            candidate,
            candidate_cdf,
            lattice,
            baseline_step: lattice / a,
            candidate_step: lattice / b,
        }
    }

    /// `E[p_candidate − p_baseline]`.
    #[must_use]
    pub fn mean(&self) -> f64 {
        self.candidate.mean() - self.baseline.mean()
    }

    /// The smallest lift whose cumulative probability reaches `u` (less a
    /// slack of 1e-12, the convention of
    /// [`Posterior::percentile_interval`]); always a value the lift takes.
    #[must_use]
    pub fn quantile(&self, u: f64) -> f64 {
        let target = u - MASS_TOLERANCE;
        // Invariant: the answer lies in [lo, hi]; cdf(L) = 1 reaches any u <= 1.
        let (mut lo, mut hi) = (-self.lattice, self.lattice);
        while lo < hi {
            let middle = lo + (hi - lo) / 2;
            if self.cdf_at(middle) >= target {
                hi = middle;
            } else {
                lo = middle + 1;
            }
        }
        hi as f64 / self.lattice as f64
    }

    /// Equal-tailed interval holding `mass`: the quantiles at `(1 − mass)/2`
    /// and `1 − (1 − mass)/2`.
    ///
    /// # Errors
    /// [`PosteriorError::Mass`] if `mass` is not in `(0, 1]`.
    pub fn interval(&self, mass: f64) -> Result<Interval, PosteriorError> {
        if !(mass > 0.0 && mass <= 1.0) {
            return Err(PosteriorError::Mass(mass));
        }
        let tail = (1.0 - mass) / 2.0;
        Ok(Interval {
            lo: self.quantile(tail),
            hi: self.quantile(1.0 - tail),
        })
    }

    /// `P(D ≤ n / L)`: for each baseline point `i`, the candidate's CDF at
    /// the last point `j` with `j·(L/b) ≤ i·(L/a) + n`. That `j` only grows
    /// with `i`, so one pointer walks the candidate's grid.
    fn cdf_at(&self, n: i64) -> f64 {
        let mut j: i64 = -1;
        let last_j = self.candidate_cdf.len() as i64 - 1;
        let mut total = 0.0;
        for (i, mass) in self.baseline.probabilities().iter().enumerate() {
            if *mass == 0.0 {
                continue;
            }
            let bound = i as i64 * self.baseline_step + n;
            while j < last_j && (j + 1) * self.candidate_step <= bound {
                j += 1;
            }
            if j >= 0 {
                total += mass * self.candidate_cdf[j as usize];
            }
        }
        total
    }
}

/// Greatest common divisor of two positive integers.
fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::uniform;

    #[test]
    fn the_lattice_of_a_3_and_a_4_point_grid_is_sixths() {
        let (a, b) = (uniform(3, 1, 2), uniform(4, 1, 2));
        let lift = LiftDistribution::new(&a, &b);
        assert_eq!(
            (lift.lattice, lift.baseline_step, lift.candidate_step),
            (6, 3, 2)
        );
        assert!((lift.cdf_at(6) - 1.0).abs() < 1e-15);
        assert_eq!(lift.cdf_at(-7), 0.0);
    }

    #[test]
    fn a_sure_lift_has_a_point_interval() {
        let (a, b) = (uniform(5, 0, 10_000), uniform(9, 10_000, 10_000));
        let lift = LiftDistribution::new(&a, &b);
        assert_eq!(lift.interval(0.89).unwrap(), Interval { lo: 1.0, hi: 1.0 });
        assert!(lift.interval(0.0).is_err());
        assert!(lift.interval(f64::NAN).is_err());
    }

    #[test]
    fn identical_models_have_a_symmetric_lift() {
        let a = uniform(120, 6, 9);
        let lift = LiftDistribution::new(&a, &a);
        let interval = lift.interval(0.89).unwrap();
        assert_eq!(interval.lo, -interval.hi);
        assert!(lift.mean().abs() < 1e-15);
    }
}
