//! What a cluster node says about the cluster: `CLUSTER NODES` parsed, and
//! the blocking probes the harness asks it with (short timeouts, loopback).

use super::super::RedisServer;
use std::net::TcpListener;
use std::time::Duration;

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

impl ClusterNode {
    /// Whether it is flagged `fail` or `fail?` by the node asked.
    pub fn failed(&self) -> bool {
        self.flags.iter().any(|f| f.starts_with("fail"))
    }
}

/// The last lines of a node's log, for a failure message.
pub(super) fn log_tail(node: &RedisServer) -> String {
    let log = std::fs::read_to_string(node.log_path()).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
    format!("--- node {} log tail:\n{tail}\n", node.port())
}

pub(super) fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}")
}

/// The text answer of a command on one node, or `None` if it does not answer.
pub(super) fn ask(port: u16, command: &[&str]) -> Option<String> {
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
pub(super) fn free_cluster_port() -> u16 {
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
pub(super) fn nodes_seen_by(port: u16) -> Option<Vec<ClusterNode>> {
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
