//! `TestApp`: a private Redis, the api and any number of bayes instances,
//! with helpers to send observations and read the model back.

use super::redis_server::free_port;
use super::{RedisServer, Service, eventually};
use redis::AsyncCommands;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static NEXT_PREFIX: AtomicUsize = AtomicUsize::new(0);

/// How long a test waits for the pipeline to settle before failing.
pub const SETTLE: Duration = Duration::from_secs(30);

/// Builds a [`TestApp`].
pub struct TestAppBuilder {
    bayes_instances: usize,
    redis_args: Vec<String>,
    env: Vec<(String, String)>,
}

/// The services under test and their Redis.
pub struct TestApp {
    pub redis: RedisServer,
    pub prefix: String,
    pub channel: String,
    pub api: Service,
    pub api_url: String,
    pub bayes: Vec<Service>,
    /// `http://addr` of each bayes instance's metrics listener.
    pub bayes_metrics: Vec<String>,
    pub graphs: tempfile::TempDir,
    pub http: reqwest::Client,
    logs: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl TestAppBuilder {
    /// How many bayes processes to start (default 1).
    pub fn bayes_instances(mut self, count: usize) -> Self {
        self.bayes_instances = count;
        self
    }

    /// Extra `redis-server` arguments (e.g. AOF settings).
    pub fn redis_args(mut self, args: &[&str]) -> Self {
        self.redis_args = args.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// An extra environment variable for both services.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts Redis, the api and the bayes instances, and waits until they answer.
    pub async fn spawn(self) -> TestApp {
        let redis_args: Vec<&str> = self.redis_args.iter().map(String::as_str).collect();
        let redis = if redis_args.is_empty() {
            RedisServer::start()
        } else {
            RedisServer::start_with(&redis_args)
        };
        let prefix = format!(
            "test{}-{}",
            std::process::id(),
            NEXT_PREFIX.fetch_add(1, Ordering::Relaxed)
        );
        let channel = format!("{prefix}-update_model");
        let graphs = tempfile::tempdir().expect("graphs dir");
        let logs = tempfile::tempdir().expect("logs dir");
        let api_addr = format!("127.0.0.1:{}", free_port());
        let mut env = vec![
            ("REDIS_URL".to_owned(), redis.url()),
            ("KEY_PREFIX".to_owned(), prefix.clone()),
            ("REDIS_CHANNEL".to_owned(), channel.clone()),
            ("GRAPHS_DIR".to_owned(), graphs.path().display().to_string()),
            ("API_ADDR".to_owned(), api_addr.clone()),
            ("LEASE_TTL_MS".to_owned(), "1500".to_owned()),
            ("BLOCK_MS".to_owned(), "200".to_owned()),
            ("RENDER_INTERVAL_MS".to_owned(), "200".to_owned()),
        ];
        env.extend(self.env);
        let api = Service::start("api", env.clone(), logs.path().join("api.log"));
        let mut app = TestApp {
            redis,
            prefix,
            channel,
            api,
            api_url: format!("http://{api_addr}"),
            bayes: Vec::new(),
            bayes_metrics: Vec::new(),
            graphs,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            logs,
            env,
        };
        for _ in 0..self.bayes_instances {
            app.start_bayes();
        }
        app.wait_for_api().await;
        app
    }
}

impl TestApp {
    /// A builder: one bayes instance, default settings.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            bayes_instances: 1,
            redis_args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Redis, api and one bayes.
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    /// Starts one more bayes instance; returns its index.
    pub fn start_bayes(&mut self) -> usize {
        let index = self.bayes.len();
        let log = self.logs.path().join(format!("bayes-{index}.log"));
        let metrics_addr = format!("127.0.0.1:{}", free_port());
        let mut env = self.env.clone();
        env.push(("METRICS_ADDR".to_owned(), metrics_addr.clone()));
        env.push(("CONSUMER_NAME".to_owned(), format!("bayes-{index}")));
        self.bayes.push(Service::start("bayes", env, log));
        self.bayes_metrics.push(format!("http://{metrics_addr}"));
        index
    }

    /// A Redis key under this test's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.prefix)
    }

    async fn wait_for_api(&self) {
        eventually("the api to answer /healthz", SETTLE, || async {
            self.get("/healthz")
                .await
                .ok()
                .filter(|r| r.status().is_success())
        })
        .await;
    }

    /// `GET path` on the api.
    pub async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(format!("{}{path}", self.api_url))
            .send()
            .await
    }

