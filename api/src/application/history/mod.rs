//! Models over time: a model's history with its rate and band at every
//! point, and the chance to win of compared models at every point, from
//! the history bayes writes in log time.

mod compare;
mod experiment;
mod parallel;

pub use compare::{CompareHistory, ComparedAt, StandingAt};
pub use experiment::{ExperimentAt, ExperimentHistory, VariantAt};

use super::{Cause, HistoryRange, ModelStore, PortError, QueryError};
use domain::{
    BetaPosterior, CREDIBLE_MASS, DefaultDefinitions, HistoryPoint, Interval, ModelDefinition,
    ModelName, Posterior,
};
use parallel::in_parallel;
use platform::log_time::{HistorySettings, Span};
use serde::Serialize;
use std::sync::Arc;

/// Most points one answer of a model's history holds: 30 days of minutes,
/// and the rest after `next`.
pub const MAX_POINTS: usize = 50_000;

/// Most points in time a comparison over time evaluates (each is an exact
/// comparison of every model on its grid).
pub const MAX_COMPARE_POINTS: usize = 1_000;

/// The points a comparison over time aims at when no step is given.
const COMPARE_POINTS: u64 = 200;

/// A range and step of log time, as asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeQuery {
    /// From (Unix ms, inclusive); the beginning if absent.
    pub from: Option<u64>,
    /// To (Unix ms, inclusive); now if absent.
    pub to: Option<u64>,
    /// One point per step at most; the history's interval if absent.
    pub step: Option<Span>,
}

impl TimeQuery {
    /// The range and step, checked against the history's `settings`.
    fn check(self, settings: HistorySettings) -> Result<(u64, u64, Option<u64>), String> {
        let (from, to) = (self.from.unwrap_or(0), self.to.unwrap_or(u64::MAX));
        if from > to {
            return Err(format!("from ({from}) is after to ({to})"));
        }
        let step = self.step.map(Span::millis);
        if let Some(step) = step
            && !step.is_multiple_of(settings.interval)
        {
            return Err(format!(
                "step must be a multiple of the history's interval, {}; got {}",
                Span::from_millis(settings.interval),
                Span::from_millis(step)
            ));
        }
        Ok((from, to, step))
    }
}

/// A point of a model's history with the posterior it gives.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PointSummary {
    /// The end of the interval (Unix ms): the counts are of every observation before it.
    pub t: u64,
    /// Wins so far.
    pub w: u64,
    /// Trials so far.
    pub n: u64,
    /// Posterior mean.
    pub mean: f64,
    /// 89% equal-tailed interval, `[lo, hi]`.
    #[schema(value_type = [f64; 2])]
    pub interval_89: Interval,
}

/// A model's history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ModelHistory {
    /// The model.
    pub model: String,
    /// The history's interval, ms.
    pub interval_ms: u64,
    /// The step of the points, ms.
    pub step_ms: u64,
    /// The history is known from this time (Unix ms) on; 0: since the model began.
    pub known_from: u64,
    /// "Now" in log time (Unix ms).
    pub as_of: u64,
    /// The points in time order: one per step in which the counts changed.
    pub points: Vec<PointSummary>,
    /// More points follow: ask again with this `from`.
    pub next: Option<u64>,
}

/// The models-over-time use case.
#[derive(Clone)]
pub struct Timelines {
    store: Arc<dyn ModelStore>,
    defaults: DefaultDefinitions,
    settings: HistorySettings,
}

impl Timelines {
    /// Histories in `store`, written at `settings`' interval.
    pub fn new(
        store: Arc<dyn ModelStore>,
        defaults: DefaultDefinitions,
        settings: HistorySettings,
    ) -> Self {
        Self {
            store,
            defaults,
            settings,
        }
    }

    /// `model`'s history over `query`.
    ///
    /// # Errors
    /// [`QueryError::BadRange`] for a bad range or step, [`QueryError::Unknown`].
    pub async fn model(
        &self,
        model: &ModelName,
        query: TimeQuery,
    ) -> Result<ModelHistory, QueryError> {
        let (from, to, step) = query.check(self.settings).map_err(QueryError::BadRange)?;
        let range = HistoryRange {
            from,
            to,
            limit: MAX_POINTS,
        };
        let as_of = self.store.now().await?;
        let stored = self
            .store
            .history(model, range)
            .await?
            .ok_or_else(|| QueryError::Unknown(model.to_string()))?;
        let definition = stored.state.definition.unwrap_or(self.defaults.of(model));
        let step = step.unwrap_or(self.settings.interval);
        let mut points: Vec<HistoryPoint> = stored.history.resampled(step);
        points.retain(|p| p.t >= from && p.t <= to.saturating_add(step - 1));
        let next = stored
            .more
            .then(|| points.last().map(|p| p.t + 1))
            .flatten();
        let summaries = tokio::task::spawn_blocking(move || {
            in_parallel(&points, 1_024, |p| summarise(definition, *p))
        })
        .await
        .map_err(|e| PortError::Failed(Cause::context("history task failed", e)))??;
        Ok(ModelHistory {
            model: model.to_string(),
            interval_ms: self.settings.interval,
            step_ms: step,
            known_from: stored.history.known_from(),
            as_of,
            points: summaries,
            next,
        })
    }
}

/// The rate and band at a point: the exact Beta posterior's where the prior
/// has one (uniform, beta: microseconds a point, so a month of minutes
/// answers at once), else the grid's.
fn summarise(definition: ModelDefinition, point: HistoryPoint) -> Result<PointSummary, QueryError> {
    let (mean, interval_89) = match BetaPosterior::new(definition.prior, point.counts) {
        Some(beta) => (beta.mean(), beta.interval(CREDIBLE_MASS)?),
        None => {
            let posterior = Posterior::new(definition.grid, definition.prior, point.counts)?;
            (
                posterior.mean(),
                posterior.percentile_interval(CREDIBLE_MASS)?,
            )
        }
    };
    Ok(PointSummary {
        t: point.t,
        w: point.counts.w(),
        n: point.counts.n(),
        mean,
        interval_89,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_must_be_a_multiple_of_the_interval_and_from_not_after_to() {
        let settings = HistorySettings::DEFAULT;
        let query = |from, to, step: Option<&str>| TimeQuery {
            from,
            to,
            step: step.map(|s| Span::parse(s).unwrap()),
        };
        assert_eq!(
            query(None, None, None).check(settings),
            Ok((0, u64::MAX, None))
        );
        assert_eq!(
            query(Some(5), Some(9), Some("2m")).check(settings),
            Ok((5, 9, Some(120_000)))
        );
        assert!(query(None, None, Some("90s")).check(settings).is_err());
        assert!(query(Some(10), Some(9), None).check(settings).is_err());
    }
}
