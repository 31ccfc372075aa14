//! Recording observations: validate with the domain, append to the log.

use super::model_limit::{LimitError, LimitReached, ModelLimit};
use super::{Appended, EventLog, Guard, IdempotencyKey, PortError};
use domain::{ModelName, Observation, ObservationError};
use std::sync::Arc;

/// The largest batch one request may carry.
pub const MAX_BATCH: usize = 10_000;

/// The ingest use case.
#[derive(Clone)]
pub struct Ingest {
    log: Arc<dyn EventLog>,
    max_batch: usize,
    limit: Option<Arc<ModelLimit>>,
}

/// Why an observation was not recorded. Nothing is stored in either case.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Not an observation.
    #[error(transparent)]
    Invalid(#[from] ObservationError),
    /// A batch with an invalid trial at `index` (0-based).
    #[error("trial {index}: {source}")]
    InvalidInBatch {
        /// Position of the first bad trial.
        index: usize,
        /// What is wrong with it.
        source: ObservationError,
    },
    /// A batch with no trials.
    #[error("a batch needs at least one trial")]
    EmptyBatch,
    /// A batch over the size bound.
    #[error("a batch holds at most {max} trials, got {given}")]
    BatchTooLarge {
        /// The bound.
        max: usize,
        /// The size given.
        given: usize,
    },
    /// It would create a model past `MAX_MODELS`.
    #[error(transparent)]
    ModelLimit(#[from] LimitReached),
    /// The log could not store it.
    #[error(transparent)]
    Log(#[from] PortError),
}

impl From<LimitError> for IngestError {
    fn from(error: LimitError) -> Self {
        match error {
            LimitError::Reached(reached) => Self::ModelLimit(reached),
            LimitError::Store(port) => Self::Log(port),
        }
    }
}

impl Ingest {
    /// Ingest into `log`, with batches of at most `max_batch` trials.
    pub fn new(log: Arc<dyn EventLog>, max_batch: usize) -> Self {
        Self {
            log,
            max_batch,
            limit: None,
        }
    }

    /// The same, refusing observations that would create a model past `limit`.
    #[must_use]
    pub fn with_limit(self, limit: Arc<ModelLimit>) -> Self {
        Self {
            limit: Some(limit),
            ..self
        }
    }

    /// Records one trial of the model `default` given as text (`w` or `l`),
    /// under an Idempotency-Key if given.
    ///
    /// # Errors
    /// [`IngestError::Invalid`] for anything else; [`IngestError::Log`] if it was not stored.
    pub async fn record(
        &self,
        trial: &str,
        key: Option<IdempotencyKey>,
    ) -> Result<(Observation, Appended), IngestError> {
        let observation = Observation::parse(trial)?;
        let (_, appended) = self
            .append(&ModelName::default_model(), &[observation], key)
            .await?;
        Ok((observation, appended))
    }

    /// Records a batch for `model` all-or-nothing: every trial is validated first.
    ///
    /// # Errors
    /// The first invalid trial, an empty or oversized batch, or a log failure;
    /// in every case nothing is stored.
    pub async fn record_all<'a, I>(
        &self,
        model: &ModelName,
        trials: I,
        key: Option<IdempotencyKey>,
    ) -> Result<(usize, Appended), IngestError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let observations = trials
            .into_iter()
            .enumerate()
            .map(|(index, trial)| {
                Observation::parse(trial)
                    .map_err(|source| IngestError::InvalidInBatch { index, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.append(model, &observations, key).await
    }

    /// Records `wins` wins and `losses` losses for `model`, all or nothing:
    /// aggregated counts, under the same bound as a batch.
    ///
    /// # Errors
    /// An empty or oversized total, or a log failure; nothing is stored.
    pub async fn record_counts(
        &self,
        model: &ModelName,
        wins: u64,
        losses: u64,
        key: Option<IdempotencyKey>,
    ) -> Result<(usize, Appended), IngestError> {
        let total = usize::try_from(wins.saturating_add(losses)).unwrap_or(usize::MAX);
        self.check_size(total)?;
        // Both are at most the bound now.
        let (wins, losses) = (wins as usize, losses as usize);
        let observations: Vec<Observation> = std::iter::repeat_n(Observation::Win, wins)
            .chain(std::iter::repeat_n(Observation::Loss, losses))
            .collect();
        self.append(model, &observations, key).await
    }

    async fn append(
        &self,
        model: &ModelName,
        observations: &[Observation],
        key: Option<IdempotencyKey>,
    ) -> Result<(usize, Appended), IngestError> {
        self.check_size(observations.len())?;
        if let Some(limit) = &self.limit {
            limit.admit(model).await?;
        }
        let guard = key.map(|key| Guard::new(key, observations));
        let appended = self.log.append(model, observations, guard.as_ref()).await?;
        Ok((observations.len(), appended))
    }

    fn check_size(&self, given: usize) -> Result<(), IngestError> {
        if given == 0 {
            return Err(IngestError::EmptyBatch);
        }
        if given > self.max_batch {
            return Err(IngestError::BatchTooLarge {
                max: self.max_batch,
                given,
            });
        }
        Ok(())
    }

    /// The largest batch accepted.
    #[must_use]
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }
}

#[cfg(test)]
mod tests;