    /// `GET /update_model/{trial}`; returns the status.
    pub async fn send(&self, trial: &str) -> u16 {
        self.get(&format!("/update_model/{trial}"))
            .await
            .expect("api answers")
            .status()
            .as_u16()
    }

    /// `GET /model` as JSON.
    pub async fn model(&self) -> Value {
        let response = self.get("/model").await.expect("api answers");
        assert_eq!(response.status(), 200, "GET /model");
        response.json().await.expect("JSON model")
    }

    /// The counts `(w, n)` as stored in Redis now.
    pub async fn counts(&self) -> (u64, u64) {
        let mut connection = self.redis.connection().await;
        let (w, n): (Option<u64>, Option<u64>) = redis::cmd("HMGET")
            .arg(self.key("model"))
            .arg("w")
            .arg("n")
            .query_async(&mut connection)
            .await
            .expect("HMGET model");
        (w.unwrap_or(0), n.unwrap_or(0))
    }

    /// Waits until the stored `n` is exactly `n`; panics if it passes or never gets there.
    pub async fn wait_for_n(&self, n: u64) -> (u64, u64) {
        eventually(&format!("n = {n}"), SETTLE, || async {
            let counts = self.counts().await;
            assert!(
                counts.1 <= n,
                "counted {} observations, more than the {n} sent",
                counts.1
            );
            (counts.1 == n).then_some(counts)
        })
        .await
    }

    /// Waits until something is subscribed to the pub/sub channels (bayes
    /// subscribes to the pattern `<channel>*`).
    pub async fn wait_for_subscriber(&self) {
        let mut connection = self.redis.connection().await;
        eventually("a subscriber on the channel", SETTLE, || {
            let mut connection = connection.clone();
            async move {
                let patterns: u64 = redis::cmd("PUBSUB")
                    .arg("NUMPAT")
                    .query_async(&mut connection)
                    .await
                    .ok()?;
                (patterns == 1).then_some(())
            }
        })
        .await;
        let _: () = connection
            .set(self.key("probe"), 1)
            .await
            .expect("redis answers");
    }

    /// `PUBLISH <channel> payload`; returns how many subscribers received it.
    pub async fn publish(&self, payload: &[u8]) -> u64 {
        let mut connection = self.redis.connection().await;
        connection
            .publish(&self.channel, payload)
            .await
            .expect("PUBLISH")
    }

    /// Entries of the dead-letter stream, as field maps.
    pub async fn dead_letters(&self) -> Vec<std::collections::HashMap<String, String>> {
        let mut connection = self.redis.connection().await;
        let reply: redis::streams::StreamRangeReply = connection
            .xrange_all(self.key("dead"))
            .await
            .expect("XRANGE dead");
        reply
            .ids
            .into_iter()
            .map(|entry| {
                entry
                    .map
                    .into_iter()
                    .map(|(k, v)| (k, redis::from_redis_value::<String>(v).unwrap_or_default()))
                    .collect()
            })
            .collect()
    }

    /// Sends `total` observations over `concurrency` connections; `(w, n)` answered 202.
    pub async fn load(&self, total: u64, concurrency: usize) -> (u64, u64) {
        super::send_load(self.http.clone(), self.api_url.clone(), total, concurrency).await
    }

    /// Entries in the event log now.
    pub async fn log_length(&self) -> u64 {
        let mut connection = self.redis.connection().await;
        connection
            .xlen(self.key("events"))
            .await
            .expect("XLEN events")
    }

