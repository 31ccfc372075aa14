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
use platform::scripts::apply::ModelWrite;
use std::collections::HashMap;

/// The largest trial count a model may reach: 2^53 − 1, what every client
/// (and Lua) reads exactly as a number.
pub const MAX_TRIALS: u64 = (1 << 53) - 1;

/// A partition's models as of `cursor`, 40 bytes a model plus its name:
/// a million models in about 60 MB.
#[derive(Debug, Default)]
pub struct ModelCache {
    cursor: Option<String>,
    models: HashMap<Box<str>, Known>,
    /// The distinct definitions seen (a handful: most models share a default).
    definitions: Vec<ModelDefinition>,
}

/// What is known of one model, compactly.
#[derive(Debug, Clone, Copy)]
struct Known {
    w: u64,
    n: u64,
    /// Index in `definitions`; [`ABSENT`] for a model that does not exist,
    /// [`UNDEFINED`] for one stored without a definition.
    definition: u32,
}

const ABSENT: u32 = u32::MAX;
const UNDEFINED: u32 = u32::MAX - 1;

/// The writes of one batch, and the models' states once it is applied.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Each touched model's write, in first-touch order.
    pub writes: Vec<(String, ModelWrite)>,
    /// Models the batch creates.
    pub created: Vec<String>,
    /// Models the batch removes.
    pub removed: Vec<String>,
    after: Vec<(String, Option<ModelState>)>,
}

/// A batch that would take a model past [`MAX_TRIALS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("COUNTS_OVERFLOW the trials of {model} would pass 2^53 - 1")]
pub struct Overflow {
    /// The model.
    pub model: String,
}

impl ModelCache {
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
        self.models = HashMap::new();
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
    pub fn learn(&mut self, model: &str, state: Option<ModelState>) {
        let known = self.known(state);
        self.models.insert(model.into(), known);
    }

