//! A batch of a partition's log, reduced to what the apply step needs: per
//! model the wins and trials to add, definitions and deletions in log
//! order, the entries to set aside with their reason, and where the batch
//! starts and ends (the cursor's compare-and-set).

use domain::{ModelDefinition, ModelEvent};
pub use platform::log_entry::{ExperimentChange, ExperimentEvent};
// A fast hash for model names: one lookup per entry (SipHash was 2.5% of a drain).
use foldhash::HashMap;

/// One step of the apply, in log order for each model.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Add `wins` of `trials` to `model` (created with the defaults if new).
    Add {
        /// The model.
        model: String,
        /// Successes to add.
        wins: u64,
        /// Trials to add.
        trials: u64,
        /// The end of the interval of log time its entries fall in (the
        /// history point they first count in); 0 with history off.
        at: u64,
    },
    /// (Re)define `model`; its counts stay.
    Define {
        /// The model.
        model: String,
        /// Its definition.
        definition: ModelDefinition,
    },
    /// Delete `model`, counts and definition.
    Delete {
        /// The model.
        model: String,
    },
}

impl Op {
    /// The model the op is for.
    #[must_use]
    pub fn model(&self) -> &str {
        match self {
            Self::Add { model, .. } | Self::Define { model, .. } | Self::Delete { model } => model,
        }
    }
}

/// An entry that is not an event, to be copied to the dead-letter stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its stream id.
    pub id: String,
    /// Why it was rejected.
    pub reason: String,
    /// Its fields, printed for a person to inspect (shortened if huge).
    pub raw: String,
}

/// An experiment's definition, stop or deletion, at the log time of its entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentOp {
    /// The experiment and what happened to it.
    pub event: ExperimentEvent,
    /// Its entry's log time, Unix ms.
    pub at: u64,
}

/// A batch read after the cursor `after`, ending at `last`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// The cursor the batch starts after (the apply's compare-and-set).
    pub after: String,
    /// The id of its last entry (the cursor after the apply).
    pub last: String,
    /// Entries in it.
    pub entries: u64,
    /// What to apply.
    pub ops: Vec<Op>,
    /// What to set aside.
    pub dead: Vec<DeadLetter>,
    /// Append time of its first entry, Unix ms (for the lag metric).
    pub first_millis: Option<u64>,
    /// The experiments' definitions, stops and deletions, in log order.
    pub experiments: Vec<ExperimentOp>,
    /// With decision ticks: the end of the tick (of log time) all its
    /// entries fall in; 0 without.
    pub tick: u64,
    /// Whether the read went on into a later tick (so this one is over):
    /// the entries after the cut are read again with the next batch.
    pub cut: bool,
}

impl Batch {
    /// Whether the batch holds no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Observations the batch adds.
    #[must_use]
    pub fn observations(&self) -> u64 {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Add { trials, .. } => *trials,
                _ => 0,
            })
            .sum()
    }
}

/// Builds a [`Batch`] entry by entry: observations for a model merge into
/// one add until a definition or deletion of that model orders them.
#[derive(Debug, Default)]
pub struct BatchBuilder {
    batch: Batch,
    /// The history's interval, ms (`None`: history off): adds of one model
    /// merge only within one interval, so each point can be told.
    interval: Option<u64>,
    /// The interval end of the entry being pushed.
    at: u64,
    /// The decisions' tick, ms (`None`: no ticks): a batch holds the
    /// entries of one tick, so each tick's decisions are evaluated on the
    /// counts at its end, whatever the reads' sizes.
    tick: Option<u64>,
    /// For each model, the index in `ops` of the add still open for it.
    open_adds: HashMap<String, usize>,
}

impl BatchBuilder {
    /// A builder for the entries after the cursor `after`.
    #[must_use]
    pub fn new(after: &str) -> Self {
        Self {
            batch: Batch {
                after: after.to_owned(),
                ..Batch::default()
            },
            interval: None,
            at: 0,
            tick: None,
            open_adds: HashMap::default(),
        }
    }

    /// Tells each add the interval of log time (`interval` ms long) its
    /// entries fall in; `None`: history off.
    #[must_use]
    pub fn with_interval(mut self, interval: Option<u64>) -> Self {
        self.interval = interval.filter(|ms| *ms > 0);
        self
    }

    /// Cuts batches at the end of each tick of log time, `tick` ms long;
    /// `None`: no cuts.
    #[must_use]
    pub fn with_tick(mut self, tick: Option<u64>) -> Self {
        self.tick = tick.filter(|ms| *ms > 0);
        self
    }

