//! A private six-node Redis Cluster (three masters, three replicas) on free
//! loopback ports, each node in its own temporary directory.
//!
//! Its waits are async, and the blocking work inside them (starting a node,
//! probing the nodes) runs in `block_in_place`: tests that use a cluster
//! run on a multi-threaded runtime, where a load they drive keeps running
//! while the cluster is killed, promoted and restarted.

mod nodes;
mod self_test;

use super::RedisServer;
pub use nodes::ClusterNode;
use nodes::{ask, free_cluster_port, log_tail, nodes_seen_by, url};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::task::block_in_place;

/// How long a start, failover or rejoin may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// A cluster this test owns. Every node is killed when dropped.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

/// What makes a `redis-server` a cluster node here: a one-second node
/// timeout (failovers in seconds) and its nodes file in its own directory.
const NODE_ARGS: [&str; 10] = [
    "--appendonly",
    "no",
    "--cluster-enabled",
    "yes",
    "--cluster-node-timeout",
    "1000",
    "--cluster-config-file",
    "nodes.conf",
    // A replica's first sync otherwise waits 5 s for more replicas.
    "--repl-diskless-sync-delay",
    "0",
];

impl RedisCluster {
    /// Starts six nodes, joins them with `redis-cli --cluster create` and
    /// waits until the cluster is healthy (see [`Self::wait_healthy`]).
    pub async fn start() -> Self {
        let cluster = block_in_place(|| {
            let nodes = (0..6)
                .map(|_| RedisServer::start_on(free_cluster_port, &NODE_ARGS))
                .collect();
            let cluster = Self { nodes };
            let output = Command::new("redis-cli")
                .args(["--cluster", "create"])
                .args(cluster.ports().iter().map(|p| format!("127.0.0.1:{p}")))
                .args(["--cluster-replicas", "1", "--cluster-yes"])
                .stdin(Stdio::null())
                .output()
                .expect("run redis-cli (install it with `apt-get install redis-server`)");
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(
                output.status.success(),
                "redis-cli --cluster create failed:\n{said}"
            );
            cluster
        });
        cluster.wait_healthy().await;
        cluster
    }

    /// The seed URLs of all six nodes, comma-separated.
    pub fn url(&self) -> String {
        let urls: Vec<String> = self.ports().iter().map(|p| url(*p)).collect();
        urls.join(",")
    }