    fn known(&mut self, state: Option<ModelState>) -> Known {
        let Some(ModelState { counts, definition }) = state else {
            return Known {
                w: 0,
                n: 0,
                definition: ABSENT,
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
        }
    }

    fn state(&self, model: &str) -> Option<ModelState> {
        let known = self.models.get(model)?;
        if known.definition == ABSENT {
            return None;
        }
        Some(ModelState {
            // Stored by `known` from valid counts.
            counts: Counts::new(known.w, known.n).unwrap_or(Counts::ZERO),
            definition: self.definitions.get(known.definition as usize).copied(),
        })
    }

    /// The writes that apply `batch` to what the cache knows, which must
    /// hold every model of the batch (see [`ModelCache::missing`]).
    ///
    /// # Errors
    /// [`Overflow`] if a model's trials would pass [`MAX_TRIALS`].
    pub fn plan(&self, batch: &Batch, defaults: &DefaultDefinitions) -> Result<Plan, Overflow> {
        // Per model: its state before, its state so far, whether its definition changed.
        let mut touched: Vec<(&str, Option<ModelState>, Option<ModelState>, bool)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for op in &batch.ops {
            let model = op.model();
            let slot = *index.entry(model).or_insert_with(|| {
                let before = self.state(model);
                touched.push((model, before, before, false));
                touched.len() - 1
            });
            let (_, _, state, redefined) = &mut touched[slot];
            match op {
                Op::Add { wins, trials, .. } => {
                    let now = state.unwrap_or_else(|| {
                        *redefined = true;
                        created(defaults.of_name(model))
                    });
                    let counts = add(now.counts, *wins, *trials).ok_or_else(|| Overflow {
                        model: model.to_owned(),
                    })?;
                    *state = Some(ModelState { counts, ..now });
                }
                Op::Define { definition, .. } => {
                    let counts = state.map_or(Counts::ZERO, |s| s.counts);
                    *state = Some(ModelState {
                        counts,
                        definition: Some(*definition),
                    });
                    *redefined = true;
                }
                Op::Delete { .. } => {
                    *state = None;
                    // Whatever comes after starts afresh, definition included.
                    *redefined = true;
                }
            }
        }
        let mut plan = Plan::default();
        for (model, before, after, redefined) in touched {
            let write = match after {
                None => ModelWrite::Deleted,
                Some(ModelState {
                    counts,
                    definition: Some(definition),
                }) if redefined => ModelWrite::Whole(counts, definition),
                Some(state) => ModelWrite::Counts(state.counts),
            };
            match (before.is_some(), after.is_some()) {
                (false, true) => plan.created.push(model.to_owned()),
                (true, false) => plan.removed.push(model.to_owned()),
                _ => {}
            }
            plan.writes.push((model.to_owned(), write));
            plan.after.push((model.to_owned(), after));
        }
        Ok(plan)
    }

    /// The batch ending at `last` was applied as `plan` says.
    pub fn commit(&mut self, plan: Plan, last: &str) {
        for (model, state) in plan.after {
            let known = self.known(state);
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
mod tests {
    use super::*;
    use domain::{Grid, Prior};

    fn defaults() -> DefaultDefinitions {
        DefaultDefinitions::default()
    }

    fn add(model: &str, wins: u64, trials: u64) -> Op {
        Op::Add {
            model: model.into(),
            wins,
            trials,
        }
    }

    fn batch(after: &str, last: &str, ops: Vec<Op>) -> Batch {
        Batch {
            after: after.into(),
            last: last.into(),
            entries: ops.len() as u64,
            ops,
            ..Batch::default()
        }
    }

    fn counts(w: u64, n: u64) -> Counts {
        Counts::new(w, n).unwrap()
    }

    #[test]
    fn a_new_model_is_written_whole_with_its_default_and_then_by_counts() {
        let mut cache = ModelCache::default();
        let first = batch("0-0", "1-0", vec![add("a", 1, 3), add("default", 0, 1)]);
        cache.start_at(&first.after);
        assert_eq!(cache.missing(&first), ["a", "default"]);
        cache.learn("a", None);
        cache.learn("default", None);
        let plan = cache.plan(&first, &defaults()).unwrap();
        let named = defaults().named;
        assert_eq!(
            plan.writes[0],
            ("a".into(), ModelWrite::Whole(counts(1, 3), named))
        );
        let original = defaults().default_model;
        assert_eq!(plan.writes[1].1, ModelWrite::Whole(counts(0, 1), original));
        assert_eq!(plan.created, ["a", "default"]);
        cache.commit(plan, &first.last);

        let second = batch("1-0", "2-0", vec![add("a", 2, 2)]);
        cache.start_at(&second.after);
        assert!(
            cache.missing(&second).is_empty(),
            "known since the last batch"
        );
        let plan = cache.plan(&second, &defaults()).unwrap();
        assert_eq!(
            plan.writes,
            [("a".into(), ModelWrite::Counts(counts(3, 5)))]
        );
        assert!(plan.created.is_empty() && plan.removed.is_empty());
    }

    #[test]
    fn a_batch_from_elsewhere_drops_what_was_known() {
        let mut cache = ModelCache::default();
        cache.start_at("1-0");
        cache.learn("a", None);
        cache.start_at("1-0");
        assert_eq!(cache.len(), 1);
        cache.start_at("5-0");
        assert!(cache.is_empty(), "another owner applied 1-0..5-0");
        cache.learn("a", None);
        cache.drop_all();
        assert!(cache.is_empty());
    }

    #[test]
    fn definitions_and_deletions_keep_their_order_within_a_batch() {
        let mut cache = ModelCache::default();
        let beta = ModelDefinition {
            prior: Prior::parse("beta:2,5").unwrap(),
            grid: Grid::new(101).unwrap(),
        };
        let stored = ModelState {
            counts: counts(4, 10),
            definition: Some(beta),
        };
        let ops = vec![
            add("kept", 1, 1),
            Op::Delete {
                model: "gone".into(),
            },
            Op::Delete {
                model: "again".into(),
            },
            add("again", 1, 2),
            Op::Define {
                model: "fresh".into(),
                definition: beta,
            },
        ];
        let batch = batch("0-0", "1-0", ops);
        cache.start_at("0-0");
        for model in ["kept", "gone", "again"] {
            cache.learn(model, Some(stored));
        }
        cache.learn("fresh", None);
        let plan = cache.plan(&batch, &defaults()).unwrap();
        assert_eq!(
            plan.writes,
            [
                ("kept".into(), ModelWrite::Counts(counts(5, 11))),
                ("gone".into(), ModelWrite::Deleted),
                (
                    "again".into(),
                    ModelWrite::Whole(counts(1, 2), defaults().named)
                ),
                ("fresh".into(), ModelWrite::Whole(Counts::ZERO, beta)),
            ]
        );
        assert_eq!(plan.created, ["fresh"]);
        assert_eq!(plan.removed, ["gone"]);
    }

    #[test]
    fn trials_past_2_pow_53_are_refused_before_anything_is_written() {
        let mut cache = ModelCache::default();
        cache.start_at("0-0");
        cache.learn(
            "big",
            Some(ModelState {
                counts: counts(0, MAX_TRIALS - 1),
                definition: Some(defaults().named),
            }),
        );
        let fits = batch("0-0", "1-0", vec![add("big", 0, 1)]);
        assert!(cache.plan(&fits, &defaults()).is_ok());
        let over = batch("0-0", "1-0", vec![add("big", 0, 2)]);
        let error = cache.plan(&over, &defaults()).unwrap_err();
        assert_eq!(error.model, "big");
        assert_eq!(MAX_TRIALS, 9_007_199_254_740_991);
    }
}
