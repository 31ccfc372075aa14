//! In-memory fakes of the ports, one per port, shared by the unit tests.
//! They keep the ports' contracts (the cursor compare-and-set, the lease),
//! not Redis's: what Redis does is tested against a real Redis.

use super::*;
use async_trait::async_trait;
use domain::{Counts, History, HistoryPoint, ModelEvent, ModelState, Observation};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// A log of single-trial entries for `default` (`w`, `l`, or anything
/// else, which is rejected), read three at a time; cancels `drained` once
/// a read finds nothing left.
pub struct MemoryLog {
    pub entries: Vec<(String, String)>,
    pub drained: CancellationToken,
}

impl MemoryLog {
    pub fn of(trials: &[&str], drained: CancellationToken) -> Arc<Self> {
        let entries = trials
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("1-{}", i + 1), (*t).to_owned()))
            .collect();
        Arc::new(Self { entries, drained })
    }
}

struct Reader(Arc<MemoryLog>);

#[async_trait]
impl PartitionLog for Reader {
    async fn read(&mut self, after: &str) -> Result<Read, PortError> {
        let start = self
            .0
            .entries
            .iter()
            .position(|(id, _)| id.as_str() == after)
            .map_or(0, |i| i + 1);
        let mut builder = BatchBuilder::new(after);
        for (id, trial) in self.0.entries.iter().skip(start).take(3) {
            let event = match trial.as_str() {
                "w" | "l" => Ok([ModelEvent::Observed {
                    model: "default",
                    wins: u64::from(trial == "w"),
                    trials: 1,
                }]),
                other => Err(format!("invalid trial {other:?}")),
            };
            builder.push(id, event, || trial.clone());
        }
        if builder.entries() == 0 {
            self.0.drained.cancel();
            tokio::task::yield_now().await;
        }
        Ok(Read {
            batch: builder.finish(),
            lost: 0,
        })
    }
}

impl LogReaders for Arc<MemoryLog> {
    fn reader(&self, _: u32) -> Result<Box<dyn PartitionLog>, PortError> {
        Ok(Box::new(Reader(self.clone())))
    }
}

/// Cursors and models as the apply script keeps them: compare-and-set on
/// the cursor, all or nothing. `failures` applies fail first; `cursor_moved`
/// makes the stored cursor jump, as another owner's apply would.
#[derive(Default)]
pub struct MemoryStore {
    pub state: Mutex<StoreState>,
}

#[derive(Default)]
pub struct StoreState {
    pub cursor: String,
    pub models: BTreeMap<String, ModelState>,
    pub dead: Vec<String>,
    pub failures: usize,
    pub applies: usize,
    /// Where the cursor jumps right after the next open (another owner).
    pub moved_after_open: Option<String>,
    /// Each model's history, from its adds' `at` (one point per interval).
    pub histories: BTreeMap<String, Vec<HistoryPoint>>,
}

#[async_trait]
impl PartitionStore for MemoryStore {
    async fn open(&self, _: u32) -> Result<String, PortError> {
        let mut state = self.state.lock().unwrap();
        if state.cursor.is_empty() {
            state.cursor = "0-0".to_owned();
        }
        let opened = state.cursor.clone();
        if let Some(moved) = state.moved_after_open.take() {
            state.cursor = moved;
        }
        Ok(opened)
    }

    async fn apply(&self, _: u32, batch: &Batch) -> Result<ApplyOutcome, PortError> {
        let mut state = self.state.lock().unwrap();
        if state.failures > 0 {
            state.failures -= 1;
            return Err(PortError::Unavailable("down".into()));
        }
        if state.cursor != batch.after {
            return Ok(ApplyOutcome::Fenced {
                cursor: state.cursor.clone(),
            });
        }
        for op in &batch.ops {
            let model = state
                .models
                .entry(op.model().to_owned())
                .or_insert(ModelState {
                    counts: Counts::ZERO,
                    definition: None,
                });
            match op {
                Op::Add {
                    model: name,
                    wins,
                    trials,
                    at,
                } => {
                    model.counts = model
                        .counts
                        .merge(Counts::new(*wins, *trials).unwrap())
                        .unwrap();
                    let point = HistoryPoint {
                        t: *at,
                        counts: model.counts,
                    };
                    let history = state.histories.entry(name.clone()).or_default();
                    match history.last_mut() {
                        _ if *at == 0 => {}
                        Some(last) if last.t == *at => *last = point,
                        _ => history.push(point),
                    }
                }
                Op::Define { definition, .. } => model.definition = Some(*definition),
                Op::Delete { model } => {
                    state.models.remove(model);
                    state.histories.remove(model);
                }
            }
        }
        state.dead.extend(batch.dead.iter().map(|d| d.id.clone()));
        state.cursor.clone_from(&batch.last);
        state.applies += 1;
        Ok(ApplyOutcome::Applied)
    }

