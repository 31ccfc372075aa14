//! `TestApp`: a private Redis, the api and any number of bayes instances,
//! with helpers to send observations and read the model back.

use super::redis_server::free_port;
use super::{RedisServer, Service, eventually};
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
    api_env: Vec<(String, String)>,
    bayes_env: Vec<(String, String)>,
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
    pub(super) env: Vec<(String, String)>,
    bayes_env: Vec<(String, String)>,
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

    /// An extra environment variable for the api only (after the shared ones).
    pub fn api_env(mut self, key: &str, value: &str) -> Self {
        self.api_env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// An extra environment variable for bayes only (after the shared ones).
    pub fn bayes_env(mut self, key: &str, value: &str) -> Self {
        self.bayes_env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Connects `binary` (api or bayes) to Redis as `user` with `password`.
    pub fn redis_user(self, binary: &str, user: &str, password: &str) -> Self {
        let key = format!("{}REDIS_USER", binary.to_uppercase());
        let value = format!("{user}:{password}");
        match binary {
            "api" => self.api_env(&key, &value),
            _ => self.bayes_env(&key, &value),
        }
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
        let api_env = env
            .iter()
            .cloned()
            .chain(with_user(&redis, self.api_env))
            .collect();
        let bayes_env = with_user(&redis, self.bayes_env);
        let api = Service::start("api", api_env, logs.path().join("api.log"));
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
            bayes_env,
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
            api_env: Vec::new(),
            bayes_env: Vec::new(),
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
        env.extend(self.bayes_env.iter().cloned());
        env.push(("METRICS_ADDR".to_owned(), metrics_addr.clone()));
        env.push(("CONSUMER_NAME".to_owned(), format!("bayes-{index}")));
        self.bayes.push(Service::start("bayes", env, log));
        self.bayes_metrics.push(format!("http://{metrics_addr}"));
        index
    }

    /// Starts one more bayes instance with `extra` settings over the test's
    /// (e.g. another `KEY_PREFIX`); returns its index.
    pub fn start_bayes_with(&mut self, extra: &[(&str, &str)]) -> usize {
        let saved = self.env.clone();
        self.env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let index = self.start_bayes();
        self.env = saved;
        index
    }

    /// `method path` on the api with an optional JSON body: the status and
    /// the JSON answer (null if none).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.http.request(method, format!("{}{path}", self.api_url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("api answers");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("a body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
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

    /// Sends `total` observations over `concurrency` connections; `(w, n)` answered 202.
    pub async fn load(&self, total: u64, concurrency: usize) -> (u64, u64) {
        super::send_load(self.http.clone(), self.api_url.clone(), total, concurrency).await
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

    async fn wait_for_api(&self) {
        eventually("the api to answer /healthz", SETTLE, || async {
            self.get("/healthz")
                .await
                .ok()
                .filter(|r| r.status().is_success())
        })
        .await;
    }
}

/// Turns a `<BINARY>REDIS_USER` = `user:password` entry into that service's `REDIS_URL`.
fn with_user(redis: &RedisServer, env: Vec<(String, String)>) -> Vec<(String, String)> {
    env.into_iter()
        .map(|(key, value)| {
            if key.ends_with("REDIS_USER") {
                let address = redis.url_without_password();
                let address = address.trim_start_matches("redis://");
                ("REDIS_URL".to_owned(), format!("redis://{value}@{address}"))
            } else {
                (key, value)
            }
        })
        .collect()
}
