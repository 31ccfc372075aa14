//! What the integration tests build their posteriors from, once.

#![allow(dead_code)] // Each test crate uses its own part of it.

use domain::{Counts, Evidence, Grid, Posterior, Prior};

/// A prior given as a spec (`"step:0.1"`) or as itself.
pub trait AsPrior {
    /// The prior.
    fn as_prior(&self) -> Prior;
}

impl AsPrior for &str {
    fn as_prior(&self) -> Prior {
        Prior::parse(self).unwrap()
    }
}

impl AsPrior for Prior {
    fn as_prior(&self) -> Prior {
        *self
    }
}

/// The posterior of `w` wins in `n` on a `points` grid under `prior`.
pub fn posterior(points: usize, prior: impl AsPrior, w: u64, n: u64) -> Posterior {
    weighted(points, prior, Counts::new(w, n).unwrap())
}

/// The posterior of any evidence, integer or fractional, likewise.
pub fn weighted(points: usize, prior: impl AsPrior, evidence: impl Into<Evidence>) -> Posterior {
    Posterior::new(Grid::new(points).unwrap(), prior.as_prior(), evidence).unwrap()
}

/// Fractional evidence `w` in `n`.
pub fn evidence(w: f64, n: f64) -> Evidence {
    Evidence::new(w, n).unwrap()
}
