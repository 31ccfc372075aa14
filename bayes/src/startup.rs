//! Build, then run: [`Application::build`] validates the configuration,
//! opens the graphs directory, binds the metrics listener and sets up the
//! Redis connections (every error names its setting);
//! [`Application::run_until_stopped`] checks the partition count and runs
//! the supervised tasks until shutdown.

use crate::application::render::RenderLoop;
use crate::application::{Assignment, Forwarder, Ownership, Workers};
use crate::configuration::Configuration;
use crate::infrastructure::plot::PngDirectory;
use crate::infrastructure::redis::{
    ReadSettings, RedisChannel, RedisForwardLog, RedisLeases, RedisLogReaders, RedisPartitionStore,
};
use anyhow::Context;
use domain::DefaultDefinitions;
use platform::RedisConnection;
use platform::RedisSettings;
use platform::log_time::HistorySettings;
use platform::supervisor::{Stage, Task, supervise};
use std::future::Future;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The subscriber, built and ready to run.
pub struct Application {
    configuration: Configuration,
    redis: RedisSettings,
    shared: RedisConnection,
    instance: String,
    assignment: Assignment,
    defaults: DefaultDefinitions,
    history: Option<HistorySettings>,
    graphs: Arc<PngDirectory>,
}

impl Application {
    /// Validates `configuration` and sets everything up, before any work.
    ///
    /// # Errors
    /// The first bad setting, named.
    pub fn build(configuration: Configuration) -> anyhow::Result<Self> {
        let redis = configuration.redis.settings()?;
        let defaults = configuration
            .defaults
            .definitions()
            .map_err(anyhow::Error::msg)?;
        let history = configuration.history().map_err(anyhow::Error::msg)?;
        let assignment = match configuration
            .static_partitions()
            .map_err(anyhow::Error::msg)?
        {
            Some(partitions) => Assignment::Static(partitions),
            None => Assignment::Leased {
                renew_every: configuration.lease_ttl / 3,
            },
        };
        let graphs = PngDirectory::open(&configuration.graphs_dir, configuration.snapshots_keep)
            .with_context(|| {
                format!(
                    "GRAPHS_DIR {} is not a writable directory",
                    configuration.graphs_dir.display()
                )
            })?;
        crate::infrastructure::plot::register_font().context("cannot load the bundled font")?;
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(configuration.metrics_addr)
            .install()
            .with_context(|| {
                format!(
                    "cannot serve metrics on METRICS_ADDR {}",
                    configuration.metrics_addr
                )
            })?;
        let shared = redis
            .connection()
            .context("cannot set up the Redis connection")?;
        let instance = configuration.consumer_name();
        Ok(Self {
            redis,
            shared,
            instance,
            assignment,
            defaults,
            history,
            graphs: Arc::new(graphs),
            configuration,
        })
    }

