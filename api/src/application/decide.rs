//! Decisions between named models: the exact comparison and one Thompson
//! draw, from the counts and definitions stored now (a model without a
//! stored definition is read with its default).

use super::lens::{self, Lens, LensError, LensReport};
use super::model_list::ModelList;
use super::verdict::Compared;
use super::{Cause, ModelStore, PortError};
use domain::{
    Counts, DecisionError, DefaultDefinitions, Evidence, ModelDefinition, ModelName, Posterior,
    Thompson, Warning,
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

/// How a model that does not exist is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// [`DecideError::Unknown`].
    Refuse,
    /// As a model with no observations and the default definition (an
    /// experiment's variant deleted by hand: it comes back on its next
    /// observation).
    Empty,
}

/// The models a decision is made among, as read.
struct Loaded {
    /// Name, definition and the evidence the lens reads.
    models: Vec<(String, ModelDefinition, Evidence)>,
    /// Each model's full counts (whatever the lens).
    counts: Vec<Counts>,
    report: Option<LensReport>,
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
        let (compared, _) = self
            .compare_among(names.names(), threshold, lens, Missing::Refuse)
            .await?;
        Ok(compared)
    }

    /// As [`Decisions::compare`], of `names` as given, with each model's
    /// full counts (whatever the lens), in the same order.
    ///
    /// # Errors
    /// As [`Decisions::compare`].
    pub async fn compare_among(
        &self,
        names: &[ModelName],
        threshold: f64,
        lens: Lens,
        missing: Missing,
    ) -> Result<(Compared, Vec<Counts>), DecideError> {
        let Loaded {
            models,
            counts,
            report,
        } = self.load(names, lens, missing).await?;
        let comparison = tokio::task::spawn_blocking(move || domain::compare(&models, threshold))
            .await
            .map_err(|e| PortError::Failed(Cause::context("compare task failed", e)))??;
        metrics::counter!("api_decisions_total", "kind" => "compare").increment(1);
        let compared = Compared {
            lens: report,
            ..comparison.into()
        };
        Ok((compared, counts))
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
        self.choose_among(names.names(), floor, lens, Missing::Refuse)
            .await
    }

    /// As [`Decisions::choose`], among `names` as given.
    ///
    /// # Errors
    /// As [`Decisions::choose`].
    pub async fn choose_among(
        &self,
        names: &[ModelName],
        floor: f64,
        lens: Lens,
        missing: Missing,
    ) -> Result<Choice, DecideError> {
        let Loaded {
            mut models, report, ..
        } = self.load(names, lens, missing).await?;
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

    /// Loads each model's evidence under `lens`, all at once (the reads
    /// are pipelined on the one connection) and at one "now".
    async fn load(
        &self,
        names: &[ModelName],
        lens: Lens,
        missing: Missing,
    ) -> Result<Loaded, DecideError> {
        let now = match lens {
            Lens::All => None,
            Lens::Window(_) | Lens::HalfLife(_) => Some(self.store.now().await?),
        };
        let store = self.store.as_ref();
        let reads = names
            .iter()
            .map(|model| lens::read_at(store, model, lens, now));
        let read = futures_util::future::try_join_all(reads).await?;
        let mut loaded = Loaded {
            models: Vec::with_capacity(names.len()),
            counts: Vec::with_capacity(names.len()),
            report: None,
        };
        for (model, lensed) in names.iter().zip(read) {
            let (definition, evidence, counts) = match lensed {
                Some(lensed) => {
                    loaded.report = lensed.report.or(loaded.report);
                    (
                        lensed.state.definition,
                        lensed.evidence,
                        lensed.state.counts,
                    )
                }
                None if missing == Missing::Empty => (None, Evidence::ZERO, Counts::ZERO),
                None => return Err(DecideError::Unknown(model.to_string())),
            };
            loaded.models.push((
                model.to_string(),
                definition.unwrap_or(self.defaults.of(model)),
                evidence,
            ));
            loaded.counts.push(counts);
        }
        if loaded.report.is_none()
            && let (Some(as_of), Lens::Window(span) | Lens::HalfLife(span)) = (now, lens)
        {
            loaded.report = Some(LensReport {
                window: matches!(lens, Lens::Window(_)).then(|| span.to_string()),
                half_life: matches!(lens, Lens::HalfLife(_)).then(|| span.to_string()),
                since: None,
                as_of,
            });
        }
        Ok(loaded)
    }
}
