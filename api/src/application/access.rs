//! Who may do what: bearer tokens with scopes. `read` (GET of models,
//! decisions, plots, the live view), `write` (observations), `admin` (PUT
//! and DELETE of models; implies `read` and `write`).
//!
//! Tokens are kept only as SHA-256 digests and a presented token is compared
//! with every one of them in constant time, so neither the time an answer
//! takes nor anything kept in memory tells a token, or its length, apart.

use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// GET of models, comparisons, draws, plots, the dashboard and its live updates.
    Read,
    /// Observations, v1 and named.
    Write,
    /// PUT and DELETE of models; implies read and write.
    Admin,
}

impl Scope {
    /// Its name in `API_TOKENS` and in answers.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scopes one token holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grant {
    read: bool,
    write: bool,
    admin: bool,
}

impl Grant {
    /// Whether it allows `scope`.
    #[must_use]
    pub fn allows(self, scope: Scope) -> bool {
        self.admin
            || match scope {
                Scope::Read => self.read,
                Scope::Write => self.write,
                Scope::Admin => false,
            }
    }

    fn add(&mut self, scope: Scope) {
        match scope {
            Scope::Read => self.read = true,
            Scope::Write => self.write = true,
            Scope::Admin => self.admin = true,
        }
    }
}

/// Why a presented credential gets no access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No credential at all (401).
    Missing,
    /// A token no entry holds (401).
    Unknown,
    /// A known token without the scope (403).
    Scope(Scope),
}

impl Denied {
    /// The reason, as a metric label.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Unknown => "unknown",
            Self::Scope(_) => "scope",
        }
    }
}

/// A bad `API_TOKENS` entry. Names the entry by position, never by content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokensError {
    /// Not `scope=token`, an unknown scope or an empty token.
    #[error(
        "entry {0} is not scope=token with scope read, write or admin and a token of 16 or more visible characters other than ; , \" \\"
    )]
    Malformed(usize),
}

/// The tokens and what each allows. Empty: access control is off.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<(Digest256, Grant)>,
}

/// Shortest token accepted: shorter ones are guessable.
pub const MIN_TOKEN_LENGTH: usize = 16;

impl Tokens {
    /// Parses `scope=token` entries separated by commas or newlines (the
    /// form of `API_TOKENS` and of each line of `API_TOKENS_FILE`); blank
    /// entries and `#` comment lines are skipped. A token listed under
    /// several scopes has them all.
    ///
    /// # Errors
    /// [`TokensError::Malformed`] naming the first bad entry's position.
    pub fn parse(text: &str) -> Result<Self, TokensError> {
        let mut tokens = Self::default();
        let entries = text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty() && !entry.starts_with('#'));
        for (index, entry) in entries.enumerate() {
            let (scope, token) = entry
                .split_once('=')
                .and_then(|(scope, token)| Some((Scope::parse(scope.trim())?, token.trim())))
                .filter(|(_, token)| {
                    token.len() >= MIN_TOKEN_LENGTH && token.bytes().all(token_byte)
                })
                .ok_or(TokensError::Malformed(index + 1))?;
            tokens.add(token, scope);
        }
        Ok(tokens)
    }

    fn add(&mut self, token: &str, scope: Scope) {
        let digest = digest(token.as_bytes());
        match self.entries.iter_mut().find(|(d, _)| *d == digest) {
            Some((_, grant)) => grant.add(scope),
            None => {
                let mut grant = Grant::default();
                grant.add(scope);
                self.entries.push((digest, grant));
            }
        }
    }

    /// Whether access control is on.
    #[must_use]
    pub fn enabled(&self) -> bool {
        !self.entries.is_empty()
    }

    /// How many distinct tokens there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What `presented` (or nothing) may do about `needed`.
    ///
    /// # Errors
    /// [`Denied`] saying why not.
    pub fn check(&self, presented: Option<&[u8]>, needed: Scope) -> Result<(), Denied> {
        let grant = self
            .grant(presented.ok_or(Denied::Missing)?)
            .ok_or(Denied::Unknown)?;
        if grant.allows(needed) {
            Ok(())
        } else {
            Err(Denied::Scope(needed))
        }
    }

    /// The grant of `presented`, compared with every token in constant time.
    #[must_use]
    pub fn grant(&self, presented: &[u8]) -> Option<Grant> {
        let digest = digest(presented);
        let mut found = None;
        for (known, grant) in &self.entries {
            // No early exit, no branch on the bytes: every entry is compared whole.
            let difference = known
                .iter()
                .zip(&digest)
                .fold(0u64, |acc, (a, b)| acc | (a ^ b));
            if bool::from(difference.ct_eq(&0)) {
                found = Some(*grant);
            }
        }
        found
    }
}

