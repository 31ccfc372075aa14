//! Models over time: a model's history with its rate and band at every
//! point, and the chance to win of compared models at every point, from
//! the history bayes writes in log time.

use super::decide::DecideError;
use super::model_list::ModelList;
use super::{Cause, HistoryRange, ModelStore, PortError, QueryError};
use domain::{
    BetaPosterior, CREDIBLE_MASS, Counts, DecisionError, DefaultDefinitions, History, HistoryPoint,
    Interval, ModelDefinition, ModelName, Posterior,
};
use platform::log_time::{HistorySettings, Span, format_moment};
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

/// One model at one point in time of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StandingAt {
    /// The model.
    pub name: String,
    /// Wins so far.
    pub w: u64,
    /// Trials so far.
    pub n: u64,
    /// Probability it is the best, exact on the grids.
    pub p_best: f64,
    /// Expected loss of choosing it.
    pub expected_loss: f64,
}

/// The compared models at one point in time.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ComparedAt {
    /// A step's end (Unix ms).
    pub t: u64,
    /// Each model, in the order asked.
    pub models: Vec<StandingAt>,
}

/// The chance to win over time.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CompareHistory {
    /// The models, in the order asked.
    pub models: Vec<String>,
    /// The step of the points, ms.
    pub step_ms: u64,
    /// "Now" in log time (Unix ms).
    pub as_of: u64,
    /// One per step in which any model changed, in time order.
    pub points: Vec<ComparedAt>,
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
            as_of: stored.now,
            points: summaries,
            next,
        })
    }

    /// The chance to win and expected loss of each of `names` at every
    /// step of `query` in which one of them changed.
    ///
    /// # Errors
    /// A bad range or step, too many points, an unknown model.
    pub async fn compare(
        &self,
        names: &ModelList,
        query: TimeQuery,
    ) -> Result<CompareHistory, DecideError> {
        let (from, to, step) = query
            .check(self.settings)
            .map_err(DecideError::BeforeHistory)?;
        let range = HistoryRange {
            from,
            to,
            limit: MAX_POINTS,
        };
        let mut models = Vec::with_capacity(names.names().len());
        let mut as_of = 0;
        for name in names.names() {
            let stored = self
                .store
                .history(name, range)
                .await?
                .ok_or_else(|| DecideError::Unknown(name.to_string()))?;
            as_of = as_of.max(stored.now);
            let definition = stored.state.definition.unwrap_or(self.defaults.of(name));
            models.push((name.to_string(), definition, stored.history));
        }
        // Not before any model's history is known: from its latest start
        // if no `from` was asked, else a 400 saying where it starts.
        let known_from = models
            .iter()
            .map(|(_, _, h)| h.known_from())
            .max()
            .unwrap_or(0);
        if from < known_from && query.from.is_some() {
            return Err(DecideError::BeforeHistory(format!(
                "from ({from}) is before the history of these models, which goes back to {}",
                format_moment(known_from)
            )));
        }
        let from = from.max(known_from);
        let first = models
            .iter()
            .filter_map(|(_, _, h)| h.points().iter().find(|p| p.t >= from))
            .map(|p| p.t)
            .min()
            .unwrap_or(from);
        let last = models
            .iter()
            .filter_map(|(_, _, h)| h.points().last())
            .map(|p| p.t)
            .max()
            .unwrap_or(as_of);
        let span = to.min(last).saturating_sub(from.max(first));
        let interval = self.settings.interval;
        let step =
            step.unwrap_or_else(|| (span / COMPARE_POINTS).div_ceil(interval).max(1) * interval);
        let mut times: Vec<u64> = models
            .iter()
            .flat_map(|(_, _, h)| h.resampled(step))
            .map(|p| p.t)
            .filter(|t| *t >= from && *t <= to.saturating_add(step - 1))
            .collect();
        times.sort_unstable();
        times.dedup();
        if times.len() > MAX_COMPARE_POINTS {
            return Err(DecideError::BeforeHistory(format!(
                "{} points in time at a step of {}: ask for at most {MAX_COMPARE_POINTS} (a larger step or a shorter range)",
                times.len(),
                Span::from_millis(step)
            )));
        }
        let names: Vec<String> = models.iter().map(|(name, _, _)| name.clone()).collect();
        let points = tokio::task::spawn_blocking(move || {
            in_parallel(&times, 4, |t| compared_at(&models, *t))
        })
        .await
        .map_err(|e| PortError::Failed(Cause::context("compare history task failed", e)))??;
        Ok(CompareHistory {
            models: names,
            step_ms: step,
            as_of,
            points,
        })
    }
}

/// `f` of every item, in order, on every core (each point's posterior is
/// independent of the others').
/// Items come in chunks of at least `least` (a thread's start is worth it).
fn in_parallel<T: Sync, U: Send, E: Send>(
    items: &[T],
    least: usize,
    f: impl Fn(&T) -> Result<U, E> + Sync,
) -> Result<Vec<U>, E> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let chunk = items.len().div_ceil(threads).max(least);
    if items.len() <= chunk {
        return items.iter().map(&f).collect();
    }
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Result<Vec<U>, E>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for part in parts {
            match part.join() {
                Ok(done) => out.extend(done?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
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

/// Every model's standing at `t`, exact on the grids.
fn compared_at(
    models: &[(String, ModelDefinition, History)],
    t: u64,
) -> Result<ComparedAt, DecideError> {
    let mut counts: Vec<Counts> = Vec::with_capacity(models.len());
    let mut posteriors = Vec::with_capacity(models.len());
    for (name, definition, history) in models {
        let at = history
            .counts_at(t)
            .map_err(|e| DecideError::BeforeHistory(format!("{name}: {e}")))?;
        let posterior =
            Posterior::new(definition.grid, definition.prior, at).map_err(|source| {
                DecisionError::Posterior {
                    name: name.clone(),
                    source,
                }
            })?;
        counts.push(at);
        posteriors.push(posterior);
    }
    let ranking = domain::rank(&posteriors);
    let models = models
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(k, ((name, _, _), counts))| StandingAt {
            name: name.clone(),
            w: counts.w(),
            n: counts.n(),
            p_best: ranking.p_best[k],
            expected_loss: ranking.expected_loss[k],
        })
        .collect();
    Ok(ComparedAt { t, models })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_in_parallel_keeps_its_order_and_its_first_error() {
        let items: Vec<u64> = (0..10_000).collect();
        let doubled = in_parallel(&items, 16, |x| Ok::<_, String>(x * 2)).unwrap();
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let failed = in_parallel(&items, 16, |x| {
            if *x == 7_777 {
                Err(format!("no {x}"))
            } else {
                Ok(*x)
            }
        });
        assert_eq!(failed, Err("no 7777".to_owned()));
        assert_eq!(
            in_parallel(&[] as &[u64], 16, |x| Ok::<_, ()>(*x)),
            Ok(vec![])
        );
    }

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
