//! Redis Cluster with the real binaries: a local cluster of three masters
//! and three replicas, `PARTITIONS=6` spread over the masters, many models
//! counted exactly through a kill -9 of bayes ([`spread`]), a master killed
//! under load, with and without `REPLICAS_ACK`, and a graceful
//! `CLUSTER FAILOVER` ([`failover`]).
//!
//! The cluster's waits probe it with blocking calls inside
//! `block_in_place`, so these tests run on a multi-threaded runtime: the
//! load ([`load`]) keeps running on the other worker while the test kills,
//! waits for a promotion and restarts.

mod failover;
mod load;
mod spread;

use crate::harness::{RedisCluster, SETTLE, Service, eventually, free_port};
use platform::RedisKeys;
use platform::partition::key_slot;
use std::time::Duration;

const PARTITIONS: u32 = 6;

/// The services on a cluster.
struct ClusterApp {
    cluster: RedisCluster,
    prefix: String,
    env: Vec<(String, String)>,
    api: Service,
    api_url: String,
    bayes: Vec<Service>,
    http: reqwest::Client,
    logs: tempfile::TempDir,
    _graphs: tempfile::TempDir,
}

impl ClusterApp {
    async fn start(extra: &[(&str, &str)], bayes: usize) -> Self {
        let cluster = RedisCluster::start().await;
        let prefix = format!("cluster{}-{}", std::process::id(), free_port());
        let graphs = tempfile::tempdir().expect("graphs dir");
        let logs = tempfile::tempdir().expect("logs dir");
        let api_addr = format!("127.0.0.1:{}", free_port());
        let mut env: Vec<(String, String)> = [
            ("REDIS_URL", cluster.url()),
            ("KEY_PREFIX", prefix.clone()),
            ("REDIS_CHANNEL", format!("{prefix}-update_model")),
            ("PARTITIONS", PARTITIONS.to_string()),
            ("GRAPHS_DIR", graphs.path().display().to_string()),
            ("API_ADDR", api_addr.clone()),
            ("LEASE_TTL_MS", "1500".to_owned()),
            ("BLOCK_MS", "200".to_owned()),
            ("RENDER_INTERVAL_MS", "2000".to_owned()),
            ("REDIS_TIMEOUT_MS", "1000".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let api = Service::start("api", env.clone(), logs.path().join("api.log"));
        let mut app = Self {
            cluster,
            prefix,
            env,
            api,
            api_url: format!("http://{api_addr}"),
            bayes: Vec::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            logs,
            _graphs: graphs,
        };
        for _ in 0..bayes {
            app.start_bayes();
        }
        eventually("the api ready on the cluster", SETTLE, || async {
            let answer = app.http.get(format!("{}/readyz", app.api_url)).send().await;
            match answer {
                Ok(r) if r.status() == 200 => r.json::<serde_json::Value>().await.ok(),
                _ => None,
            }
        })
        .await;
        app
    }

    fn start_bayes(&mut self) {
        let index = self.bayes.len();
        let mut env = self.env.clone();
        env.push((
            "METRICS_ADDR".to_owned(),
            format!("127.0.0.1:{}", free_port()),
        ));
        env.push(("INSTANCE_ID".to_owned(), format!("bayes-{index}")));
        let log = self.logs.path().join(format!("bayes-{index}.log"));
        self.bayes.push(Service::start("bayes", env, log));
    }

    fn keys(&self) -> RedisKeys {
        RedisKeys::new(&self.prefix, PARTITIONS)
    }

    /// `(w, n)` of `model` as stored, read from the master of its slot.
    fn counts(&self, model: &str) -> (u64, u64) {
        let name = domain::ModelName::parse(model).expect("valid name");
        let key = self.keys().model(&name);
        let port = self.cluster.master_of_slot(key_slot(&key));
        let mut connection = self.cluster.connection(port);
        let (w, n): (Option<u64>, Option<u64>) = redis::cmd("HMGET")
            .arg(&key)
            .arg("w")
            .arg("n")
            .query(&mut connection)
            .expect("HMGET on the slot's master");
        (w.unwrap_or(0), n.unwrap_or(0))
    }

    /// Observations of `model` its partition's log holds, read from the
    /// master of its slot.
    fn logged(&self, model: &str) -> u64 {
        let name = domain::ModelName::parse(model).expect("valid name");
        let keys = self.keys();
        let stream = &keys.partition_for(&name).events;
        let port = self.cluster.master_of_slot(key_slot(stream));
        let mut connection = self.cluster.connection(port);
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(stream)
            .arg("-")
            .arg("+")
            .query(&mut connection)
            .expect("XRANGE on the slot's master");
        let of_model = reply
            .ids
            .iter()
            .filter(|entry| entry.get::<String>("model").as_deref() == Some(model));
        of_model
            .map(|entry| {
                let trials = entry.get::<String>("trials").or_else(|| entry.get("trial"));
                trials.unwrap_or_default().len() as u64
            })
            .sum()
    }

    fn logs(&self) -> String {
        let mut all = self.api.log();
        for bayes in &self.bayes {
            all.push_str(&bayes.log());
        }
        all
    }
}

/// Waits until bayes applied every entry of every partition's log; on a
/// timeout, says which partitions lag and what the services logged.
async fn wait_applied(app: &ClusterApp) {
    let deadline = tokio::time::Instant::now() + SETTLE * 2;
    loop {
        let lagging = lagging_partitions(app);
        if lagging.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "every partition's log applied: (partition, added, read) {lagging:?}\n{}",
            tail(&app.logs(), 400)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `(partition, entries added, entries read)` of each partition not applied yet.
fn lagging_partitions(app: &ClusterApp) -> Vec<(u32, u64, u64)> {
    let keys = app.keys();
    let lag = keys.partitions().iter().filter_map(|partition| {
        let port = app.cluster.master_of_slot(key_slot(&partition.events));
        let mut connection = app.cluster.connection(port);
        let added: Option<u64> = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(&partition.events)
            .query::<redis::Value>(&mut connection)
            .ok()
            .and_then(|info| entries_added(&info));
        let read: Option<u64> = redis::cmd("HGET")
            .arg(&partition.cursor)
            .arg("read")
            .query(&mut connection)
            .ok()
            .flatten();
        let (added, read) = (added.unwrap_or(0), read.unwrap_or(0));
        (added != read).then_some((partition.index, added, read))
    });
    lag.collect()
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn entries_added(info: &redis::Value) -> Option<u64> {
    let redis::Value::Array(fields) = info else {
        return None;
    };
    fields.chunks(2).find_map(|pair| match pair {
        [redis::Value::BulkString(name), redis::Value::Int(n)] if name == b"entries-added" => {
            u64::try_from(*n).ok()
        }
        _ => None,
    })
}
