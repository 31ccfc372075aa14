//! What the handlers share: the use cases, the ports they read directly,
//! and the server's own signals.

use crate::application::history::Timelines;
use crate::application::{
    Catalog, Decisions, Experiments, Ingest, ModelQuery, Notice, Readiness, Tokens,
};
use metrics_exporter_prometheus::PrometheusHandle;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// What the handlers share.
pub struct AppState {
    /// Recording observations.
    pub ingest: Ingest,
    /// Reading the model `default` (the v1 routes).
    pub query: ModelQuery,
    /// Named models: summaries, list, definitions, deletions.
    pub catalog: Catalog,
    /// Comparisons and Thompson draws.
    pub decisions: Decisions,
    /// Models over time.
    pub timelines: Timelines,
    /// A/B tests and bandits.
    pub experiments: Experiments,
    /// Whether Redis answers.
    pub readiness: Arc<dyn Readiness>,
    /// Where bayes writes its PNGs.
    pub graphs_dir: PathBuf,
    /// Renders the Prometheus metrics.
    pub metrics: PrometheusHandle,
    /// Who may do what; empty: everyone, everything.
    pub tokens: Tokens,
    /// Notices of applied batches, for `/events`.
    pub notices: broadcast::Sender<Notice>,
    /// Turns true when the server shuts down: open event streams end.
    pub stopping: watch::Receiver<bool>,
}

/// The use cases the handlers call.
pub struct UseCases {
    /// Recording observations.
    pub ingest: Ingest,
    /// Reading the model `default`.
    pub query: ModelQuery,
    /// Named models.
    pub catalog: Catalog,
    /// Comparisons and Thompson draws.
    pub decisions: Decisions,
    /// Models over time.
    pub timelines: Timelines,
    /// A/B tests and bandits.
    pub experiments: Experiments,
}

impl AppState {
    /// The state with open access and no live view: `/events` ends at once
    /// until [`AppState::with_events`] gives it the server's signals.
    pub fn new(
        use_cases: UseCases,
        readiness: Arc<dyn Readiness>,
        graphs_dir: PathBuf,
        metrics: PrometheusHandle,
    ) -> Self {
        let UseCases {
            ingest,
            query,
            catalog,
            decisions,
            timelines,
            experiments,
        } = use_cases;
        Self {
            ingest,
            query,
            catalog,
            decisions,
            timelines,
            experiments,
            readiness,
            graphs_dir,
            metrics,
            tokens: Tokens::default(),
            notices: broadcast::channel(1).0,
            // Its sender is gone: a stream sees "stopping" at once.
            stopping: watch::channel(false).1,
        }
    }

    /// Who may do what.
    #[must_use]
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        self.tokens = tokens;
        self
    }

    /// The notices `/events` streams, and the signal that ends the streams.
    #[must_use]
    pub fn with_events(
        mut self,
        notices: broadcast::Sender<Notice>,
        stopping: watch::Receiver<bool>,
    ) -> Self {
        self.notices = notices;
        self.stopping = stopping;
        self
    }
}

/// The state as handlers receive it: one reference count per request, no copies.
pub(super) type Shared = Arc<AppState>;
