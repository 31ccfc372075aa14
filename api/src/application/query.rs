//! Reading the model: load counts and definition, summarise with the domain.

use super::{Cause, ModelStore, PortError};
use domain::{Counts, DefaultDefinitions, ModelName, ModelState, ModelSummary, PosteriorError};
use std::sync::Arc;

/// The model query use case.
#[derive(Clone)]
pub struct ModelQuery {
    store: Arc<dyn ModelStore>,
    defaults: DefaultDefinitions,
}

/// Why the model could not be summarised.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] PortError),
    /// The stored state has no posterior (a definition that contradicts the data).
    #[error(transparent)]
    Posterior(#[from] PosteriorError),
    /// No such model.
    #[error("unknown model {0}")]
    Unknown(String),
    /// A window or range reaching back past what the history holds, or a
    /// bad range or step.
    #[error("{0}")]
    BadRange(String),
}

impl From<super::lens::LensError> for QueryError {
    fn from(error: super::lens::LensError) -> Self {
        match error {
            super::lens::LensError::Store(port) => Self::Store(port),
            before @ super::lens::LensError::BeforeHistory { .. } => {
                Self::BadRange(before.to_string())
            }
        }
    }
}

impl ModelQuery {
    /// Queries `store`; a model not defined yet is summarised with `defaults`.
    pub fn new(store: Arc<dyn ModelStore>, defaults: DefaultDefinitions) -> Self {
        Self { store, defaults }
    }

    /// The summary of the model `default` as stored now. Before it has a
    /// definition, the configured defaults are used.
    ///
    /// # Errors
    /// [`QueryError`] when the store fails or the state has no posterior.
    pub async fn summary(&self) -> Result<ModelSummary, QueryError> {
        let state = self
            .store
            .load(&ModelName::default_model())
            .await?
            .unwrap_or(ModelState {
                counts: Counts::ZERO,
                definition: None,
            });
        let definition = state.definition.unwrap_or(self.defaults.default_model);
        // Microseconds on the default grid, but tens of milliseconds on a
        // million points: never on the runtime's threads.
        tokio::task::spawn_blocking(move || definition.summary(state.counts))
            .await
            .map_err(|e| {
                QueryError::Store(PortError::Failed(Cause::context("summary task failed", e)))
            })?
            .map_err(QueryError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use domain::{Grid, ModelDefinition, Prior};

    struct FixedStore(ModelState);

    #[async_trait]
    impl ModelStore for FixedStore {
        async fn load(&self, _: &ModelName) -> Result<Option<ModelState>, PortError> {
            Ok(Some(self.0))
        }

        async fn list(
            &self,
            _: Option<&ModelName>,
            _: usize,
        ) -> Result<Vec<(ModelName, ModelState)>, PortError> {
            Ok(Vec::new())
        }

        async fn count(&self) -> Result<u64, PortError> {
            Ok(1)
        }

        async fn now(&self) -> Result<u64, PortError> {
            Ok(0)
        }

        async fn history(
            &self,
            _: &ModelName,
            _: crate::application::HistoryRange,
        ) -> Result<Option<crate::application::StoredHistory>, PortError> {
            Ok(None)
        }

        async fn experiment(
            &self,
            _: &ModelName,
        ) -> Result<Option<platform::stored_experiment::StoredExperiment>, PortError> {
            Ok(None)
        }

        async fn experiments(
            &self,
            _: Option<&ModelName>,
            _: usize,
        ) -> Result<Vec<(ModelName, platform::stored_experiment::StoredExperiment)>, PortError>
        {
            Ok(Vec::new())
        }

        async fn decisions(
            &self,
            _: &ModelName,
            _: usize,
        ) -> Result<Vec<(String, platform::stored_experiment::DecisionEvent)>, PortError> {
            Ok(Vec::new())
        }
    }

    fn query(counts: Counts, definition: Option<ModelDefinition>) -> ModelQuery {
        ModelQuery::new(
            Arc::new(FixedStore(ModelState { counts, definition })),
            DefaultDefinitions::default(),
        )
    }

    #[tokio::test]
    async fn before_any_observation_the_default_prior_is_summarised() {
        let summary = query(Counts::ZERO, None).summary().await.unwrap();
        assert_eq!(
            (summary.n, summary.prior.as_str(), summary.grid_points),
            (0.0, "step:0.1", 120)
        );
    }

    #[tokio::test]
    async fn the_stored_definition_is_used() {
        let definition = ModelDefinition {
            prior: Prior::Uniform,
            grid: Grid::new(20).unwrap(),
        };
        let summary = query(Counts::new(6, 9).unwrap(), Some(definition))
            .summary()
            .await
            .unwrap();
        assert!((summary.mean - 0.636_382).abs() < 1e-6);
        assert!(summary.closed_form.is_some());
    }
}
