//! The Redis keys of one deployment, all under one prefix.
//!
//! For Redis Cluster, use a hash-tagged prefix such as `{bayes}`: the apply
//! script touches the log, the model and the dead-letter stream at once, and
//! Redis only runs a script whose keys share a slot.

/// Every key the services use, derived from `KEY_PREFIX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisKeys {
    /// The event log, a stream: one entry per observation, field `trial`.
    pub events: String,
    /// The model hash: counts `w`, `n` and the definition `prior`, `grid_points`.
    pub model: String,
    /// Rejected entries and messages, a stream, each with its reason.
    pub dead: String,
    /// Which bayes instance forwards the pub/sub channel (a lease with a TTL).
    pub ingress_lease: String,
}

impl RedisKeys {
    /// The keys under `prefix`, e.g. `bayes:events`.
    #[must_use]
    pub fn new(prefix: &str) -> Self {
        Self {
            events: format!("{prefix}:events"),
            model: format!("{prefix}:model"),
            dead: format!("{prefix}:dead"),
            ingress_lease: format!("{prefix}:ingress:lease"),
        }
    }
}

/// The consumer group bayes reads the log through.
pub const CONSUMER_GROUP: &str = "bayes";

/// The stream field that carries the observation.
pub const TRIAL_FIELD: &str = "trial";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_starts_with_the_prefix() {
        let keys = RedisKeys::new("{bayes}");
        for key in [&keys.events, &keys.model, &keys.dead, &keys.ingress_lease] {
            assert!(key.starts_with("{bayes}:"), "{key}");
        }
        assert_eq!(keys.events, "{bayes}:events");
    }
}
