//! Build, then run: [`Application::build`] validates the configuration,
//! binds the listener and wires the adapters into the router (every error
//! names its setting); [`Application::run_until_stopped`] checks the
//! partition count and serves until shutdown, finishing requests in flight,
//! with every task supervised: one that ends or panics early stops the api.

use crate::application::history::Timelines;
use crate::application::{Catalog, Decisions, Experiments, Ingest, ModelLimit, ModelQuery, Tokens};
use crate::configuration::Configuration;
use crate::infrastructure::http::{ApiError, AppState, UseCases, app};
use crate::infrastructure::redis::{
    GroupCommitLog, RedisModelStore, RedisReadiness, WriteSettings, notices,
};
use crate::tasks::Background;
use anyhow::Context;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use platform::RedisConnection;
use platform::RedisSettings;
use platform::supervisor::{Stage, Task, supervise};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tower::{BoxError, ServiceBuilder};
use tower_http::trace::TraceLayer;

/// The api, built and bound.
pub struct Application {
    listener: TcpListener,
    router: Router,
    redis: RedisSettings,
    connection: RedisConnection,
    open: watch::Sender<bool>,
    stop: watch::Sender<bool>,
    background: Background,
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
        let writing = CancellationToken::new();
        let (log, writers) = GroupCommitLog::start(
            connection.clone(),
            redis.keys.clone(),
            writes,
            configuration.ingest_queue as usize,
            opened,
            &writing,
        );
        let log = Arc::new(log);
        let (notices, subscription) =
            notices::start(redis.nodes.clone(), redis.keys.applied.clone());
        let metrics = install_metrics()?;
        let background = Background::new(writers, writing, subscription, metrics.clone())
            .inject(configuration.fault_inject.as_deref());
        let store = Arc::new(RedisModelStore::new(connection.clone(), redis.keys.clone()));
        let defaults = configuration
            .defaults
            .definitions()
            .map_err(anyhow::Error::msg)?;
        let history = configuration
            .history
            .settings()
            .map_err(anyhow::Error::msg)?;
        let limit = Arc::new(ModelLimit::new(configuration.max_models, store.clone()));
        let catalog = Catalog::new(store.clone(), log.clone(), defaults).with_limit(limit.clone());
        let decisions = Decisions::new(store.clone(), defaults);
        let timelines = Timelines::new(store.clone(), defaults, history);
        let experiments = Experiments::new(
            store.clone(),
            log.clone(),
            catalog.clone(),
            decisions.clone(),
            timelines.clone(),
        )
        .with_limit(limit.clone());
        let use_cases = UseCases {
            ingest: Ingest::new(log, crate::application::ingest::MAX_BATCH).with_limit(limit),
            query: ModelQuery::new(store.clone(), defaults),
            catalog,
            decisions,
            timelines,
            experiments,
        };
        let readiness = Arc::new(RedisReadiness::new(
            connection.clone(),
            redis.allow_eviction,
        ));
        let state = AppState::new(
            use_cases,
            readiness,
            configuration.graphs_dir.clone(),
            metrics,
        )
        .with_tokens(tokens)
        .with_events(notices, stopping);
        let state_tokens = state.tokens.len();
        let router = app(state)
            .layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(|_: BoxError| async {
                        ApiError::TimedOut
                    }))
                    .timeout(configuration.request_timeout),
            )
            .layer(TraceLayer::new_for_http());
        log_start(&configuration, &redis, state_tokens);
        Ok(Self {
            listener,
            router,
            redis,
            connection,
            open,
            stop,
            background,
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

    /// Serves until `shutdown`, then drains requests in flight, then stops
    /// the writers (each writing what it holds) and the upkeep. Writes wait
    /// until the partition count is checked against the deployment's.
    ///
    /// # Errors
    /// A partition count that differs from the deployment's, a server error,
    /// or a task (a partition writer, the notices) that ended before shutdown.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.address()?;
        tracing::info!(%address, "api listening");
        let serving = CancellationToken::new();
        let check = check_partition_count(self.connection, self.redis, self.open);
        let server = serve(self.listener, self.router, serving.clone(), self.stop);
        let stages = self.background.stages(Stage {
            stop: serving.clone(),
            tasks: vec![
                Task::new("http-server", server),
                Task::cancellable("partition-count", serving, check).finite(),
            ],
        });
        let result = supervise(stages, shutdown, |_| {}).await;
        tracing::info!("api stopped");
        result
    }
}

/// Serves until `serving` is cancelled, then tells open event streams to
/// end (through `stopping`) and drains the requests in flight.
async fn serve(
    listener: TcpListener,
    router: Router,
    serving: CancellationToken,
    stopping: watch::Sender<bool>,
) -> anyhow::Result<()> {
    let stop = async move {
        serving.cancelled().await;
        // Open event streams end, so they do not hold the shutdown open.
        stopping.send_replace(true);
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
        .context("HTTP server failed")
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
        max_models = configuration.max_models,
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

/// Checks the partition count and the eviction policy, retrying while
/// Redis is away, and opens the writers once both are right.
///
/// # Errors
/// A partition count that differs, or an eviction policy that may drop any
/// key (without ALLOW_EVICTION): either stops the api.
async fn check_partition_count(
    mut connection: RedisConnection,
    redis: RedisSettings,
    open: watch::Sender<bool>,
) -> anyhow::Result<()> {
    loop {
        match platform::partition_count::ensure(&mut connection, &redis.keys).await {
            Ok(()) => break,
            Err(platform::partition_count::PartitionCountError::Redis(error)) => {
                tracing::warn!(%error, "cannot reach Redis to check the partition count; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(mismatch) => return Err(mismatch.into()),
        }
    }
    loop {
        match platform::memory::ensure_policy(&mut connection, redis.allow_eviction).await {
            Ok(()) => break,
            Err(platform::memory::PolicyError::Redis(error)) => {
                tracing::warn!(%error, "cannot reach Redis to check its eviction policy; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(refused) => return Err(refused.into()),
        }
    }
    open.send_replace(true);
    Ok(())
}

/// Installs the process-wide Prometheus recorder (its upkeep is a task).
fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")
}
