//! Redis's memory: its limit, its use and its eviction policy, read from
//! `INFO memory` (which managed Redis services allow where `CONFIG GET` is
//! disabled) on every master, and what the services make of them.
//!
//! The state lives in Redis: an eviction policy that may drop any key
//! (`allkeys-*`) may drop model counts, cursors and the log itself when
//! Redis fills, so the services refuse to run on one unless told to. A
//! `volatile-*` policy may drop what has a time to live — Idempotency-Key
//! records, write tokens, leases — so they warn. `noeviction` (or no
//! `maxmemory`) refuses writes when full instead: the services answer
//! "out of memory" and lose nothing.

use crate::RedisConnection;
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo};
use redis::{RedisResult, Value};

/// One master's memory, as `INFO memory` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeMemory {
    /// `host:port` on a cluster; empty on one endpoint.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// `used_memory`, bytes.
    pub used_bytes: u64,
    /// `maxmemory`, bytes; 0: no limit.
    pub max_bytes: u64,
    /// `maxmemory_policy`.
    pub policy: String,
}

/// What an eviction policy may do to the services' keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// Nothing is evicted (`noeviction`, or no `maxmemory`).
    Never,
    /// Keys with a time to live may be evicted (`volatile-*`).
    Volatile(String),
    /// Any key may be evicted (`allkeys-*`).
    AnyKey(String),
}

impl NodeMemory {
    /// Reads the fields of an `INFO memory` reply; `None` without a policy.
    #[must_use]
    pub fn parse(node: &str, info: &str) -> Option<Self> {
        let field = |name: &str| {
            info.lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let number = |name: &str| field(name).and_then(|v| v.parse().ok()).unwrap_or(0);
        Some(Self {
            node: node.to_owned(),
            used_bytes: number("used_memory"),
            max_bytes: number("maxmemory"),
            policy: field("maxmemory_policy")?.to_owned(),
        })
    }

    /// Whether Redis refuses writes now: `maxmemory` reached.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.max_bytes > 0 && self.used_bytes >= self.max_bytes
    }

    /// What the policy may evict. Without `maxmemory` nothing is.
    #[must_use]
    pub fn eviction(&self) -> Eviction {
        if self.max_bytes == 0 || self.policy == "noeviction" {
            Eviction::Never
        } else if self.policy.starts_with("volatile-") {
            Eviction::Volatile(self.policy.clone())
        } else {
            Eviction::AnyKey(self.policy.clone())
        }
    }

    fn name(&self) -> String {
        if self.node.is_empty() {
            "Redis".to_owned()
        } else {
            format!("Redis at {}", self.node)
        }
    }
}

/// The verdict on a deployment's eviction policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyCheck {
    /// Why the services must not run, one line (`allkeys-*` without the override).
    pub refusal: Option<String>,
    /// What to log at start and show in readiness (`volatile-*`, an overridden `allkeys-*`).
    pub warnings: Vec<String>,
}

/// Judges every master's policy; `allow_eviction` turns a refusal into a warning.
#[must_use]
pub fn check_policies(nodes: &[NodeMemory], allow_eviction: bool) -> PolicyCheck {
    let mut check = PolicyCheck::default();
    for node in nodes {
        match node.eviction() {
            Eviction::Never => {}
            Eviction::Volatile(policy) => check.warnings.push(format!(
                "{} has maxmemory-policy {policy}: when full it may evict keys with a time to \
                 live — Idempotency-Key records (a retry could then count twice), write tokens \
                 and leases; set maxmemory-policy noeviction",
                node.name()
            )),
            Eviction::AnyKey(policy) if allow_eviction => check.warnings.push(format!(
                "{} has maxmemory-policy {policy}: when full it may evict model counts, cursors \
                 and the log (running anyway: ALLOW_EVICTION=true)",
                node.name()
            )),
            Eviction::AnyKey(policy) => {
                check.refusal.get_or_insert_with(|| {
                    format!(
                        "{} has maxmemory-policy {policy}: when full it may evict model counts, \
                         cursors and the log, losing observations silently; set \
                         maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, \
                         and in redis.conf), or ALLOW_EVICTION=true to run anyway",
                        node.name()
                    )
                });
            }
        }
    }
    check
}

