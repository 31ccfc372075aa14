//! Named models: their summaries, list, (re)definition and deletion.
//! Definitions and deletions are log events, applied by bayes in log order,
//! so a replay of the log rebuilds the same models.

use super::lens::{self, Lens, LensReport};
use super::model_limit::{LimitError, LimitReached, ModelLimit};
use super::{Cause, EventId, EventLog, ModelStore, PortError, PosteriorCurve, QueryError};
use domain::{Counts, DefaultDefinitions, ModelDefinition, ModelName, ModelState, ModelSummary};
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
    /// How the evidence was read, under a window or half-life.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lens: Option<LensReport>,
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

/// The named-models use case.
#[derive(Clone)]
pub struct Catalog {
    store: Arc<dyn ModelStore>,
    log: Arc<dyn EventLog>,
    defaults: DefaultDefinitions,
    limit: Option<Arc<ModelLimit>>,
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
    /// It would create a model past `MAX_MODELS`.
    #[error(transparent)]
    ModelLimit(#[from] LimitReached),
    /// The log could not store it.
    #[error(transparent)]
    Log(#[from] PortError),
}

impl From<LimitError> for DefineError {
    fn from(error: LimitError) -> Self {
        match error {
            LimitError::Reached(reached) => Self::ModelLimit(reached),
            LimitError::Store(port) => Self::Log(port),
        }
    }
}

impl Catalog {
    /// Models in `store`, changed through `log`; `defaults` for a model
    /// stored without a definition.
    pub fn new(
        store: Arc<dyn ModelStore>,
        log: Arc<dyn EventLog>,
        defaults: DefaultDefinitions,
    ) -> Self {
        Self {
            store,
            log,
            defaults,
            limit: None,
        }
    }

    /// The same, refusing definitions that would create a model past `limit`.
    #[must_use]
    pub fn with_limit(self, limit: Arc<ModelLimit>) -> Self {
        Self {
            limit: Some(limit),
            ..self
        }
    }

    /// The definition `model` gets when none is given.
    #[must_use]
    pub fn defaults(&self, model: &ModelName) -> ModelDefinition {
        self.defaults.of(model)
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
        Ok((
            state.counts,
            state.definition.unwrap_or(self.defaults.of(model)),
        ))
    }

    /// `model`'s summary, of the evidence `lens` reads.
    ///
    /// # Errors
    /// [`QueryError::Unknown`] for a model that does not exist,
    /// [`QueryError::BadRange`] for a window past its history.
    pub async fn summary(&self, model: &ModelName, lens: Lens) -> Result<NamedSummary, QueryError> {
        let lensed = lens::read(self.store.as_ref(), model, lens)
            .await?
            .ok_or_else(|| QueryError::Unknown(model.to_string()))?;
        let definition = lensed.state.definition.unwrap_or(self.defaults.of(model));
        let evidence = lensed.evidence;
        let summary = tokio::task::spawn_blocking(move || definition.summary(evidence))
            .await
            .map_err(|e| PortError::Failed(Cause::context("summary task failed", e)))??;
        Ok(NamedSummary {
            name: model.to_string(),
            summary,
            lens: lensed.report,
        })
    }

    /// `model`'s prior and posterior mass on its grid; with `most`, in at
    /// most that many points where the posterior's mass is.
    ///
    /// # Errors
    /// [`QueryError::Unknown`] for a model that does not exist.
    pub async fn posterior(
        &self,
        model: &ModelName,
        most: Option<usize>,
    ) -> Result<PosteriorCurve, QueryError> {
        let (counts, definition) = self.existing(model).await?;
        let name = model.to_string();
        let curve = tokio::task::spawn_blocking(move || {
            let (grid, prior) = (definition.grid, definition.prior);
            let posterior = domain::Posterior::new(grid, prior, counts)?;
            let alone = domain::Posterior::new(grid, prior, Counts::ZERO)?;
            Ok::<_, QueryError>(PosteriorCurve::new(name, &alone, &posterior, most)?)
        });
        curve
            .await
            .map_err(|e| PortError::Failed(Cause::context("posterior task failed", e)))?
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
            .map_err(|e| PortError::Failed(Cause::context("list task failed", e)))?
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
            .map_err(|e| PortError::Failed(Cause::context("check task failed", e)))?;
        if checked.is_err() {
            return Err(DefineError::NoMass {
                prior: definition.prior.to_string(),
                points: definition.grid.points(),
            });
        }
        if let Some(limit) = &self.limit {
            limit.admit(model).await?;
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
    defaults: DefaultDefinitions,
) -> Result<ListedModel, QueryError> {
    let definition = state.definition.unwrap_or(defaults.of(&name));
    let posterior = domain::Posterior::new(definition.grid, definition.prior, state.counts)?;
    Ok(ListedModel {
        name: name.to_string(),
        w: state.counts.w(),
        n: state.counts.n(),
        mean: posterior.mean(),
    })
}
