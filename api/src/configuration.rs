//! Command-line flags, each with an environment fallback and a default that
//! needs no setup. Durations are parsed into `Duration` here, at the edge.

use clap::Parser;
use platform::configuration::{ModelDefaults, positive_millis};
use platform::log_time::HistoryArgs;
use platform::redis_settings::RedisArgs;
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

    #[command(flatten)]
    pub history: HistoryArgs,

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

    /// Most models writers may create: an observation or definition of one
    /// more is refused with 409 (existing models keep counting).
    #[arg(long, env = "MAX_MODELS", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_models: u64,

    /// How long an Idempotency-Key is remembered, in milliseconds (24 h).
    #[arg(long = "idempotency-window-ms", env = "IDEMPOTENCY_WINDOW_MS", default_value = "86400000", value_parser = positive_millis)]
    pub idempotency_window: Duration,

    /// Longest time one HTTP request may take, in milliseconds.
    #[arg(long = "request-timeout-ms", env = "REQUEST_TIMEOUT_MS", default_value = "10000", value_parser = positive_millis)]
    pub request_timeout: Duration,

    #[command(flatten)]
    pub access: AccessArgs,

    /// Fault injection for the drills: `panic-writer` makes the writer of
    /// partition 0 panic (the process must stop, naming it).
    #[arg(long, env = "FAULT_INJECT", hide = true)]
    pub fault_inject: Option<String>,

    #[command(flatten)]
    pub log: LogArgs,
}

/// Access control: bearer tokens with scopes.
#[derive(Debug, Clone, clap::Args)]
pub struct AccessArgs {
    /// Comma-separated `scope=token` entries, scope `read`, `write` or `admin`
    /// (a token listed twice has both scopes); tokens of 16+ visible characters.
    /// Unset: no access control, allowed only on a loopback API_ADDR.
    #[arg(long, env = "API_TOKENS", hide_env_values = true)]
    pub api_tokens: Option<Secret>,

    /// A file of `scope=token` entries, one a line (`#` comments), added to API_TOKENS.
    #[arg(long, env = "API_TOKENS_FILE")]
    pub api_tokens_file: Option<PathBuf>,

    /// Serve without tokens on a non-loopback API_ADDR (a warning is logged).
    #[arg(long, env = "ALLOW_UNAUTHENTICATED", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_unauthenticated: bool,
}

/// A value that is never printed (its `Debug` hides it).
#[derive(Clone)]
pub struct Secret(pub String);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(hidden)")
    }
}
