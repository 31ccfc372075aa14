//! `announce.lua`'s contract as a type: [`AnnounceCall`] builds its
//! invocation, [`AnnounceReply::parse`] reads its answer.

use super::ANNOUNCE;
use super::apply::DECISIONS_MAXLEN;
use crate::PartitionKeys;
use crate::stored_experiment::DecisionEvent;
use redis::{ScriptInvocation, Value};

/// One announcement: a change of `event.experiment`'s decision, made at the
/// partition's cursor `cursor` against the record's `seq`.
#[derive(Debug)]
pub struct AnnounceCall<'a> {
    /// The experiment's partition.
    pub keys: &'a PartitionKeys,
    /// The cursor the evaluation was made at.
    pub cursor: &'a str,
    /// The record's `seq` the change was found against.
    pub seq: u64,
    /// The change.
    pub event: &'a DecisionEvent,
    /// A channel and a message published with it (for live views).
    pub notice: Option<(&'a str, &'a str)>,
}

impl AnnounceCall<'_> {
    /// The script's invocation.
    #[must_use]
    pub fn invocation(&self) -> ScriptInvocation<'static> {
        let mut call = ANNOUNCE.prepare_invoke();
        let text = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
        call.key(&self.keys.cursor)
            .key(self.keys.experiment_key(&self.event.experiment))
            .key(&self.keys.decisions)
            .arg(self.cursor)
            .arg(self.seq)
            .arg(self.event.to.as_deref().unwrap_or(""))
            .arg(self.event.at)
            .arg(DECISIONS_MAXLEN)
            .arg(text(self.event.p_best))
            .arg(text(self.event.expected_loss));
        match self.notice {
            Some((channel, message)) => call.arg(channel).arg(message),
            None => call.arg("").arg(""),
        };
        for (field, value) in self.event.fields() {
            call.arg(field).arg(value);
        }
        call
    }
}

/// What the script did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnounceReply {
    /// Recorded and appended: the announcement's number.
    Announced(u64),
    /// The cursor moved on: another owner has the partition.
    Fenced(String),
    /// The record moved on (another evaluation announced first): its `seq`.
    Stale(u64),
    /// The experiment is gone.
    Gone,
    /// The experiment was stopped.
    Stopped,
}

impl AnnounceReply {
    /// Reads the script's reply.
    ///
    /// # Errors
    /// A reply of another shape, described.
    pub fn parse(reply: &Value) -> Result<Self, String> {
        let text = |value: Option<&Value>| match value {
            Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
            Some(Value::SimpleString(text)) => text.clone(),
            Some(Value::Int(n)) => n.to_string(),
            _ => String::new(),
        };
        let Value::Array(items) = reply else {
            return Err(format!("unexpected announce reply {reply:?}"));
        };
        let number = |value: Option<&Value>| {
            text(value)
                .parse()
                .map_err(|e| format!("unexpected announce reply {items:?}: {e}"))
        };
        match text(items.first()).as_str() {
            "announced" => Ok(Self::Announced(number(items.get(1))?)),
            "fenced" => Ok(Self::Fenced(text(items.get(1)))),
            "stale" => Ok(Self::Stale(number(items.get(1))?)),
            "gone" => Ok(Self::Gone),
            "stopped" => Ok(Self::Stopped),
            other => Err(format!("unexpected announce reply {other:?}")),
        }
    }
}
