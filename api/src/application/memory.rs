//! An in-memory stand-in for Redis and bayes together (the ports' fake), built
//! only for tests (`cfg(test)` or the `test-support` feature): appends are applied
//! at once, so what is written can be read back. For tests of the use cases
//! and of the router without a socket or a Redis; it keeps nothing.

use super::{
    Appended, Cause, EventId, EventLog, Guard, HistoryRange, ModelStore, PortError, Readiness,
    StoreHealth, StoredHistory,
};
use async_trait::async_trait;
use domain::{Counts, Experiment, ModelDefinition, ModelName, ModelState, Observation};
use platform::stored_experiment::{DecisionEvent, StoredExperiment};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Models in a map; `set_up(false)` is Redis away, `set_full(true)` a full
/// write queue.
#[derive(Default)]
pub struct MemoryModels {
    models: Mutex<BTreeMap<ModelName, ModelState>>,
    /// Idempotency keys recorded: (model, key) → (fingerprint, first answer).
    keys: Mutex<HashMap<(ModelName, String), (String, Appended)>>,
    /// Experiments as bayes would store them once applied.
    experiments: Mutex<BTreeMap<ModelName, StoredExperiment>>,
    /// Announced decisions, oldest first: (stream id, event).
    decisions: Mutex<Vec<(String, DecisionEvent)>>,
    down: AtomicBool,
    full: AtomicBool,
    entries: AtomicU64,
    observations: AtomicU64,
}

impl MemoryModels {
    /// An empty store that answers.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every call fail as an unreachable Redis would (`false`), or answer.
    pub fn set_up(&self, up: bool) {
        self.down.store(!up, Ordering::SeqCst);
    }

    /// Makes appends fail as a full write queue would.
    pub fn set_full(&self, full: bool) {
        self.full.store(full, Ordering::SeqCst);
    }

    /// Observations appended so far, over all models.
    #[must_use]
    pub fn observations(&self) -> u64 {
        self.observations.load(Ordering::SeqCst)
    }

    /// The state of `model`, if it exists.
    #[must_use]
    pub fn model(&self, model: &str) -> Option<ModelState> {
        let name = ModelName::parse(model).ok()?;
        self.lock().get(&name).copied()
    }

    /// Announces `event` as bayes would (on the decisions stream).
    pub fn announce(&self, event: DecisionEvent) {
        let mut decisions = lock(&self.decisions);
        let id = format!("{}-{}", event.at, decisions.len());
        decisions.push((id, event));
    }

    fn now_ms() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    fn check(&self) -> Result<(), PortError> {
        if self.down.load(Ordering::SeqCst) {
            Err(PortError::Unavailable("connection refused".into()))
        } else {
            Ok(())
        }
    }

