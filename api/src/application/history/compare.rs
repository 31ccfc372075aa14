//! The chance to win over time: every compared model's P(best) and
//! expected loss at each step, exact on the grids.

use super::parallel::in_parallel;
use super::{COMPARE_POINTS, MAX_COMPARE_POINTS, MAX_POINTS, TimeQuery, Timelines};
use crate::application::decide::{DecideError, Missing};
use crate::application::model_list::ModelList;
use crate::application::{Cause, HistoryRange, PortError};
use domain::{Counts, DecisionError, History, ModelDefinition, ModelName, Posterior};
use platform::log_time::{Span, format_moment};
use serde::Serialize;

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

/// The models of a comparison over time, as read: name, definition and
/// history each, the points in time to evaluate, the step and "now".
pub(super) struct Prepared {
    pub(super) models: Vec<(String, ModelDefinition, History)>,
    pub(super) times: Vec<u64>,
    pub(super) step: u64,
    pub(super) as_of: u64,
}

impl Timelines {
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
        let Prepared {
            models,
            times,
            step,
            as_of,
        } = self.prepare(names.names(), query, Missing::Refuse).await?;
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

    /// Reads the histories of `names` (all at once) and picks the points
    /// in time of `query` at which one of them changed.
    pub(super) async fn prepare(
        &self,
        names: &[ModelName],
        query: TimeQuery,
        missing: Missing,
    ) -> Result<Prepared, DecideError> {
        let (from, to, step) = query.check(self.settings).map_err(DecideError::BadRange)?;
        let range = HistoryRange {
            from,
            to,
            limit: MAX_POINTS,
        };
        let as_of = self.store.now().await?;
        let store = self.store.as_ref();
        let reads = names.iter().map(|name| store.history(name, range));
        let read = futures_util::future::try_join_all(reads).await?;
        let mut models = Vec::with_capacity(names.len());
        for (name, stored) in names.iter().zip(read) {
            let (definition, history) = match stored {
                Some(stored) => (stored.state.definition, stored.history),
                None if missing == Missing::Empty => (
                    None,
                    History::new(Vec::new(), 0).map_err(|e| PortError::Failed(Cause::new(e)))?,
                ),
                None => return Err(DecideError::Unknown(name.to_string())),
            };
            let definition = definition.unwrap_or(self.defaults.of(name));
            models.push((name.to_string(), definition, history));
        }
        // Not before any model's history is known: from its latest start
        // if no `from` was asked, else a 400 saying where it starts.
        let known_from = models
            .iter()
            .map(|(_, _, h)| h.known_from())
            .max()
            .unwrap_or(0);
        if from < known_from && query.from.is_some() {
            return Err(DecideError::BadRange(format!(
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
            return Err(DecideError::BadRange(format!(
                "{} points in time at a step of {}: ask for at most {MAX_COMPARE_POINTS} (a larger step or a shorter range)",
                times.len(),
                Span::from_millis(step)
            )));
        }
        Ok(Prepared {
            models,
            times,
            step,
            as_of,
        })
    }
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
            .map_err(|e| DecideError::BadRange(format!("{name}: {e}")))?;
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
