//! What the unit tests build their posteriors from, once.

use crate::{Counts, Grid, Posterior, Prior};

/// The posterior of `w` wins in `n` on a `points` grid under `prior`.
pub(crate) fn posterior(points: usize, prior: &str, w: u64, n: u64) -> Posterior {
    Posterior::new(
        Grid::new(points).unwrap(),
        Prior::parse(prior).unwrap(),
        Counts::new(w, n).unwrap(),
    )
    .unwrap()
}

/// [`posterior`] under the uniform prior.
pub(crate) fn uniform(points: usize, w: u64, n: u64) -> Posterior {
    posterior(points, "uniform", w, n)
}
