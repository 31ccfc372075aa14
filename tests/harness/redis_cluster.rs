//! A private six-node Redis Cluster (three masters, three replicas) on free
//! loopback ports, each node in its own temporary directory.

use super::RedisServer;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// One line of `CLUSTER NODES`, as a live node sees it.
#[derive(Debug, Clone)]
pub struct ClusterNode {
    /// The node's cluster id.
    pub id: String,
    /// Its client port (the cluster bus port is this plus 10000).
    pub port: u16,
    /// Whether it is a master (else a replica).
    pub is_master: bool,
    /// For a replica, the id of its master.
    pub master_id: Option<String>,
    /// For a master, the inclusive slot ranges it serves.
    pub slots: Vec<(u16, u16)>,
    /// Flags such as `myself`, `master`, `slave`, `fail?` and `fail`.
    pub flags: Vec<String>,
    /// Whether the asked node's link to it is `connected`.
    pub connected: bool,
}

impl RedisCluster {
    /// Starts six nodes, joins them with `redis-cli --cluster create` and
    /// waits until the cluster is healthy (see [`Self::wait_healthy`]).
    pub fn start() -> Self {
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
        let (out, err) = (output.stdout, output.stderr);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        );
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed:\n{said}"
        );
        cluster.wait_healthy();
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
        self.node_mut(port).restart();
    }

    /// Waits until `replica_port` has taken over from the killed
    /// `old_master_port` and every live node says `cluster_state:ok`.
    pub fn wait_for_promotion(&self, old_master_port: u16, replica_port: u16) {
        self.wait_until(
            &format!("{replica_port} to replace {old_master_port}"),
            |nodes| {
                let promoted = nodes.iter().find(|n| n.port == replica_port);
                promoted.is_some_and(|n| n.is_master && !n.slots.is_empty())
            },
        );
    }

    /// Runs `CLUSTER FAILOVER` on `replica_port` and waits until it is the
    /// master, its old master is its replica and the cluster is ok.
    pub fn manual_failover(&self, replica_port: u16) {
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
        let mut connection = self.connection(replica_port);
        let answer: String = redis::cmd("CLUSTER")
            .arg("FAILOVER")
            .query(&mut connection)
            .expect("CLUSTER FAILOVER");
        assert_eq!(answer, "OK");
        self.wait_until(&format!("manual failover to {replica_port}"), |nodes| {
            nodes
                .iter()
                .any(|n| n.id == old_master && n.master_id.as_deref() == new_master)
        });
    }

    /// Waits until all six nodes run and see three masters with slots and
    /// three replicas, all connected, `cluster_state:ok`, and every replica's
    /// link to its master up.
    pub fn wait_healthy(&self) {
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
        });
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
    fn wait_until(&self, what: &str, good: impl Fn(&[ClusterNode]) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let unhappy = self.live_ports().into_iter().find_map(|port| {
                let info = ask(port, &["CLUSTER", "INFO"]).unwrap_or_default();
                let nodes = nodes_seen_by(port).unwrap_or_default();
                let ok = info.contains("cluster_state:ok") && info.contains("slots_assigned:16384");
                (!ok || !good(&nodes)).then(|| format!("node {port} says {info}\n{nodes:#?}"))
            });
            let Some(unhappy) = unhappy else { return };
            if Instant::now() > deadline {
                let logs: String = self.nodes.iter().map(log_tail).collect();
                panic!("timed out waiting for {what}; {unhappy}\n{logs}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl ClusterNode {
    /// Whether it is flagged `fail` or `fail?` by the node asked.
    pub fn failed(&self) -> bool {
        self.flags.iter().any(|f| f.starts_with("fail"))
    }
}

/// The last lines of a node's log, for a failure message.
fn log_tail(node: &RedisServer) -> String {
    let log = std::fs::read_to_string(node.log_path()).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
    format!("--- node {} log tail:\n{tail}\n", node.port())
}

fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}")
}

/// The text answer of a command on one node, or `None` if it does not answer.
fn ask(port: u16, command: &[&str]) -> Option<String> {
    let client = redis::Client::open(url(port)).ok()?;
    let mut connection = client
        .get_connection_with_timeout(Duration::from_millis(500))
        .ok()?;
    connection
        .set_read_timeout(Some(Duration::from_secs(1)))
        .ok()?;
    redis::cmd(command[0])
        .arg(&command[1..])
        .query(&mut connection)
        .ok()
}

