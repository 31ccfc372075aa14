//! Recording observations: validate with the domain, append to the log.

use super::{Appended, EventLog, PortError};
use domain::{ModelName, Observation, ObservationError};
use std::sync::Arc;

/// The largest batch one request may carry.
pub const MAX_BATCH: usize = 10_000;

/// The ingest use case.
#[derive(Clone)]
pub struct Ingest {
    log: Arc<dyn EventLog>,
    max_batch: usize,
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
    /// The log could not store it.
    #[error(transparent)]
    Log(#[from] PortError),
}

impl Ingest {
    /// Ingest into `log`, with batches of at most `max_batch` trials.
    pub fn new(log: Arc<dyn EventLog>, max_batch: usize) -> Self {
        Self { log, max_batch }
    }

    /// Records one trial given as text (`w` or `l`).
    ///
    /// # Errors
    /// [`IngestError::Invalid`] for anything else; [`IngestError::Log`] if it was not stored.
    pub async fn record(&self, trial: &str) -> Result<(Observation, Appended), IngestError> {
        let observation = Observation::parse(trial)?;
        let appended = self
            .log
            .append(&ModelName::default_model(), &[observation])
            .await?;
        Ok((observation, appended))
    }

    /// Records a batch all-or-nothing: every trial is validated first.
    ///
    /// # Errors
    /// The first invalid trial, an empty or oversized batch, or a log failure;
    /// in every case nothing is stored.
    pub async fn record_all<'a, I>(&self, trials: I) -> Result<(usize, Appended), IngestError>
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
        if observations.is_empty() {
            return Err(IngestError::EmptyBatch);
        }
        if observations.len() > self.max_batch {
            return Err(IngestError::BatchTooLarge {
                max: self.max_batch,
                given: observations.len(),
            });
        }
        let appended = self
            .log
            .append(&ModelName::default_model(), &observations)
            .await?;
        Ok((observations.len(), appended))
    }

    /// The largest batch accepted.
    #[must_use]
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::EventId;
    use async_trait::async_trait;
    use std::sync::Mutex;

    /// An in-memory log; `down` makes every append fail as Redis being away would.
    #[derive(Default)]
    struct MemoryLog {
        entries: Mutex<Vec<Observation>>,
        down: bool,
    }

    #[async_trait]
    impl EventLog for MemoryLog {
        async fn append(
            &self,
            _: &ModelName,
            observations: &[Observation],
        ) -> Result<Appended, PortError> {
            if self.down {
                return Err(PortError::Unavailable("down".into()));
            }
            let mut entries = self.entries.lock().unwrap();
            let index = entries.len() as u64;
            entries.extend_from_slice(observations);
            Ok(Appended {
                id: EventId("1-0".into()),
                index,
            })
        }
    }

    fn ingest(log: &Arc<MemoryLog>) -> Ingest {
        Ingest::new(log.clone(), 10)
    }

    #[tokio::test]
    async fn a_valid_trial_is_appended() {
        let log = Arc::new(MemoryLog::default());
        let (observation, appended) = ingest(&log).record("w").await.unwrap();
        assert_eq!(observation, Observation::Win);
        assert_eq!(appended.index, 0);
        assert_eq!(*log.entries.lock().unwrap(), vec![Observation::Win]);
    }

    #[tokio::test]
    async fn unknown_trial_is_rejected_and_not_counted() {
        let log = Arc::new(MemoryLog::default());
        for bad in ["x", "W", "ww", "", "\0"] {
            let error = ingest(&log).record(bad).await.unwrap_err();
            assert!(matches!(error, IngestError::Invalid(_)), "{bad:?}: {error}");
        }
        assert!(log.entries.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_batch_with_one_bad_trial_stores_nothing() {
        let log = Arc::new(MemoryLog::default());
        let error = ingest(&log).record_all(["w", "l", "x"]).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "trial 2: invalid trial \"x\": expected \"w\" or \"l\""
        );
        assert!(log.entries.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn batches_are_bounded_and_non_empty() {
        let log = Arc::new(MemoryLog::default());
        let eleven = ["w"; 11];
        assert!(matches!(
            ingest(&log).record_all(eleven).await,
            Err(IngestError::BatchTooLarge { max: 10, given: 11 })
        ));
        assert!(matches!(
            ingest(&log).record_all([]).await,
            Err(IngestError::EmptyBatch)
        ));
        assert_eq!(ingest(&log).record_all(["w"; 10]).await.unwrap().0, 10);
    }

    #[tokio::test]
    async fn an_unavailable_log_is_reported() {
        let log = Arc::new(MemoryLog {
            down: true,
            ..MemoryLog::default()
        });
        let error = ingest(&log).record("w").await.unwrap_err();
        assert!(matches!(error, IngestError::Log(PortError::Unavailable(_))));
    }
}
