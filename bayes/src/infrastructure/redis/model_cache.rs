//! What a partition's owner knows of its models: their state as of the
//! cursor it last applied up to. With it the apply writes each touched
//! model's state after the batch with one `HSET`, instead of adding in
//! Redis (an `HGET` for the overflow check and an `HINCRBY` per field, each
//! a Lua call: the apply's cost with many models was its calls), and the
//! overflow check runs here.
//!
//! The cursor's compare-and-set keeps it true. Only this partition's apply
//! writes its model hashes, and only through a batch that starts at the
//! cursor. The cache is used for a batch that starts where the cache's own
//! cursor is; any other start (the partition opened again, taken over, a
//! batch fenced because another owner moved the cursor, a rebuild) drops it
//! and the touched models are read again. A failed apply leaves it as it
//! was: the retry plans the same writes, and they land once.

use crate::application::{Batch, Op};
use domain::{Counts, DefaultDefinitions, ModelDefinition, ModelState};
use foldhash::HashMap;
use platform::StoredModel;
use platform::scripts::apply::{HistoryPoint, HistoryStart, ModelWrite};
use touched::Touched;

mod touched;

/// The largest trial count a model may reach: 2^53 − 1, what every client
/// (and Lua) reads exactly as a number.
pub const MAX_TRIALS: u64 = (1 << 53) - 1;

/// A partition's models as of `cursor`, 48 bytes a model plus its name:
/// a million models in about 70 MB.
#[derive(Debug, Default)]
pub struct ModelCache {
    cursor: Option<String>,
    models: HashMap<Box<str>, Known>,
    /// The distinct definitions seen (a handful: most models share a default).
    definitions: Vec<ModelDefinition>,
    /// The history's interval, ms (0: history off).
    interval: u64,
}

/// What is known of one model, compactly.
#[derive(Debug, Clone, Copy)]
struct Known {
    w: u64,
    n: u64,
    /// Index in `definitions`; [`ABSENT`] for a model that does not exist,
    /// [`UNDEFINED`] for one stored without a definition.
    definition: u32,
    /// The end of the interval its counts last changed in (0: never): its
    /// history's open point, closed by the first change in a later one.
    changed: u64,
}

const ABSENT: u32 = u32::MAX;
const UNDEFINED: u32 = u32::MAX - 1;

/// One model's write in a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedWrite {
    /// The model.
    pub model: String,
    /// Its state after the batch.
    pub write: ModelWrite,
    /// When its counts last changed after the batch, if the batch changed them (else 0).
    pub changed: u64,
    /// How its history goes on.
    pub start: HistoryStart,
    /// The history points the batch closes.
    pub points: Vec<HistoryPoint>,
}

/// The writes of one batch, and the models' states once it is applied.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Each touched model's write, in first-touch order.
    pub writes: Vec<PlannedWrite>,
    /// Models the batch creates.
    pub created: Vec<String>,
    /// Models the batch removes.
    pub removed: Vec<String>,
    after: Vec<(String, Option<ModelState>, u64)>,
}

/// A batch that would take a model past [`MAX_TRIALS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("COUNTS_OVERFLOW the trials of {model} would pass 2^53 - 1")]
pub struct Overflow {
    /// The model.
    pub model: String,
}

impl ModelCache {
    /// An empty cache for a history of `interval` ms (0: history off).
    #[must_use]
    pub fn new(interval: u64) -> Self {
        Self {
            interval,
            ..Self::default()
        }
    }

    /// Makes the cache fit a batch starting after `after`: kept if its
    /// cursor is there, dropped otherwise.
    pub fn start_at(&mut self, after: &str) {
        if self.cursor.as_deref() != Some(after) {
            self.models.clear();
            self.cursor = Some(after.to_owned());
        }
    }

    /// Forgets everything: the cursor may have moved without us.
    pub fn drop_all(&mut self) {
        self.models = HashMap::default();
        self.definitions.clear();
        self.cursor = None;
    }