impl fmt::Debug for Tokens {
    /// Never the tokens, nor their digests.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tokens({} tokens)", self.entries.len())
    }
}

/// Visible ASCII but the characters that would break a cookie or a list.
fn token_byte(byte: u8) -> bool {
    byte.is_ascii_graphic() && !b";,\"\\".contains(&byte)
}

/// A SHA-256 digest as four words, compared word by word.
type Digest256 = [u64; 4];

fn digest(bytes: &[u8]) -> Digest256 {
    let bytes: [u8; 32] = Sha256::digest(bytes).into();
    std::array::from_fn(|i| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[8 * i..8 * i + 8]);
        u64::from_ne_bytes(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "read-token-0123456789";
    const W: &str = "write-token-0123456789";
    const A: &str = "admin-token-0123456789";

    fn tokens() -> Tokens {
        Tokens::parse(&format!(
            "read={R}, write={W}\nadmin={A}\n# a comment\nread={W}"
        ))
        .unwrap()
    }

    #[test]
    fn each_scope_allows_what_it_names_and_admin_everything() {
        let tokens = tokens();
        let allowed = |token: &str, scope| tokens.check(Some(token.as_bytes()), scope).is_ok();
        assert!(allowed(R, Scope::Read) && !allowed(R, Scope::Write) && !allowed(R, Scope::Admin));
        assert!(
            allowed(W, Scope::Write) && allowed(W, Scope::Read),
            "listed under both"
        );
        assert!(!allowed(W, Scope::Admin));
        assert!(allowed(A, Scope::Read) && allowed(A, Scope::Write) && allowed(A, Scope::Admin));
        assert_eq!(tokens.len(), 3);
    }

    #[test]
    fn missing_unknown_and_short_of_scope_are_told_apart() {
        let tokens = tokens();
        assert_eq!(tokens.check(None, Scope::Read), Err(Denied::Missing));
        assert_eq!(
            tokens.check(Some(b"nope"), Scope::Read),
            Err(Denied::Unknown)
        );
        assert_eq!(
            tokens.check(Some(&R.as_bytes()[..5]), Scope::Read),
            Err(Denied::Unknown)
        );
        assert_eq!(
            tokens.check(Some(R.as_bytes()), Scope::Admin),
            Err(Denied::Scope(Scope::Admin))
        );
    }

    #[test]
    fn bad_entries_are_named_by_position_without_their_content() {
        for (text, position) in [
            ("read=short", 1),
            (&format!("read={R},reader={W}") as &str, 2),
            (R, 1),
            (&format!("admin={A},write=has space in it 0123"), 2),
            ("write=semicolon;0123456789abcdef", 1),
        ] {
            let error = Tokens::parse(text).unwrap_err();
            assert_eq!(error, TokensError::Malformed(position), "{text}");
            assert!(!error.to_string().contains("token-0123"), "{error}");
        }
        assert!(!Tokens::parse("").unwrap().enabled());
        assert_eq!(format!("{:?}", tokens()), "Tokens(3 tokens)");
    }
}