    /// The client ports of all six nodes, killed or not.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(RedisServer::port).collect()
    }

    /// The cluster as the first live node that answers sees it.
    pub fn nodes(&self) -> Vec<ClusterNode> {
        self.live_ports()
            .into_iter()
            .find_map(nodes_seen_by)
            .expect("a live cluster node answers CLUSTER NODES")
    }

    /// The port of the live master serving `slot`.
    pub fn master_of_slot(&self, slot: u16) -> u16 {
        let nodes = self.nodes();
        let serves = |n: &&ClusterNode| {
            n.is_master && !n.failed() && n.slots.iter().any(|&(a, b)| (a..=b).contains(&slot))
        };
        let master = nodes.iter().find(serves);
        master
            .unwrap_or_else(|| panic!("no live master serves {slot}: {nodes:#?}"))
            .port
    }

    /// The port of the replica of the master on `master_port`.
    pub fn replica_of(&self, master_port: u16) -> u16 {
        let nodes = self.nodes();
        let master = nodes
            .iter()
            .find(|n| n.port == master_port)
            .map(|n| n.id.as_str());
        let replica = nodes
            .iter()
            .find(|n| master.is_some() && n.master_id.as_deref() == master);
        replica
            .unwrap_or_else(|| panic!("{master_port} has no replica: {nodes:#?}"))
            .port
    }

    /// Kills the node on `port` at once (SIGKILL), as a crash would.
    pub fn kill(&mut self, port: u16) {
        self.node_mut(port).kill();
    }

    /// Starts the node on `port` again with its directory and nodes file; it
    /// rejoins by itself (a former master as a replica of its replacement).
    pub fn restart(&mut self, port: u16) {
        let node = self.node_mut(port);
        block_in_place(|| node.restart());
    }

    /// Waits until `replica_port` has taken over from the killed
    /// `old_master_port` and every live node says `cluster_state:ok`.
    pub async fn wait_for_promotion(&self, old_master_port: u16, replica_port: u16) {
        let what = format!("{replica_port} to replace {old_master_port}");
        self.wait_until(&what, |nodes| {
            let promoted = nodes.iter().find(|n| n.port == replica_port);
            promoted.is_some_and(|n| n.is_master && !n.slots.is_empty())
        })
        .await;
    }

    /// Runs `CLUSTER FAILOVER` on `replica_port` and waits until it is the
    /// master, its old master is its replica and the cluster is ok.
    pub async fn manual_failover(&self, replica_port: u16) {
        let nodes = self.nodes();
        let replica = nodes
            .iter()
            .find(|n| n.port == replica_port)
            .expect("a cluster node");
        let old_master = replica
            .master_id
            .clone()
            .expect("CLUSTER FAILOVER needs a replica");
        let new_master = Some(replica.id.as_str());
        let answer: String = block_in_place(|| {
            redis::cmd("CLUSTER")
                .arg("FAILOVER")
                .query(&mut self.connection(replica_port))
                .expect("CLUSTER FAILOVER")
        });
        assert_eq!(answer, "OK");
        self.wait_until(&format!("manual failover to {replica_port}"), |nodes| {
            nodes
                .iter()
                .any(|n| n.id == old_master && n.master_id.as_deref() == new_master)
        })
        .await;
    }

    /// Waits until all six nodes run and see three masters with slots and
    /// three replicas, all connected, `cluster_state:ok`, and every replica's
    /// link to its master up.
    pub async fn wait_healthy(&self) {
        self.wait_until("a healthy cluster", |nodes| {
            let masters = nodes
                .iter()
                .filter(|n| n.is_master && !n.slots.is_empty())
                .count();
            let replicas = nodes.iter().filter(|n| n.master_id.is_some()).count();
            let connected = nodes.iter().all(|n| n.connected && !n.failed());
            let synced = self.nodes.iter().all(|n| {
                let info = ask(n.port(), &["INFO", "replication"]).unwrap_or_default();
                !info.contains("role:slave") || info.contains("master_link_status:up")
            });
            self.live_ports().len() == 6 && masters == 3 && replicas == 3 && connected && synced
        })
        .await;
    }

    /// A connection to the node on `port` for the test's own commands.
    pub fn connection(&self, port: u16) -> redis::Connection {
        let client = redis::Client::open(url(port)).expect("valid URL");
        let connection = client
            .get_connection_with_timeout(Duration::from_secs(1))
            .unwrap_or_else(|e| panic!("connect to cluster node {port}: {e}"));
        connection
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        connection
    }

    fn node_mut(&mut self, port: u16) -> &mut RedisServer {
        let node = self.nodes.iter_mut().find(|n| n.port() == port);
        node.unwrap_or_else(|| panic!("{port} is no node of this cluster"))
    }

    fn live_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|n| n.is_running())
            .map(RedisServer::port)
            .collect()
    }

    /// Waits until every live node says `cluster_state:ok` with all slots
    /// assigned and `good` holds for its view of `CLUSTER NODES`.
    async fn wait_until(&self, what: &str, good: impl Fn(&[ClusterNode]) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let unhappy = block_in_place(|| {
                self.live_ports().into_iter().find_map(|port| {
                    let info = ask(port, &["CLUSTER", "INFO"]).unwrap_or_default();
                    let nodes = nodes_seen_by(port).unwrap_or_default();
                    let ok =
                        info.contains("cluster_state:ok") && info.contains("slots_assigned:16384");
                    (!ok || !good(&nodes)).then(|| format!("node {port} says {info}\n{nodes:#?}"))
                })
            });
            let Some(unhappy) = unhappy else { return };
            if Instant::now() > deadline {
                let logs: String = self.nodes.iter().map(log_tail).collect();
                panic!("timed out waiting for {what}; {unhappy}\n{logs}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
