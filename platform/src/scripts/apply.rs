//! `apply.lua`'s contract as a type: [`ApplyCall`] builds its command,
//! [`ApplyReply::parse`] reads its answer. The script is only
//! ever called through them, so a change to its arguments is a compile
//! error in the caller.

use super::{APPLY, APPLY_SOURCE};
use crate::PartitionKeys;
use crate::keys::CONSUMER_GROUP;
pub use domain::HistoryPoint;
use domain::{Counts, ModelDefinition};
use redis::{Cmd, Value};

/// The code of the script's refusal when the partition has no cursor (it
/// was never started, or a failover lost its start): start it again.
pub const NO_CURSOR: &str = "NOCURSOR";

/// A model's state after the batch, written absolutely.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ModelWrite {
    /// The counts changed; the stored definition stays (`HSET n w`).
    Counts(Counts),
    /// Counts and definition (a new model, a redefinition, a re-creation):
    /// `HSET n w prior grid_points`.
    Whole(Counts, ModelDefinition),
    /// The model is gone (`DEL`).
    Deleted,
}

/// How a model's history goes on from what the stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryStart {
    /// After the stream's newest point.
    #[default]
    Continue,
    /// Afresh: the model was deleted (and perhaps created again) in the
    /// batch, its stream and `t` dropped first.
    Fresh,
    /// From a base: the model counted before it had history, and the
    /// first point holds those counts; the history is known from it on.
    Base,
}

/// One model's part of a batch: its state after it and the history points
/// the batch closes.
#[derive(Debug, Clone, Copy)]
pub struct ModelUpdate<'a> {
    /// The model.
    pub model: &'a str,
    /// Its state after the batch.
    pub write: ModelWrite,
    /// The end of the interval its counts last changed in (the hash's `t`);
    /// 0: unchanged by the batch.
    pub changed: u64,
    /// How its history goes on.
    pub start: HistoryStart,
    /// The points the batch closes, oldest first, each after the stream's newest.
    pub points: &'a [HistoryPoint],
}

/// An entry set aside, as the dead-letter stream records it.
#[derive(Debug, Clone, Copy)]
pub struct DeadEntry<'a> {
    /// Its stream id.
    pub id: &'a str,
    /// Why it was refused.
    pub reason: &'a str,
    /// Its fields, printed.
    pub raw: &'a str,
}

/// What a batch does to one experiment, in log order.
#[derive(Debug, Clone, Copy)]
pub enum ExperimentOp<'a> {
    /// (Re)defined at log time `at`: `spec` is the definition's JSON.
    Define {
        /// The definition's JSON (an `ExperimentDraft`).
        spec: &'a str,
        /// Log time of the entry.
        at: u64,
    },
    /// Stopped at `at` with `variant` chosen: announced on the decisions stream.
    Stop {
        /// The variant chosen.
        variant: &'a str,
        /// Log time of the entry.
        at: u64,
    },
    /// Deleted.
    Delete,
}

/// One experiment op of a batch.
#[derive(Debug, Clone, Copy)]
pub struct ExperimentWrite<'a> {
    /// The experiment.
    pub name: &'a str,
    /// What happens to it.
    pub op: ExperimentOp<'a>,
}

/// About how many entries the decisions stream keeps (`MAXLEN ~`).
pub const DECISIONS_MAXLEN: u64 = 100_000;

/// One call of the apply script: a batch of a partition's log, fenced by
/// the cursor, written as each touched model's state after it.
#[derive(Debug)]
pub struct ApplyCall<'a> {
    /// The partition's keys.
    pub keys: &'a PartitionKeys,
    /// The cursor the batch starts after.
    pub after: &'a str,
    /// Its last entry's id.
    pub last: &'a str,
    /// Entries in it.
    pub entries: u64,
    /// Who applies (recorded with the cursor, so a resent call is told apart).
    pub applier: &'a str,
    /// Approximate bound on the dead-letter stream.
    pub dead_maxlen: u64,
    /// Each touched model's state after the batch and history points.
    pub writes: &'a [ModelUpdate<'a>],
    /// How far back a history reaches from its newest point, ms (older
    /// points are dropped, but the newest of them).
    pub retention: u64,
    /// Models that did not exist before the batch and do after (the index gains them).
    pub created: &'a [&'a str],
    /// Models that existed before the batch and do not after (the index loses them).
    pub removed: &'a [&'a str],
    /// Entries to set aside.
    pub dead: &'a [DeadEntry<'a>],
    /// The experiments' definitions, stops and deletions, in log order.
    pub experiments: &'a [ExperimentWrite<'a>],
    /// A channel and a message published once the batch is applied.
    pub notice: Option<(&'a str, &'a str)>,
}

