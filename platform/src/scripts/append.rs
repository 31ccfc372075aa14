//! `append.lua`'s contract as a type: [`AppendCall`] builds its command,
//! [`AppendReply::parse`] reads its answer, so a change to the script's
//! arguments is a compile error in the caller.

use super::{APPEND, APPEND_SOURCE};
use redis::Value;

/// One entry of a write: its fields, and the Idempotency-Key record that
/// guards it (`(key of the record, fingerprint of the request)`), if any.
#[derive(Debug)]
pub struct AppendEntry {
    /// The key's record and the request's fingerprint.
    pub guard: Option<(String, String)>,
    /// The entry's field/value pairs.
    pub fields: Vec<(String, String)>,
}

/// One call of the append script: the entries of one write, all or none.
#[derive(Debug)]
pub struct AppendCall<'a> {
    /// The partition's stream.
    pub stream: &'a str,
    /// The write's token key (a resent write finds it and appends nothing).
    pub token: &'a str,
    /// Approximate bound on the stream (`MAXLEN ~`); 0: none.
    pub maxlen: u64,
    /// How long the token is kept, ms.
    pub token_ttl_ms: u64,
    /// How long an Idempotency-Key is remembered, ms.
    pub window_ms: u64,
    /// The entries, in order.
    pub entries: &'a [AppendEntry],
}

impl AppendCall<'_> {
    /// The command: `EVALSHA` of the script, or with `source` its `EVAL`
    /// (after a Redis restart emptied the script cache).
    #[must_use]
    pub fn command(&self, source: bool) -> redis::Cmd {
        let mut script = if source {
            let mut eval = redis::cmd("EVAL");
            eval.arg(APPEND_SOURCE);
            eval
        } else {
            let mut evalsha = redis::cmd("EVALSHA");
            evalsha.arg(APPEND.get_hash());
            evalsha
        };
        let guards: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|entry| entry.guard.as_ref().map(|(key, _)| key.as_str()))
            .collect();
        script
            .arg(2 + guards.len())
            .arg(self.stream)
            .arg(self.token)
            .arg(&guards)
            .arg(self.maxlen)
            .arg(self.token_ttl_ms)
            .arg(self.window_ms);
        // KEYS[3..] are the guards, in entry order.
        let mut guard_index = 2;
        for entry in self.entries {
            let (index, fingerprint) = match &entry.guard {
                Some((_, fingerprint)) => {
                    guard_index += 1;
                    (guard_index, fingerprint.as_str())
                }
                None => (0, ""),
            };
            script.arg(index).arg(fingerprint).arg(entry.fields.len());
            for (field, value) in &entry.fields {
                script.arg(field).arg(value);
            }
        }
        script
    }
}

/// Where one entry of a write landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendReply {
    /// Appended as this id.
    New(String),
    /// Its Idempotency-Key was recorded already, for the request with this
    /// fingerprint, which landed at `id`, `index`: nothing appended.
    Recorded {
        /// The first request's fingerprint.
        fingerprint: String,
        /// The entry that holds it.
        id: String,
        /// Its index there.
        index: u64,
    },
}

impl AppendReply {
    /// Reads the script's reply for a write of `entries` entries: per
    /// entry its new id, or `=<fingerprint> <id> <index>`.
    ///
    /// # Errors
    /// A reply of another shape, described.
    pub fn parse(reply: &Value, entries: usize) -> Result<Vec<Self>, String> {
        let unexpected = || format!("unexpected append reply {reply:?}");
        let Value::Array(items) = reply else {
            return Err(unexpected());
        };
        if items.len() != entries {
            return Err(unexpected());
        }
        items
            .iter()
            .map(|item| {
                let Value::BulkString(bytes) = item else {
                    return Err(unexpected());
                };
                let text = String::from_utf8_lossy(bytes);
                let Some(record) = text.strip_prefix('=') else {
                    return Ok(Self::New(text.into_owned()));
                };
                let mut parts = record.split(' ');
                match (parts.next(), parts.next(), parts.next().map(str::parse)) {
                    (Some(fingerprint), Some(id), Some(Ok(index))) => Ok(Self::Recorded {
                        fingerprint: fingerprint.to_owned(),
                        id: id.to_owned(),
                        index,
                    }),
                    _ => Err(unexpected()),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn the_reply_reads_new_ids_and_records() {
        let reply = Value::Array(vec![bulk("5-0"), bulk("=ab12 4-0 3")]);
        assert_eq!(
            AppendReply::parse(&reply, 2).unwrap(),
            [
                AppendReply::New("5-0".into()),
                AppendReply::Recorded {
                    fingerprint: "ab12".into(),
                    id: "4-0".into(),
                    index: 3
                }
            ]
        );
        assert!(
            AppendReply::parse(&reply, 3).is_err(),
            "one reply per entry"
        );
        assert!(AppendReply::parse(&Value::Array(vec![bulk("=x y")]), 1).is_err());
    }

    #[test]
    fn the_command_numbers_each_guard_by_its_key() {
        let entries = [
            AppendEntry {
                guard: None,
                fields: vec![("trials".into(), "w".into())],
            },
            AppendEntry {
                guard: Some(("k1".into(), "f1".into())),
                fields: vec![("trials".into(), "l".into())],
            },
        ];
        let call = AppendCall {
            stream: "s",
            token: "t",
            maxlen: 0,
            token_ttl_ms: 60_000,
            window_ms: 1_000,
            entries: &entries,
        };
        let packed =
            String::from_utf8_lossy(&call.command(false).get_packed_command()).into_owned();
        let args: Vec<&str> = packed
            .split("\r\n")
            .filter(|p| !p.starts_with(['*', '$']))
            .collect();
        assert_eq!(
            &args[2..],
            [
                "3", "s", "t", "k1", "0", "60000", "1000", "0", "", "1", "trials", "w", "3", "f1",
                "1", "trials", "l", ""
            ]
        );
    }
}