    async fn load(&self, model: &str) -> Result<Option<ModelState>, PortError> {
        Ok(self.state.lock().unwrap().models.get(model).copied())
    }

    async fn load_with_history(
        &self,
        model: &str,
        points: usize,
    ) -> Result<Option<(ModelState, History)>, PortError> {
        let state = self.state.lock().unwrap();
        let Some(model_state) = state.models.get(model).copied() else {
            return Ok(None);
        };
        let all = state.histories.get(model).map_or(&[][..], Vec::as_slice);
        let newest = all[all.len().saturating_sub(points)..].to_vec();
        Ok(Some((model_state, History::new(newest, 0).unwrap())))
    }
}

impl MemoryStore {
    pub fn counts(&self, model: &str) -> Counts {
        self.state
            .lock()
            .unwrap()
            .models
            .get(model)
            .map_or(Counts::ZERO, |m| m.counts)
    }
}

/// Leases held in memory by whoever asks first; `alive` is what heartbeat answers.
#[derive(Default)]
pub struct MemoryLeases {
    pub instance: String,
    pub alive: Mutex<Vec<String>>,
    pub holders: Arc<Mutex<BTreeMap<u32, String>>>,
}

#[async_trait]
impl Leases for MemoryLeases {
    async fn heartbeat(&self) -> Result<Vec<String>, PortError> {
        Ok(self.alive.lock().unwrap().clone())
    }

    async fn acquire(&self, partition: u32) -> Result<bool, PortError> {
        let mut holders = self.holders.lock().unwrap();
        let holder = holders
            .entry(partition)
            .or_insert_with(|| self.instance.clone());
        Ok(*holder == self.instance)
    }

    async fn release(&self, partition: u32) -> Result<(), PortError> {
        let mut holders = self.holders.lock().unwrap();
        if holders.get(&partition) == Some(&self.instance) {
            holders.remove(&partition);
        }
        Ok(())
    }

    async fn leave(&self) -> Result<(), PortError> {
        Ok(())
    }
}

/// Remembers every change it is told about.
#[derive(Default)]
pub struct Changes(pub Mutex<Vec<ModelChange>>);

impl ModelObserver for Changes {
    fn observe(&self, change: ModelChange) {
        self.0.lock().unwrap().push(change);
    }
}

/// A log that grants the forwarding lease while `leader` is set, and records writes.
#[derive(Default)]
pub struct MemoryIngressLog {
    pub leader: Mutex<bool>,
    pub appended: Mutex<Vec<(String, Observation)>>,
    pub dead: Mutex<Vec<String>>,
}

#[async_trait]
impl ForwardLog for MemoryIngressLog {
    async fn acquire(&self) -> Result<bool, PortError> {
        Ok(*self.leader.lock().unwrap())
    }

    async fn forward(
        &self,
        observations: &[(String, Vec<Observation>)],
    ) -> Result<Forwarded, PortError> {
        if !*self.leader.lock().unwrap() {
            return Ok(Forwarded::NotLeader);
        }
        let mut appended = self.appended.lock().unwrap();
        for (model, list) in observations {
            appended.extend(list.iter().map(|o| (model.clone(), *o)));
        }
        Ok(Forwarded::Appended)
    }

    async fn dead_letter(&self, reason: &str, _raw: &str) -> Result<Forwarded, PortError> {
        self.dead.lock().unwrap().push(reason.to_owned());
        Ok(Forwarded::DeadLettered)
    }

    async fn release(&self) -> Result<(), PortError> {
        *self.leader.lock().unwrap() = false;
        Ok(())
    }
}

/// Messages already published; cancels `drained` when they run out.
pub struct ScriptedChannel {
    pub queue: VecDeque<ChannelMessage>,
    pub subscriptions: Arc<Mutex<usize>>,
    pub drained: CancellationToken,
}

#[async_trait]
impl ChannelMessages for ScriptedChannel {
    async fn subscribe(&mut self) -> Result<(), PortError> {
        *self.subscriptions.lock().unwrap() += 1;
        Ok(())
    }

    async fn next(&mut self) -> Option<ChannelMessage> {
        match self.queue.pop_front() {
            Some(message) => Some(message),
            None => {
                self.drained.cancel();
                std::future::pending().await
            }
        }
    }

    fn ready(&mut self) -> Option<ChannelMessage> {
        self.queue.pop_front()
    }

    async fn unsubscribe(&mut self) {}
}