impl ApplyCall<'_> {
    /// The command: `EVALSHA` of the script, or with `source` its `EVAL`
    /// (after a Redis restart emptied the script cache), keys and
    /// arguments in the script's layout, written into one buffer (a batch
    /// of 10,000 models is some 50,000 arguments).
    #[must_use]
    pub fn command(&self, source: bool) -> Cmd {
        let mut call = if source {
            let mut eval = redis::cmd("EVAL");
            eval.arg(APPLY_SOURCE);
            eval
        } else {
            let mut evalsha = redis::cmd("EVALSHA");
            evalsha.arg(APPLY.get_hash());
            evalsha
        };
        call.arg(6 + 2 * self.writes.len() + self.experiments.len())
            .arg(&self.keys.cursor)
            .arg(&self.keys.events)
            .arg(&self.keys.dead)
            .arg(&self.keys.models);
        for update in self.writes {
            call.arg(self.keys.model_key(update.model));
        }
        for update in self.writes {
            call.arg(self.keys.history_key(update.model));
        }
        call.arg(&self.keys.experiments).arg(&self.keys.decisions);
        for write in self.experiments {
            call.arg(self.keys.experiment_key(write.name));
        }
        call.arg(self.after)
            .arg(self.last)
            .arg(self.entries)
            .arg(self.applier)
            .arg(CONSUMER_GROUP)
            .arg(self.dead_maxlen)
            .arg(self.writes.len())
            .arg(self.created.len())
            .arg(self.removed.len())
            .arg(self.dead.len())
            .arg(self.retention)
            .arg(self.experiments.len())
            .arg(DECISIONS_MAXLEN);
        for update in self.writes {
            match update.write {
                ModelWrite::Counts(counts) => call.arg("c").arg(counts.n()).arg(counts.w()),
                ModelWrite::Whole(counts, definition) => call
                    .arg("f")
                    .arg(counts.n())
                    .arg(counts.w())
                    .arg(definition.prior.to_string())
                    .arg(definition.grid.points()),
                ModelWrite::Deleted => {
                    call.arg("x");
                    continue;
                }
            };
            call.arg(update.changed)
                .arg(match update.start {
                    HistoryStart::Continue => "0",
                    HistoryStart::Fresh => "1",
                    HistoryStart::Base => "2",
                })
                .arg(update.points.len());
            for point in update.points {
                call.arg(point.t)
                    .arg(point.counts.w())
                    .arg(point.counts.n());
            }
        }
        for model in self.created.iter().chain(self.removed) {
            call.arg(*model);
        }
        for dead in self.dead {
            call.arg(dead.id).arg(dead.reason).arg(dead.raw);
        }
        for write in self.experiments {
            match write.op {
                ExperimentOp::Define { spec, at } => {
                    call.arg("e").arg(write.name).arg(spec).arg(at)
                }
                ExperimentOp::Stop { variant, at } => {
                    call.arg("s").arg(write.name).arg(variant).arg(at)
                }
                ExperimentOp::Delete => call.arg("x").arg(write.name),
            };
        }
        if let Some((channel, message)) = self.notice {
            call.arg(channel).arg(message);
        }
        call
    }
}

/// What the script did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyReply {
    /// Applied: the cursor moved to the batch's end.
    Applied,
    /// This applier had applied exactly this batch already (a resent call): nothing changed.
    Replayed,
    /// The cursor was elsewhere (another owner moved it): nothing changed.
    Fenced {
        /// The stored cursor.
        cursor: String,
    },
}

impl ApplyReply {
    /// Reads the script's reply.
    ///
    /// # Errors
    /// A reply of another shape, described.
    pub fn parse(reply: &Value) -> Result<Self, String> {
        let text = |value: Option<&Value>| match value {
            Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
            Some(Value::SimpleString(text)) => text.clone(),
            _ => String::new(),
        };
        let Value::Array(items) = reply else {
            return Err(format!("unexpected apply reply {reply:?}"));
        };
        match text(items.first()).as_str() {
            "applied" => Ok(Self::Applied),
            "replayed" => Ok(Self::Replayed),
            "fenced" => Ok(Self::Fenced {
                cursor: text(items.get(1)),
            }),
            other => Err(format!("unexpected apply reply {other:?}")),
        }
    }
}