/// `INFO memory` of the one endpoint, or of every master of a cluster.
///
/// # Errors
/// As `INFO`, or a reply without a `maxmemory_policy` field.
pub async fn read(connection: &mut RedisConnection) -> RedisResult<Vec<NodeMemory>> {
    let mut info = redis::cmd("INFO");
    info.arg("memory");
    let replies = match connection {
        RedisConnection::Single(single) => vec![(String::new(), info.query_async(single).await?)],
        RedisConnection::Cluster(cluster) => {
            let route = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
            match cluster.route_command(info, route).await? {
                Value::Map(pairs) => pairs
                    .into_iter()
                    .map(|(node, reply)| Ok((redis::from_redis_value(node)?, reply)))
                    .collect::<RedisResult<_>>()?,
                reply => vec![(String::new(), reply)],
            }
        }
    };
    replies
        .into_iter()
        .map(|(node, reply)| {
            if let Value::ServerError(error) = reply {
                return Err(error.into());
            }
            let text: String = redis::from_redis_value(reply)?;
            NodeMemory::parse(&node, &text).ok_or_else(|| {
                redis::RedisError::from((
                    redis::ErrorKind::Parse,
                    "INFO memory has no maxmemory_policy",
                ))
            })
        })
        .collect()
}

/// Why the services must not run on this Redis, or could not tell.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// An eviction policy that may drop any key, without the override.
    #[error("{0}")]
    Refused(String),
    /// Redis did not answer `INFO memory`.
    #[error("cannot read Redis's maxmemory-policy: {0}")]
    Redis(#[from] redis::RedisError),
}

/// The check at start: every master's policy read and judged; warnings are
/// logged, a refusal returned. A Redis user that may not run `INFO` is
/// warned about, not refused (the policy cannot be read, so it is not known
/// to be wrong).
///
/// # Errors
/// [`PolicyError::Refused`] for an `allkeys-*` policy without
/// `allow_eviction`; [`PolicyError::Redis`] while Redis does not answer.
pub async fn ensure_policy(
    connection: &mut RedisConnection,
    allow_eviction: bool,
) -> Result<(), PolicyError> {
    let nodes = match read(connection).await {
        Ok(nodes) => nodes,
        Err(error) if error.code() == Some("NOPERM") => {
            tracing::warn!(%error, "cannot check Redis's maxmemory-policy (INFO is not permitted); make sure it is noeviction");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    let check = check_policies(&nodes, allow_eviction);
    for warning in &check.warnings {
        tracing::warn!("{warning}");
    }
    check
        .refusal
        .map_or(Ok(()), |refusal| Err(PolicyError::Refused(refusal)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(policy: &str, max_bytes: u64) -> NodeMemory {
        NodeMemory {
            node: String::new(),
            used_bytes: 1_000,
            max_bytes,
            policy: policy.to_owned(),
        }
    }

    #[test]
    fn info_memory_is_read() {
        let info = "# Memory\r\nused_memory:10337528\r\nused_memory_human:9.86M\r\n\
                    maxmemory:4194304\r\nmaxmemory_human:4.00M\r\nmaxmemory_policy:noeviction\r\n";
        let memory = NodeMemory::parse("127.0.0.1:7000", info).unwrap();
        assert_eq!(memory.used_bytes, 10_337_528);
        assert_eq!(memory.max_bytes, 4_194_304);
        assert_eq!(memory.policy, "noeviction");
        assert!(memory.is_full());
        assert!(NodeMemory::parse("", "used_memory:1\r\n").is_none());
        assert!(!node("noeviction", 0).is_full());
    }

    #[test]
    fn allkeys_is_refused_volatile_warned_noeviction_silent() {
        let refused = check_policies(&[node("allkeys-lru", 1 << 30)], false);
        let refusal = refused.refusal.unwrap();
        assert!(
            refusal.contains("allkeys-lru") && refusal.contains("noeviction"),
            "{refusal}"
        );
        assert!(refusal.contains("ALLOW_EVICTION"), "{refusal}");

        let overridden = check_policies(&[node("allkeys-lfu", 1 << 30)], true);
        assert_eq!(overridden.refusal, None);
        assert_eq!(overridden.warnings.len(), 1);

        let volatile = check_policies(&[node("volatile-lru", 1 << 30)], false);
        assert_eq!(volatile.refusal, None);
        assert!(volatile.warnings[0].contains("Idempotency-Key"));

        assert_eq!(
            check_policies(&[node("noeviction", 1 << 30)], false),
            PolicyCheck::default()
        );
        assert_eq!(
            check_policies(&[node("allkeys-lru", 0)], false),
            PolicyCheck::default()
        );
    }

    #[test]
    fn every_node_is_judged() {
        let mut ok = node("noeviction", 1 << 30);
        ok.node = "a:1".into();
        let mut bad = node("allkeys-random", 1 << 30);
        bad.node = "b:2".into();
        let refusal = check_policies(&[ok, bad], false).refusal.unwrap();
        assert!(
            refusal.starts_with("Redis at b:2 has maxmemory-policy allkeys-random"),
            "{refusal}"
        );
    }
}
