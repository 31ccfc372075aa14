//! What the history panel shows: the posterior mean and its 89% interval
//! at each point of the model's history in log time, on at most a few
//! hundred points.

use domain::{
    BetaPosterior, CREDIBLE_MASS, Counts, History, HistoryPoint, ModelDefinition, Posterior,
};

/// Most points the history panel draws; a longer history is resampled onto
/// coarser steps of time.
pub const MAX_HISTORY_POINTS: usize = 300;

/// The posterior at one point of the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryBand {
    /// Log time, Unix ms: the counts are those of every observation before it.
    pub t: u64,
    /// Trials so far.
    pub n: u64,
    /// Posterior mean.
    pub mean: f64,
    /// Lower end of the 89% (equal-tailed) interval.
    pub lo: f64,
    /// Upper end of the 89% interval.
    pub hi: f64,
}

/// The bands of `history` under `definition`; empty when it has fewer than
/// two points (nothing to draw over time).
#[must_use]
pub fn history_bands(definition: ModelDefinition, history: &History) -> Vec<HistoryBand> {
    let points = history.points();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    if points.len() < 2 {
        return Vec::new();
    }
    let points: Vec<HistoryPoint> = if points.len() <= MAX_HISTORY_POINTS {
        points.to_vec()
    } else {
        // Steps of at most MAX − 2 fit the span in MAX − 1 step ends, and
        // the newest point keeps its own time.
        let step = (last.t - first.t).div_ceil(MAX_HISTORY_POINTS as u64 - 2);
        let mut resampled = history.resampled(step);
        if let Some(newest) = resampled.last_mut() {
            newest.t = last.t;
        }
        resampled
    };
    points
        .iter()
        .filter_map(|point| band(definition, point.t, point.counts))
        .collect()
}

/// The posterior after `counts`: closed form where the prior is a Beta,
/// else on the model's grid.
fn band(definition: ModelDefinition, t: u64, counts: Counts) -> Option<HistoryBand> {
    let (mean, interval) = match BetaPosterior::new(definition.prior, counts) {
        Some(exact) => (exact.mean(), exact.interval(CREDIBLE_MASS).ok()?),
        None => {
            let posterior = Posterior::new(definition.grid, definition.prior, counts).ok()?;
            (
                posterior.mean(),
                posterior.percentile_interval(CREDIBLE_MASS).ok()?,
            )
        }
    };
    Some(HistoryBand {
        t,
        n: counts.n(),
        mean,
        lo: interval.lo,
        hi: interval.hi,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Grid, Prior};

    fn history(points: &[(u64, u64, u64)]) -> History {
        let points = points
            .iter()
            .map(|&(t, w, n)| HistoryPoint {
                t,
                counts: Counts::new(w, n).unwrap(),
            })
            .collect();
        History::new(points, 0).unwrap()
    }

    fn definition(prior: Prior) -> ModelDefinition {
        ModelDefinition {
            prior,
            grid: Grid::new(1_001).unwrap(),
        }
    }

    #[test]
    fn one_point_or_none_has_no_bands() {
        let uniform = definition(Prior::Uniform);
        assert!(history_bands(uniform, &history(&[])).is_empty());
        assert!(history_bands(uniform, &history(&[(60_000, 3, 5)])).is_empty());
    }

    #[test]
    fn each_point_gets_its_posterior_mean_and_interval() {
        let h = history(&[(60_000, 1, 2), (120_000, 30, 100)]);
        let bands = history_bands(definition(Prior::Uniform), &h);
        assert_eq!(bands.len(), 2);
        assert_eq!((bands[0].t, bands[1].t), (60_000, 120_000));
        assert!((bands[0].mean - 0.5).abs() < 1e-12, "Beta(2, 2)");
        assert!((bands[1].mean - 31.0 / 102.0).abs() < 1e-12);
        assert!(bands.iter().all(|b| b.lo < b.mean && b.mean < b.hi));
        assert!(bands[1].hi - bands[1].lo < bands[0].hi - bands[0].lo);

        let step = history_bands(definition(Prior::parse("step:0.5").unwrap()), &h);
        assert_eq!(step.len(), 2);
        assert!(
            step.iter()
                .all(|b| b.lo >= 0.5 && b.lo <= b.mean && b.mean <= b.hi)
        );
    }

    #[test]
    fn a_long_history_is_resampled_keeping_its_newest_point() {
        let points: Vec<(u64, u64, u64)> = (1..=5_000u64).map(|i| (i * 60_000, i, 2 * i)).collect();
        let bands = history_bands(definition(Prior::Uniform), &history(&points));
        assert!(bands.len() <= MAX_HISTORY_POINTS, "{}", bands.len());
        assert!(bands.len() > MAX_HISTORY_POINTS / 2, "{}", bands.len());
        let newest = bands.last().unwrap();
        assert_eq!((newest.t, newest.n), (5_000 * 60_000, 10_000));
        assert!(bands.windows(2).all(|w| w[0].t < w[1].t));
    }
}