    /// Observations the event log holds now: one per `trial` entry, one per
    /// letter of a `trials` entry (a group commit).
    pub async fn log_observations(&self) -> u64 {
        let mut connection = self.redis.connection().await;
        let reply: redis::streams::StreamRangeReply = connection
            .xrange_all(self.key("events"))
            .await
            .expect("XRANGE events");
        reply
            .ids
            .iter()
            .map(|entry| {
                let trials = entry
                    .get::<String>("trials")
                    .or_else(|| entry.get::<String>("trial"))
                    .unwrap_or_default();
                trials.bytes().filter(|b| *b == b'w' || *b == b'l').count() as u64
            })
            .sum()
    }

    /// A field of the partition's cursor hash (`id`, `read`, `lost`), 0 when absent.
    pub async fn cursor_field(&self, field: &str) -> u64 {
        let mut connection = self.redis.connection().await;
        let value: Option<u64> = connection
            .hget(self.key("cursor"), field)
            .await
            .expect("HGET cursor");
        value.unwrap_or(0)
    }

    /// What `XINFO STREAM` says of the log: `(entries-added, length)`.
    pub async fn log_info(&self) -> (u64, u64) {
        let mut connection = self.redis.connection().await;
        let info: redis::streams::StreamInfoStreamReply = connection
            .xinfo_stream(self.key("events"))
            .await
            .expect("XINFO STREAM");
        let added: u64 = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(self.key("events"))
            .query_async::<std::collections::HashMap<String, redis::Value>>(&mut connection)
            .await
            .ok()
            .and_then(|map| {
                map.get("entries-added")
                    .and_then(|v| redis::from_redis_value::<u64>(v.clone()).ok())
            })
            .expect("entries-added");
        (added, info.length as u64)
    }

    /// The consumer group `bayes`'s lag as `XINFO GROUPS` reports it (the
    /// cursor moves the group), and its pending count (always 0 in v2).
    pub async fn group_lag(&self) -> (Option<u64>, u64) {
        let mut connection = self.redis.connection().await;
        let groups: Vec<std::collections::HashMap<String, redis::Value>> = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(self.key("events"))
            .query_async(&mut connection)
            .await
            .expect("XINFO GROUPS");
        let group = groups
            .into_iter()
            .find(|g| {
                g.get("name")
                    .and_then(|v| redis::from_redis_value::<String>(v.clone()).ok())
                    .as_deref()
                    == Some("bayes")
            })
            .expect("the group bayes exists");
        let number = |key: &str| {
            group
                .get(key)
                .and_then(|v| redis::from_redis_value::<u64>(v.clone()).ok())
        };
        (number("lag"), number("pending").unwrap_or(0))
    }

    /// A field of the model hash, 0 when absent.
    pub async fn model_field(&self, field: &str) -> u64 {
        let mut connection = self.redis.connection().await;
        let value: Option<u64> = connection
            .hget(self.key("model"), field)
            .await
            .expect("HGET model");
        value.unwrap_or(0)
    }

    /// Waits until the stored `n` equals the observations the log holds;
    /// returns `(w, n)`. For drills where some requests may have been
    /// stored without their answer arriving.
    pub async fn wait_until_log_applied(&self) -> (u64, u64) {
        eventually("every logged observation applied", SETTLE, || async {
            let logged = self.log_observations().await;
            let counts = self.counts().await;
            assert!(
                counts.1 <= logged,
                "counted {} observations of a log holding {logged}",
                counts.1
            );
            (counts.1 == logged).then_some(counts)
        })
        .await
    }

    /// What the api logged so far.
    pub fn api_log(&self) -> String {
        self.api.log()
    }

    /// Every bayes log, for assertions on what was reported.
    pub fn bayes_logs(&self) -> String {
        self.bayes
            .iter()
            .map(Service::log)
            .collect::<Vec<_>>()
            .join("\n")
    }
}
