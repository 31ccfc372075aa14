//! Idempotent retries: a client names a request with an `Idempotency-Key`;
//! a retry with the same key (for the same model, within the window)
//! answers what the first answer said and stores nothing more. The log
//! checks and records the key in the same atomic write as the observations.

use domain::Observation;
use sha2::{Digest, Sha256};

/// The longest key accepted, as Stripe's.
pub const MAX_KEY_LENGTH: usize = 255;

/// A client's name for one request: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// Why a key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces)")]
pub struct BadKey;

impl IdempotencyKey {
    /// Checks a key as a header carries it.
    ///
    /// # Errors
    /// [`BadKey`] for an empty or long key, or one with other characters.
    pub fn parse(text: &[u8]) -> Result<Self, BadKey> {
        let visible = text.iter().all(|b| b.is_ascii_graphic());
        if text.is_empty() || text.len() > MAX_KEY_LENGTH || !visible {
            return Err(BadKey);
        }
        // Visible ASCII is UTF-8.
        Ok(Self(String::from_utf8_lossy(text).into_owned()))
    }

    /// The key as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key and what it guards: the fingerprint of the request's
/// observations, so a retry is told from another request under the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// The client's key.
    pub key: IdempotencyKey,
    /// Hex digest of the observations, in order.
    pub fingerprint: String,
}

impl Guard {
    /// The guard of `observations` sent under `key`. The same trials sent
    /// as a string, a list or counts are the same request.
    #[must_use]
    pub fn new(key: IdempotencyKey, observations: &[Observation]) -> Self {
        let mut digest = Sha256::new();
        for observation in observations {
            digest.update(observation.as_str().as_bytes());
        }
        let bytes = digest.finalize();
        let fingerprint = bytes[..16].iter().map(|b| format!("{b:02x}")).collect();
        Self { key, fingerprint }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Observation::{Loss, Win};

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(IdempotencyKey::parse(b"order-17:retry_ok").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        for bad in [
            &b""[..],
            &[b'k'; 256],
            b"two words",
            b"tab\t",
            "é".as_bytes(),
            b"nul\0",
        ] {
            assert_eq!(IdempotencyKey::parse(bad), Err(BadKey), "{bad:?}");
        }
    }

    #[test]
    fn the_fingerprint_is_the_observations_in_order() {
        let key = || IdempotencyKey::parse(b"k").unwrap();
        let wl = Guard::new(key(), &[Win, Loss]);
        assert_eq!(wl, Guard::new(key(), &[Win, Loss]));
        assert_ne!(wl.fingerprint, Guard::new(key(), &[Loss, Win]).fingerprint);
        assert_ne!(wl.fingerprint, Guard::new(key(), &[Win]).fingerprint);
        assert_eq!(wl.fingerprint.len(), 32);
    }
}
