//! Named models: their summaries, list, (re)definition and deletion.
//! Definitions and deletions are log events, applied by bayes in log order,
//! so a replay of the log rebuilds the same models.

use super::{EventId, EventLog, ModelStore, PortError, QueryError};
use domain::{Counts, ModelDefinition, ModelName, ModelState, ModelSummary};
use serde::Serialize;
use std::sync::Arc;

/// Most models one page of the list holds.
pub const MAX_PAGE: usize = 1_000;

/// A model's summary with its name: the `/model` summary plus `name`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NamedSummary {
    /// The model's name.
    pub name: String,
    /// Counts, definition and posterior summaries.
    #[serde(flatten)]
    pub summary: ModelSummary,
}

/// A model as listed: name, counts and posterior mean.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ListedModel {
    /// The model's name.
    pub name: String,
    /// Wins.
    pub w: u64,
    /// Trials.
    pub n: u64,
    /// Grid posterior mean.
    pub mean: f64,
}

/// A model's prior and posterior on its grid, for drawing.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PosteriorCurve {
    /// The model's name.
    pub name: String,
    /// The grid points, from 0 to 1.
    pub p: Vec<f64>,
    /// The prior's mass at each point (sums to 1).
    pub prior: Vec<f64>,
    /// The posterior's mass at each point (sums to 1).
    pub posterior: Vec<f64>,
    /// The posterior's 89% percentile interval, `[lo, hi]`.
    #[schema(value_type = [f64; 2])]
    pub pi_89: domain::Interval,
}

/// The named-models use case.
#[derive(Clone)]
pub struct Catalog {
    store: Arc<dyn ModelStore>,
    log: Arc<dyn EventLog>,
    defaults: ModelDefinition,
}

/// Why a definition was refused. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum DefineError {
    /// The prior has no mass on the grid.
    #[error("the prior {prior} has no mass on a grid of {points} points")]
    NoMass {
        /// The prior.
        prior: String,
        /// The grid size.
        points: usize,
    },
    /// The log could not store it.
    #[error(transparent)]
    Log(#[from] PortError),
}

impl Catalog {
    /// Models in `store`, changed through `log`; `defaults` for a model
    /// stored without a definition.
    pub fn new(
        store: Arc<dyn ModelStore>,
        log: Arc<dyn EventLog>,
        defaults: ModelDefinition,
    ) -> Self {
        Self {
            store,
            log,
            defaults,
        }
    }

    /// The definition a model gets when none is given.
    #[must_use]
    pub fn defaults(&self) -> ModelDefinition {
        self.defaults
    }

    /// How many models exist.
    ///
    /// # Errors
    /// The store failing.
    pub async fn count(&self) -> Result<u64, PortError> {
        self.store.count().await
    }

    /// `model`'s counts and definition (the defaults if it has none).
    async fn existing(&self, model: &ModelName) -> Result<(Counts, ModelDefinition), QueryError> {
        let state = self
            .store
            .load(model)
            .await?
            .ok_or_else(|| QueryError::Unknown(model.to_string()))?;
        Ok((state.counts, state.definition.unwrap_or(self.defaults)))
    }

    /// `model`'s summary.
    ///
    /// # Errors
    /// [`QueryError::Unknown`] for a model that does not exist.
    pub async fn summary(&self, model: &ModelName) -> Result<NamedSummary, QueryError> {
        let (counts, definition) = self.existing(model).await?;
        let summary = tokio::task::spawn_blocking(move || definition.summary(counts))
            .await
            .map_err(|e| PortError::Failed(format!("summary task failed: {e}")))??;
        Ok(NamedSummary {
            name: model.to_string(),
            summary,
        })
    }

    /// `model`'s prior and posterior mass on its grid.
    ///
    /// # Errors
    /// [`QueryError::Unknown`] for a model that does not exist.
    pub async fn posterior(&self, model: &ModelName) -> Result<PosteriorCurve, QueryError> {
        let (counts, definition) = self.existing(model).await?;
        let name = model.to_string();
        let curve = tokio::task::spawn_blocking(move || {
            let (grid, prior) = (definition.grid, definition.prior);
            let posterior = domain::Posterior::new(grid, prior, counts)?;
            Ok::<_, QueryError>(PosteriorCurve {
                name,
                p: grid.iter().collect(),
                prior: domain::Posterior::new(grid, prior, Counts::ZERO)?
                    .probabilities()
                    .to_vec(),
                pi_89: posterior.percentile_interval(domain::CREDIBLE_MASS)?,
                posterior: posterior.probabilities().to_vec(),
            })
        });
        curve
            .await
            .map_err(|e| PortError::Failed(format!("posterior task failed: {e}")))?
    }

    /// Up to `limit` (at most [`MAX_PAGE`]) models after `after`, by name.
    ///
    /// # Errors
    /// The store failing.
    pub async fn list(
        &self,
        after: Option<&ModelName>,
        limit: usize,
    ) -> Result<Vec<ListedModel>, QueryError> {
        let models = self.store.list(after, limit.clamp(1, MAX_PAGE)).await?;
        let defaults = self.defaults;
        let listed = tokio::task::spawn_blocking(move || {
            models
                .into_iter()
                .map(|(name, state)| listed(name, state, defaults))
                .collect::<Result<Vec<_>, _>>()
        });
        listed
            .await
            .map_err(|e| PortError::Failed(format!("list task failed: {e}")))?
    }

    /// Appends the (re)definition of `model` (created if new; its counts stay).
    ///
    /// # Errors
    /// [`DefineError::NoMass`] for a prior without mass on the grid.
    pub async fn define(
        &self,
        model: &ModelName,
        definition: ModelDefinition,
    ) -> Result<EventId, DefineError> {
        let checked = tokio::task::spawn_blocking(move || definition.summary(Counts::ZERO))
            .await
            .map_err(|e| PortError::Failed(format!("check task failed: {e}")))?;
        if checked.is_err() {
            return Err(DefineError::NoMass {
                prior: definition.prior.to_string(),
                points: definition.grid.points(),
            });
        }
        Ok(self.log.define(model, definition).await?)
    }

    /// Appends the deletion of `model`.
    ///
    /// # Errors
    /// [`QueryError::Unknown`] for a model that does not exist.
    pub async fn delete(&self, model: &ModelName) -> Result<EventId, QueryError> {
        if self.store.load(model).await?.is_none() {
            return Err(QueryError::Unknown(model.to_string()));
        }
        Ok(self.log.delete(model).await?)
    }
}

fn listed(
    name: ModelName,
    state: ModelState,
    defaults: ModelDefinition,
) -> Result<ListedModel, QueryError> {
    let definition = state.definition.unwrap_or(defaults);
    let posterior = domain::Posterior::new(definition.grid, definition.prior, state.counts)?;
    Ok(ListedModel {
        name: name.to_string(),
        w: state.counts.w(),
        n: state.counts.n(),
        mean: posterior.mean(),
    })
}
