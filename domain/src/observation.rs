//! One binary observation, `w` (water, a success) or `l` (land, a failure).
//!
//! Parsing is strict: exactly the one-byte strings `w` and `l`. Case and
//! whitespace are *not* forgiven — `W`, `" w"` and `"w\n"` are rejected — so
//! that what is counted is exactly what the log holds, and a producer with a
//! formatting bug finds out at once instead of having its data reinterpreted.

use std::fmt;
use std::str::FromStr;

/// A single trial's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Observation {
    /// A success (`w`, "water" in the globe-tossing example).
    Win,
    /// A failure (`l`, "land").
    Loss,
}

/// Why a text or payload is not an observation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObservationError {
    /// The input was valid UTF-8 but not `w` or `l`.
    #[error("invalid trial {given}: expected \"w\" or \"l\"")]
    Unknown {
        /// The rejected input, quoted, escaped and shortened for logs.
        given: String,
    },
    /// The input was not UTF-8 at all.
    #[error("invalid trial: {len} bytes that are not UTF-8; expected \"w\" or \"l\"")]
    NotUtf8 {
        /// Length of the rejected payload in bytes.
        len: usize,
    },
}

/// How much of a rejected input an error message repeats.
const MAX_ECHO_CHARS: usize = 32;

impl Observation {
    /// The accepted spellings, for error messages and API documentation.
    pub const ACCEPTED: [&'static str; 2] = ["w", "l"];

    /// Parses exactly `w` or `l`.
    ///
    /// # Errors
    /// [`ObservationError::Unknown`] for anything else, naming what was given.
    pub fn parse(text: &str) -> Result<Self, ObservationError> {
        match text {
            "w" => Ok(Self::Win),
            "l" => Ok(Self::Loss),
            other => Err(ObservationError::Unknown { given: echo(other) }),
        }
    }

    /// Parses a raw payload (a pub/sub message, a stream field).
    ///
    /// # Errors
    /// [`ObservationError::NotUtf8`] for non-UTF-8 bytes, otherwise as [`Observation::parse`].
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, ObservationError> {
        match bytes {
            b"w" => Ok(Self::Win),
            b"l" => Ok(Self::Loss),
            other => match std::str::from_utf8(other) {
                Ok(text) => Self::parse(text),
                Err(_) => Err(ObservationError::NotUtf8 { len: other.len() }),
            },
        }
    }

    /// The wire spelling: `"w"` or `"l"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Win => "w",
            Self::Loss => "l",
        }
    }
}

/// Quotes and escapes `text` for an error message, cut to a readable length.
fn echo(text: &str) -> String {
    let char_count = text.chars().count();
    let shown: String = text.chars().take(MAX_ECHO_CHARS).collect();
    if char_count > MAX_ECHO_CHARS {
        format!("{shown:?}… ({char_count} characters)")
    } else {
        format!("{shown:?}")
    }
}

impl FromStr for Observation {
    type Err = ObservationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Observation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn w_and_l_are_the_only_observations() {
        assert_eq!(Observation::parse("w"), Ok(Observation::Win));
        assert_eq!(Observation::parse("l"), Ok(Observation::Loss));
        assert_eq!(Observation::parse_bytes(b"w"), Ok(Observation::Win));
        assert_eq!(Observation::parse_bytes(b"l"), Ok(Observation::Loss));
    }

    #[test]
    fn case_and_whitespace_are_not_forgiven() {
        for bad in ["W", "L", " w", "w ", "w\n", "ww", "", "x", "wl", "\0"] {
            let err = Observation::parse(bad).expect_err(bad);
            let message = err.to_string();
            assert!(message.contains(&format!("{bad:?}")), "{message}");
            assert!(message.contains("expected \"w\" or \"l\""), "{message}");
        }
    }

    #[test]
    fn non_utf8_payload_is_rejected_with_its_length() {
        let err = Observation::parse_bytes(&[0xff, 0xfe, b'w']).unwrap_err();
        assert_eq!(err, ObservationError::NotUtf8 { len: 3 });
        assert!(err.to_string().contains("not UTF-8"));
    }

    #[test]
    fn a_long_input_is_shortened_in_the_error() {
        let long = "x".repeat(1_000_000);
        let message = Observation::parse(&long).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
        assert!(message.contains("1000000 characters"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_only_w_l_parse(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let parsed = Observation::parse_bytes(&bytes);
            prop_assert_eq!(parsed.is_ok(), bytes == b"w" || bytes == b"l");
        }

        #[test]
        fn display_round_trips(win in any::<bool>()) {
            let obs = if win { Observation::Win } else { Observation::Loss };
            prop_assert_eq!(Observation::parse(&obs.to_string()), Ok(obs));
        }
    }
}
