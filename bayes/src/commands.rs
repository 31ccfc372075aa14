//! `bayes status` and `bayes rebuild`: the operator's commands, run against
//! the same Redis as the service, printing to stdout (the progress of a
//! rebuild to stderr).

use crate::application::operate::{PartitionAdmin, PartitionReport, rebuild};
use crate::application::referee::Referee;
use crate::configuration::Configuration;
use crate::infrastructure::redis::{
    ReadSettings, RedisLogReaders, RedisPartitionAdmin, RedisPartitionStore,
};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write as _;

/// Redis memory one closed history point takes, measured (BENCHMARKS.md,
/// "History"): 24 bytes with small counts, 34 with ten-digit ones.
const HISTORY_BYTES_PER_POINT: u64 = 32;

/// Prints where each partition stands.
///
/// # Errors
/// Redis unreachable, or a partition count other than the deployment's.
pub async fn status(configuration: &Configuration) -> anyhow::Result<()> {
    let (admin, redis) = connect(configuration, "status").await?;
    let mut reports = Vec::new();
    for partition in 0..redis.keys.partition_count() {
        reports.push(admin.report(partition).await?);
    }
    print!("{}", table(&reports, now_ms()));
    let models: u64 = reports.iter().map(|r| r.models).sum();
    println!("models: {models} in all");
    let points: u64 = reports.iter().map(|r| r.history_points).sum();
    println!(
        "history: {points} closed points in all (about {} MB at {HISTORY_BYTES_PER_POINT} bytes a point), \
         plus one open point a model",
        points * HISTORY_BYTES_PER_POINT / (1 << 20)
    );
    let mut connection = redis.connection()?;
    let memory = platform::memory::read(&mut connection)
        .await
        .context("cannot read INFO memory")?;
    print!("{}", memory_lines(&memory, redis.allow_eviction));
    Ok(())
}

/// One line per master: memory in use, the limit, the eviction policy and
/// what it may do.
fn memory_lines(nodes: &[platform::memory::NodeMemory], allow_eviction: bool) -> String {
    let mut out = String::new();
    for node in nodes {
        let limit = if node.max_bytes == 0 {
            "no maxmemory".to_owned()
        } else {
            format!("maxmemory {} MB", node.max_bytes / (1 << 20))
        };
        let check = platform::memory::check_policies(std::slice::from_ref(node), allow_eviction);
        let verdict = check
            .refusal
            .or_else(|| check.warnings.into_iter().next())
            .unwrap_or_else(|| "ok".to_owned());
        let _ = writeln!(
            out,
            "redis{}: {} MB used, {limit}, maxmemory-policy {}{}: {verdict}",
            if node.node.is_empty() {
                String::new()
            } else {
                format!(" {}", node.node)
            },
            node.used_bytes / (1 << 20),
            node.policy,
            if node.is_full() {
                ", FULL (writes refused)"
            } else {
                ""
            },
        );
    }
    out
}

/// Rebuilds every partition's models from its log, with a progress bar.
///
/// # Errors
/// A partition whose log retention trimmed (named, nothing changed in it),
/// or Redis failing.
pub async fn rebuild_all(configuration: &Configuration) -> anyhow::Result<()> {
    let (admin, redis) = connect(configuration, "rebuild").await?;
    let applier = format!("rebuild-{}", std::process::id());
    let connection = redis.connection()?;
    let store = std::sync::Arc::new(
        RedisPartitionStore::new(
            connection,
            redis.keys.clone(),
            applier,
            configuration
                .defaults
                .definitions()
                .map_err(anyhow::Error::msg)?,
            configuration.dead_maxlen,
        )
        .with_replicas_ack(redis.replicas_ack, redis.replicas_timeout())
        .with_history(configuration.history().map_err(anyhow::Error::msg)?),
    );
    let readers = RedisLogReaders::new(
        redis.clone(),
        ReadSettings {
            block: std::time::Duration::from_millis(100),
            coalesce: std::time::Duration::ZERO,
            ..crate::startup::read_settings(configuration)
        },
    );
    for partition in 0..redis.keys.partition_count() {
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template("partition {msg} [{bar:40}] {pos}/{len} entries ({eta})")
                .context("progress bar template")?,
        );
        bar.set_message(partition.to_string());
        let mut progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let mut referee = Referee::new(
            store.clone(),
            partition,
            configuration.decision_interval.millis(),
        );
        let applied = rebuild(
            partition,
            &admin,
            &readers,
            store.as_ref(),
            Some(&mut referee),
            &mut progress,
        )
        .await?;
        bar.finish();
        println!("partition {partition}: rebuilt from {applied} log entries");
    }
    Ok(())
}

async fn connect(
    configuration: &Configuration,
    command: &str,
) -> anyhow::Result<(RedisPartitionAdmin, platform::RedisSettings)> {
    let redis = configuration.redis.settings()?;
    let mut connection = redis
        .connection()
        .context("cannot set up the Redis connection")?;
    platform::partition_count::ensure(&mut connection, &redis.keys)
        .await
        .with_context(|| format!("bayes {command}"))?;
    let admin =
        RedisPartitionAdmin::new(connection, redis.keys.clone(), format!("bayes-{command}"));
    Ok((admin, redis))
}

/// The status table, one line per partition.
#[must_use]
pub fn table(reports: &[PartitionReport], now_ms: u64) -> String {
    let mut out = format!(
        "{:>9}  {:<24} {:<22} {:>10} {:>9} {:>8} {:>8}  {:<21} {}\n",
        "partition", "owner", "cursor", "lag", "lag (s)", "lost", "models", "node", "stream"
    );
    for r in reports {
        let _ = writeln!(
            out,
            "{:>9}  {:<24} {:<22} {:>10} {:>9.1} {:>8} {:>8}  {:<21} {}",
            r.partition,
            r.owner.as_deref().unwrap_or("-"),
            r.cursor,
            r.lag(),
            r.lag_seconds(now_ms),
            r.lost,
            r.models,
            r.node.as_deref().unwrap_or("-"),
            r.stream
        );
    }
    out
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
