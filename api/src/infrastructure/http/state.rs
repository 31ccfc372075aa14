//! What the handlers share: the use cases, the ports they read directly,
//! and the server's own signals.

use crate::application::{Catalog, Decisions, Ingest, ModelQuery, Notice, Readiness, Tokens};
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

/// The state as handlers receive it: one reference count per request, no copies.
pub(super) type Shared = Arc<AppState>;
