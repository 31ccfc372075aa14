//! The router: every route, the state handlers share, and the OpenAPI
//! document collected from the very routes registered here.

use super::{
    auth, curves, dashboard, decisions, events, models, observations, operations, session,
};
use crate::application::{Catalog, Decisions, Ingest, ModelQuery, Readiness, Tokens};
use crate::infrastructure::redis::notices::Notice;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

#[derive(OpenApi)]
#[openapi(info(
    title = "event-driven-bayes api",
    description = "Binary observations in (w or l), appended to a durable Redis event log; exact posteriors and decisions between models out."
))]
struct ApiDoc;

/// Largest request body accepted, in bytes (a batch of 10,000 trials as a
/// JSON array of strings is about 40 KB).
pub(super) const MAX_BODY_BYTES: usize = 256 * 1024;

/// The whole HTTP interface, without binding a socket (tests call it with
/// `oneshot`).
pub fn app(state: AppState) -> Router {
    let (router, openapi) = OpenApiRouter::<Shared>::with_openapi(ApiDoc::openapi())
        .routes(routes!(observations::record_one))
        .routes(routes!(observations::record_batch))
        .routes(routes!(observations::record_named))
        .routes(routes!(models::model))
        .routes(routes!(models::list))
        .routes(routes!(
            models::get_named,
            models::put_named,
            models::delete_named
        ))
        .routes(routes!(curves::posterior))
        .routes(routes!(models::posterior_png))
        .routes(routes!(models::named_png))
        .routes(routes!(decisions::compare))
        .routes(routes!(decisions::choose))
        .routes(routes!(operations::healthz))
        .routes(routes!(operations::readyz))
        .routes(routes!(operations::metrics))
        .routes(routes!(session::state, session::open, session::close))
        .split_for_parts();
    let state = Arc::new(state);
    let openapi = Arc::new(auth::document(openapi, state.tokens.enabled()));
    router
        .route("/events", get(events::events))
        .route("/", get(dashboard::page))
        .route("/assets/{file}", get(dashboard::asset))
        .route(
            "/openapi.json",
            get(move || async move { Json(openapi.as_ref().clone()) }),
        )
        .fallback(operations::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
