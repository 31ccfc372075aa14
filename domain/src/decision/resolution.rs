//! From a ranking to a decision: the model with the least expected loss,
//! and whether the evidence lets it be shipped.
//!
//! Expected loss alone can mislead on a grid: two posteriors piled on the
//! same grid point tie, `p_best` is split 50/50 and the loss is 0, which
//! reads as "ship" although the grid cannot tell the models apart. A
//! posterior pinned at its prior's edge shows the prior, not the data. So a
//! winner needs, besides a loss within the threshold, models told apart
//! (the largest value shared with probability at most [`TIE_LIMIT`]) and no
//! posterior pinned at its prior's edge.

use serde::Serialize;

/// The most probability that the largest value is shared on the grids
/// (a split tie, see [`super::Ranking::p_tie`]) a winner can be declared
/// with. A shared largest value moves `p_best` towards 1/K and hides up to
/// a grid spacing of loss in each tie; at 5% the grid is too coarse.
pub const TIE_LIMIT: f64 = 0.05;

/// What the evidence supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Resolution {
    /// Told apart, and the least loss is within the threshold: ship it.
    Decided,
    /// Told apart, but the least loss is over the threshold: keep collecting.
    OverThreshold,
    /// The largest value is shared on the grids with probability over
    /// [`TIE_LIMIT`]: the grids are too coarse to tell the models apart.
    GridTooCoarse,
    /// These models' posteriors (indices into the comparison) are pinned at
    /// their priors' edges: they show the priors, not the data.
    PinnedAtPriorEdge {
        /// Indices of the pinned models.
        models: Vec<usize>,
    },
}

/// The model to choose, and whether the evidence is in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// The risk threshold the least expected loss is held against.
    pub threshold: f64,
    /// Index (into `models`) of the model with the least expected loss; the
    /// first of them on a tie.
    pub least_loss: usize,
    /// That model's expected loss.
    pub expected_loss: f64,
    /// The probability that two or more models share the largest value on
    /// their grids.
    pub p_tie: f64,
    /// Why there is a winner or not.
    pub resolution: Resolution,
    /// `Some(least_loss)` once the resolution is [`Resolution::Decided`].
    pub winner: Option<usize>,
}

/// Decides on `expected_loss` at `threshold`, given the tie probability and
/// which models are pinned at their priors' edges. Pinned posteriors come
/// first (more data cannot fix them), then coarse grids, then the risk.
pub(super) fn decide(
    expected_loss: &[f64],
    threshold: f64,
    p_tie: f64,
    pinned: Vec<usize>,
) -> Decision {
    let mut least_loss = 0;
    for (k, loss) in expected_loss.iter().enumerate() {
        if *loss < expected_loss[least_loss] {
            least_loss = k;
        }
    }
    let loss = expected_loss.get(least_loss).copied().unwrap_or(0.0);
    let resolution = if !pinned.is_empty() {
        Resolution::PinnedAtPriorEdge { models: pinned }
    } else if p_tie > TIE_LIMIT {
        Resolution::GridTooCoarse
    } else if loss <= threshold {
        Resolution::Decided
    } else {
        Resolution::OverThreshold
    };
    Decision {
        threshold,
        least_loss,
        expected_loss: loss,
        p_tie,
        winner: (resolution == Resolution::Decided).then_some(least_loss),
        resolution,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_least_loss_is_chosen_and_wins_only_within_the_threshold() {
        let decision = decide(&[0.01, 0.002, 0.002], 0.0025, 0.0, vec![]);
        assert_eq!((decision.least_loss, decision.winner), (1, Some(1)));
        assert_eq!(decide(&[0.01, 0.003], 0.0025, 0.0, vec![]).winner, None);
        assert_eq!(decide(&[0.0, 0.0], 0.0, 0.0, vec![]).winner, Some(0));
    }

    #[test]
    fn a_tie_on_the_grid_or_a_pinned_model_is_never_a_winner() {
        let tied = decide(&[0.0, 0.0], 0.0025, 0.99, vec![]);
        assert_eq!(
            (tied.winner, tied.resolution),
            (None, Resolution::GridTooCoarse)
        );
        let pinned = decide(&[0.0, 0.0], 0.0025, 0.99, vec![0, 1]);
        assert_eq!(pinned.winner, None);
        assert_eq!(
            pinned.resolution,
            Resolution::PinnedAtPriorEdge { models: vec![0, 1] }
        );
        let over = decide(&[0.01, 0.02], 0.0025, TIE_LIMIT, vec![]);
        assert_eq!(over.resolution, Resolution::OverThreshold);
    }
}
