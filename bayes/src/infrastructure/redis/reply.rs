//! Decoding stream replies straight from `redis::Value`, moving the bytes
//! out instead of copying them into maps.

use crate::application::batch::Field;
use crate::application::{PortError, StreamEntry};
use redis::Value;

fn unexpected(what: &str, value: &Value) -> PortError {
    PortError::Failed(format!("unexpected {what} in a stream reply: {value:?}"))
}

/// The entries of an `XREADGROUP` reply for one stream: nil, or `[[key, entries]]`.
pub(crate) fn xread_entries(value: Value) -> Result<Vec<StreamEntry>, PortError> {
    match value {
        Value::Nil => Ok(Vec::new()),
        Value::Array(streams) => {
            let mut all = Vec::new();
            for stream in streams {
                match stream {
                    Value::Array(pair) if pair.len() == 2 => {
                        let mut pair = pair.into_iter();
                        pair.next();
                        if let Some(entries_value) = pair.next() {
                            all.extend(entries(entries_value)?);
                        }
                    }
                    other => return Err(unexpected("stream", &other)),
                }
            }
            Ok(all)
        }
        // RESP3 replies are maps of key to entries.
        Value::Map(streams) => {
            let mut all = Vec::new();
            for (_, entries_value) in streams {
                all.extend(entries(entries_value)?);
            }
            Ok(all)
        }
        other => Err(unexpected("reply", &other)),
    }
}

/// Whether an `XREADGROUP` reply holds nothing: nil, as Redis answers when
/// there is nothing to read, or an empty list or map.
pub(crate) fn is_empty_reply(value: &Value) -> bool {
    match value {
        Value::Nil => true,
        Value::Array(items) => items.is_empty(),
        Value::Map(items) => items.is_empty(),
        _ => false,
    }
}

/// A list of `[id, [field, value, ...]]` entries.
pub(crate) fn entries(value: Value) -> Result<Vec<StreamEntry>, PortError> {
    let list = match value {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(list) => list,
        other => return Err(unexpected("entry list", &other)),
    };
    let mut out = Vec::with_capacity(list.len());
    for entry in list {
        let Value::Array(parts) = entry else {
            return Err(unexpected("entry", &entry));
        };
        let mut parts = parts.into_iter();
        let id = match parts.next() {
            Some(Value::BulkString(bytes)) => String::from_utf8(bytes)
                .map_err(|_| PortError::Failed("non-UTF-8 stream id".into()))?,
            Some(Value::SimpleString(id)) => id,
            other => return Err(PortError::Failed(format!("entry without id: {other:?}"))),
        };
        let fields = match parts.next() {
            Some(Value::Array(flat)) => pairs(flat)?,
            // A pending entry deleted from the stream has no fields left.
            Some(Value::Nil) | None => Vec::new(),
            Some(other) => return Err(unexpected("field list", &other)),
        };
        out.push(StreamEntry { id, fields });
    }
    Ok(out)
}

fn pairs(flat: Vec<Value>) -> Result<Vec<Field>, PortError> {
    let mut fields = Vec::with_capacity(flat.len() / 2);
    let mut items = flat.into_iter();
    while let (Some(field), Some(value)) = (items.next(), items.next()) {
        fields.push((bytes(field)?, bytes(value)?));
    }
    Ok(fields)
}

fn bytes(value: Value) -> Result<Vec<u8>, PortError> {
    match value {
        Value::BulkString(bytes) => Ok(bytes),
        Value::SimpleString(text) => Ok(text.into_bytes()),
        Value::Int(i) => Ok(i.to_string().into_bytes()),
        other => Err(unexpected("field", &other)),
    }
}

/// An integer reply.
pub(crate) fn int(value: &Value) -> Result<i64, PortError> {
    match value {
        Value::Int(i) => Ok(*i),
        other => Err(unexpected("integer", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn an_xreadgroup_reply_decodes_into_entries() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("bayes:events"),
            Value::Array(vec![
                Value::Array(vec![
                    bulk("1-0"),
                    Value::Array(vec![bulk("trial"), bulk("w")]),
                ]),
                Value::Array(vec![bulk("1-1"), Value::Nil]),
            ]),
        ])]);
        let entries = xread_entries(reply).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].id, "1-0");
        assert_eq!(entries[0].fields, vec![(b"trial".to_vec(), b"w".to_vec())]);
        assert!(entries[1].fields.is_empty());
        assert!(xread_entries(Value::Nil).unwrap().is_empty());
    }

    #[test]
    fn a_malformed_reply_is_an_error_not_a_panic() {
        assert!(xread_entries(Value::Int(3)).is_err());
        assert!(entries(Value::Array(vec![Value::Int(1)])).is_err());
    }
}
