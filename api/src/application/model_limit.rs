//! `MAX_MODELS`: the bound on how many models writers may create. An
//! observation or definition of a model that does not exist yet is refused
//! once the deployment holds the bound; existing models keep counting.
//!
//! Far from the bound the count is read from the store at most once per
//! [`REFRESH`] (one `ZCARD` per partition), so the hot path costs two
//! atomic operations; when the last count plus the writes admitted since
//! comes within 1% of it, each write reads the count, and at the bound a
//! write of an unknown name pays one more read to learn whether its model
//! exists. Models are created when bayes applies their first event, so
//! the bound can be passed by the new names accepted within bayes's lag
//! (and by concurrent writes of new names at the edge): a bound against
//! filling Redis, not an exact quota.

use super::{ModelStore, PortError};
use domain::ModelName;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a read of the model count is trusted.
pub const REFRESH: Duration = Duration::from_millis(500);

/// How long an admitted write may take to show in the count (bayes's lag).
pub const SETTLED: Duration = Duration::from_secs(2);

/// A write refused at the bound. Nothing was stored.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the deployment holds {count} models, its bound MAX_MODELS={max}: {model:?} would be a new \
     one; delete models or raise MAX_MODELS (existing models keep counting)"
)]
pub struct LimitReached {
    /// The new model's name.
    pub model: String,
    /// The bound.
    pub max: u64,
    /// The models counted.
    pub count: u64,
}

/// Why a write could not be checked against the bound, or was refused.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// At the bound, and the model is new.
    #[error(transparent)]
    Reached(#[from] LimitReached),
    /// The store could not say.
    #[error(transparent)]
    Store(#[from] PortError),
}

/// The bound, with the last count read.
pub struct ModelLimit {
    max: u64,
    store: Arc<dyn ModelStore>,
    started: Instant,
    /// The last count read, and when (milliseconds since `started`, +1; 0: never).
    count: AtomicU64,
    read_at: AtomicU64,
    /// Writes admitted lately (each may have created a model bayes has
    /// not applied yet, so a count read now may miss it), and since when
    /// (milliseconds since `started`).
    admitted: AtomicU64,
    admitted_since: AtomicU64,
}

impl ModelLimit {
    /// At most `max` models, counted in `store`.
    pub fn new(max: u64, store: Arc<dyn ModelStore>) -> Self {
        Self {
            max,
            store,
            started: Instant::now(),
            count: AtomicU64::new(0),
            read_at: AtomicU64::new(0),
            admitted: AtomicU64::new(0),
            admitted_since: AtomicU64::new(0),
        }
    }

    /// The bound.
    #[must_use]
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Whether a write to `model` may go ahead: always for `default` and
    /// for a model that exists; for a new one, while the count is under the bound.
    ///
    /// # Errors
    /// [`LimitError::Reached`] at the bound for a new model; the store failing.
    pub async fn admit(&self, model: &ModelName) -> Result<(), LimitError> {
        if model.is_default() {
            return Ok(());
        }
        let count = self.count().await?;
        if count < self.max || self.store.load(model).await?.is_some() {
            self.admitted.fetch_add(1, Ordering::AcqRel);
            return Ok(());
        }
        metrics::counter!("api_model_limit_refusals_total").increment(1);
        Err(LimitReached {
            model: model.as_str().to_owned(),
            max: self.max,
            count,
        }
        .into())
    }

    /// The count, read again once it is older than [`REFRESH`], or when the
    /// last count plus the writes admitted lately (each may have created a
    /// model not applied yet) comes within 1% of the bound: there every
    /// write pays the read. "Lately" is the last [`SETTLED`]: writes older
    /// than that are taken as applied, so the bound holds while bayes's
    /// lag is under it.
    async fn count(&self) -> Result<u64, PortError> {
        let now = self.started.elapsed().as_millis() as u64 + 1;
        let read_at = self.read_at.load(Ordering::Acquire);
        let cached = self.count.load(Ordering::Acquire);
        let estimate = cached.saturating_add(self.admitted.load(Ordering::Acquire));
        let fresh = read_at != 0 && now - read_at.min(now) < REFRESH.as_millis() as u64;
        if fresh && estimate < self.max.saturating_sub(self.max / 100 + 1) {
            return Ok(cached);
        }
        let count = self.store.count().await?;
        self.count.store(count, Ordering::Release);
        self.read_at.store(now, Ordering::Release);
        let since = self.admitted_since.load(Ordering::Acquire);
        if now.saturating_sub(since) >= SETTLED.as_millis() as u64 {
            self.admitted.store(0, Ordering::Release);
            self.admitted_since.store(now, Ordering::Release);
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::EventLog;
    use crate::application::memory::MemoryModels;
    use domain::Observation;

    fn name(text: &str) -> ModelName {
        ModelName::parse(text).unwrap()
    }

    #[tokio::test]
    async fn a_new_model_is_refused_at_the_bound_and_an_existing_one_admitted() {
        let store = Arc::new(MemoryModels::new());
        for model in ["a", "b"] {
            store
                .append(&name(model), &[Observation::Win], None)
                .await
                .unwrap();
        }
        let limit = ModelLimit::new(2, store.clone());
        limit.admit(&name("a")).await.unwrap();
        let refused = limit.admit(&name("c")).await.unwrap_err();
        let message = refused.to_string();
        assert!(
            message.contains("MAX_MODELS=2") && message.contains("\"c\""),
            "{message}"
        );
        limit.admit(&ModelName::default_model()).await.unwrap();
    }

    #[tokio::test]
    async fn under_the_bound_a_new_model_is_admitted() {
        let store = Arc::new(MemoryModels::new());
        store
            .append(&name("a"), &[Observation::Win], None)
            .await
            .unwrap();
        let limit = ModelLimit::new(2, store);
        limit.admit(&name("b")).await.unwrap();
    }
}
