//! Readiness: Redis answers, has memory to take writes, keeps an eviction
//! policy that cannot drop the services' state, and (on a cluster) serves
//! every slot. One `INFO memory` per master per probe.

use super::port_error;
use crate::application::{ClusterHealth, MemoryHealth, PortError, Readiness, StoreHealth};
use async_trait::async_trait;
use platform::RedisConnection;
use platform::memory::{NodeMemory, check_policies};

/// Answers `/readyz` from Redis.
#[derive(Clone)]
pub struct RedisReadiness {
    connection: RedisConnection,
    allow_eviction: bool,
}

impl RedisReadiness {
    /// Readiness of the Redis behind `connection`; `allow_eviction` as ALLOW_EVICTION.
    pub fn new(connection: RedisConnection, allow_eviction: bool) -> Self {
        Self {
            connection,
            allow_eviction,
        }
    }
}

#[async_trait]
impl Readiness for RedisReadiness {
    async fn check(&self) -> Result<StoreHealth, PortError> {
        let mut connection = self.connection.clone();
        let nodes = platform::memory::read(&mut connection)
            .await
            .map_err(port_error)?;
        if let Some(full) = nodes.iter().find(|node| node.is_full()) {
            return Err(PortError::OutOfMemory(
                format!(
                    "{} uses {} bytes of its maxmemory {}: writes are refused",
                    if full.node.is_empty() {
                        "Redis"
                    } else {
                        &full.node
                    },
                    full.used_bytes,
                    full.max_bytes
                )
                .into(),
            ));
        }
        let policies = check_policies(&nodes, self.allow_eviction);
        if let Some(refusal) = policies.refusal {
            return Err(PortError::Unavailable(refusal.into()));
        }
        let memory = nodes.into_iter().map(memory_health).collect();
        let cluster = if connection.is_cluster() {
            Some(cluster_state(&mut connection).await?)
        } else {
            None
        };
        Ok(StoreHealth {
            cluster,
            memory,
            warnings: policies.warnings,
        })
    }
}

fn memory_health(node: NodeMemory) -> MemoryHealth {
    MemoryHealth {
        node: node.node,
        used_bytes: node.used_bytes,
        max_bytes: node.max_bytes,
        policy: node.policy,
    }
}

/// `CLUSTER INFO`, refused while a slot is unserved.
async fn cluster_state(connection: &mut RedisConnection) -> Result<ClusterHealth, PortError> {
    let info: String = redis::cmd("CLUSTER")
        .arg("INFO")
        .query_async(connection)
        .await
        .map_err(port_error)?;
    let cluster = cluster_health(&info);
    if cluster.state != "ok" {
        return Err(PortError::Unavailable(
            format!(
                "the Redis Cluster is {} ({} of 16384 slots served)",
                cluster.state, cluster.slots_ok
            )
            .into(),
        ));
    }
    Ok(cluster)
}

/// The fields of `CLUSTER INFO` that `/readyz` reports.
fn cluster_health(info: &str) -> ClusterHealth {
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
            .unwrap_or_default()
    };
    let number = |name: &str| field(name).parse().unwrap_or(0);
    ClusterHealth {
        state: field("cluster_state").to_owned(),
        slots_ok: number("cluster_slots_ok"),
        masters: number("cluster_size"),
        known_nodes: number("cluster_known_nodes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_info_is_read() {
        let info = "cluster_enabled:1\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\n\
                    cluster_slots_ok:16384\r\ncluster_known_nodes:6\r\ncluster_size:3\r\n";
        let health = cluster_health(info);
        assert_eq!(
            health,
            ClusterHealth {
                state: "ok".into(),
                slots_ok: 16384,
                masters: 3,
                known_nodes: 6
            }
        );
        assert_eq!(cluster_health("").state, "");
    }
}
