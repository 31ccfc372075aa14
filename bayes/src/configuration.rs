//! Command-line flags, each with an environment fallback and a default that
//! needs no setup. Durations are parsed into `Duration` here, at the edge.

use clap::{Parser, Subcommand, ValueEnum};
use platform::configuration::{ModelDefaults, millis, positive_millis};
use platform::log_time::{HistoryArgs, HistorySettings};
use platform::redis_settings::RedisArgs;
use platform::telemetry::LogArgs;
use std::path::PathBuf;
use std::time::Duration;

/// The subscriber: consumes the Redis event log into the models and draws them.
#[derive(Debug, Clone, Parser)]
#[command(name = "bayes", version, about)]
pub struct Configuration {
    /// What to do: consume (the default), or an operator's command.
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub redis: RedisArgs,

    #[command(flatten)]
    pub defaults: ModelDefaults,

    #[command(flatten)]
    pub history: HistoryArgs,

    /// Write each model's history (its counts at the end of every interval
    /// of log time in which they changed); `false` writes counts only.
    #[arg(long = "history", env = "HISTORY", default_value_t = true, action = clap::ArgAction::Set)]
    pub history_enabled: bool,

    /// Evaluate experiments in ticks of this much log time: each experiment
    /// whose variants changed in a tick is evaluated once, on the counts at
    /// its end (`ms`, `s`, `m`, …; at least 100ms).
    #[arg(long, env = "DECISION_INTERVAL", default_value = "1s", value_parser = decision_interval)]
    pub decision_interval: platform::log_time::Span,

    /// Legacy pub/sub channel: `PUBLISH <channel> w` counts for `default`,
    /// `PUBLISH <channel>:<model> w` for `<model>`.
    #[arg(long, env = "REDIS_CHANNEL", default_value = "update_model")]
    pub redis_channel: String,

    /// Directory the PNGs are written to (created if missing).
    #[arg(long, env = "GRAPHS_DIR", default_value = "graphs")]
    pub graphs_dir: PathBuf,

    /// Approximate bound on each log stream's length for forwarded pub/sub messages (0: no trimming).
    #[arg(long, env = "STREAM_MAXLEN", default_value_t = 1_000_000)]
    pub stream_maxlen: u64,

    /// Approximate bound on each dead-letter stream's length.
    #[arg(long, env = "DEAD_MAXLEN", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub dead_maxlen: u64,

    /// Most log entries read and applied in one batch at the end of the log.
    #[arg(long, env = "BATCH_SIZE", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: u64,

    /// Most log entries in one batch while the log is behind: each full
    /// read doubles the next one's size, up to this (at least BATCH_SIZE).
    #[arg(long, env = "BATCH_MAX", default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch_max: u64,

    /// Longest wait for new entries in one read, in milliseconds (also bounds shutdown time).
    #[arg(long = "block-ms", env = "BLOCK_MS", default_value = "1000", value_parser = positive_millis)]
    pub block: Duration,

    /// After a read that found entries, wait this long (milliseconds) before the next, so bursts apply in larger batches.
    #[arg(long = "read-coalesce-ms", env = "READ_COALESCE_MS", default_value = "2", value_parser = millis)]
    pub read_coalesce: Duration,

    /// Time to live of partition and pub/sub leases and of this instance's registration, in milliseconds (renewed every third of it).
    #[arg(long = "lease-ttl-ms", env = "LEASE_TTL_MS", default_value = "3000", value_parser = positive_millis)]
    pub lease_ttl: Duration,

    /// How log replies are decoded: `raw` (in place, plain TCP only; TLS
    /// falls back to `value`) or `value` (redis-rs's value tree).
    #[arg(long, env = "READ_DECODER", value_enum, default_value_t = ReadDecoder::Raw)]
    pub read_decoder: ReadDecoder,

    /// Consume these partitions (`0,2`, or `all`) without leases, instead of an even share by lease.
    #[arg(long, env = "STATIC_PARTITIONS")]
    pub static_partitions: Option<String>,

    /// Least time between two rounds of rendering, in milliseconds (bursts coalesce).
    #[arg(long = "render-interval-ms", env = "RENDER_INTERVAL_MS", default_value = "1000", value_parser = millis)]
    pub render_interval: Duration,

    /// Most models drawn per rendering round.
    #[arg(long, env = "RENDER_BATCH", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub render_batch: u64,

    /// How many `n_{n}_w_{w}.png` snapshots of `default` to keep, oldest removed first (0: none).
    #[arg(long, env = "SNAPSHOTS_KEEP", default_value_t = 100)]
    pub snapshots_keep: usize,

    /// Where to serve Prometheus metrics (`GET /metrics`).
    #[arg(long, env = "METRICS_ADDR", default_value = "127.0.0.1:9100")]
    pub metrics_addr: std::net::SocketAddr,

    /// This instance's name (default: host, process id and a random suffix).
    #[arg(long, env = "CONSUMER_NAME")]
    pub consumer_name: Option<String>,

    /// Fault injection for the drills: `panic-worker` makes the first
    /// partition worker panic (the process must stop, naming it).
    #[arg(long, env = "FAULT_INJECT", hide = true)]
    pub fault_inject: Option<String>,

    #[command(flatten)]
    pub log: LogArgs,
}

/// How log replies are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadDecoder {
    /// In place from a raw connection, no allocation per entry.
    Raw,
    /// Through redis-rs's `Value`.
    Value,
}

/// The operator's commands; without one, `bayes` consumes.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Per partition: owner, cursor, lag in entries and seconds, entries lost, models.
    Status,
    /// Recompute every model from the retained log (refused where retention trimmed it).
    Rebuild,
}

impl Configuration {
    /// The history to write, if on.
    ///
    /// # Errors
    /// A retention shorter than the interval.
    pub fn history(&self) -> Result<Option<HistorySettings>, String> {
        let settings = self.history.settings()?;
        Ok(self.history_enabled.then_some(settings))
    }

    /// The instance name: the configured one, or one unique to this process.
    #[must_use]
    pub fn consumer_name(&self) -> String {
        self.consumer_name.clone().unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME")
                .ok()
                .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "bayes".to_owned());
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            format!("{host}-{}-{nanos:08x}", std::process::id())
        })
    }

    /// The partitions to consume without leases, if configured.
    ///
    /// # Errors
    /// A message naming `STATIC_PARTITIONS` for a malformed or out-of-range list.
    pub fn static_partitions(&self) -> Result<Option<Vec<u32>>, String> {
        let Some(list) = &self.static_partitions else {
            return Ok(None);
        };
        let count = self.redis.partitions;
        if list.trim() == "all" {
            return Ok(Some((0..count).collect()));
        }
        list.split(',')
            .map(|item| match item.trim().parse::<u32>() {
                Ok(p) if p < count => Ok(p),
                _ => Err(format!(
                    "STATIC_PARTITIONS {list:?}: {item:?} is not a partition of 0..{count}"
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// `DECISION_INTERVAL`: a span of at least 100ms.
fn decision_interval(text: &str) -> Result<platform::log_time::Span, String> {
    let span = platform::log_time::Span::parse(text).map_err(|e| e.to_string())?;
    if span.millis() < 100 {
        return Err(format!("{text} is shorter than 100ms"));
    }
    Ok(span)
}
