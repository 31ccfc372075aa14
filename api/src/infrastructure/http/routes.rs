//! The router: every route, and the OpenAPI document collected from the
//! very routes registered here.

use super::extract::MAX_BODY_BYTES;
use super::state::{AppState, Shared};
use super::{
    auth, curves, dashboard, decisions, events, experiments, history, models, observations,
    operations, session,
};
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(info(
    title = "event-driven-bayes api",
    description = "Binary observations in (w or l), appended to a durable Redis event log; exact posteriors and decisions between models out."
))]
struct ApiDoc;

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
        .routes(routes!(history::model_history))
        .routes(routes!(history::compare_history))
        .routes(routes!(curves::posterior))
        .routes(routes!(models::posterior_png))
        .routes(routes!(models::named_png))
        .routes(routes!(decisions::compare))
        .routes(routes!(decisions::choose))
        .routes(routes!(experiments::list))
        .routes(routes!(
            experiments::get,
            experiments::put,
            experiments::delete
        ))
        .routes(routes!(experiments::observe))
        .routes(routes!(experiments::choose))
        .routes(routes!(experiments::stop))
        .routes(routes!(experiments::history))
        .routes(routes!(experiments::decisions))
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
