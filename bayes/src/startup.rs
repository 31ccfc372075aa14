//! Build, then run: [`Application::build`] validates the configuration,
//! opens the graphs directory, binds the metrics listener and sets up the
//! Redis connections (every error names its setting);
//! [`Application::run_until_stopped`] checks the partition count and runs
//! the supervised tasks until shutdown.

use crate::application::render::RenderLoop;
use crate::application::{Assignment, Ingress, Ownership, Workers};
use crate::configuration::Configuration;
use crate::infrastructure::plot::PngDirectory;
use crate::infrastructure::redis::{
    ReadSettings, RedisChannel, RedisIngressLog, RedisLeases, RedisLogReaders, RedisPartitionStore,
};
use crate::supervisor::{Stage, Task, supervise};
use anyhow::Context;
use domain::{Counts, ModelDefinition};
use platform::RedisConnection;
use platform::RedisSettings;
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
    defaults: ModelDefinition,
    graphs: Arc<PngDirectory>,
}

impl Application {
    /// Validates `configuration` and sets everything up, before any work.
    ///
    /// # Errors
    /// The first bad setting, named.
    pub fn build(configuration: Configuration) -> anyhow::Result<Self> {
        let redis = configuration.redis.settings()?;
        let defaults = configuration.defaults.definition();
        defaults.summary(Counts::ZERO).with_context(|| {
            format!(
                "PRIOR {} has no mass on a grid of {} points",
                defaults.prior, defaults.grid
            )
        })?;
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
            graphs: Arc::new(graphs),
            configuration,
        })
    }

    /// Runs until `shutdown`, then stops in order: consumers and the
    /// pub/sub ingress (each finishing its batch in hand), then the renderer.
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
            .with_replicas_ack(self.redis.replicas_ack, self.redis.replicas_timeout()),
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
        let ownership = self.ownership(Workers::new(self.readers(), store, changed));
        let ingress = self.ingress();
        let (assignment, fault) = (
            self.assignment.clone(),
            self.configuration.fault_inject.clone(),
        );
        let stages = vec![
            Stage {
                stop: work.clone(),
                tasks: vec![
                    Task::spawn(
                        "consumer",
                        consume(ownership, assignment, fault, work.clone()),
                    ),
                    Task::spawn("pubsub-ingress", run_ok(ingress.run(work.clone()))),
                ],
            },
            Stage {
                stop: drawing.clone(),
                tasks: vec![Task::spawn("renderer", run_ok(render.run(drawing)))],
            },
        ];
        metrics::gauge!("bayes_ready").set(1.0);
        let result = supervise(stages, shutdown).await;
        tracing::info!("bayes stopped");
        result
    }

    /// `false` if shutdown came while Redis was away.
    async fn check_partition_count(
        &self,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> anyhow::Result<bool> {
        let mut backoff = crate::application::retry::Backoff::default();
        let stop = CancellationToken::new();
        loop {
            let mut connection = self.shared.clone();
            match platform::partition_count::ensure(&mut connection, &self.redis.keys).await {
                Ok(()) => return Ok(true),
                Err(platform::partition_count::PartitionCountError::Redis(error)) => {
                    tracing::warn!(%error, "cannot reach Redis to check the partition count; retrying");
                }
                Err(mismatch) => return Err(mismatch.into()),
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
            ReadSettings {
                batch_size: self.configuration.batch_size as usize,
                block: self.configuration.block,
                coalesce: self.configuration.read_coalesce,
                raw: self.configuration.read_decoder == crate::configuration::ReadDecoder::Raw,
            },
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

    fn ingress(&self) -> Ingress<RedisChannel> {
        let log = RedisIngressLog::new(
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
        Ingress::new(
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
            prior = %self.defaults.prior,
            grid_points = self.defaults.grid.points(),
            graphs_dir = %c.graphs_dir.display(),
            instance = %self.instance,
            batch_size = c.batch_size,
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
