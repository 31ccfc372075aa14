//! Build, then run: [`Application::build`] validates the configuration,
//! binds the listener and wires the adapters into the router (every error
//! names its setting); [`Application::run_until_stopped`] checks the
//! partition count and serves until shutdown, finishing requests in flight.

use crate::application::{Catalog, Decisions, Ingest, ModelQuery, Tokens};
use crate::configuration::Configuration;
use crate::infrastructure::http::{AppState, app};
use crate::infrastructure::redis::{GroupCommitLog, RedisModelStore, WriteSettings, notices};
use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use platform::RedisConnection;
use platform::RedisSettings;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The api, built and bound.
pub struct Application {
    listener: TcpListener,
    router: Router,
    redis: RedisSettings,
    connection: RedisConnection,
    open: watch::Sender<bool>,
    stop: watch::Sender<bool>,
}

impl Application {
    /// Validates `configuration`, binds `API_ADDR`, sets up Redis and the router.
    ///
    /// # Errors
    /// The first bad setting, named, or a port that cannot be bound.
    pub async fn build(configuration: Configuration) -> anyhow::Result<Self> {
        let redis = configuration.redis.settings()?;
        let tokens = access(&configuration)?;
        let listener = TcpListener::bind(configuration.api_addr)
            .await
            .with_context(|| format!("cannot listen on API_ADDR {}", configuration.api_addr))?;
        let connection = redis
            .connection()
            .context("cannot set up the Redis connection")?;
        let (open, opened) = watch::channel(false);
        let (stop, stopping) = watch::channel(false);
        let writes = WriteSettings {
            maxlen: configuration.stream_maxlen,
            replicas_ack: redis.replicas_ack,
            replicas_timeout: redis.replicas_timeout(),
            idempotency_window: configuration.idempotency_window,
        };
        let log = GroupCommitLog::start(
            connection.clone(),
            redis.keys.clone(),
            writes,
            configuration.ingest_queue as usize,
            opened,
        );
        let log = Arc::new(log);
        let store = Arc::new(RedisModelStore::new(connection.clone(), redis.keys.clone()));
        let defaults = configuration.defaults.definition();
        let state = AppState {
            ingest: Ingest::new(log.clone(), crate::application::ingest::MAX_BATCH),
            query: ModelQuery::new(store.clone(), defaults),
            catalog: Catalog::new(store.clone(), log, defaults),
            decisions: Decisions::new(store.clone(), defaults),
            readiness: store,
            graphs_dir: configuration.graphs_dir.clone(),
            metrics: install_metrics()?,
            tokens,
            notices: notices::start(redis.nodes.clone(), redis.keys.applied.clone()),
            stopping,
        };
        let state_tokens = state.tokens.len();
        let router = app(state)
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                configuration.request_timeout,
            ))
            .layer(TraceLayer::new_for_http());
        log_start(&configuration, &redis, state_tokens);
        Ok(Self {
            listener,
            router,
            redis,
            connection,
            open,
            stop,
        })
    }

    /// The address it listens on.
    ///
    /// # Errors
    /// If the socket has none.
    pub fn address(&self) -> anyhow::Result<SocketAddr> {
        self.listener
            .local_addr()
            .context("listener has no address")
    }

    /// Serves until `shutdown`, then drains requests in flight. Writes wait
    /// until the partition count is checked against the deployment's.
    ///
    /// # Errors
    /// A partition count that differs from the deployment's, or a server error.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.address()?;
        tracing::info!(%address, "api listening");
        let (refused, refusal) = tokio::sync::oneshot::channel::<anyhow::Error>();
        let check = tokio::spawn(check_partition_count(
            self.connection,
            self.redis,
            self.open,
            refused,
        ));
        let mut refusal = Box::pin(refusal);
        let stopping = self.stop;
        let stop = async move {
            tokio::select! {
                () = shutdown => {}
                Ok(_) = &mut refusal => {}
            }
            // Open event streams end, so they do not hold the shutdown open.
            stopping.send_replace(true);
        };
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(stop)
            .await
            .context("HTTP server failed")?;
        check.abort();
        if let Ok(Err(error)) = check.await {
            return Err(error);
        }
        tracing::info!("api stopped");
        Ok(())
    }
}

/// One line with the effective configuration (the password masked, tokens counted).
fn log_start(configuration: &Configuration, redis: &RedisSettings, tokens: usize) {
    tracing::info!(
        redis_url = %redis.masked_url,
        key_prefix = %configuration.redis.key_prefix,
        partitions = configuration.redis.partitions,
        api_addr = %configuration.api_addr,
        graphs_dir = %configuration.graphs_dir.display(),
        stream_maxlen = configuration.stream_maxlen,
        ingest_queue = configuration.ingest_queue,
        request_timeout_ms = configuration.request_timeout.as_millis() as u64,
        api_tokens = tokens,
        "api starting"
    );
}

/// The tokens, and the refusal to serve open on a non-loopback address.
fn access(configuration: &Configuration) -> anyhow::Result<Tokens> {
    let access = &configuration.access;
    let mut text = access
        .api_tokens
        .as_ref()
        .map(|s| s.0.clone())
        .unwrap_or_default();
    if let Some(path) = &access.api_tokens_file {
        let file = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read API_TOKENS_FILE {}", path.display()))?;
        text.push('\n');
        text.push_str(&file);
    }
    let tokens = Tokens::parse(&text).context("invalid API_TOKENS or API_TOKENS_FILE")?;
    let address = configuration.api_addr;
    if !tokens.enabled() && !address.ip().is_loopback() {
        anyhow::ensure!(
            access.allow_unauthenticated,
            "API_ADDR {address} is not a loopback address and no API_TOKENS are set: anyone who \
             reaches it could write and delete models. Set API_TOKENS (or API_TOKENS_FILE), or \
             ALLOW_UNAUTHENTICATED=true to serve it open on purpose"
        );
        tracing::warn!(%address, "serving without access control on a non-loopback address (ALLOW_UNAUTHENTICATED=true)");
    }
    Ok(tokens)
}

/// Checks the partition count, retrying while Redis is away; opens the
/// writers once it matches, or reports the mismatch (which stops the api).
async fn check_partition_count(
    mut connection: RedisConnection,
    redis: RedisSettings,
    open: watch::Sender<bool>,
    refused: tokio::sync::oneshot::Sender<anyhow::Error>,
) -> anyhow::Result<()> {
    loop {
        match platform::partition_count::ensure(&mut connection, &redis.keys).await {
            Ok(()) => {
                open.send_replace(true);
                return Ok(());
            }
            Err(platform::partition_count::PartitionCountError::Redis(error)) => {
                tracing::warn!(%error, "cannot reach Redis to check the partition count; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(mismatch) => {
                let message = mismatch.to_string();
                let _ = refused.send(anyhow::anyhow!(message.clone()));
                return Err(anyhow::anyhow!(message));
            }
        }
    }
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
