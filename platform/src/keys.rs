//! The Redis keys of one deployment: a prefix, and `PARTITIONS` partitions.
//!
//! A model lives in one partition, [`partition_of`] its name. Each
//! partition's keys (its log stream, cursor, dead letters, model index and
//! model hashes) share one hash tag, so one script may touch them all on
//! Redis Cluster, and the tags are chosen so that the partitions' slots are
//! spread evenly over the slot space (see [`partition_tag`]).
//!
//! With one partition the keys keep v1's names (`<prefix>:events`,
//! `<prefix>:model`, `<prefix>:dead`), so a v1 deployment upgrades in place.

use crate::partition::{partition_of, partition_tag};
use domain::ModelName;

/// The consumer group kept on every partition stream, moved with the cursor
/// so `XINFO GROUPS` shows operators the true lag. It has no pending entries.
pub const CONSUMER_GROUP: &str = "bayes";

/// Every key the services use, derived from `KEY_PREFIX` and `PARTITIONS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisKeys {
    prefix: String,
    partitions: Vec<PartitionKeys>,
    /// The partition count this deployment was started with (a string).
    pub partition_count: String,
    /// Live bayes instances: a sorted set scored by heartbeat expiry (ms).
    pub instances: String,
    /// Which bayes instance forwards the pub/sub channel (a lease with a TTL).
    pub ingress_lease: String,
    /// The pub/sub channel of notices bayes publishes after each applied
    /// batch (`{"partition", "models", "more"}`), for the live view.
    pub applied: String,
}

/// The keys of one partition; all share one hash tag (none with one partition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionKeys {
    /// The partition's index, `0..PARTITIONS`.
    pub index: u32,
    /// `<prefix>:` or `<prefix>:{tag}:`: what every key of the partition starts with.
    base: String,
    /// The event log, a stream.
    pub events: String,
    /// The committed cursor, a hash: `id` (last applied entry), `read`
    /// (entries applied or lost so far), `lost`, `by` (the last applier).
    pub cursor: String,
    /// Rejected entries and messages, a stream, each with its reason.
    pub dead: String,
    /// The names of the partition's models, a sorted set (all scores 0, so
    /// it pages by name with `ZRANGEBYLEX`).
    pub models: String,
    /// Which bayes instance consumes the partition (a lease with a TTL).
    pub owner: String,
    /// The pub/sub forwarder's fence in this partition: the holder of
    /// [`RedisKeys::ingress_lease`] claims it in every partition before it
    /// forwards, and each forward checks it in the same script as its
    /// append (a script touches one slot). With one partition it is the
    /// lease itself.
    pub ingress: String,
    /// The names of the experiments homed in the partition (those whose
    /// names it holds), a sorted set like [`Self::models`].
    pub experiments: String,
    /// The decisions announced for those experiments, a stream: one entry
    /// per change of decision or stop (see `stored_experiment`). With one
    /// partition, `<prefix>:decisions`.
    pub decisions: String,
}

impl RedisKeys {
    /// The keys under `prefix` for `partitions` partitions (at least 1).
    #[must_use]
    pub fn new(prefix: &str, partitions: u32) -> Self {
        let count = partitions.max(1);
        let partitions = (0..count)
            .map(|index| PartitionKeys::new(prefix, index, count))
            .collect();
        Self {
            prefix: prefix.to_owned(),
            partitions,
            partition_count: format!("{prefix}:partitions"),
            instances: format!("{prefix}:instances"),
            ingress_lease: format!("{prefix}:ingress:lease"),
            applied: format!("{prefix}:applied"),
        }
    }

    /// The prefix every key starts with.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// How many partitions.
    #[must_use]
    pub fn partition_count(&self) -> u32 {
        self.partitions.len() as u32
    }

    /// Every partition, in index order.
    #[must_use]
    pub fn partitions(&self) -> &[PartitionKeys] {
        &self.partitions
    }

    /// Partition `index`, if there is one.
    #[must_use]
    pub fn partition(&self, index: u32) -> Option<&PartitionKeys> {
        self.partitions.get(index as usize)
    }

    /// The partition `model` lives in.
    #[must_use]
    pub fn partition_for(&self, model: &ModelName) -> &PartitionKeys {
        let index = partition_of(model.as_str(), self.partition_count());
        &self.partitions[index as usize]
    }

    /// The hash of `model`, in its partition.
    #[must_use]
    pub fn model(&self, model: &ModelName) -> String {
        self.partition_for(model).model(model)
    }

    /// The partition an experiment named `name` lives in: the one a model
    /// of that name would.
    #[must_use]
    pub fn partition_for_experiment(&self, name: &ModelName) -> &PartitionKeys {
        self.partition_for(name)
    }

