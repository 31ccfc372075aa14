//! Decoding `XREAD` replies straight from `redis::Value` into a batch,
//! borrowing the bytes: no per-entry copies, and an entry is printed only
//! when it is rejected.

use super::raw::{Frame, RespError};
use crate::application::{BatchBuilder, PortError};
use platform::PartitionKeys;
use platform::log_entry::{DEFAULT_MODEL, Decoded, LogEvent, decode};
use platform::partition::partition_of;
use redis::Value;

fn unexpected(what: &str, value: &Value) -> PortError {
    PortError::Failed(format!("unexpected {what} in a stream reply: {value:?}").into())
}

/// Adds the entries of an `XREAD` reply for one stream (nil, `[[key,
/// entries]]`, or a RESP3 map) to `builder`; an entry for a model of
/// another partition is rejected (it would be counted where no reader of
/// that model looks).
pub(crate) fn add_entries(
    value: &Value,
    partition: &PartitionKeys,
    partitions: u32,
    builder: &mut BatchBuilder,
) -> Result<(), PortError> {
    let entries = match value {
        Value::Nil => return Ok(()),
        Value::Array(streams) if streams.is_empty() => return Ok(()),
        Value::Array(streams) => match streams.first() {
            Some(Value::Array(pair)) if pair.len() == 2 => &pair[1],
            other => return Err(unexpected("stream", other.unwrap_or(&Value::Nil))),
        },
        Value::Map(streams) => match streams.first() {
            Some((_, entries)) => entries,
            None => return Ok(()),
        },
        other => return Err(unexpected("reply", other)),
    };
    let Value::Array(entries) = entries else {
        return Err(unexpected("entry list", entries));
    };
    for entry in entries {
        let (id, fields) = entry_parts(entry)?;
        push_entry(id, &fields, partition, partitions, builder);
    }
    Ok(())
}

/// Adds the `XREAD` reply at `frame` (RESP2, read in place) to `builder`.
pub(crate) fn add_raw_entries(
    frame: &mut Frame<'_>,
    partition: &PartitionKeys,
    partitions: u32,
    builder: &mut BatchBuilder,
) -> Result<(), RespError> {
    let Some(streams) = frame.array()? else {
        return Ok(());
    };
    // One vector for every entry's fields: reused, so no allocation per entry.
    let mut fields: Vec<(&[u8], &[u8])> = Vec::with_capacity(4);
    for _ in 0..streams {
        expect(frame.array()?, 2, "stream")?;
        frame.bulk()?;
        let entries = frame.array()?.unwrap_or(0);
        for _ in 0..entries {
            expect(frame.array()?, 2, "entry")?;
            let id = frame
                .bulk()?
                .ok_or_else(|| RespError::Protocol("entry without id".into()))?;
            let id =
                std::str::from_utf8(id).map_err(|_| RespError::Protocol("non-UTF-8 id".into()))?;
            fields.clear();
            for _ in 0..frame.array()?.unwrap_or(0) / 2 {
                let field = frame.bulk()?.unwrap_or_default();
                let value = frame.bulk()?.unwrap_or_default();
                fields.push((field, value));
            }
            push_entry(id, &fields, partition, partitions, builder);
        }
    }
    Ok(())
}

fn expect(found: Option<usize>, count: usize, what: &str) -> Result<(), RespError> {
    if found == Some(count) {
        Ok(())
    } else {
        Err(RespError::Protocol(format!("a {what} of {found:?} parts")))
    }
}

/// Decodes one entry, checks that its model lives in this partition, and
/// adds it to the batch (or its dead letters).
fn push_entry(
    id: &str,
    fields: &[(&[u8], &[u8])],
    partition: &PartitionKeys,
    partitions: u32,
    builder: &mut BatchBuilder,
) {
    let events = match decode(fields) {
        Ok(Decoded::Experiment(event)) => {
            let home = partition_of(event.name.as_str(), partitions);
            if home == partition.index {
                builder.push_experiment(id, event);
                return;
            }
            Err(format!(
                "experiment {} lives in partition {home}, not {}",
                event.name, partition.index
            ))
        }
        other => other,
    };
    let events = events.and_then(|events| {
        // A multi-model entry's models all live here, or the whole entry is refused.
        for event in events.iter() {
            let home = partition_of(event.model(), partitions);
            if home != partition.index {
                return Err(misplaced(event, home, partition.index));
            }
        }
        Ok(events)
    });
    builder.push(id, events, || printable(fields));
}

fn misplaced(event: &LogEvent<'_>, home: u32, here: u32) -> String {
    let model = event.model();
    let shown = if model == DEFAULT_MODEL {
        "default (no \"model\" field)"
    } else {
        model
    };
    format!("model {shown} lives in partition {home}, not {here}")
}

type Fields<'a> = Vec<(&'a [u8], &'a [u8])>;

