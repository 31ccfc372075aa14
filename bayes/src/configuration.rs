//! Command-line flags, each with an environment fallback and a default that
//! needs no setup.

use clap::Parser;
use domain::{Grid, Prior};
use platform::redis_conn::RedisArgs;
use platform::telemetry::LogArgs;
use std::path::PathBuf;

/// The subscriber: consumes the Redis event log into the model and draws it.
#[derive(Debug, Clone, Parser)]
#[command(name = "bayes", version, about)]
pub struct Configuration {
    #[command(flatten)]
    pub redis: RedisArgs,

    /// Legacy pub/sub channel: `PUBLISH <channel> w` is appended to the log.
    #[arg(long, env = "REDIS_CHANNEL", default_value = "update_model")]
    pub redis_channel: String,

    /// Prior: `uniform`, `step:T` (0 <= T < 1) or `beta:A,B` (A, B >= 1).
    #[arg(long, env = "PRIOR", default_value = "step:0.1", value_parser = Prior::parse)]
    pub prior: Prior,

    /// Grid points of the posterior approximation (2 to 10,000,000).
    #[arg(long, env = "GRID_POINTS", default_value = "120", value_parser = Grid::parse)]
    pub grid_points: Grid,

    /// Directory the PNGs are written to (created if missing).
    #[arg(long, env = "GRAPHS_DIR", default_value = "graphs")]
    pub graphs_dir: PathBuf,

    /// Approximate bound on the event log's length for forwarded pub/sub messages (0: no trimming).
    #[arg(long, env = "STREAM_MAXLEN", default_value_t = 1_000_000)]
    pub stream_maxlen: u64,

    /// Approximate bound on the dead-letter stream's length.
    #[arg(long, env = "DEAD_MAXLEN", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub dead_maxlen: u64,

    /// Most log entries read and applied in one batch.
    #[arg(long, env = "BATCH_SIZE", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: u64,

    /// Longest wait for new entries in one read, in milliseconds (also bounds shutdown time).
    #[arg(long, env = "BLOCK_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub block_ms: u64,

    /// After a short batch, wait this long (milliseconds) before the next read, so bursts apply in larger batches.
    #[arg(long, env = "READ_COALESCE_MS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=1_000))]
    pub read_coalesce_ms: u64,

    /// Entries pending this long (their consumer died) are claimed, in milliseconds.
    #[arg(long, env = "CLAIM_IDLE_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub claim_idle_ms: u64,

    /// How often to look for entries to claim, in milliseconds.
    #[arg(long, env = "CLAIM_INTERVAL_MS", default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub claim_interval_ms: u64,

    /// Time to live of the pub/sub forwarding lease, in milliseconds (renewed every third of it).
    #[arg(long, env = "LEASE_TTL_MS", default_value_t = 3_000, value_parser = clap::value_parser!(u64).range(30..))]
    pub lease_ttl_ms: u64,

    /// Least time between two renders of the plots, in milliseconds (bursts coalesce).
    #[arg(long, env = "RENDER_INTERVAL_MS", default_value_t = 1_000)]
    pub render_interval_ms: u64,

    /// How many `n_{n}_w_{w}.png` snapshots to keep, oldest removed first (0: none).
    #[arg(long, env = "SNAPSHOTS_KEEP", default_value_t = 100)]
    pub snapshots_keep: usize,

    /// Where to serve Prometheus metrics (`GET /metrics`).
    #[arg(long, env = "METRICS_ADDR", default_value = "127.0.0.1:9100")]
    pub metrics_addr: std::net::SocketAddr,

    /// This instance's consumer name (default: host, process id and a random suffix).
    #[arg(long, env = "CONSUMER_NAME")]
    pub consumer_name: Option<String>,

    #[command(flatten)]
    pub log: LogArgs,
}

impl Configuration {
    /// The consumer name: the configured one, or one unique to this process.
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
}