    /// Runs until `shutdown`, then stops in order: consumers and the
    /// pub/sub forwarder (each finishing its batch in hand), then the renderer.
    ///
    /// # Errors
    /// A partition count that differs from the deployment's, or a task that
    /// ended before shutdown.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.log_start();
        let mut shutdown = Box::pin(shutdown);
        if !self.check_partition_count(&mut shutdown).await? {
            return Ok(());
        }
        let store = Arc::new(
            RedisPartitionStore::new(
                self.shared.clone(),
                self.redis.keys.clone(),
                self.instance.clone(),
                self.defaults,
                self.configuration.dead_maxlen,
            )
            .with_replicas_ack(self.redis.replicas_ack, self.redis.replicas_timeout())
            .with_history(self.history)
            .with_abort_before_announce(
                self.configuration.fault_inject.as_deref() == Some("abort-before-announce"),
            ),
        );
        let (render, changed) = RenderLoop::new(
            self.graphs.clone(),
            store.clone(),
            self.defaults,
            self.configuration.render_interval,
            self.configuration.render_batch as usize,
        );
        let work = CancellationToken::new();
        let drawing = CancellationToken::new();
        let tick = self.configuration.decision_interval.millis();
        let ownership = self.ownership(
            Workers::new(self.readers(), store.clone(), changed).with_referee(store, tick),
        );
        let forwarder = self.forwarder();
        let (assignment, fault) = (
            self.assignment.clone(),
            self.configuration.fault_inject.clone(),
        );
        let stages = vec![
            Stage {
                stop: work.clone(),
                tasks: vec![
                    Task::new(
                        "consumer",
                        consume(ownership, assignment, fault, work.clone()),
                    ),
                    Task::new("pubsub-forwarder", run_ok(forwarder.run(work.clone()))),
                ],
            },
            Stage {
                stop: drawing.clone(),
                tasks: vec![Task::new("renderer", run_ok(render.run(drawing)))],
            },
        ];
        metrics::gauge!("bayes_ready").set(1.0);
        let unready = |_: &str| metrics::gauge!("bayes_ready").set(0.0);
        let result = supervise(stages, shutdown, unready).await;
        tracing::info!("bayes stopped");
        result
    }

    /// Checks the partition count and the eviction policy (an `allkeys-*`
    /// policy without ALLOW_EVICTION stops the start); `false` if shutdown
    /// came while Redis was away.
    async fn check_partition_count(
        &self,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> anyhow::Result<bool> {
        let mut backoff = crate::application::retry::Backoff::default();
        let stop = CancellationToken::new();
        loop {
            let mut connection = self.shared.clone();
            match platform::partition_count::ensure(&mut connection, &self.redis.keys).await {
                Ok(()) => {}
                Err(platform::partition_count::PartitionCountError::Redis(error)) => {
                    tracing::warn!(%error, "cannot reach Redis to check the partition count; retrying");
                }
                Err(mismatch) => return Err(mismatch.into()),
            }
            let allow = self.redis.allow_eviction;
            match platform::memory::ensure_policy(&mut connection, allow).await {
                Ok(()) => return Ok(true),
                Err(platform::memory::PolicyError::Redis(error)) => {
                    tracing::warn!(%error, "cannot reach Redis to check its eviction policy; retrying");
                }
                Err(refused) => return Err(refused.into()),
            }
            tokio::select! {
                () = &mut *shutdown => return Ok(false),
                _ = backoff.wait(&stop) => {}
            }
        }
    }

    fn readers(&self) -> Arc<RedisLogReaders> {
        Arc::new(RedisLogReaders::new(
            self.redis.clone(),
            read_settings(&self.configuration),
        ))
    }

    fn ownership(&self, workers: Workers) -> Ownership {
        let leases = RedisLeases::new(
            self.shared.clone(),
            self.redis.keys.clone(),
            self.instance.clone(),
            self.configuration.lease_ttl,
        );
        Ownership::new(
            Arc::new(leases),
            workers,
            self.redis.keys.partition_count(),
            self.instance.clone(),
        )
    }

    fn forwarder(&self) -> Forwarder<RedisChannel> {
        let log = RedisForwardLog::new(
            self.shared.clone(),
            self.redis.keys.clone(),
            self.instance.clone(),
            self.configuration.lease_ttl,
            self.configuration.stream_maxlen,
            self.configuration.dead_maxlen,
        );
        let channel = RedisChannel::new(
            self.redis.nodes.clone(),
            self.configuration.redis_channel.clone(),
            self.redis.timeout,
        );
        Forwarder::new(
            Arc::new(log),
            channel,
            self.configuration.redis_channel.clone(),
            self.configuration.lease_ttl / 3,
        )
    }

    fn log_start(&self) {
        let c = &self.configuration;
        tracing::info!(
            redis_url = %self.redis.masked_url,
            key_prefix = %c.redis.key_prefix,
            partitions = c.redis.partitions,
            assignment = ?self.assignment,
            channel = %c.redis_channel,
            prior = %self.defaults.default_model.prior,
            grid_points = self.defaults.default_model.grid.points(),
            model_prior = %self.defaults.named.prior,
            model_grid_points = self.defaults.named.grid.points(),
            graphs_dir = %c.graphs_dir.display(),
            instance = %self.instance,
            batch_size = c.batch_size,
            batch_max = c.batch_max,
            metrics_addr = %c.metrics_addr,
            "bayes starting"
        );
    }
}

/// The consumer task: ownership of partitions, or the injected fault.
async fn consume(
    ownership: Ownership,
    assignment: Assignment,
    fault: Option<String>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    if fault.as_deref() == Some("panic-worker") {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        panic!("fault injected: FAULT_INJECT=panic-worker");
    }
    ownership.run(assignment, stop).await?;
    Ok(())
}

async fn run_ok(task: impl Future<Output = ()>) -> anyhow::Result<()> {
    task.await;
    Ok(())
}

/// How the consumers read, from the configuration (`bayes rebuild` reads the same way).
pub(crate) fn read_settings(configuration: &Configuration) -> ReadSettings {
    ReadSettings {
        batch_size: configuration.batch_size as usize,
        batch_max: configuration.batch_max as usize,
        block: configuration.block,
        coalesce: configuration.read_coalesce,
        raw: configuration.read_decoder == crate::configuration::ReadDecoder::Raw,
        interval: configuration
            .history()
            .ok()
            .flatten()
            .map(|history| history.interval),
        tick: Some(configuration.decision_interval.millis()),
    }
}
