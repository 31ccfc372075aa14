//! A model's prior and posterior on its grid, for drawing: the whole grid,
//! or, for a page that draws many small charts, at most a given number of
//! points where the posterior's mass is.
//!
//! A named model's default grid has 10,001 points: its whole curve is about
//! half a megabyte of JSON, and a dashboard of 200 models would fetch a
//! hundred megabytes to draw charts 160 pixels wide. Cut to where the mass
//! is and summed into bins of neighbouring points, the same chart costs a
//! few kilobytes and loses nothing visible.

use domain::{CREDIBLE_MASS, Grid, Interval, Posterior, PosteriorError, Warning};
use serde::Serialize;

/// The tail of the posterior's mass left out of the window on each side.
const TAIL: f64 = 1e-4;
/// The least margin kept on each side of the mass, as a share of `[0, 1]`.
const MARGIN: f64 = 0.01;

/// A model's prior and posterior on its grid, for drawing.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PosteriorCurve {
    /// The model's name.
    pub name: String,
    /// The model's grid size (the curve may show fewer points, see `p`).
    pub grid_points: usize,
    /// The grid points, from 0 to 1; when asked for fewer points than the
    /// grid has, the middle of each bin of neighbouring grid points shown.
    pub p: Vec<f64>,
    /// The prior's mass at each point or bin (sums to 1 over the whole grid).
    pub prior: Vec<f64>,
    /// The posterior's mass at each point or bin (sums to 1 over the whole
    /// grid; to all but about 2·10⁻⁴ in a window).
    pub posterior: Vec<f64>,
    /// The posterior's 89% percentile interval, `[lo, hi]`, on the whole grid.
    #[schema(value_type = [f64; 2])]
    pub pi_89: Interval,
    /// The posterior's warnings, as `GET /models/{name}` gives them.
    pub warnings: Vec<Warning>,
}

impl PosteriorCurve {
    /// The curve of `posterior` (with its `prior` alone on the same grid),
    /// on the whole grid or, with `most`, in at most that many points.
    ///
    /// # Errors
    /// Only if the credible mass were out of range, which it is not.
    pub fn new(
        name: String,
        prior: &Posterior,
        posterior: &Posterior,
        most: Option<usize>,
    ) -> Result<Self, PosteriorError> {
        let grid = posterior.grid();
        let (first, last) = match most {
            Some(most) if most < grid.points() => window(posterior),
            _ => (0, grid.points() - 1),
        };
        let bin = most.map_or(1, |most| (last - first + 1).div_ceil(most.max(1)));
        let bins = (first..=last)
            .step_by(bin)
            .map(|start| start..=(start + bin - 1).min(last));
        let (mut p, mut prior_mass, mut posterior_mass) = (Vec::new(), Vec::new(), Vec::new());
        for points in bins {
            p.push(middle(grid, *points.start(), *points.end()));
            prior_mass.push(prior.probabilities()[points.clone()].iter().sum());
            posterior_mass.push(posterior.probabilities()[points].iter().sum());
        }
        Ok(Self {
            name,
            grid_points: grid.points(),
            p,
            prior: prior_mass,
            posterior: posterior_mass,
            pi_89: posterior.percentile_interval(CREDIBLE_MASS)?,
            warnings: posterior.warnings(),
        })
    }
}

/// The first and last grid index of the window: the posterior's mass
/// without [`TAIL`] on each side, widened on each side by its own width and
/// at least [`MARGIN`], so the curve is seen falling to nothing.
fn window(posterior: &Posterior) -> (usize, usize) {
    let masses = posterior.probabilities();
    let last = masses.len() - 1;
    let mut cumulative = 0.0;
    let (mut lo, mut hi) = (None, last);
    for (i, mass) in masses.iter().enumerate() {
        cumulative += mass;
        if lo.is_none() && cumulative >= TAIL {
            lo = Some(i);
        }
        if cumulative >= 1.0 - TAIL {
            hi = i;
            break;
        }
    }
    let lo = lo.unwrap_or(0).min(hi);
    let margin = (MARGIN * last as f64).ceil() as usize;
    let pad = (hi - lo).max(margin);
    (lo.saturating_sub(pad), (hi + pad).min(last))
}

fn middle(grid: Grid, first: usize, last: usize) -> f64 {
    (grid.p(first) + grid.p(last)) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Counts, Prior};

    fn curve(points: usize, prior: Prior, w: u64, n: u64, most: Option<usize>) -> PosteriorCurve {
        let grid = Grid::new(points).unwrap();
        let posterior = Posterior::new(grid, prior, Counts::new(w, n).unwrap()).unwrap();
        let alone = Posterior::new(grid, prior, Counts::ZERO).unwrap();
        PosteriorCurve::new("m".into(), &alone, &posterior, most).unwrap()
    }

    #[test]
    fn the_whole_grid_is_the_curve_unless_fewer_points_are_asked_for() {
        let whole = curve(10_001, Prior::Uniform, 100, 5_000, None);
        assert_eq!(whole.p.len(), 10_001);
        assert_eq!(curve(120, Prior::DEFAULT, 6, 9, Some(200)).p.len(), 120);
    }

    #[test]
    fn a_fine_grid_is_cut_to_its_mass_and_binned() {
        let small = curve(10_001, Prior::Uniform, 100, 5_000, Some(200));
        assert!(small.p.len() <= 200, "{}", small.p.len());
        assert!(small.p.len() > 100, "{}", small.p.len());
        assert_eq!(small.grid_points, 10_001);
        let held: f64 = small.posterior.iter().sum();
        assert!(held > 1.0 - 3.0 * TAIL, "{held}");
        let (first, last) = (small.p[0], small.p[small.p.len() - 1]);
        assert!(
            first < 0.012 && last > 0.028 && last < 0.05,
            "{first} {last}"
        );
        assert!(small.p.windows(2).all(|pair| pair[0] < pair[1]));
        let mode = small.p[(0..small.p.len())
            .max_by(|a, b| small.posterior[*a].total_cmp(&small.posterior[*b]))
            .unwrap()];
        assert!((mode - 0.02).abs() < 0.001, "{mode}");
    }

    #[test]
    fn a_posterior_on_one_point_keeps_a_margin_around_it() {
        let pinned = curve(120, Prior::DEFAULT, 100, 5_000, Some(50));
        assert!(
            pinned.p.len() >= 3 && pinned.p.len() <= 50,
            "{:?}",
            pinned.p
        );
        assert_eq!(pinned.warnings.len(), 1);
    }
}
