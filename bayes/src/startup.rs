//! Wiring: Redis adapters into the consumer, the ingress and the renderer,
//! run until `shutdown` completes, then wound down in order.

use crate::application::render::RenderLoop;
use crate::application::{Consumer, Ingress};
use crate::configuration::Configuration;
use crate::infrastructure::plot::PngDirectory;
use crate::infrastructure::redis::{
    EventSourceSettings, RedisChannel, RedisEventSource, RedisIngressLog, RedisModelRepository,
};
use anyhow::Context;
use domain::{Counts, ModelDefinition};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Validates the configuration, then consumes until `shutdown`.
///
/// # Errors
/// A bad configuration, before any work.
pub async fn run(
    configuration: Configuration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let settings = configuration.redis.settings()?;
    let definition = ModelDefinition {
        prior: configuration.prior,
        grid: configuration.grid_points,
    };
    definition.summary(Counts::ZERO).with_context(|| {
        format!(
            "PRIOR {} has no mass on a grid of {} points",
            definition.prior, definition.grid
        )
    })?;
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
    let consumer_name = configuration.consumer_name();
    tracing::info!(
        redis_url = %settings.masked_url,
        key_prefix = %configuration.redis.key_prefix,
        channel = %configuration.redis_channel,
        prior = %definition.prior,
        grid_points = definition.grid.points(),
        graphs_dir = %configuration.graphs_dir.display(),
        consumer = %consumer_name,
        batch_size = configuration.batch_size,
        metrics_addr = %configuration.metrics_addr,
        "bayes starting"
    );

    let shared = settings
        .connection_manager()
        .context("cannot set up the Redis connection")?;
    let block = Duration::from_millis(configuration.block_ms);
    let reader = settings
        .blocking_connection_manager(block)
        .context("cannot set up the Redis reader connection")?;

    let repository = Arc::new(RedisModelRepository::new(
        shared.clone(),
        settings.keys.clone(),
        configuration.dead_maxlen,
    ));
    let source = RedisEventSource::new(
        reader,
        settings.keys.clone(),
        EventSourceSettings {
            consumer: consumer_name.clone(),
            batch_size: configuration.batch_size as usize,
            block,
            claim_idle: Duration::from_millis(configuration.claim_idle_ms),
            coalesce: Duration::from_millis(configuration.read_coalesce_ms),
        },
    );
    let (render, observer) = RenderLoop::new(
        Arc::new(graphs),
        definition,
        Duration::from_millis(configuration.render_interval_ms),
    );
    let consumer = Consumer::new(
        source,
        repository,
        Arc::new(observer),
        definition,
        Duration::from_millis(configuration.claim_interval_ms),
    );
    let lease_ttl = Duration::from_millis(configuration.lease_ttl_ms);
    let ingress_log = Arc::new(RedisIngressLog::new(
        shared,
        settings.keys.clone(),
        consumer_name,
        lease_ttl,
        configuration.stream_maxlen,
        configuration.dead_maxlen,
    ));
    let channel = RedisChannel::new(
        settings.client.clone(),
        configuration.redis_channel.clone(),
        settings.timeout,
    );
    let ingress = Ingress::new(ingress_log, channel, lease_ttl / 3);

    let (work, drawing) = (CancellationToken::new(), CancellationToken::new());
    let consumer_task = tokio::spawn(consumer.run(work.clone()));
    let ingress_task = tokio::spawn(ingress.run(work.clone()));
    let render_task = tokio::spawn(render.run(drawing.clone()));
    shutdown.await;
    work.cancel();
    ingress_task.await.context("ingress task panicked")?;
    consumer_task.await.context("consumer task panicked")?;
    // Last, so the final state the consumer reached is drawn.
    drawing.cancel();
    render_task.await.context("render task panicked")?;
    tracing::info!("bayes stopped");
    Ok(())
}
