//! Experiments: A/B tests and bandits over named models. Their definitions,
//! stops and deletions are log events (bayes applies them, and announces
//! each change of decision); what they read is the comparison, the draws
//! and the history of their variants, through their window or half-life.

mod reads;
mod recent;
mod view;

pub use view::{
    Announced, ChosenBy, DecisionView, DefinitionView, ExperimentChoice, ExperimentStatus,
    ExperimentView, ListedExperiment, SrmBrief, Stopped,
};

use super::catalog::{Catalog, DefineError};
use super::decide::{DecideError, Decisions};
use super::history::Timelines;
use super::lens::Lens;
use super::model_limit::{LimitReached, ModelLimit};
use super::{EventId, EventLog, ModelStore, PortError};
use domain::{Experiment, ExperimentDraft, ExperimentError, ExperimentLens, ModelName};
use platform::log_time::{Span, format_moment};
use platform::stored_experiment::StoredExperiment;
use std::sync::Arc;

/// Most experiments one page of the list holds (each is a comparison).
pub const MAX_PAGE: usize = 100;

/// Most decisions one answer holds.
pub const MAX_DECISIONS: usize = 1_000;

/// Why an experiment request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentsError {
    /// A definition refused, naming the field. Nothing was stored.
    #[error(transparent)]
    Invalid(#[from] ExperimentError),
    /// No such experiment (or bayes has not applied its definition yet).
    #[error("unknown experiment {0}")]
    Unknown(String),
    /// Not one of the experiment's variants.
    #[error("variant: {variant:?} is not a variant of {experiment} ({variants})")]
    NotAVariant {
        /// The experiment.
        experiment: String,
        /// What was given.
        variant: String,
        /// Its variants, comma separated.
        variants: String,
    },
    /// Stopped already.
    #[error("experiment {experiment} was stopped already, with {variant} at {at}")]
    AlreadyStopped {
        /// The experiment.
        experiment: String,
        /// The variant it was stopped with.
        variant: String,
        /// When, RFC 3339.
        at: String,
    },
    /// Creating a variant failed (the model bound, the log).
    #[error(transparent)]
    Define(#[from] DefineError),
    /// The comparison, draw or history failed.
    #[error(transparent)]
    Decide(#[from] DecideError),
}

impl From<PortError> for ExperimentsError {
    fn from(error: PortError) -> Self {
        Self::Decide(DecideError::Store(error))
    }
}

/// A definition accepted.
#[derive(Debug, Clone)]
pub struct Defined {
    /// The log entry holding it.
    pub id: EventId,
    /// The definition, every default filled in.
    pub experiment: Experiment,
    /// The variants that did not exist and were created with the defaults.
    pub created: Vec<String>,
}

/// The experiments use case.
#[derive(Clone)]
pub struct Experiments {
    store: Arc<dyn ModelStore>,
    log: Arc<dyn EventLog>,
    catalog: Catalog,
    decisions: Decisions,
    timelines: Timelines,
    limit: Option<Arc<ModelLimit>>,
    /// Definitions read in the last second, for the observation route.
    recent: Arc<recent::Recent>,
}

/// The lens of an experiment's definition.
fn lens_of(experiment: &Experiment) -> Lens {
    match experiment.lens() {
        ExperimentLens::All => Lens::All,
        ExperimentLens::Window(ms) => Lens::Window(Span::from_millis(ms)),
        ExperimentLens::HalfLife(ms) => Lens::HalfLife(Span::from_millis(ms)),
    }
}

impl Experiments {
    /// Experiments in `store`, changed through `log`; their variants
    /// created through `catalog`, compared and drawn by `decisions`, over
    /// time by `timelines`.
    pub fn new(
        store: Arc<dyn ModelStore>,
        log: Arc<dyn EventLog>,
        catalog: Catalog,
        decisions: Decisions,
        timelines: Timelines,
    ) -> Self {
        Self {
            store,
            log,
            catalog,
            decisions,
            timelines,
            limit: None,
            recent: Arc::default(),
        }
    }

    /// The same, refusing a definition whose new variants pass `limit`.
    #[must_use]
    pub fn with_limit(self, limit: Arc<ModelLimit>) -> Self {
        Self {
            limit: Some(limit),
            ..self
        }
    }

    /// The experiment `name`, stored.
    async fn stored(&self, name: &ModelName) -> Result<StoredExperiment, ExperimentsError> {
        self.store
            .experiment(name)
            .await?
            .ok_or_else(|| ExperimentsError::Unknown(name.to_string()))
    }

    /// Checks `draft`, creates the variants that do not exist (with the
    /// defaults), then appends the definition of `name`.
    ///
    /// # Errors
    /// [`ExperimentsError::Invalid`] naming the field (nothing stored);
    /// new variants past `MAX_MODELS` (nothing stored); the log failing.
    pub async fn define(
        &self,
        name: &ModelName,
        draft: &ExperimentDraft,
    ) -> Result<Defined, ExperimentsError> {
        let experiment = Experiment::new(draft)?;
        let store = self.store.as_ref();
        let states =
            futures_util::future::try_join_all(experiment.variants().iter().map(|v| store.load(v)))
                .await?;
        let missing: Vec<&ModelName> = experiment
            .variants()
            .iter()
            .zip(states)
            .filter(|(_, state)| state.is_none())
            .map(|(variant, _)| variant)
            .collect();
        if let (Some(limit), Some(first)) = (&self.limit, missing.first())
            && !first.is_default()
        {
            // All or none: every new variant must fit under the bound.
            let count = store.count().await?;
            if count + missing.len() as u64 > limit.max() {
                metrics::counter!("api_model_limit_refusals_total").increment(1);
                return Err(DefineError::ModelLimit(LimitReached {
                    model: first.to_string(),
                    max: limit.max(),
                    count,
                })
                .into());
            }
        }
        let defines = missing
            .iter()
            .map(|variant| self.catalog.define(variant, self.catalog.defaults(variant)));
        futures_util::future::try_join_all(defines).await?;
        let created = missing.iter().map(ToString::to_string).collect();
        let id = self.log.define_experiment(name, &experiment).await?;
        // Appended: observations sent to this api right after are checked
        // against it, before bayes has applied it.
        self.recent.put(name, &experiment);
        Ok(Defined {
            id,
            experiment,
            created,
        })
    }

    /// Appends the deletion of `name` (its models stay).
    ///
    /// # Errors
    /// [`ExperimentsError::Unknown`]; the log failing.
    pub async fn delete(&self, name: &ModelName) -> Result<EventId, ExperimentsError> {
        self.stored(name).await?;
        Ok(self.log.delete_experiment(name).await?)
    }

    /// `variant` as one of `name`'s variants.
    ///
    /// # Errors
    /// [`ExperimentsError::Unknown`], [`ExperimentsError::NotAVariant`].
    pub async fn variant(
        &self,
        name: &ModelName,
        variant: &str,
    ) -> Result<ModelName, ExperimentsError> {
        if let Some(experiment) = self.recent.get(name) {
            return Self::variant_of(name, &experiment, variant);
        }
        let stored = self.stored(name).await?;
        self.recent.put(name, &stored.experiment);
        Self::variant_of(name, &stored.experiment, variant)
    }

    fn variant_of(
        name: &ModelName,
        experiment: &Experiment,
        variant: &str,
    ) -> Result<ModelName, ExperimentsError> {
        experiment
            .variants()
            .iter()
            .find(|v| v.as_str() == variant)
            .cloned()
            .ok_or_else(|| ExperimentsError::NotAVariant {
                experiment: name.to_string(),
                variant: variant.to_owned(),
                variants: experiment
                    .variants()
                    .iter()
                    .map(ModelName::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Appends the stop of `name` with `variant` chosen.
    ///
    /// # Errors
    /// [`ExperimentsError::Unknown`], [`ExperimentsError::NotAVariant`],
    /// [`ExperimentsError::AlreadyStopped`]; the log failing.
    pub async fn stop(&self, name: &ModelName, variant: &str) -> Result<EventId, ExperimentsError> {
        let stored = self.stored(name).await?;
        let variant = Self::variant_of(name, &stored.experiment, variant)?;
        if let Some((chosen, at)) = &stored.stopped {
            return Err(ExperimentsError::AlreadyStopped {
                experiment: name.to_string(),
                variant: chosen.clone(),
                at: format_moment(*at),
            });
        }
        Ok(self.log.stop_experiment(name, &variant).await?)
    }
}

#[cfg(test)]
mod tests;
