//! Wiring: Redis adapters into the use cases, the use cases into the router,
//! the router onto a socket, served until `shutdown` completes.

use crate::application::{Ingest, ModelQuery};
use crate::configuration::Configuration;
use crate::infrastructure::http::{AppState, app};
use crate::infrastructure::redis::{RedisEventLog, RedisModelStore};
use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Largest batch `POST /update_model` accepts.
pub const MAX_BATCH: usize = 10_000;

/// Builds the application from its configuration, binds, and serves until
/// `shutdown`; in-flight requests are finished first.
///
/// # Errors
/// A bad configuration or a port that cannot be bound, before any work.
pub async fn run(
    configuration: Configuration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let settings = configuration.redis.settings()?;
    let listener = TcpListener::bind(configuration.api_addr)
        .await
        .with_context(|| format!("cannot listen on API_ADDR {}", configuration.api_addr))?;
    let router = build(&configuration)?;
    tracing::info!(
        redis_url = %settings.masked_url,
        key_prefix = %configuration.redis.key_prefix,
        api_addr = %configuration.api_addr,
        graphs_dir = %configuration.graphs_dir.display(),
        stream_maxlen = configuration.stream_maxlen,
        request_timeout_ms = configuration.request_timeout_ms,
        "api starting"
    );
    serve(listener, router, shutdown).await
}

/// The router with its state and middleware, from the configuration.
///
/// # Errors
/// An invalid Redis URL.
pub fn build(configuration: &Configuration) -> anyhow::Result<Router> {
    let settings = configuration.redis.settings()?;
    let connection = settings
        .connection_manager()
        .context("cannot set up the Redis connection")?;
    let log = Arc::new(RedisEventLog::new(
        connection.clone(),
        settings.keys.events.clone(),
        configuration.stream_maxlen,
    ));
    let store = Arc::new(RedisModelStore::new(
        connection,
        settings.keys.model.clone(),
    ));
    let state = AppState {
        ingest: Ingest::new(log.clone(), MAX_BATCH),
        query: ModelQuery::new(store),
        readiness: log,
        graphs_dir: configuration.graphs_dir.clone(),
        metrics: install_metrics()?,
    };
    Ok(app(state)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_millis(configuration.request_timeout_ms),
        ))
        .layer(TraceLayer::new_for_http()))
}

/// Installs the process-wide Prometheus recorder and its upkeep task.
fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// Serves `router` on `listener` until `shutdown`, then drains in-flight requests.
///
/// # Errors
/// An I/O error of the server itself.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address = listener.local_addr().context("listener has no address")?;
    tracing::info!(%address, "api listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .context("HTTP server failed")?;
    tracing::info!("api stopped");
    Ok(())
}
