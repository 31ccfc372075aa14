//! Decisions between named models: the exact comparison and one Thompson
//! draw, from the counts and definitions stored now (a model without a
//! stored definition is read with its default).

use super::lens::{self, Lens, LensError, LensReport};
use super::model_list::ModelList;
use super::verdict::Compared;
use super::{Cause, ModelStore, PortError};
use domain::{
    DecisionError, DefaultDefinitions, Evidence, ModelDefinition, Posterior, Thompson, Warning,
};
use serde::Serialize;
use std::sync::Arc;

/// One Thompson draw: the model chosen, and the warnings of the models it
/// was drawn among (a pinned posterior draws from its prior's edge).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Choice {
    /// The model to try next.
    pub model: String,
    /// How the evidence was read, under a window or half-life.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lens: Option<LensReport>,
    /// Each drawn-among model's warnings, with its name; empty when every
    /// posterior shows what its data say.
    pub warnings: Vec<ModelWarning>,
}

/// A model's warning, with its name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelWarning {
    /// The model.
    pub model: String,
    /// The warning.
    #[serde(flatten)]
    pub warning: Warning,
}

/// The decisions use case.
#[derive(Clone)]
pub struct Decisions {
    store: Arc<dyn ModelStore>,
    defaults: DefaultDefinitions,
}

/// Why a decision was not made.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// A model that does not exist.
    #[error("unknown model {0}")]
    Unknown(String),
    /// Too few models, a bad threshold or floor.
    #[error(transparent)]
    Decision(#[from] DecisionError),
    /// A window past a model's history, a bad range or step, too many points in time.
    #[error("{0}")]
    BadRange(String),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] PortError),
}

impl From<LensError> for DecideError {
    fn from(error: LensError) -> Self {
        match error {
            LensError::Store(port) => Self::Store(port),
            before @ LensError::BeforeHistory { .. } => Self::BadRange(before.to_string()),
        }
    }
}

impl Decisions {
    /// Decisions over `store`'s models; `defaults` for one stored without a definition.
    pub fn new(store: Arc<dyn ModelStore>, defaults: DefaultDefinitions) -> Self {
        Self { store, defaults }
    }

    /// The comparison of `names` (the first is the baseline) at `threshold`.
    ///
    /// # Errors
    /// An unknown name, fewer than 2 models, a bad threshold, or the store
    /// failing.
    pub async fn compare(
        &self,
        names: &ModelList,
        threshold: f64,
        lens: Lens,
    ) -> Result<Compared, DecideError> {
        let (models, report) = self.load(names, lens).await?;
        let comparison = tokio::task::spawn_blocking(move || domain::compare(&models, threshold))
            .await
            .map_err(|e| PortError::Failed(Cause::context("compare task failed", e)))??;
        metrics::counter!("api_decisions_total", "kind" => "compare").increment(1);
        Ok(Compared {
            lens: report,
            ..comparison.into()
        })
    }

    /// One Thompson draw among `names`, each chosen with at least `floor`.
    ///
    /// # Errors
    /// As [`Decisions::compare`], and a floor outside `[0, 1/K]`.
    pub async fn choose(
        &self,
        names: &ModelList,
        floor: f64,
        lens: Lens,
    ) -> Result<Choice, DecideError> {
        let (mut models, report) = self.load(names, lens).await?;
        let chosen = tokio::task::spawn_blocking(move || {
            let posteriors = models
                .iter()
                .map(|(name, d, counts)| {
                    Posterior::new(d.grid, d.prior, *counts).map_err(|source| {
                        DecisionError::Posterior {
                            name: name.clone(),
                            source,
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let thompson = Thompson::new(&posteriors, floor)?;
            let index = thompson.choose(&mut rand::rng());
            let warnings = models
                .iter()
                .zip(&posteriors)
                .flat_map(|((name, _, _), posterior)| {
                    posterior
                        .warnings()
                        .into_iter()
                        .map(|warning| ModelWarning {
                            model: name.clone(),
                            warning,
                        })
                })
                .collect();
            Ok::<_, DecisionError>(Choice {
                model: models.swap_remove(index).0,
                lens: report,
                warnings,
            })
        })
        .await
        .map_err(|e| PortError::Failed(Cause::context("choose task failed", e)))??;
        metrics::counter!("api_decisions_total", "kind" => "choose").increment(1);
        Ok(chosen)
    }

    /// Loads each model's evidence under `lens` (one "now" for all: the
    /// latest of their reads).
    async fn load(
        &self,
        names: &ModelList,
        lens: Lens,
    ) -> Result<(Vec<(String, ModelDefinition, Evidence)>, Option<LensReport>), DecideError> {
        let mut models = Vec::with_capacity(names.names().len());
        let mut report = None;
        for model in names.names() {
            let lensed = lens::read(self.store.as_ref(), model, lens)
                .await?
                .ok_or_else(|| DecideError::Unknown(model.to_string()))?;
            models.push((
                model.to_string(),
                lensed.state.definition.unwrap_or(self.defaults.of(model)),
                lensed.evidence,
            ));
            report = lensed.report.or(report);
        }
        Ok((models, report))
    }
}
