//! What a plot of the model shows, computed with the domain; drawing it is
//! the renderer's business.

use domain::{
    BetaPosterior, CREDIBLE_MASS, Counts, History, Interval, ModelDefinition, Posterior,
    PosteriorError,
};

mod history;

pub use history::{HistoryBand, MAX_HISTORY_POINTS, history_bands};

/// Everything the picture of one model state shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotData {
    /// The model's name, shown in the title; `None` for `default` (whose
    /// title stays the original's).
    pub name: Option<String>,
    /// The counts drawn.
    pub counts: Counts,
    /// Grid size.
    pub grid_points: usize,
    /// `(p, prior probability, posterior probability)` per grid point in
    /// [`PlotData::x_range`], thinned to at most [`MAX_DRAWN_POINTS`]
    /// keeping each bucket's peak.
    pub points: Vec<(f64, f64, f64)>,
    /// The proportions shown: `[0, 1]`, or where the posterior's mass is
    /// when that is much narrower (as the dashboard's charts).
    pub x_range: (f64, f64),
    /// 89% highest posterior density interval.
    pub hpdi: Interval,
    /// Posterior mean.
    pub mean: f64,
    /// A close-up of the exact density, when the grid is too coarse to show
    /// the posterior's shape.
    pub zoom: Option<Zoom>,
    /// The posterior over the model's history in log time, oldest first;
    /// empty (no history panel) with fewer than two history points.
    pub history: Vec<HistoryBand>,
}

/// The exact Beta density around a posterior narrower than the grid resolves.
#[derive(Debug, Clone, PartialEq)]
pub struct Zoom {
    /// `(p, density)` over mean ± 5 sd.
    pub density: Vec<(f64, f64)>,
    /// The exact equal-tailed 89% interval.
    pub interval: Interval,
    /// The exact mean.
    pub mean: f64,
}

/// Most points drawn per curve; more add nothing visible.
pub const MAX_DRAWN_POINTS: usize = 2_000;
/// A posterior with sd under this many grid spacings gets a zoomed view.
const ZOOM_BELOW_SPACINGS: f64 = 3.0;
/// Points of the zoomed density curve.
const ZOOM_POINTS: usize = 400;
/// The posterior's mass left out of the x range on each side.
const RANGE_TAIL: f64 = 1e-4;
/// The least margin kept on each side of the mass, as a share of `[0, 1]`.
const RANGE_MARGIN: f64 = 0.01;
/// A window wider than this shows the whole of `[0, 1]`, as the original.
const ZOOM_RANGE_BELOW: f64 = 0.5;

impl PlotData {
    /// The plot of the model after `counts`.
    ///
    /// # Errors
    /// [`PosteriorError`] if the definition has no posterior for these counts.
    pub fn new(definition: ModelDefinition, counts: Counts) -> Result<Self, PosteriorError> {
        let grid = definition.grid;
        let prior = Posterior::new(grid, definition.prior, Counts::ZERO)?;
        let posterior = Posterior::new(grid, definition.prior, counts)?;
        let x_range = x_range(&posterior)?;
        let all: Vec<(f64, f64, f64)> = grid
            .iter()
            .zip(prior.probabilities())
            .zip(posterior.probabilities())
            .map(|((p, a), b)| (p, *a, *b))
            .filter(|(p, _, _)| x_range.0 <= *p && *p <= x_range.1)
            .collect();
        let zoom = (posterior.sd() < ZOOM_BELOW_SPACINGS * grid.spacing())
            .then(|| zoom(definition, counts))
            .flatten();
        Ok(Self {
            name: None,
            counts,
            grid_points: grid.points(),
            points: thin(all, MAX_DRAWN_POINTS),
            x_range,
            hpdi: posterior.hpdi(CREDIBLE_MASS)?,
            mean: posterior.mean(),
            zoom,
            history: Vec::new(),
        })
    }

    /// With the posterior over `history` (drawn when it has two points or more).
    #[must_use]
    pub fn with_history(mut self, definition: ModelDefinition, history: &History) -> Self {
        self.history = history_bands(definition, history);
        self
    }

    /// The plot of the model `name`.
    #[must_use]
    pub fn named(mut self, name: &str) -> Self {
        self.name = (name != "default").then(|| name.to_owned());
        self
    }

    /// The title, as the original wrote it, after the model's name.
    #[must_use]
    pub fn title(&self) -> String {
        let counts = format!(
            "w: {}, n: {}, grid approx ({} points)",
            self.counts.w(),
            self.counts.n(),
            self.grid_points
        );
        match &self.name {
            Some(name) => format!("{name} — {counts}"),
            None => counts,
        }
    }
}