    /// How many models it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether it holds none.
    #[cfg(test)]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The models of `batch` it does not know, each once.
    #[must_use]
    pub fn missing<'a>(&self, batch: &'a Batch) -> Vec<&'a str> {
        let mut missing: Vec<&str> = batch
            .ops
            .iter()
            .map(Op::model)
            .filter(|model| !self.models.contains_key(*model))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// Records a model's stored state (`None`: it does not exist).
    pub fn learn(&mut self, model: &str, stored: Option<StoredModel>) {
        let known = self.known(stored.map(|s| s.state), stored.map_or(0, |s| s.changed));
        self.models.insert(model.into(), known);
    }

    fn known(&mut self, state: Option<ModelState>, changed: u64) -> Known {
        let Some(ModelState { counts, definition }) = state else {
            return Known {
                w: 0,
                n: 0,
                definition: ABSENT,
                changed: 0,
            };
        };
        let definition = definition.map_or(UNDEFINED, |definition| {
            let at = self.definitions.iter().position(|d| *d == definition);
            at.unwrap_or_else(|| {
                self.definitions.push(definition);
                self.definitions.len() - 1
            }) as u32
        });
        Known {
            w: counts.w(),
            n: counts.n(),
            definition,
            changed,
        }
    }

    fn state(&self, model: &str) -> (Option<ModelState>, u64) {
        let Some(known) = self.models.get(model) else {
            return (None, 0);
        };
        if known.definition == ABSENT {
            return (None, 0);
        }
        let state = ModelState {
            // Stored by `known` from valid counts.
            counts: Counts::new(known.w, known.n).unwrap_or(Counts::ZERO),
            definition: self.definitions.get(known.definition as usize).copied(),
        };
        (Some(state), known.changed)
    }

    /// The writes that apply `batch` to what the cache knows, which must
    /// hold every model of the batch (see [`ModelCache::missing`]).
    ///
    /// # Errors
    /// [`Overflow`] if a model's trials would pass [`MAX_TRIALS`].
    pub fn plan(&self, batch: &Batch, defaults: &DefaultDefinitions) -> Result<Plan, Overflow> {
        let mut touched: Vec<Touched<'_>> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::default();
        for op in &batch.ops {
            let model = op.model();
            let slot = *index.entry(model).or_insert_with(|| {
                let (before, changed) = self.state(model);
                touched.push(Touched::new(model, before, changed, self.interval));
                touched.len() - 1
            });
            touched[slot].apply(op, defaults)?;
        }
        let mut plan = Plan::default();
        for t in touched {
            let write = match t.state {
                None => ModelWrite::Deleted,
                Some(ModelState {
                    counts,
                    definition: Some(definition),
                }) if t.redefined => ModelWrite::Whole(counts, definition),
                Some(state) => ModelWrite::Counts(state.counts),
            };
            match (t.before.is_some(), t.state.is_some()) {
                (false, true) => plan.created.push(t.model.to_owned()),
                (true, false) => plan.removed.push(t.model.to_owned()),
                _ => {}
            }
            plan.writes.push(PlannedWrite {
                model: t.model.to_owned(),
                write,
                changed: if t.changed == t.changed_before {
                    0
                } else {
                    t.changed
                },
                start: t.start,
                points: t.points,
            });
            plan.after.push((t.model.to_owned(), t.state, t.changed));
        }
        Ok(plan)
    }

    /// The batch ending at `last` was applied as `plan` says.
    pub fn commit(&mut self, plan: Plan, last: &str) {
        for (model, state, changed) in plan.after {
            let known = self.known(state, changed);
            self.models.insert(model.into_boxed_str(), known);
        }
        self.cursor = Some(last.to_owned());
    }
}

/// A model created without a definition of its own.
fn created(definition: ModelDefinition) -> ModelState {
    ModelState {
        counts: Counts::ZERO,
        definition: Some(definition),
    }
}

fn add(counts: Counts, wins: u64, trials: u64) -> Option<Counts> {
    let n = counts
        .n()
        .checked_add(trials)
        .filter(|n| *n <= MAX_TRIALS)?;
    Counts::new(counts.w() + wins, n).ok()
}

#[cfg(test)]
mod tests;
