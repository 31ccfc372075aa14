//! One connection type for both deployments: a standalone Redis (a
//! self-reconnecting multiplexed connection) or a Redis Cluster (redis-rs's
//! async cluster client, which follows `MOVED`/`ASK` and topology changes).
//! Adapters hold a [`RedisConnection`] and never ask which it is, except
//! where the two differ in what Redis promises (`WAIT`, node addresses).

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

/// A connection to the deployment's Redis, cheap to clone (clones share
/// their sockets; commands from concurrent tasks pipeline on them).
#[derive(Clone)]
pub enum RedisConnection {
    /// One endpoint: a standalone Redis or a primary.
    Single(ConnectionManager),
    /// A Redis Cluster: each command goes to the master of its keys' slot.
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Whether this connection spans a cluster.
    #[must_use]
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }

    /// Runs `cmd` on the master serving `key`'s slot (on a standalone Redis,
    /// on the one endpoint). For keyless commands whose answer depends on
    /// the node, such as `WAIT` or `CLUSTER INFO`.
    ///
    /// # Errors
    /// As the command.
    pub async fn on_node_of(&mut self, key: &str, cmd: &Cmd) -> RedisResult<Value> {
        match self {
            Self::Single(connection) => cmd.query_async(connection).await,
            Self::Cluster(connection) => {
                let slot = crate::partition::key_slot(key);
                let route = redis::cluster_routing::Route::new(
                    slot,
                    redis::cluster_routing::SlotAddr::Master,
                );
                connection
                    .route_command(
                        cmd.clone(),
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                    )
                    .await
            }
        }
    }

    /// On a cluster, `host:port` of the master serving `key`'s slot, from
    /// `CLUSTER SLOTS`; `None` on one endpoint.
    ///
    /// # Errors
    /// As `CLUSTER SLOTS`.
    pub async fn node_serving(&mut self, key: &str) -> RedisResult<Option<String>> {
        if !self.is_cluster() {
            return Ok(None);
        }
        let slot = i64::from(crate::partition::key_slot(key));
        let slots: Value = redis::cmd("CLUSTER").arg("SLOTS").query_async(self).await?;
        let Value::Array(ranges) = slots else {
            return Ok(None);
        };
        Ok(ranges.iter().find_map(|range| match range {
            Value::Array(parts) => match (parts.first(), parts.get(1), parts.get(2)) {
                (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(master)))
                    if (*start..=*end).contains(&slot) =>
                {
                    match (master.first(), master.get(1)) {
                        (Some(Value::BulkString(host)), Some(Value::Int(port))) => {
                            Some(format!("{}:{port}", String::from_utf8_lossy(host)))
                        }
                        _ => None,
                    }
                }
                _ => None,
            },
            _ => None,
        }))
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}