    /// Whether the batch is cut: entries pushed now are left for the next.
    #[must_use]
    pub fn is_cut(&self) -> bool {
        self.batch.cut
    }

    /// Whether the entry `id` still fits the batch: without ticks, always;
    /// with them, if it falls in the batch's tick (else the batch is cut).
    fn admits(&mut self, id: &str) -> bool {
        if self.batch.cut {
            return false;
        }
        let Some(tick) = self.tick else {
            return true;
        };
        // An id without time counts in the tick of the entry before.
        let end = id_millis(id).map_or(self.batch.tick.max(tick), |ms| (ms / tick + 1) * tick);
        if self.batch.entries == 0 {
            self.batch.tick = end;
            true
        } else if end == self.batch.tick {
            true
        } else {
            self.batch.cut = true;
            false
        }
    }

    /// Adds an experiment entry `id`.
    pub fn push_experiment(&mut self, id: &str, event: ExperimentEvent) {
        if !self.admits(id) {
            return;
        }
        self.count(id);
        self.batch.experiments.push(ExperimentOp {
            event,
            at: id_millis(id).unwrap_or(self.at),
        });
    }

    fn count(&mut self, id: &str) {
        if self.batch.entries == 0 {
            self.batch.first_millis = id_millis(id);
        }
        self.batch.entries += 1;
        id.clone_into(&mut self.batch.last);
        if let Some(interval) = self.interval {
            // An id without time counts in the interval of the entry before.
            let millis = id_millis(id).unwrap_or(self.at.saturating_sub(1));
            self.at = (millis / interval + 1) * interval;
        }
    }

    /// Adds the entry `id`: its events (one, or a group commit's
    /// observations of several models), or why it is not one (with `raw`,
    /// called only then, printing the entry).
    pub fn push<'a, E: IntoIterator<Item = ModelEvent<'a>>>(
        &mut self,
        id: &str,
        events: Result<E, String>,
        raw: impl FnOnce() -> String,
    ) {
        if !self.admits(id) {
            return;
        }
        self.count(id);
        match events {
            Ok(events) => events.into_iter().for_each(|event| self.apply(event)),
            Err(reason) => self.batch.dead.push(DeadLetter {
                id: id.to_owned(),
                reason,
                raw: shorten(raw()),
            }),
        }
    }

    fn apply(&mut self, event: ModelEvent<'_>) {
        match event {
            ModelEvent::Observed {
                model,
                wins,
                trials,
            } => self.add(model, wins, trials),
            ModelEvent::Defined { model, definition } => {
                self.open_adds.remove(model);
                self.batch.ops.push(Op::Define {
                    model: model.to_owned(),
                    definition,
                });
            }
            ModelEvent::Deleted { model } => {
                self.open_adds.remove(model);
                self.batch.ops.push(Op::Delete {
                    model: model.to_owned(),
                });
            }
        }
    }

    fn add(&mut self, model: &str, more_wins: u64, more_trials: u64) {
        if let Some(&index) = self.open_adds.get(model)
            && let Some(Op::Add {
                wins, trials, at, ..
            }) = self.batch.ops.get_mut(index)
            && *at == self.at
        {
            *wins += more_wins;
            *trials += more_trials;
            return;
        }
        self.open_adds
            .insert(model.to_owned(), self.batch.ops.len());
        self.batch.ops.push(Op::Add {
            model: model.to_owned(),
            wins: more_wins,
            trials: more_trials,
            at: self.at,
        });
    }

    /// Entries pushed so far.
    #[must_use]
    pub fn entries(&self) -> u64 {
        self.batch.entries
    }

    /// The batch.
    #[must_use]
    pub fn finish(self) -> Batch {
        self.batch
    }
}

/// Longest rendering of a rejected entry or message kept as a dead letter.
const MAX_RAW_CHARS: usize = 256;

/// A payload as text a person can read in the dead-letter stream: lossy for
/// non-UTF-8, cut to a readable length.
#[must_use]
pub fn printable(payload: &[u8]) -> String {
    shorten(String::from_utf8_lossy(payload).into_owned())
}

fn shorten(text: String) -> String {
    if text.chars().count() > MAX_RAW_CHARS {
        let cut: String = text.chars().take(MAX_RAW_CHARS).collect();
        format!("{cut}… ({} bytes)", text.len())
    } else {
        text
    }
}

pub use platform::log_time::id_millis;

#[cfg(test)]
mod tests;
