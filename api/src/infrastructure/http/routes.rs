//! The router and its handlers.

use super::ApiError;
use crate::application::{EventId, Ingest, ModelQuery, Readiness};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use domain::{ModelSummary, Observation};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What the handlers share.
pub struct AppState {
    /// Recording observations.
    pub ingest: Ingest,
    /// Reading the model.
    pub query: ModelQuery,
    /// Whether Redis answers.
    pub readiness: Arc<dyn Readiness>,
    /// Where bayes writes its PNGs.
    pub graphs_dir: PathBuf,
    /// Renders the Prometheus metrics.
    pub metrics: PrometheusHandle,
}

/// The state as handlers receive it: one reference count per request, no copies.
type Shared = Arc<AppState>;

#[derive(OpenApi)]
#[openapi(info(
    title = "event-driven-bayes api",
    description = "Binary observations in (w or l), appended to a durable Redis event log; the posterior out."
))]
struct ApiDoc;

/// Largest request body accepted, in bytes (a batch of 10,000 trials as a
/// JSON array of strings is about 40 KB).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// The whole HTTP interface, without binding a socket (tests call it with
/// `oneshot`). The OpenAPI document is collected from the very routes
/// registered here, so it cannot drift from them.
pub fn app(state: AppState) -> Router {
    let (router, openapi) = OpenApiRouter::<Shared>::with_openapi(ApiDoc::openapi())
        .routes(routes!(record_one))
        .routes(routes!(record_batch))
        .routes(routes!(model))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(posterior_png))
        .routes(routes!(metrics))
        .split_for_parts();
    let openapi = Arc::new(openapi);
    router
        .route(
            "/openapi.json",
            get(move || async move { Json(openapi.as_ref().clone()) }),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(Arc::new(state))
}

/// A JSON error, as every failure is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// The accepted trials, on a bad trial.
    #[schema(nullable = false)]
    pub accepted: Option<Vec<String>>,
}

/// Answer to an accepted observation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// The id of the log entry holding it, `<milliseconds>-<sequence>`.
    #[schema(value_type = String, example = "1732000000000-0")]
    pub id: EventId,
    /// Its index among the entry's trials (one entry holds a group commit).
    pub index: u64,
    /// The observation stored.
    pub trial: &'static str,
}

/// Appends one observation to the event log; answers once Redis stored it.
#[utoipa::path(
    get,
    path = "/update_model/{trial}",
    tag = "observations",
    params(("trial" = inline(Trial), Path, description = "`w` (success) or `l` (failure), exactly")),
    responses(
        (status = 202, description = "Stored in the event log", body = Accepted),
        (status = 400, description = "Not `w` or `l`; nothing stored", body = ErrorBody),
        (status = 503, description = "Redis unavailable, or too many requests waiting (with Retry-After); nothing stored", body = ErrorBody),
    )
)]
async fn record_one(
    State(state): State<Shared>,
    trial: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let Path(trial) = trial
        .map_err(|e| ApiError::BadRequest(format!("{}; expected \"w\" or \"l\"", e.body_text())))?;
    let (observation, appended) = state.ingest.record(&trial).await?;
    metrics::counter!("api_observations_accepted_total", "trial" => observation.as_str())
        .increment(1);
    tracing::debug!(id = %appended.id.0, index = appended.index, trial = %observation, "observation stored");
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            id: appended.id,
            index: appended.index,
            trial: observation.as_str(),
        }),
    ))
}

/// The body of `POST /update_model`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Batch {
    /// `"wlwwl"` or `["w", "l", …]`: 1 to 10,000 trials.
    #[schema(schema_with = trials_schema)]
    pub trials: Trials,
}

/// An observation, as the path of `GET /update_model/{trial}` takes it.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // only describes the path parameter in the OpenAPI document
enum Trial {
    /// A success.
    W,
    /// A failure.
    L,
}

/// The exact shape `record_batch` accepts, so the document promises no more.
fn trials_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    let max = crate::application::ingest::MAX_BATCH;
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^[wl]{{1,{max}}}$")))
                .min_length(Some(1))
                .max_length(Some(max)),
        )
        .item(
            ArrayBuilder::new()
                .items(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(["w", "l"])),
                )
                .min_items(Some(1))
                .max_items(Some(max)),
        )
        .build()
        .into()
}

