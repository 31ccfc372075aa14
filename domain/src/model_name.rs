//! A model's name: `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`.
//!
//! Names travel in URLs, Redis keys and file paths (`graphs/<name>/`), so
//! the alphabet is small on purpose: no `/`, no `:`, no braces (Redis Cluster
//! hash tags), no leading dot (no `..`, no hidden files).

use std::fmt;
use std::str::FromStr;

/// A validated model name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelName(String);

/// Why a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid model name {given}: expected 1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or digit"
)]
pub struct ModelNameError {
    /// The rejected name, quoted and shortened.
    pub given: String,
}

impl ModelName {
    /// The longest name, in bytes (every accepted character is one byte).
    pub const MAX_LEN: usize = 64;

    /// The name of the original's single model.
    pub const DEFAULT: &'static str = "default";

    /// The original's single model; the v1 routes address it.
    #[must_use]
    pub fn default_model() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    /// Parses a name.
    ///
    /// # Errors
    /// [`ModelNameError`] for an empty, long or out-of-alphabet name.
    pub fn parse(text: &str) -> Result<Self, ModelNameError> {
        let bytes = text.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= Self::MAX_LEN
            && bytes[0].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            let shown: String = text.chars().take(Self::MAX_LEN + 1).collect();
            Err(ModelNameError {
                given: format!("{shown:?}"),
            })
        }
    }

    /// Parses raw bytes (a stream field, a channel suffix).
    ///
    /// # Errors
    /// As [`ModelName::parse`]; non-UTF-8 is never a name.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, ModelNameError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse(text),
            Err(_) => Err(ModelNameError {
                given: format!("{} bytes that are not UTF-8", bytes.len()),
            }),
        }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the original's single model.
    #[must_use]
    pub fn is_default(&self) -> bool {
        self.0 == Self::DEFAULT
    }
}

impl FromStr for ModelName {
    type Err = ModelNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ModelName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_of_the_alphabet_are_accepted() {
        for good in ["default", "a", "A-b_c.9", "0", &"x".repeat(64)] {
            assert_eq!(ModelName::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn other_names_are_refused_and_quoted() {
        for bad in [
            "",
            ".hidden",
            "-x",
            "_x",
            "a/b",
            "a:b",
            "{tag}",
            "a b",
            "é",
            &"x".repeat(65),
        ] {
            let error = ModelName::parse(bad).expect_err(bad);
            assert!(error.to_string().contains("invalid model name"), "{error}");
        }
        assert!(ModelName::parse_bytes(&[0xff]).is_err());
    }

    proptest! {
        #[test]
        fn accepted_names_match_the_documented_pattern(text in "\\PC{0,70}") {
            let expected = text.len() <= 64
                && text.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && text.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            prop_assert_eq!(ModelName::parse(&text).is_ok(), expected);
        }
    }
}