fn entry_parts(entry: &Value) -> Result<(&str, Fields<'_>), PortError> {
    let Value::Array(parts) = entry else {
        return Err(unexpected("entry", entry));
    };
    let id = match parts.first() {
        Some(Value::BulkString(bytes)) => std::str::from_utf8(bytes)
            .map_err(|_| PortError::Failed("non-UTF-8 stream id".into()))?,
        Some(Value::SimpleString(id)) => id.as_str(),
        other => {
            return Err(PortError::Failed(
                format!("entry without id: {other:?}").into(),
            ));
        }
    };
    let fields = match parts.get(1) {
        Some(Value::Array(flat)) => flat
            .chunks_exact(2)
            .map(|pair| Ok((bytes(&pair[0])?, bytes(&pair[1])?)))
            .collect::<Result<Vec<_>, PortError>>()?,
        Some(Value::Nil) | None => Vec::new(),
        Some(other) => return Err(unexpected("field list", other)),
    };
    Ok((id, fields))
}

fn bytes(value: &Value) -> Result<&[u8], PortError> {
    match value {
        Value::BulkString(bytes) => Ok(bytes),
        Value::SimpleString(text) => Ok(text.as_bytes()),
        other => Err(unexpected("field", other)),
    }
}

fn printable(fields: &[(&[u8], &[u8])]) -> String {
    fields
        .iter()
        .map(|(f, v)| {
            format!(
                "{}={}",
                String::from_utf8_lossy(f),
                String::from_utf8_lossy(v)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::Op;
    use platform::RedisKeys;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn reply(entries: &[(&str, &[&str])]) -> Value {
        let entries = entries
            .iter()
            .map(|(id, fields)| {
                Value::Array(vec![
                    bulk(id),
                    Value::Array(fields.iter().map(|f| bulk(f)).collect()),
                ])
            })
            .collect();
        Value::Array(vec![Value::Array(vec![
            bulk("bayes:events"),
            Value::Array(entries),
        ])])
    }

    #[test]
    fn an_xread_reply_becomes_a_batch() {
        let keys = RedisKeys::new("bayes", 1);
        let mut builder = BatchBuilder::new("0-0");
        let value = reply(&[
            ("1-0", &["trial", "w"]),
            ("1-1", &["model", "b", "trials", "wwl"]),
            ("1-2", &["trial", "x"]),
        ]);
        add_entries(&value, &keys.partitions()[0], 1, &mut builder).unwrap();
        let batch = builder.finish();
        assert_eq!((batch.entries, batch.last.as_str()), (3, "1-2"));
        assert_eq!(
            batch.ops[1],
            Op::Add {
                model: "b".into(),
                wins: 2,
                trials: 3,
                at: 0,
            }
        );
        assert_eq!(batch.dead[0].raw, "trial=x");
        let mut empty = BatchBuilder::new("0-0");
        add_entries(&Value::Nil, &keys.partitions()[0], 1, &mut empty).unwrap();
        assert_eq!(empty.entries(), 0);
    }

    #[test]
    fn a_model_of_another_partition_is_dead_lettered() {
        let keys = RedisKeys::new("bayes", 4);
        let home = partition_of("b", 4);
        let elsewhere = &keys.partitions()[((home + 1) % 4) as usize];
        let mut builder = BatchBuilder::new("0-0");
        add_entries(
            &reply(&[("1-0", &["model", "b", "trial", "w"])]),
            elsewhere,
            4,
            &mut builder,
        )
        .unwrap();
        let batch = builder.finish();
        assert!(
            batch.dead[0]
                .reason
                .contains(&format!("lives in partition {home}")),
            "{:?}",
            batch.dead
        );
    }

    #[test]
    fn a_raw_reply_decodes_like_a_value() {
        let keys = RedisKeys::new("bayes", 1);
        let raw = b"*1\r\n*2\r\n$12\r\nbayes:events\r\n*3\r\n\
*2\r\n$3\r\n1-0\r\n*2\r\n$5\r\ntrial\r\n$1\r\nw\r\n\
*2\r\n$3\r\n1-1\r\n*4\r\n$5\r\nmodel\r\n$1\r\nb\r\n$6\r\ntrials\r\n$3\r\nwwl\r\n\
*2\r\n$3\r\n1-2\r\n*2\r\n$5\r\ntrial\r\n$1\r\nx\r\n";
        let mut from_raw = BatchBuilder::new("0-0");
        add_raw_entries(
            &mut Frame::new(raw, 0),
            &keys.partitions()[0],
            1,
            &mut from_raw,
        )
        .unwrap();
        let value = reply(&[
            ("1-0", &["trial", "w"]),
            ("1-1", &["model", "b", "trials", "wwl"]),
            ("1-2", &["trial", "x"]),
        ]);
        let mut from_value = BatchBuilder::new("0-0");
        add_entries(&value, &keys.partitions()[0], 1, &mut from_value).unwrap();
        assert_eq!(from_raw.finish(), from_value.finish());
        let mut nil = BatchBuilder::new("0-0");
        add_raw_entries(
            &mut Frame::new(b"*-1\r\n", 0),
            &keys.partitions()[0],
            1,
            &mut nil,
        )
        .unwrap();
        assert_eq!(nil.entries(), 0);
    }

    #[test]
    fn a_malformed_reply_is_an_error_not_a_panic() {
        let keys = RedisKeys::new("bayes", 1);
        let mut builder = BatchBuilder::new("0-0");
        assert!(add_entries(&Value::Int(3), &keys.partitions()[0], 1, &mut builder).is_err());
        let bad = Value::Array(vec![Value::Array(vec![
            bulk("k"),
            Value::Array(vec![Value::Int(1)]),
        ])]);
        assert!(add_entries(&bad, &keys.partitions()[0], 1, &mut builder).is_err());
    }
}