/// The exact posterior density around its mean: `Beta(a + w, b + n - w)` for
/// conjugate priors, `Beta(1 + w, 1 + n - w)` for a step prior (whose
/// truncation is far outside a posterior this narrow unless it sits at T).
fn zoom(definition: ModelDefinition, counts: Counts) -> Option<Zoom> {
    let exact = BetaPosterior::new(definition.prior, counts)
        .or_else(|| BetaPosterior::new(domain::Prior::Uniform, counts))?;
    let (mean, sd) = (exact.mean(), exact.sd());
    let lo = (mean - 5.0 * sd).max(0.0);
    let hi = (mean + 5.0 * sd).min(1.0);
    let step = (hi - lo) / (ZOOM_POINTS - 1) as f64;
    let density = (0..ZOOM_POINTS)
        .map(|i| {
            let p = lo + step * i as f64;
            let allowed = definition.prior.ln_density(p, 1.0 - p) > f64::NEG_INFINITY;
            (p, if allowed { exact.ln_pdf(p).exp() } else { 0.0 })
        })
        .filter(|(_, d)| d.is_finite())
        .collect();
    Some(Zoom {
        density,
        interval: exact.interval(CREDIBLE_MASS).ok()?,
        mean,
    })
}

/// The proportions to show: the posterior's mass without [`RANGE_TAIL`] on
/// each side, widened on each side by its own width and at least
/// [`RANGE_MARGIN`]; all of `[0, 1]` when that is most of it.
fn x_range(posterior: &Posterior) -> Result<(f64, f64), PosteriorError> {
    let mass = posterior.percentile_interval(1.0 - 2.0 * RANGE_TAIL)?;
    let pad = (mass.hi - mass.lo).max(RANGE_MARGIN);
    let (lo, hi) = ((mass.lo - pad).max(0.0), (mass.hi + pad).min(1.0));
    Ok(if hi - lo > ZOOM_RANGE_BELOW {
        (0.0, 1.0)
    } else {
        (lo, hi)
    })
}

/// At most `max` points, keeping the highest posterior point of each bucket
/// so a narrow peak is never thinned away.
fn thin(points: Vec<(f64, f64, f64)>, max: usize) -> Vec<(f64, f64, f64)> {
    if points.len() <= max {
        return points;
    }
    let bucket = points.len().div_ceil(max);
    points
        .chunks(bucket)
        .filter_map(|chunk| chunk.iter().copied().max_by(|a, b| a.2.total_cmp(&b.2)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Grid, Prior};

    fn definition(points: usize) -> ModelDefinition {
        ModelDefinition {
            prior: Prior::DEFAULT,
            grid: Grid::new(points).unwrap(),
        }
    }

    #[test]
    fn the_title_is_the_originals() {
        let plot = PlotData::new(definition(120), Counts::new(6, 9).unwrap()).unwrap();
        assert_eq!(plot.title(), "w: 6, n: 9, grid approx (120 points)");
        assert_eq!(plot.clone().named("default").title(), plot.title());
        assert_eq!(
            plot.clone().named("checkout").title(),
            "checkout — w: 6, n: 9, grid approx (120 points)"
        );
        assert_eq!(plot.points.len(), 120);
        assert!(plot.zoom.is_none(), "a wide posterior needs no close-up");
        assert!(plot.hpdi.contains(plot.mean));
        assert_eq!(
            plot.x_range,
            (0.0, 1.0),
            "a wide posterior shows all of [0, 1]"
        );
        assert!(plot.history.is_empty());
    }

    #[test]
    fn a_narrow_posterior_on_a_fine_grid_is_shown_where_its_mass_is() {
        let plot = PlotData::new(definition(10_001), Counts::new(7_000, 10_000).unwrap()).unwrap();
        let (lo, hi) = plot.x_range;
        assert!(0.6 < lo && lo < 0.69 && 0.71 < hi && hi < 0.8, "{lo}..{hi}");
        assert!(plot.points.iter().all(|(p, _, _)| (lo..=hi).contains(p)));
        assert!(plot.points.len() > 100, "the grid's own resolution");
        assert!(plot.hpdi.lo > lo && plot.hpdi.hi < hi);
    }

    #[test]
    fn a_narrow_posterior_gets_a_close_up_of_the_exact_density() {
        let plot =
            PlotData::new(definition(120), Counts::new(7_000_000, 10_000_000).unwrap()).unwrap();
        let zoom = plot.zoom.expect("close-up");
        assert!((zoom.mean - 0.7).abs() < 1e-6);
        assert!(
            zoom.density
                .iter()
                .all(|(p, d)| (0.699..0.701).contains(p) && d.is_finite())
        );
        assert!(zoom.density.iter().any(|(_, d)| *d > 1_000.0));
    }

    #[test]
    fn huge_grids_are_thinned_without_losing_the_peak() {
        let plot = PlotData::new(
            definition(1_000_000),
            Counts::new(600_000, 1_000_000).unwrap(),
        )
        .unwrap();
        assert!(plot.points.len() <= MAX_DRAWN_POINTS);
        let peak = plot.points.iter().map(|p| p.2).fold(0.0, f64::max);
        let posterior =
            Posterior::new(Grid::new(1_000_000).unwrap(), Prior::DEFAULT, plot.counts).unwrap();
        let true_peak = posterior
            .probabilities()
            .iter()
            .copied()
            .fold(0.0, f64::max);
        assert_eq!(peak, true_peak);
    }
}
