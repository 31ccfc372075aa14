//! Probes, metrics and the answer to any other route.

use super::error::{ApiError, ErrorBody};
use super::state::Shared;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

/// The process is alive (no I/O).
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub(super) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Redis answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Redis answers, has memory for writes and an eviction policy that keeps the state: `memory` per master (`used_bytes`, `max_bytes`, `policy`), `warnings` (a `volatile-*` policy), on a cluster `cluster` (every slot served)"),
        (status = 503, description = "Redis unavailable, out of memory, on an `allkeys-*` eviction policy (without ALLOW_EVICTION), or a cluster with a slot unserved", body = ErrorBody),
    )
)]
pub(super) async fn readyz(
    State(state): State<Shared>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let health = state.readiness.check().await?;
    let mut answer = serde_json::json!({ "status": "ready" });
    if let (Some(fields), serde_json::Value::Object(health)) =
        (answer.as_object_mut(), serde_json::json!(health))
    {
        fields.extend(health);
    }
    Ok(Json(answer))
}

/// Prometheus metrics in the text format; `api_models` is read from Redis
/// at each scrape (one `ZCARD` per partition), left as it was if Redis is away.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
pub(super) async fn metrics(State(state): State<Shared>) -> impl IntoResponse {
    if let Ok(models) = state.catalog.count().await {
        metrics::gauge!("api_models").set(models as f64);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// Any other route.
pub(super) async fn not_found() -> ApiError {
    ApiError::NotFound(
        "no such route; try GET /models, GET /models/{name}, POST /models/{name}/observations, \
         GET /compare?models=a,b, GET /update_model/w|l, GET /model, GET /openapi.json"
            .into(),
    )
}
