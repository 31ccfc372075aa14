//! The merged support of several grid posteriors, visited in increasing
//! order, with grid points compared exactly as rationals.

use crate::{Grid, Posterior};
use std::cmp::Ordering;

/// The grid point `index / last` as an exact rational (`last = G - 1`).
#[derive(Debug, Clone, Copy)]
pub(super) struct GridPoint {
    index: u64,
    last: u64,
}

impl GridPoint {
    /// Point `index` of `grid`.
    pub(super) fn new(grid: Grid, index: usize) -> Self {
        Self {
            index: index as u64,
            last: (grid.points() - 1) as u64,
        }
    }

    /// Compares `i1 / l1` with `i2 / l2` as `i1 · l2` against `i2 · l1`, in
    /// 128 bits, so equal rationals from different grids compare equal.
    pub(super) fn cmp_exact(self, other: Self) -> Ordering {
        let left = u128::from(self.index) * u128::from(other.last);
        let right = u128::from(other.index) * u128::from(self.last);
        left.cmp(&right)
    }
}

/// One model's probability at a support value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Atom {
    /// Which posterior.
    pub(super) model: usize,
    /// Its probability at the value.
    pub(super) mass: f64,
}

/// Calls `visit(x, atoms)` for every value `x` that some posterior gives
/// positive probability, in increasing order; `atoms` lists, by increasing
/// model index, the posteriors with positive mass at `x` and that mass.
/// Zero-probability points are skipped: they change no CDF. O(S·K).
pub(super) fn sweep(posteriors: &[&Posterior], mut visit: impl FnMut(f64, &[Atom])) {
    let mut heads: Vec<usize> = posteriors.iter().map(|p| next_positive(p, 0)).collect();
    let mut atoms = Vec::with_capacity(posteriors.len());
    while let Some((least, point)) = least_head(posteriors, &heads) {
        atoms.clear();
        for (model, posterior) in posteriors.iter().enumerate() {
            let head = heads[model];
            if head < posterior.probabilities().len()
                && GridPoint::new(posterior.grid(), head).cmp_exact(point) == Ordering::Equal
            {
                atoms.push(Atom {
                    model,
                    mass: posterior.probabilities()[head],
                });
                heads[model] = next_positive(posterior, head + 1);
            }
        }
        visit(posteriors[least].grid().p(point.index as usize), &atoms);
    }
}

/// The model whose next support point is smallest, and that point.
fn least_head(posteriors: &[&Posterior], heads: &[usize]) -> Option<(usize, GridPoint)> {
    let mut least: Option<(usize, GridPoint)> = None;
    for (model, posterior) in posteriors.iter().enumerate() {
        if heads[model] >= posterior.probabilities().len() {
            continue;
        }
        let point = GridPoint::new(posterior.grid(), heads[model]);
        if least.is_none_or(|(_, best)| point.cmp_exact(best) == Ordering::Less) {
            least = Some((model, point));
        }
    }
    least
}

/// The first index at or after `from` with positive probability, or the
/// grid size if there is none.
fn next_positive(posterior: &Posterior, from: usize) -> usize {
    let probabilities = posterior.probabilities();
    probabilities
        .get(from..)
        .and_then(|rest| rest.iter().position(|m| *m > 0.0))
        .map_or(probabilities.len(), |offset| from + offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counts, Prior};

    #[test]
    fn equal_rationals_from_different_grids_compare_equal() {
        let (five, eleven, twenty_one) = (
            Grid::new(5).unwrap(),
            Grid::new(11).unwrap(),
            Grid::new(21).unwrap(),
        );
        let half = GridPoint::new(eleven, 5);
        assert_eq!(
            half.cmp_exact(GridPoint::new(twenty_one, 10)),
            Ordering::Equal
        );
        assert_eq!(half.cmp_exact(GridPoint::new(five, 2)), Ordering::Equal);
        assert_eq!(
            GridPoint::new(five, 4).cmp_exact(GridPoint::new(eleven, 10)),
            Ordering::Equal
        );
        assert_eq!(
            half.cmp_exact(GridPoint::new(twenty_one, 11)),
            Ordering::Less
        );
    }

    #[test]
    fn the_sweep_merges_ties_and_skips_empty_points() {
        let grid_of = |g| Grid::new(g).unwrap();
        let a = Posterior::new(grid_of(3), Prior::Uniform, Counts::ZERO).unwrap();
        let b =
            Posterior::new(grid_of(5), Prior::parse("step:0.5").unwrap(), Counts::ZERO).unwrap();
        let mut seen = Vec::new();
        sweep(&[&a, &b], |x, atoms| {
            seen.push((x, atoms.iter().map(|atom| atom.model).collect::<Vec<_>>()));
        });
        let expected = vec![
            (0.0, vec![0]),
            (0.5, vec![0]),
            (0.75, vec![1]),
            (1.0, vec![0, 1]),
        ];
        assert_eq!(seen, expected);
    }
}
