//! Just enough RESP2 to read `XREAD` replies in place: find where a reply
//! ends, then walk it borrowing the bytes. No value tree, no per-entry
//! allocation (redis-rs's `Value` allocates five times per entry, which was
//! bayes's bottleneck in a drain).

/// Why a reply cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespError {
    /// Redis answered with an error.
    #[error("{0}")]
    Server(String),
    /// Not RESP2, or not the shape asked for.
    #[error("unexpected reply: {0}")]
    Protocol(String),
}

/// Where the frame starting at `pos` ends, or `None` if `buf` does not hold
/// all of it yet.
///
/// # Errors
/// [`RespError::Protocol`] for bytes that are not RESP2.
pub fn frame_end(buf: &[u8], pos: usize) -> Result<Option<usize>, RespError> {
    let Some(line_end) = find_crlf(buf, pos + 1) else {
        return Ok(None);
    };
    let after_line = line_end + 2;
    match buf.get(pos) {
        Some(b'+' | b'-' | b':') => Ok(Some(after_line)),
        Some(b'$') => {
            let len = parse_int(&buf[pos + 1..line_end])?;
            if len < 0 {
                return Ok(Some(after_line));
            }
            let end = after_line + len as usize + 2;
            Ok((end <= buf.len()).then_some(end))
        }
        Some(b'*') => {
            let count = parse_int(&buf[pos + 1..line_end])?;
            let mut at = after_line;
            for _ in 0..count.max(0) {
                match frame_end(buf, at)? {
                    Some(end) => at = end,
                    None => return Ok(None),
                }
            }
            Ok(Some(at))
        }
        Some(other) => Err(RespError::Protocol(format!(
            "type byte {:?}",
            char::from(*other)
        ))),
        None => Ok(None),
    }
}

/// A reader over one complete reply.
pub struct Frame<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Frame<'a> {
    /// Reads `buf` from `pos`, which must hold complete frames.
    pub fn new(buf: &'a [u8], pos: usize) -> Self {
        Self { buf, pos }
    }

    fn line(&mut self, kind: u8) -> Result<&'a [u8], RespError> {
        match self.buf.get(self.pos) {
            Some(b'-') => {
                let end = find_crlf(self.buf, self.pos).ok_or_else(short)?;
                let text = String::from_utf8_lossy(&self.buf[self.pos + 1..end]).into_owned();
                self.pos = end + 2;
                Err(RespError::Server(text))
            }
            Some(found) if *found == kind => {
                let end = find_crlf(self.buf, self.pos).ok_or_else(short)?;
                let line = &self.buf[self.pos + 1..end];
                self.pos = end + 2;
                Ok(line)
            }
            other => Err(RespError::Protocol(format!(
                "expected {:?}, found {:?}",
                char::from(kind),
                other.map(|b| char::from(*b))
            ))),
        }
    }

    /// `+OK`-style simple string.
    pub fn simple(&mut self) -> Result<&'a [u8], RespError> {
        self.line(b'+')
    }

    /// An integer.
    pub fn int(&mut self) -> Result<i64, RespError> {
        parse_int(self.line(b':')?)
    }

    /// An array's length; `None` for a nil array.
    pub fn array(&mut self) -> Result<Option<usize>, RespError> {
        let count = parse_int(self.line(b'*')?)?;
        Ok(usize::try_from(count).ok())
    }

    /// A bulk string; `None` for nil.
    pub fn bulk(&mut self) -> Result<Option<&'a [u8]>, RespError> {
        let len = parse_int(self.line(b'$')?)?;
        let Ok(len) = usize::try_from(len) else {
            return Ok(None);
        };
        let data = self.buf.get(self.pos..self.pos + len).ok_or_else(short)?;
        self.pos += len + 2;
        Ok(Some(data))
    }

    /// Where the next frame starts.
    pub fn position(&self) -> usize {
        self.pos
    }
}

fn short() -> RespError {
    RespError::Protocol("reply ends early".into())
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    rest.windows(2).position(|w| w == b"\r\n").map(|i| from + i)
}

fn parse_int(bytes: &[u8]) -> Result<i64, RespError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            RespError::Protocol(format!(
                "not an integer: {:?}",
                String::from_utf8_lossy(bytes)
            ))
        })
}

/// Encodes a command as a RESP array of bulk strings, appending to `out`.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XREAD: &[u8] = b"*1\r\n*2\r\n$6\r\nevents\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$5\r\ntrial\r\n$1\r\nw\r\n*2\r\n$3\r\n1-1\r\n*-1\r\n";

    #[test]
    fn a_frame_is_complete_only_with_all_its_bytes() {
        assert_eq!(frame_end(XREAD, 0), Ok(Some(XREAD.len())));
        for cut in 0..XREAD.len() {
            assert_eq!(frame_end(&XREAD[..cut], 0), Ok(None), "cut at {cut}");
        }
        assert_eq!(frame_end(b"*-1\r\n", 0), Ok(Some(5)));
        assert_eq!(frame_end(b"$-1\r\n", 0), Ok(Some(5)));
        assert!(frame_end(b"?x\r\n", 0).is_err());
    }

    #[test]
    fn a_frame_reads_in_place() {
        let mut frame = Frame::new(XREAD, 0);
        assert_eq!(frame.array(), Ok(Some(1)));
        assert_eq!(frame.array(), Ok(Some(2)));
        assert_eq!(frame.bulk(), Ok(Some(&b"events"[..])));
        assert_eq!(frame.array(), Ok(Some(2)));
        assert_eq!(frame.array(), Ok(Some(2)));
        assert_eq!(frame.bulk(), Ok(Some(&b"1-0"[..])));
        assert_eq!(frame.array(), Ok(Some(2)));
        assert_eq!(frame.bulk(), Ok(Some(&b"trial"[..])));
        assert_eq!(frame.bulk(), Ok(Some(&b"w"[..])));
        assert_eq!(frame.array(), Ok(Some(2)));
        assert_eq!(frame.bulk(), Ok(Some(&b"1-1"[..])));
        assert_eq!(frame.array(), Ok(None));
        assert_eq!(frame.position(), XREAD.len());
    }

    #[test]
    fn errors_are_told_apart_from_garbage() {
        let mut frame = Frame::new(b"-NOSCRIPT no script\r\n", 0);
        assert_eq!(
            frame.int(),
            Err(RespError::Server("NOSCRIPT no script".into()))
        );
        assert!(Frame::new(b"+OK\r\n", 0).int().is_err());
        let mut out = Vec::new();
        encode(&mut out, &[b"GET", b"k"]);
        assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }

    proptest::proptest! {
        /// Arbitrary bytes never panic the framer or the reader.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let _ = frame_end(&bytes, 0);
            let mut frame = Frame::new(&bytes, 0);
            let _ = frame.array();
            let _ = frame.bulk();
            let _ = frame.int();
        }
    }
}