    fn next_id(&self) -> EventId {
        EventId(format!(
            "{}-0",
            self.entries.fetch_add(1, Ordering::SeqCst) + 1
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<ModelName, ModelState>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.models
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

const EMPTY: ModelState = ModelState {
    counts: Counts::ZERO,
    definition: None,
};

#[async_trait]
impl EventLog for MemoryModels {
    async fn append(
        &self,
        model: &ModelName,
        observations: &[Observation],
        guard: Option<&Guard>,
    ) -> Result<Appended, PortError> {
        self.check()?;
        if self.full.load(Ordering::SeqCst) {
            return Err(PortError::Overloaded("the write queue is full".into()));
        }
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = guard.map(|g| (model.clone(), g.key.as_str().to_owned()));
        if let (Some(guard), Some((fingerprint, first))) =
            (guard, slot.as_ref().and_then(|slot| keys.get(slot)))
        {
            return if *fingerprint == guard.fingerprint {
                Ok(Appended {
                    replayed: true,
                    ..first.clone()
                })
            } else {
                Err(PortError::KeyReused(guard.key.as_str().to_owned()))
            };
        }
        let added = observations
            .iter()
            .copied()
            .collect::<Result<Counts, _>>()
            .map_err(|e| PortError::Failed(Cause::new(e)))?;
        let mut models = self.lock();
        let state = models.entry(model.clone()).or_insert(EMPTY);
        state.counts = state
            .counts
            .merge(added)
            .map_err(|e| PortError::Failed(Cause::new(e)))?;
        self.observations
            .fetch_add(observations.len() as u64, Ordering::SeqCst);
        let appended = Appended {
            id: self.next_id(),
            index: 0,
            replayed: false,
        };
        if let (Some(guard), Some(slot)) = (guard, slot) {
            keys.insert(slot, (guard.fingerprint.clone(), appended.clone()));
        }
        Ok(appended)
    }

    async fn define(
        &self,
        model: &ModelName,
        definition: ModelDefinition,
    ) -> Result<EventId, PortError> {
        self.check()?;
        self.lock().entry(model.clone()).or_insert(EMPTY).definition = Some(definition);
        Ok(self.next_id())
    }

    async fn delete(&self, model: &ModelName) -> Result<EventId, PortError> {
        self.check()?;
        self.lock().remove(model);
        Ok(self.next_id())
    }

    async fn define_experiment(
        &self,
        name: &ModelName,
        experiment: &Experiment,
    ) -> Result<EventId, PortError> {
        self.check()?;
        let mut experiments = lock(&self.experiments);
        let record = experiments
            .get(name)
            .map(|e| e.record.clone())
            .unwrap_or_default();
        experiments.insert(
            name.clone(),
            StoredExperiment {
                experiment: experiment.clone(),
                defined_at: Self::now_ms(),
                record,
                stopped: None,
            },
        );
        Ok(self.next_id())
    }

    async fn stop_experiment(
        &self,
        name: &ModelName,
        variant: &ModelName,
    ) -> Result<EventId, PortError> {
        self.check()?;
        if let Some(stored) = lock(&self.experiments).get_mut(name) {
            stored.stopped = Some((variant.to_string(), Self::now_ms()));
        }
        Ok(self.next_id())
    }

    async fn delete_experiment(&self, name: &ModelName) -> Result<EventId, PortError> {
        self.check()?;
        lock(&self.experiments).remove(name);
        Ok(self.next_id())
    }
}

#[async_trait]
impl ModelStore for MemoryModels {
    async fn load(&self, model: &ModelName) -> Result<Option<ModelState>, PortError> {
        self.check()?;
        Ok(self.lock().get(model).copied())
    }

    async fn list(
        &self,
        after: Option<&ModelName>,
        limit: usize,
    ) -> Result<Vec<(ModelName, ModelState)>, PortError> {
        self.check()?;
        let models = self.lock();
        let start = match after {
            Some(after) => std::ops::Bound::Excluded(after.clone()),
            None => std::ops::Bound::Unbounded,
        };
        Ok(models
            .range((start, std::ops::Bound::Unbounded))
            .take(limit)
            .map(|(name, state)| (name.clone(), *state))
            .collect())
    }

    async fn count(&self) -> Result<u64, PortError> {
        self.check()?;
        Ok(self.lock().len() as u64)
    }

    async fn now(&self) -> Result<u64, PortError> {
        Ok(Self::now_ms())
    }

    async fn experiment(&self, name: &ModelName) -> Result<Option<StoredExperiment>, PortError> {
        self.check()?;
        Ok(lock(&self.experiments).get(name).cloned())
    }

    async fn experiments(
        &self,
        after: Option<&ModelName>,
        limit: usize,
    ) -> Result<Vec<(ModelName, StoredExperiment)>, PortError> {
        self.check()?;
        let start = match after {
            Some(after) => std::ops::Bound::Excluded(after.clone()),
            None => std::ops::Bound::Unbounded,
        };
        Ok(lock(&self.experiments)
            .range((start, std::ops::Bound::Unbounded))
            .take(limit)
            .map(|(name, stored)| (name.clone(), stored.clone()))
            .collect())
    }

    async fn decisions(
        &self,
        name: &ModelName,
        limit: usize,
    ) -> Result<Vec<(String, DecisionEvent)>, PortError> {
        self.check()?;
        Ok(lock(&self.decisions)
            .iter()
            .rev()
            .filter(|(_, event)| event.experiment == name.as_str())
            .take(limit)
            .cloned()
            .collect())
    }

    /// Memory keeps no history: a model's counts are one point, now.
    async fn history(
        &self,
        model: &ModelName,
        _range: HistoryRange,
    ) -> Result<Option<StoredHistory>, PortError> {
        self.check()?;
        let Some(state) = self.lock().get(model).copied() else {
            return Ok(None);
        };
        let now = self.now().await?;
        let point = domain::HistoryPoint {
            t: now,
            counts: state.counts,
        };
        let history =
            domain::History::new(vec![point], 0).map_err(|e| PortError::Failed(Cause::new(e)))?;
        Ok(Some(StoredHistory {
            state,
            history,
            more: false,
        }))
    }
}

#[async_trait]
impl Readiness for MemoryModels {
    async fn check(&self) -> Result<StoreHealth, PortError> {
        MemoryModels::check(self)?;
        Ok(StoreHealth::default())
    }
}
