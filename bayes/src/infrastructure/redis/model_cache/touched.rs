//! One model as a batch's ops change it: its state, whether its definition
//! changed, and the history points the batch closes for it.

use super::{Overflow, add, created};
use crate::application::Op;
use domain::{Counts, DefaultDefinitions, ModelState};
use platform::scripts::apply::{HistoryPoint, HistoryStart};

/// A model as a batch's ops change it.
pub(super) struct Touched<'a> {
    pub model: &'a str,
    pub before: Option<ModelState>,
    pub changed_before: u64,
    pub state: Option<ModelState>,
    /// Its definition changed (written whole).
    pub redefined: bool,
    /// The end of the interval its counts last changed in.
    pub changed: u64,
    pub start: HistoryStart,
    pub points: Vec<HistoryPoint>,
    interval: u64,
}

impl<'a> Touched<'a> {
    pub fn new(model: &'a str, before: Option<ModelState>, changed: u64, interval: u64) -> Self {
        Self {
            interval,
            model,
            before,
            changed_before: changed,
            state: before,
            redefined: false,
            changed,
            start: HistoryStart::Continue,
            points: Vec::new(),
        }
    }

    pub fn apply(&mut self, op: &Op, defaults: &DefaultDefinitions) -> Result<(), Overflow> {
        match op {
            Op::Add {
                wins, trials, at, ..
            } => {
                let now = self.state.unwrap_or_else(|| {
                    self.redefined = true;
                    created(defaults.of_name(self.model))
                });
                if *at > 0 {
                    self.close_interval(now.counts, *at);
                }
                let counts = add(now.counts, *wins, *trials).ok_or_else(|| Overflow {
                    model: self.model.to_owned(),
                })?;
                self.state = Some(ModelState { counts, ..now });
            }
            Op::Define { definition, .. } => {
                let counts = self.state.map_or(Counts::ZERO, |s| s.counts);
                self.state = Some(ModelState {
                    counts,
                    definition: Some(*definition),
                });
                self.redefined = true;
            }
            Op::Delete { .. } => {
                self.state = None;
                // Whatever comes after starts afresh, definition and history included.
                self.redefined = true;
                self.changed = 0;
                self.points.clear();
                self.start = HistoryStart::Fresh;
            }
        }
        Ok(())
    }

    /// Counts change in the interval ending at `at`, from `counts`: the
    /// interval of the last change, if earlier, is closed at `counts`.
    fn close_interval(&mut self, counts: Counts, at: u64) {
        if self.changed == 0 && counts.n() > 0 && self.start == HistoryStart::Continue {
            // Counted before it had history: a base at this interval's
            // start holds those counts, and the history is known from it.
            let interval_start = at.saturating_sub(self.interval);
            self.points.push(HistoryPoint {
                t: interval_start,
                counts,
            });
            self.start = HistoryStart::Base;
        } else if self.changed > 0 && self.changed < at {
            self.points.push(HistoryPoint {
                t: self.changed,
                counts,
            });
        }
        self.changed = self.changed.max(at);
    }
}
