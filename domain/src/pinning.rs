//! When a posterior cannot be read as what the data say: pinned at the
//! edge of its prior's support, or piled on one grid point. Every answer
//! that shows a posterior carries these as warnings, and a comparison that
//! rests on them declares no winner.
//!
//! - **Pinned at the prior's edge.** `step:0.1` fed a 2% rate puts all its
//!   mass on the first grid point above 0.1: the summaries show the prior's
//!   edge, not the rate. Told by the data: the posterior's mode sits on a
//!   grid point whose neighbour outside has no prior mass, the mass falls
//!   away from it, and the likelihood alone (normalised on the same grid)
//!   puts most of its weight beyond it. With no data the posterior is the
//!   prior, which is never pinned.
//! - **On one grid point.** Most of the mass on a single point: the grid is
//!   too coarse for the rate's uncertainty, and two such models cannot be
//!   told apart (they tie on the point).

use crate::prior::xlogy;
use crate::{Pinned, Posterior, Side, Warning};

/// "Most of the mass": more than half.
const MOST: f64 = 0.5;

impl Posterior {
    /// Whether this posterior is pinned at its prior's edge or piled on one
    /// grid point (see the module's documentation); empty when it shows
    /// what the data say. A posterior pinned at an edge point is not also
    /// reported on one grid point: redefining its grid would not help.
    #[must_use]
    pub fn pinned(&self) -> Vec<Pinned> {
        let edge = self.pinned_at_edge();
        let (top, mass) = self.top_point();
        let one_point = (mass > MOST && edge.is_none()).then(|| Pinned::OnOneGridPoint {
            p: self.grid().p(top),
            mass,
            points: self.grid().points(),
        });
        edge.into_iter().chain(one_point).collect()
    }

    /// [`Posterior::pinned`] as warnings.
    #[must_use]
    pub fn warnings(&self) -> Vec<Warning> {
        self.pinned().into_iter().map(Warning::from).collect()
    }

    /// Whether [`Posterior::pinned`] finds it at its prior's edge.
    #[must_use]
    pub fn is_pinned_at_prior_edge(&self) -> bool {
        self.pinned_at_edge().is_some()
    }

    fn pinned_at_edge(&self) -> Option<Pinned> {
        if self.evidence().is_empty() {
            // The prior itself: no data to point anywhere.
            return None;
        }
        let (grid, prior, probs) = (self.grid(), self.prior(), self.probabilities());
        let supported = |i: usize| prior.ln_density(grid.p(i), grid.q(i)) > f64::NEG_INFINITY;
        let mode = self.map_index();
        // The mass falls away from the mode on the side inside the support;
        // a flat posterior (the prior itself) does not.
        let falls_above = probs.get(mode + 1).is_none_or(|next| probs[mode] > *next);
        let falls_below = mode == 0 || probs[mode] > probs[mode - 1];
        let side = if mode > 0 && !supported(mode - 1) && falls_above {
            Side::Below
        } else if mode + 1 < probs.len() && !supported(mode + 1) && falls_below {
            Side::Above
        } else {
            return None;
        };
        let outside = self.likelihood_share(|i| match side {
            Side::Below => i < mode,
            Side::Above => i > mode,
        });
        (outside > MOST).then_some(Pinned::AtPriorEdge {
            prior,
            edge: grid.p(mode),
            side,
            outside,
        })
    }

    /// The likelihood's share, normalised over the grid, of the points `in_range`.
    fn likelihood_share(&self, in_range: impl Fn(usize) -> bool) -> f64 {
        let grid = self.grid();
        let (w, l) = (self.evidence().w(), self.evidence().losses());
        let ln: Vec<f64> = (0..grid.points())
            .map(|i| xlogy(w, grid.p(i)) + xlogy(l, grid.q(i)))
            .collect();
        let max = ln.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut total, mut selected) = (0.0, 0.0);
        for (i, x) in ln.iter().enumerate() {
            let weight = (x - max).exp();
            total += weight;
            if in_range(i) {
                selected += weight;
            }
        }
        selected / total
    }

    /// The most probable point and its mass.
    fn top_point(&self) -> (usize, f64) {
        let top = self.map_index();
        (top, self.probabilities()[top])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WarningCode;
    use crate::fixtures::posterior;

    #[test]
    fn the_originals_prior_fed_two_percent_is_pinned_at_its_edge() {
        for points in [120, 10_001] {
            let pinned = posterior(points, "step:0.1", 100, 5_000).pinned();
            let [
                Pinned::AtPriorEdge {
                    edge,
                    side,
                    outside,
                    ..
                },
            ] = pinned[..]
            else {
                panic!("{points}: {pinned:?}");
            };
            assert_eq!(side, Side::Below);
            assert!(edge > 0.1 && edge < 0.1 + 1.0 / (points - 1) as f64 + 1e-12);
            assert!(outside > 0.999, "{outside}");
        }
        let warning = &posterior(120, "step:0.1", 100, 5_000).warnings()[0];
        assert_eq!(warning.code, WarningCode::PinnedAtPriorEdge);
        assert!(
            warning
                .message
                .contains("pinned at the edge of its prior's support, p = 0.1008"),
            "{}",
            warning.message
        );
        assert!(warning.message.contains("below"), "{}", warning.message);
    }

    #[test]
    fn the_prior_alone_or_data_inside_its_support_is_not_pinned() {
        assert_eq!(posterior(120, "step:0.1", 0, 0).pinned(), []);
        assert_eq!(posterior(120, "step:0.9", 0, 0).pinned(), []);
        assert_eq!(posterior(120, "step:0.1", 30, 100).pinned(), []);
        assert_eq!(posterior(10_001, "uniform", 100, 5_000).pinned(), []);
        assert_eq!(posterior(1001, "beta:2,2", 0, 10).pinned(), []);
    }

    #[test]
    fn an_upper_edge_is_seen_too() {
        let pinned = posterior(101, "beta:1,3", 100_000, 100_000).pinned();
        assert!(
            matches!(pinned[..], [Pinned::AtPriorEdge { side: Side::Above, edge, .. }] if (edge - 0.99).abs() < 1e-12),
            "{pinned:?}"
        );
    }

    #[test]
    fn a_posterior_narrower_than_the_grid_is_on_one_grid_point() {
        let pinned = posterior(120, "uniform", 20_000, 1_000_000).pinned();
        let [Pinned::OnOneGridPoint { mass, points, .. }] = pinned[..] else {
            panic!("{pinned:?}");
        };
        assert!(mass > 0.99 && points == 120);
        let message = posterior(120, "uniform", 20_000, 1_000_000).warnings()[0]
            .message
            .clone();
        assert!(message.contains("spacing 0.008403"), "{message}");
        assert_eq!(posterior(10_001, "uniform", 20_000, 1_000_000).pinned(), []);
    }
}
