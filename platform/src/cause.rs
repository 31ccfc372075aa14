//! Why a port failed, with the error beneath it kept: the services' port
//! errors carry a [`Cause`] instead of a flattened string, so a log line or
//! a caller walking [`std::error::Error::source`] sees the whole chain
//! (the Redis error, the I/O error, the task that panicked).

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A failure's cause: a message, or an error (and through it, its own
/// sources). Cheap to clone, so one failed write can answer every request
/// it held.
#[derive(Clone)]
pub struct Cause {
    message: Option<Arc<str>>,
    source: Option<Arc<dyn Error + Send + Sync>>,
}

impl Cause {
    /// The cause is `error` itself; its `source()` chain is kept.
    pub fn new(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            message: None,
            source: Some(Arc::from(error.into())),
        }
    }

    /// A cause that is only a message: nothing failed beneath it.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: Some(Arc::from(message.into())),
            source: None,
        }
    }

    /// `message`, caused by `error` (shown as `message: error`).
    pub fn context(
        message: impl Into<String>,
        error: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> Self {
        Self {
            message: Some(Arc::from(message.into())),
            source: Some(Arc::from(error.into())),
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.message, &self.source) {
            (Some(message), Some(source)) => write!(f, "{message}: {source}"),
            (Some(message), None) => f.write_str(message),
            (None, Some(source)) => source.fmt(f),
            (None, None) => f.write_str("unknown cause"),
        }
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Cause");
        if let Some(message) = &self.message {
            debug.field("message", message);
        }
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        // With a message of its own the error beneath is the source; a bare
        // error *is* this cause, so its source is the next link.
        match (&self.message, &self.source) {
            (Some(_), Some(source)) => Some(source.as_ref() as &(dyn Error + 'static)),
            (None, Some(source)) => source.source(),
            _ => None,
        }
    }
}

impl From<&str> for Cause {
    fn from(message: &str) -> Self {
        Self::message(message)
    }
}

impl From<String> for Cause {
    fn from(message: String) -> Self {
        Self::message(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_chain_beneath_an_error_is_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let cause = Cause::new(Outer(io));
        assert_eq!(cause.to_string(), "outer");
        let next = cause.source().map(ToString::to_string);
        assert_eq!(next.as_deref(), Some("refused"));
    }

    #[test]
    fn context_shows_its_message_and_keeps_the_error_as_source() {
        let io = std::io::Error::other("gone");
        let cause = Cause::context("the task failed", io);
        assert_eq!(cause.to_string(), "the task failed: gone");
        assert_eq!(
            cause.source().map(ToString::to_string).as_deref(),
            Some("gone")
        );
        assert!(Cause::message("plain").source().is_none());
        assert_eq!(Cause::from("plain").to_string(), "plain");
    }
}