/// A port that was free a moment ago, and whose bus port (plus 10000) too.
fn free_cluster_port() -> u16 {
    (0..100)
        .find_map(|_| {
            let listener = TcpListener::bind("127.0.0.1:0").ok()?;
            let port = listener.local_addr().ok()?.port().checked_add(10000)?;
            TcpListener::bind(("127.0.0.1", port))
                .ok()
                .map(|_| port - 10000)
        })
        .expect("a free loopback port whose bus port (plus 10000) is free too")
}

/// `CLUSTER NODES` on `port`, each line parsed from its fields: id,
/// ip:port@bus, flags, master, ping, pong, epoch, link, slots. Importing and
/// migrating entries (`[...]`) are skipped.
fn nodes_seen_by(port: u16) -> Option<Vec<ClusterNode>> {
    let text = ask(port, &["CLUSTER", "NODES"])?;
    let parse = |line: &str| -> Option<ClusterNode> {
        let f: Vec<&str> = line.split_whitespace().collect();
        let slot = |s: &str| s.parse::<u16>().ok();
        let range = |s: &&str| match s.split_once('-') {
            Some((a, b)) => Some((slot(a)?, slot(b)?)),
            None => Some((slot(s)?, slot(s)?)),
        };
        let flags: Vec<String> = f.get(2)?.split(',').map(str::to_owned).collect();
        let address = f.get(1)?.split('@').next()?;
        let slots = f.get(8..).unwrap_or_default().iter().filter_map(range);
        Some(ClusterNode {
            id: (*f.first()?).to_owned(),
            port: address.rsplit(':').next()?.parse().ok()?,
            is_master: flags.iter().any(|f| f == "master"),
            master_id: f.get(3).filter(|m| **m != "-").map(|m| (*m).to_owned()),
            slots: slots.collect(),
            flags,
            connected: f.get(7) == Some(&"connected"),
        })
    };
    text.lines().map(parse).collect()
}

#[test]
fn a_cluster_starts_spreads_slots_and_fails_over() {
    let started = Instant::now();
    // Through the re-export the suites use.
    let mut cluster = crate::harness::RedisCluster::start();
    eprintln!("cluster started in {:?}", started.elapsed());
    assert!(
        cluster
            .ports()
            .iter()
            .all(|p| cluster.url().contains(&url(*p)))
    );
    let nodes = cluster.nodes();
    let masters: Vec<u16> = nodes
        .iter()
        .filter(|n| n.is_master)
        .map(|n| n.port)
        .collect();
    assert_eq!(masters.len(), 3, "{nodes:#?}");
    let sizes = nodes
        .iter()
        .flat_map(|n| n.slots.clone())
        .map(|(a, b)| b - a + 1);
    assert_eq!(
        sizes.map(u32::from).sum::<u32>(),
        16384,
        "every slot is served once"
    );
    assert!(masters.iter().all(|m| cluster.replica_of(*m) != *m));

    let key = "{p0}x";
    let mut any = cluster.connection(masters[0]);
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut any)
        .expect("KEYSLOT");
    let master = cluster.master_of_slot(slot);
    let replica = cluster.replica_of(master);
    let mut writer = cluster.connection(master);
    redis::cmd("SET")
        .arg(key)
        .arg(1)
        .exec(&mut writer)
        .expect("SET on the slot's master");
    let acked: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(1000)
        .query(&mut writer)
        .expect("WAIT");
    assert_eq!(acked, 1, "the replica acknowledged the write");

    let crashed = Instant::now();
    cluster.kill(master);
    cluster.wait_for_promotion(master, replica);
    eprintln!(
        "{replica} took over {:?} after {master} crashed",
        crashed.elapsed()
    );
    assert_eq!(cluster.master_of_slot(slot), replica);
    let mut reader = cluster.connection(replica);
    let value: Option<String> = redis::cmd("GET").arg(key).query(&mut reader).expect("GET");
    assert_eq!(value.as_deref(), Some("1"));

    let restarted = Instant::now();
    cluster.restart(master);
    cluster.wait_healthy();
    eprintln!("{master} rejoined in {:?}", restarted.elapsed());
    assert_eq!(
        cluster.replica_of(replica),
        master,
        "the old master follows"
    );

    let other = *masters
        .iter()
        .find(|&&p| p != master)
        .expect("another master");
    let other_replica = cluster.replica_of(other);
    let switched = Instant::now();
    cluster.manual_failover(other_replica);
    eprintln!("manual failover took {:?}", switched.elapsed());
    assert_eq!(cluster.replica_of(other_replica), other, "roles swapped");
    eprintln!("the whole test took {:?}", started.elapsed());
}
