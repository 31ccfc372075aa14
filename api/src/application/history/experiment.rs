//! An experiment over time: at each step in which one of its variants
//! changed, each variant's rate, 89% interval, chance to win and expected
//! loss, and the winner at the experiment's threshold then, read through
//! its window or half-life as of that time. The points in time are those of
//! `/compare/history` ([`Timelines::prepare`]).

use super::TimeQuery;
use super::Timelines;
use super::compare::Prepared;
use super::parallel::in_parallel;
use crate::application::decide::{DecideError, Missing};
use crate::application::{Cause, PortError};
use domain::{
    Evidence, Experiment, ExperimentLens, History, HistoryPoint, Interval, ModelDefinition,
    ModelName,
};
use serde::Serialize;

/// One variant at one point in time.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VariantAt {
    /// The variant (a model).
    pub name: String,
    /// Wins read (fractional under a half-life).
    pub w: f64,
    /// Trials read, likewise.
    pub n: f64,
    /// Posterior mean on its grid: the rate.
    pub mean: f64,
    /// 89% equal-tailed interval on its grid, `[lo, hi]`.
    #[schema(value_type = [f64; 2])]
    pub interval_89: Interval,
    /// Probability it is the best, exact on the grids.
    pub p_best: f64,
    /// Expected loss of choosing it.
    pub expected_loss: f64,
}

/// The experiment at one point in time.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExperimentAt {
    /// A step's end (Unix ms).
    pub t: u64,
    /// Each variant, baseline first.
    pub variants: Vec<VariantAt>,
    /// The variant with the least expected loss then.
    pub leader: String,
    /// The winner at the experiment's threshold then; null while there is none.
    pub winner: Option<String>,
}

/// An experiment's history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExperimentHistory {
    /// The experiment.
    pub experiment: String,
    /// Its variants, baseline first.
    pub variants: Vec<String>,
    /// The risk a winner may carry.
    pub threshold: f64,
    /// The step of the points, ms.
    pub step_ms: u64,
    /// "Now" in log time (Unix ms).
    pub as_of: u64,
    /// One per step in which any variant changed, in time order.
    pub points: Vec<ExperimentAt>,
}

impl Timelines {
    /// The history of the experiment `name` over `query`.
    ///
    /// # Errors
    /// A bad range or step, too many points.
    pub async fn experiment(
        &self,
        name: &ModelName,
        experiment: &Experiment,
        query: TimeQuery,
    ) -> Result<ExperimentHistory, DecideError> {
        let variants: Vec<ModelName> = experiment.order().cloned().collect();
        let Prepared {
            models,
            times,
            step,
            as_of,
        } = self.prepare(&variants, query, Missing::Empty).await?;
        let (threshold, lens) = (experiment.threshold(), experiment.lens());
        let points = tokio::task::spawn_blocking(move || {
            in_parallel(&times, 4, |t| experiment_at(&models, *t, threshold, lens))
        })
        .await
        .map_err(|e| PortError::Failed(Cause::context("experiment history task failed", e)))??;
        Ok(ExperimentHistory {
            experiment: name.to_string(),
            variants: variants.iter().map(ToString::to_string).collect(),
            threshold,
            step_ms: step,
            as_of,
            points,
        })
    }
}

/// The evidence `history` gives at `t` through `lens`.
fn evidence_at(history: &History, t: u64, lens: ExperimentLens) -> Result<Evidence, String> {
    match lens {
        ExperimentLens::All => Ok(history.counts_at(t).map_err(|e| e.to_string())?.into()),
        ExperimentLens::Window(ms) => {
            let latest = history.counts_at(t).map_err(|e| e.to_string())?;
            let window = history
                .since(t.saturating_sub(ms), latest)
                .map_err(|e| e.to_string())?;
            Ok(window.into())
        }
        ExperimentLens::HalfLife(ms) => {
            let until = history.points().partition_point(|p| p.t <= t);
            let points: Vec<HistoryPoint> = history.points()[..until].to_vec();
            let before = History::new(points, history.known_from()).map_err(|e| e.to_string())?;
            Ok(before.decayed(t, ms))
        }
    }
}

/// Every variant at `t`, and the winner then.
fn experiment_at(
    models: &[(String, ModelDefinition, History)],
    t: u64,
    threshold: f64,
    lens: ExperimentLens,
) -> Result<ExperimentAt, DecideError> {
    let evidence = models
        .iter()
        .map(|(name, definition, history)| {
            evidence_at(history, t, lens)
                .map(|e| (name.as_str(), *definition, e))
                .map_err(|e| DecideError::BadRange(format!("{name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let comparison = domain::compare(&evidence, threshold)?;
    let decision = &comparison.decision;
    let leader = comparison.models[decision.least_loss].name.clone();
    let winner = decision.winner.map(|k| comparison.models[k].name.clone());
    let variants = comparison
        .models
        .into_iter()
        .map(|m| VariantAt {
            name: m.name,
            w: m.w,
            n: m.n,
            mean: m.mean,
            interval_89: m.interval_89,
            p_best: m.p_best,
            expected_loss: m.expected_loss,
        })
        .collect();
    Ok(ExperimentAt {
        t,
        variants,
        leader,
        winner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Counts;

    fn history() -> History {
        let point = |t, w, n| HistoryPoint {
            t,
            counts: Counts::new(w, n).unwrap(),
        };
        History::new(
            vec![point(60, 1, 2), point(120, 3, 6), point(180, 4, 10)],
            0,
        )
        .unwrap()
    }

    #[test]
    fn a_variant_is_read_through_the_lens_as_of_each_point() {
        let h = history();
        let at = |t, lens| evidence_at(&h, t, lens).unwrap();
        assert_eq!(
            at(120, ExperimentLens::All),
            Evidence::new(3.0, 6.0).unwrap()
        );
        assert_eq!(
            at(180, ExperimentLens::Window(60)),
            Evidence::new(1.0, 4.0).unwrap()
        );
        assert_eq!(
            at(180, ExperimentLens::Window(1_000)),
            Evidence::new(4.0, 10.0).unwrap()
        );
        // As of 120, the point at 180 is not yet known; the halves weigh
        // what came before.
        let decayed = at(120, ExperimentLens::HalfLife(60));
        assert!(
            (decayed.n() - (2.0 * 0.5 + 4.0)).abs() < 1e-9,
            "{decayed:?}"
        );
    }
}
