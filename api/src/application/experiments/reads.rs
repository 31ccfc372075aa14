//! What experiments read: the comparison of their variants now, the list,
//! the next variant to serve, the history and the announced decisions.

use super::{
    ChosenBy, DecisionView, ExperimentChoice, ExperimentView, Experiments, ExperimentsError,
    ListedExperiment, MAX_DECISIONS, MAX_PAGE, SrmBrief, lens_of,
};
use crate::application::Compared;
use crate::application::decide::{DecideError, Missing};
use crate::application::history::{ExperimentHistory, TimeQuery};
use domain::{Counts, ModelName, Split};
use platform::stored_experiment::StoredExperiment;

impl Experiments {
    /// The comparison of `stored`'s variants now, and each variant's full
    /// trials in the variants' order.
    async fn compared(
        &self,
        stored: &StoredExperiment,
    ) -> Result<(Compared, Vec<u64>), DecideError> {
        let experiment = &stored.experiment;
        let order: Vec<ModelName> = experiment.order().cloned().collect();
        let (compared, counts) = self
            .decisions
            .compare_among(
                &order,
                experiment.threshold(),
                lens_of(experiment),
                Missing::Empty,
            )
            .await?;
        let trials = experiment
            .variants()
            .iter()
            .map(|variant| {
                order
                    .iter()
                    .zip(&counts)
                    .find(|(name, _)| *name == variant)
                    .map_or(0, |(_, counts): (_, &Counts)| counts.n())
            })
            .collect();
        Ok((compared, trials))
    }

    /// The experiment `name`: definition, status, last announced decision,
    /// the comparison now and, for an A/B test, the SRM check.
    ///
    /// # Errors
    /// [`ExperimentsError::Unknown`]; the store failing.
    pub async fn get(&self, name: &ModelName) -> Result<ExperimentView, ExperimentsError> {
        let stored = self.stored(name).await?;
        let (comparison, trials) = self.compared(&stored).await?;
        let srm = stored.experiment.srm(&trials);
        Ok(ExperimentView::new(
            name.to_string(),
            &stored,
            comparison,
            srm,
        ))
    }

    /// Up to `limit` (at most [`MAX_PAGE`]) experiments after `after`, by
    /// name, each with its leader now.
    ///
    /// # Errors
    /// The store failing.
    pub async fn list(
        &self,
        after: Option<&ModelName>,
        limit: usize,
    ) -> Result<Vec<ListedExperiment>, ExperimentsError> {
        let page = self
            .store
            .experiments(after, limit.clamp(1, MAX_PAGE))
            .await?;
        let listed = page.iter().map(|(name, stored)| async move {
            let compared = match self.compared(stored).await {
                Ok(compared) => Some(compared),
                // A window past a variant's history: listed without a leader.
                Err(DecideError::BadRange(_) | DecideError::Decision(_)) => None,
                Err(other) => return Err(other),
            };
            let experiment = &stored.experiment;
            let srm = compared
                .as_ref()
                .and_then(|(_, trials)| experiment.srm(trials))
                .map(|s| SrmBrief {
                    p_value: s.p_value,
                    ok: s.ok,
                });
            let decision = compared.as_ref().map(|(c, _)| &c.decision);
            Ok(ListedExperiment {
                name: name.to_string(),
                kind: experiment.kind(),
                status: stored.status().into(),
                variants: experiment
                    .variants()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                winner: stored.record.decision.clone(),
                leader: decision.map(|d| d.best.clone()),
                p_best: decision.map(|d| d.p_best),
                expected_loss: decision.map(|d| d.expected_loss),
                srm,
            })
        });
        Ok(futures_util::future::try_join_all(listed).await?)
    }

    /// The variant to serve next: a bandit's Thompson draw, an A/B test's
    /// assignment by its weights, a stopped experiment's chosen variant.
    ///
    /// # Errors
    /// [`ExperimentsError::Unknown`]; the store failing.
    pub async fn choose(&self, name: &ModelName) -> Result<ExperimentChoice, ExperimentsError> {
        let stored = self.stored(name).await?;
        let experiment = &stored.experiment;
        if let Some((variant, _)) = &stored.stopped {
            return Ok(ExperimentChoice {
                variant: variant.clone(),
                by: ChosenBy::Stopped,
                lens: None,
                warnings: Vec::new(),
            });
        }
        match experiment.split() {
            Split::Floor(floor) => {
                let choice = self
                    .decisions
                    .choose_among(
                        experiment.variants(),
                        *floor,
                        lens_of(experiment),
                        Missing::Empty,
                    )
                    .await?;
                Ok(ExperimentChoice {
                    variant: choice.model,
                    by: ChosenBy::Thompson,
                    lens: choice.lens,
                    warnings: choice.warnings,
                })
            }
            Split::Weights(weights) => {
                let k = assign(weights, rand::random::<f64>());
                Ok(ExperimentChoice {
                    variant: experiment.variants()[k].to_string(),
                    by: ChosenBy::Weights,
                    lens: None,
                    warnings: Vec::new(),
                })
            }
        }
    }

    /// The history of `name` over `query`.
    ///
    /// # Errors
    /// [`ExperimentsError::Unknown`]; a bad range or step.
    pub async fn history(
        &self,
        name: &ModelName,
        query: TimeQuery,
    ) -> Result<ExperimentHistory, ExperimentsError> {
        let stored = self.stored(name).await?;
        Ok(self
            .timelines
            .experiment(name, &stored.experiment, query)
            .await?)
    }

    /// The decisions announced for `name`, newest first, at most `limit`.
    ///
    /// # Errors
    /// [`ExperimentsError::Unknown`]; the store failing.
    pub async fn decisions(
        &self,
        name: &ModelName,
        limit: usize,
    ) -> Result<Vec<DecisionView>, ExperimentsError> {
        self.stored(name).await?;
        let events = self
            .store
            .decisions(name, limit.clamp(1, MAX_DECISIONS))
            .await?;
        Ok(events
            .into_iter()
            .map(|(id, event)| DecisionView::new(id, event))
            .collect())
    }
}

/// The variant `u` (uniform in `[0, 1)`) falls on when the traffic is split by `weights`.
pub(super) fn assign(weights: &[f64], u: f64) -> usize {
    let mut sum = 0.0;
    for (k, weight) in weights.iter().enumerate() {
        sum += weight;
        if u < sum {
            return k;
        }
    }
    weights.len().saturating_sub(1)
}