    /// The hash of the experiment `name`, in its partition.
    #[must_use]
    pub fn experiment(&self, name: &ModelName) -> String {
        self.partition_for(name).experiment_key(name.as_str())
    }

    /// The history stream of `model`, in its partition.
    #[must_use]
    pub fn history(&self, model: &ModelName) -> String {
        self.partition_for(model).history_key(model.as_str())
    }
}

impl PartitionKeys {
    fn new(prefix: &str, index: u32, count: u32) -> Self {
        let base = if count == 1 {
            format!("{prefix}:")
        } else {
            format!("{prefix}:{{{}}}:", partition_tag(index, count))
        };
        Self {
            index,
            events: format!("{base}events"),
            cursor: format!("{base}cursor"),
            dead: format!("{base}dead"),
            models: format!("{base}models"),
            owner: format!("{base}owner"),
            experiments: format!("{base}experiments"),
            decisions: format!("{base}decisions"),
            ingress: if count == 1 {
                format!("{prefix}:ingress:lease")
            } else {
                format!("{base}ingress")
            },
            base,
        }
    }

    /// The hash of `model`: `<base>model:<name>`; the model `default` of a
    /// one-partition deployment keeps v1's `<prefix>:model`.
    #[must_use]
    pub fn model(&self, model: &ModelName) -> String {
        self.model_key(model.as_str())
    }

    /// As [`PartitionKeys::model`], for a name already validated.
    #[must_use]
    pub fn model_key(&self, name: &str) -> String {
        if name == "default" && !self.base.contains('{') {
            format!("{}model", self.base)
        } else {
            format!("{}model:{name}", self.base)
        }
    }

    /// The history of the model `name` (validated): a stream with an entry
    /// `<t>-0 w <w> n <n>` per interval of log time in which its counts
    /// changed, `t` the interval's end (see `log_time`).
    #[must_use]
    pub fn history_key(&self, name: &str) -> String {
        format!("{}history:{name}", self.base)
    }

    /// The hash of the experiment `name` (validated): its definition, its
    /// status and its last announced decision.
    #[must_use]
    pub fn experiment_key(&self, name: &str) -> String {
        format!("{}experiment:{name}", self.base)
    }

    /// The record of the api's write `token` (a replay guard, short-lived).
    #[must_use]
    pub fn write_token(&self, token: &str) -> String {
        format!("{}write:{token}", self.base)
    }

    /// The record of a client's Idempotency-Key `key` for `model`: what
    /// the first request under it was and where it landed.
    #[must_use]
    pub fn idempotency(&self, model: &str, key: &str) -> String {
        format!("{}idem:{model}:{key}", self.base)
    }

    /// What the model hashes' keys start with, for a script that derives
    /// them from names (it appends the name, except for [`Self::model`]'s
    /// v1 case, which the script is told separately).
    #[must_use]
    pub fn model_base(&self) -> String {
        format!("{}model:", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::key_slot;

    fn name(s: &str) -> ModelName {
        ModelName::parse(s).unwrap()
    }

    #[test]
    fn one_partition_keeps_the_v1_names() {
        let keys = RedisKeys::new("bayes", 1);
        let p = &keys.partitions()[0];
        assert_eq!(p.events, "bayes:events");
        assert_eq!(p.dead, "bayes:dead");
        assert_eq!(keys.model(&name("default")), "bayes:model");
        assert_eq!(keys.model(&name("b")), "bayes:model:b");
        assert_eq!(keys.ingress_lease, "bayes:ingress:lease");
        assert_eq!(p.ingress, keys.ingress_lease);
        assert_eq!(p.decisions, "bayes:decisions");
        assert_eq!(
            keys.experiment(&name("checkout")),
            "bayes:experiment:checkout"
        );
    }

    #[test]
    fn a_partition_s_keys_share_one_slot_and_partitions_spread_over_slots() {
        let keys = RedisKeys::new("bayes", 6);
        let mut slots = Vec::new();
        for p in keys.partitions() {
            let slot = key_slot(&p.events);
            let partition_keys = [
                &p.cursor,
                &p.dead,
                &p.models,
                &p.owner,
                &p.ingress,
                &p.model_key("x"),
                &p.write_token("t"),
                &p.idempotency("x", "{k}"),
                &p.experiments,
                &p.decisions,
                &p.experiment_key("e"),
            ];
            for key in partition_keys {
                assert_eq!(key_slot(key), slot, "{key}");
            }
            slots.push(slot);
        }
        // Partition i's slot lies in the i-th sixth of the slot space: on a
        // cluster whose masters hold equal ranges, the load spreads evenly.
        for (i, slot) in slots.iter().enumerate() {
            assert_eq!(usize::from(*slot) * 6 / 16384, i, "{slots:?}");
        }
        assert_eq!(keys.model(&name("default")), "bayes:{p0.1}:model:default");
    }
}
