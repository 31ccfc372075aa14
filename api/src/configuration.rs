//! Command-line flags, each with an environment fallback and a default that
//! needs no setup. Durations are parsed into `Duration` here, at the edge.

use clap::Parser;
use platform::configuration::{ModelDefaults, positive_millis};
use platform::redis_conn::RedisArgs;
use platform::telemetry::LogArgs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// HTTP ingress for observations: appends them to the Redis event log.
#[derive(Debug, Clone, Parser)]
#[command(name = "api", version, about)]
pub struct Configuration {
    #[command(flatten)]
    pub redis: RedisArgs,

    #[command(flatten)]
    pub defaults: ModelDefaults,

    /// Address to listen on (loopback by default; use 0.0.0.0:8000 in a container).
    #[arg(long, env = "API_ADDR", default_value = "127.0.0.1:8000")]
    pub api_addr: SocketAddr,

    /// Where bayes writes its PNGs; `GET /graphs/posterior.png` serves from here.
    #[arg(long, env = "GRAPHS_DIR", default_value = "graphs")]
    pub graphs_dir: PathBuf,

    /// Approximate bound on each log stream's length (XADD MAXLEN ~); 0 keeps everything.
    #[arg(long, env = "STREAM_MAXLEN", default_value_t = 1_000_000)]
    pub stream_maxlen: u64,

    /// Requests waiting to be written, per partition, before new ones get 503 with Retry-After.
    #[arg(long, env = "INGEST_QUEUE", default_value_t = 4_096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub ingest_queue: u64,

    /// Longest time one HTTP request may take, in milliseconds.
    #[arg(long = "request-timeout-ms", env = "REQUEST_TIMEOUT_MS", default_value = "10000", value_parser = positive_millis)]
    pub request_timeout: Duration,

    #[command(flatten)]
    pub log: LogArgs,
}
