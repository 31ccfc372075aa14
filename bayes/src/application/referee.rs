//! The referee of a partition's experiments: it evaluates each experiment
//! homed in the partition when the tick of log time in which one of its
//! variants changed is over, and announces each change of decision once.
//!
//! Ticks make the decisions the log's: the worker's batches hold one tick
//! each (see [`super::BatchBuilder::with_tick`]), so when a batch of a later
//! tick arrives, or the log's clock passes the tick's end while the log is
//! idle, the counts stored are the counts at the tick's end, whatever the
//! reads' sizes were. A replay, a restart or a takeover therefore evaluates
//! the same ticks on the same counts and reaches the same decisions.
//!
//! Exactly once: an announcement is compared and set against the record's
//! `seq` in the experiment's hash, in one script with its `XADD`, and
//! fenced by the partition's cursor. A crash after an apply and before its
//! announcement loses nothing: the next owner marks every experiment as
//! changed in the cursor's tick and evaluates them when it is over; the
//! ones already announced find their record equal to the decision.

use super::{Batch, PortError, ports::ExperimentStore};
use domain::Experiment;
use foldhash::HashMap;
use platform::log_entry::ExperimentChange;
use platform::scripts::announce::AnnounceReply;
use platform::stored_experiment::{Record, Status};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Most experiments evaluated in one step (one read of their evidence, one
/// blocking task); the rest wait for the next step of the same tick.
const STEP: usize = 256;

/// One experiment as the referee follows it.
#[derive(Debug, Clone)]
struct Tracked {
    experiment: Experiment,
    record: Record,
    stopped: bool,
}

/// Why the referee stopped early: the partition is no longer ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded;

/// The referee of one partition.
pub struct Referee {
    store: Arc<dyn ExperimentStore>,
    partition: u32,
    /// The tick's length, ms.
    tick: u64,
    experiments: HashMap<String, Tracked>,
    /// For each model, the experiments it is a variant of.
    by_variant: HashMap<String, Vec<String>>,
    /// Experiments whose variants changed in the pending tick.
    dirty: BTreeSet<String>,
    /// The end of the tick with changes not yet evaluated.
    pending: Option<u64>,
}

impl Referee {
    /// The referee of `partition`, with ticks of `tick` ms.
    pub fn new(store: Arc<dyn ExperimentStore>, partition: u32, tick: u64) -> Self {
        Self {
            store,
            partition,
            tick: tick.max(1),
            experiments: HashMap::default(),
            by_variant: HashMap::default(),
            dirty: BTreeSet::new(),
            pending: None,
        }
    }

    /// Loads the partition's experiments, opened at `cursor`: each is
    /// evaluated once the cursor's tick is over (an announcement may have
    /// been lost with the previous owner).
    ///
    /// # Errors
    /// The store failing.
    pub async fn open(&mut self, cursor: &str) -> Result<(), PortError> {
        self.experiments = self
            .store
            .experiments(self.partition)
            .await?
            .into_iter()
            .map(|(name, stored)| {
                let stopped = stored.status() == Status::Stopped;
                let tracked = Tracked {
                    experiment: stored.experiment,
                    record: stored.record,
                    stopped,
                };
                (name, tracked)
            })
            .collect();
        self.index();
        self.dirty = self.experiments.keys().cloned().collect();
        self.pending = super::batch::id_millis(cursor)
            .filter(|ms| *ms > 0)
            .map(|ms| self.tick_end(ms));
        if self.pending.is_none() {
            self.dirty.clear();
        }
        Ok(())
    }

    fn tick_end(&self, millis: u64) -> u64 {
        (millis / self.tick + 1) * self.tick
    }

    fn index(&mut self) {
        self.by_variant.clear();
        for (name, tracked) in &self.experiments {
            for variant in tracked.experiment.variants() {
                self.by_variant
                    .entry(variant.to_string())
                    .or_default()
                    .push(name.clone());
            }
        }
    }

    /// Whether an evaluation is pending.
    #[must_use]
    pub fn pending(&self) -> Option<u64> {
        self.pending.filter(|_| !self.dirty.is_empty())
    }

    /// Whether `t` has variants in other partitions, whose changes this
    /// partition's batches do not show.
    fn elsewhere(&self, t: &Tracked) -> bool {
        !t.stopped
            && t.experiment
                .variants()
                .iter()
                .any(|v| self.store.partition_of(v.as_str()) != self.partition)
    }

    /// Whether the partition homes experiments with variants elsewhere.
    #[must_use]
    pub fn watches_elsewhere(&self) -> bool {
        self.experiments.values().any(|t| self.elsewhere(t))
    }

    /// Marks, at `now`'s tick, the experiments with variants in other
    /// partitions: they are evaluated on those partitions' latest counts
    /// when the tick is over (called while this partition's log is idle).
    pub fn poll_elsewhere(&mut self, now: u64) {
        let names: Vec<String> = self
            .experiments
            .iter()
            .filter(|(_, t)| self.elsewhere(t))
            .map(|(name, _)| name.clone())
            .collect();
        if !names.is_empty() {
            self.dirty.extend(names);
            let end = self.tick_end(now);
            self.pending = Some(self.pending.map_or(end, |p| p.max(end)));
        }
    }

    /// Takes note of `batch`, which is being applied: its experiment
    /// changes, and the experiments whose variants it touches.
    pub fn note(&mut self, batch: &Batch) {
        let mut redefined = false;
        for op in &batch.experiments {
            let name = op.event.name.to_string();
            match &op.event.change {
                ExperimentChange::Defined(experiment) => {
                    let record = self
                        .experiments
                        .remove(&name)
                        .map(|t| t.record)
                        .unwrap_or_default();
                    self.experiments.insert(
                        name.clone(),
                        Tracked {
                            experiment: experiment.clone(),
                            record,
                            stopped: false,
                        },
                    );
                    self.dirty.insert(name);
                    redefined = true;
                }
                ExperimentChange::Stopped(_) => {
                    // The apply records the stop as an announcement.
                    if let Some(t) = self.experiments.get_mut(&name).filter(|t| !t.stopped) {
                        t.stopped = true;
                        t.record.seq += 1;
                    }
                }
                ExperimentChange::Deleted => {
                    self.experiments.remove(&name);
                    self.dirty.remove(&name);
                    redefined = true;
                }
            }
        }
        if redefined {
            self.index();
        }
        for op in &batch.ops {
            if let Some(names) = self.by_variant.get(op.model()) {
                self.dirty.extend(names.iter().cloned());
            }
        }
        if !self.dirty.is_empty() && batch.tick > 0 {
            self.pending = Some(self.pending.map_or(batch.tick, |p| p.max(batch.tick)));
        }
    }

    /// Evaluates the pending tick's experiments on the counts stored at
    /// `cursor` (the tick must be over), announcing each change.
    ///
    /// # Errors
    /// [`Superseded`] when the cursor moved on (another owner); a store
    /// failure leaves the tick pending, to be evaluated again.
    pub async fn settle(&mut self, cursor: &str) -> Result<Result<(), Superseded>, PortError> {
        let Some(at) = self.pending() else {
            return Ok(Ok(()));
        };
        while !self.dirty.is_empty() {
            let names: Vec<String> = self.dirty.iter().take(STEP).cloned().collect();
            let tracked: Vec<(String, Tracked)> = names
                .iter()
                .filter_map(|n| self.experiments.get(n).map(|t| (n.clone(), t.clone())))
                .filter(|(_, t)| !t.stopped)
                .collect();
            let experiments: Vec<&Experiment> =
                tracked.iter().map(|(_, t)| &t.experiment).collect();
            let evidence = self.store.evidence(&experiments, at).await?;
            let events = evaluate_in_parallel(&tracked, evidence, at).await?;
            for (name, seq, event) in events {
                metrics::counter!("bayes_decision_changes_total").increment(1);
                match self
                    .store
                    .announce(self.partition, cursor, seq, &event)
                    .await?
                {
                    AnnounceReply::Announced(seq) => {
                        metrics::counter!("bayes_decisions_announced_total").increment(1);
                        tracing::info!(experiment = %name, from = ?event.from, to = ?event.to, at, seq, "decision announced");
                        if let Some(t) = self.experiments.get_mut(&name) {
                            t.record = Record {
                                decision: event.to.clone(),
                                seq,
                                decided_at: at,
                                p_best: event.p_best,
                                expected_loss: event.expected_loss,
                            };
                        }
                    }
                    AnnounceReply::Fenced(_) => return Ok(Err(Superseded)),
                    AnnounceReply::Stale(_) | AnnounceReply::Gone | AnnounceReply::Stopped => {
                        // Another evaluation got there first: read what it left.
                        tracing::info!(experiment = %name, "record moved on; reloading");
                        self.reload(&name).await?;
                    }
                }
            }
            metrics::counter!("bayes_decisions_evaluated_total").increment(tracked.len() as u64);
            for name in &names {
                self.dirty.remove(name);
            }
        }
        self.pending = None;
        Ok(Ok(()))
    }

    async fn reload(&mut self, name: &str) -> Result<(), PortError> {
        let stored = self.store.experiments(self.partition).await?;
        match stored.into_iter().find(|(n, _)| n == name) {
            Some((_, stored)) => {
                let stopped = stored.status() == Status::Stopped;
                self.experiments.insert(
                    name.to_owned(),
                    Tracked {
                        experiment: stored.experiment,
                        record: stored.record,
                        stopped,
                    },
                );
            }
            None => {
                self.experiments.remove(name);
            }
        }
        self.index();
        Ok(())
    }
}

mod evaluation;
use evaluation::evaluate_in_parallel;

#[cfg(test)]
mod tests;