/// Trials as one string of `w`/`l` characters or as an array of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Trials {
    /// `"wlwwl"`.
    Letters(String),
    /// `["w", "l"]`.
    List(Vec<String>),
}

/// Answer to an accepted batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAccepted {
    /// How many observations were stored.
    pub accepted: usize,
    /// The id of the log entry holding them (all in one entry).
    #[schema(value_type = String)]
    pub id: EventId,
    /// The index of the first of them among the entry's trials.
    pub index: u64,
    /// The same as `id` (v1 answered one entry per observation).
    #[schema(value_type = String)]
    pub first_id: EventId,
    /// The same as `id`.
    #[schema(value_type = String)]
    pub last_id: EventId,
}

/// Appends a batch of observations all-or-nothing; answers once Redis stored them.
#[utoipa::path(
    post,
    path = "/update_model",
    tag = "observations",
    request_body = Batch,
    responses(
        (status = 202, description = "All stored in the event log", body = BatchAccepted),
        (status = 400, description = "A trial is not `w` or `l`, or the body is malformed; nothing stored", body = ErrorBody),
        (status = 413, description = "Over 10,000 trials or 256 KiB; nothing stored", body = ErrorBody),
        (status = 503, description = "Redis unavailable; nothing stored", body = ErrorBody),
    )
)]
async fn record_batch(
    State(state): State<Shared>,
    body: Result<Json<Batch>, JsonRejection>,
) -> Result<(StatusCode, Json<BatchAccepted>), ApiError> {
    let Json(batch) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge(format!("request body over {MAX_BODY_BYTES} bytes"))
        }
        _ => ApiError::BadRequest(format!(
            "{}; expected {{\"trials\": \"wlw\"}} or {{\"trials\": [\"w\", \"l\"]}}",
            e.body_text()
        )),
    })?;
    let (accepted, appended) = match &batch.trials {
        Trials::Letters(letters) => {
            // The body limit bounds this; `record_all` enforces the batch size.
            // Split on char boundaries so a multi-byte character is reported whole.
            let trials: Vec<&str> = letters
                .char_indices()
                .map(|(i, c)| &letters[i..i + c.len_utf8()])
                .collect();
            state.ingest.record_all(trials).await?
        }
        Trials::List(list) => {
            state
                .ingest
                .record_all(list.iter().map(String::as_str))
                .await?
        }
    };
    metrics::counter!("api_observations_accepted_total", "trial" => "batch")
        .increment(accepted as u64);
    Ok((
        StatusCode::ACCEPTED,
        Json(BatchAccepted {
            accepted,
            first_id: appended.id.clone(),
            last_id: appended.id.clone(),
            id: appended.id,
            index: appended.index,
        }),
    ))
}

/// The posterior summary of the counts bayes stored (the prior's, before any).
#[utoipa::path(
    get,
    path = "/model",
    tag = "model",
    responses(
        (status = 200, description = "Counts, definition and posterior summaries", body = ModelSummary),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
async fn model(State(state): State<Shared>) -> Result<Json<ModelSummary>, ApiError> {
    Ok(Json(state.query.summary().await?))
}

/// The process is alive (no I/O).
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Redis answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Redis answers"),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
async fn readyz(State(state): State<Shared>) -> Result<Json<serde_json::Value>, ApiError> {
    state.readiness.check().await?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

/// The latest plot bayes drew. The file name is fixed, never taken from
/// the request, so nothing else can be read through this route.
#[utoipa::path(
    get,
    path = "/graphs/posterior.png",
    tag = "model",
    responses(
        (status = 200, description = "The latest plot", content_type = "image/png"),
        (status = 404, description = "No plot drawn yet", body = ErrorBody),
    )
)]
async fn posterior_png(State(state): State<Shared>) -> Result<impl IntoResponse, ApiError> {
    let path = state.graphs_dir.join("posterior.png");
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::NotFound(
            "no plot yet: bayes draws graphs/posterior.png once it has started".into(),
        )),
        Err(e) => Err(ApiError::Internal(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Prometheus metrics in the text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
async fn metrics(State(state): State<Shared>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// Any other route.
async fn not_found() -> ApiError {
    ApiError::NotFound(format!(
        "no such route; try GET /update_model/{}, GET /model, GET /healthz",
        Observation::ACCEPTED.join("|")
    ))
}
