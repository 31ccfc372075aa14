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
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Recording observations.
    pub ingest: Ingest,
    /// Reading the model.
    pub query: ModelQuery,
    /// Whether Redis answers.
    pub readiness: Arc<dyn Readiness>,
    /// Where bayes writes its PNGs.
    pub graphs_dir: PathBuf,
}

/// Largest request body accepted, in bytes (a batch of 10,000 trials as a
/// JSON array of strings is about 40 KB).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// The whole HTTP interface, without binding a socket (tests call it with `oneshot`).
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/update_model/{trial}", get(record_one))
        .route("/update_model", axum::routing::post(record_batch))
        .route("/model", get(model))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/graphs/posterior.png", get(posterior_png))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Answer to an accepted observation.
#[derive(Debug, Serialize)]
pub struct Accepted {
    /// The event log's id for the entry.
    pub id: EventId,
    /// The observation stored.
    pub trial: &'static str,
}

/// `GET /update_model/{trial}`: append `w` or `l` to the log; 202 once stored.
async fn record_one(
    State(state): State<AppState>,
    trial: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let Path(trial) = trial
        .map_err(|e| ApiError::BadRequest(format!("{}; expected \"w\" or \"l\"", e.body_text())))?;
    let (observation, id) = state.ingest.record(&trial).await?;
    tracing::debug!(id = %id.0, trial = %observation, "observation stored");
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            id,
            trial: observation.as_str(),
        }),
    ))
}

/// The body of `POST /update_model`.
#[derive(Debug, Deserialize)]
pub struct Batch {
    /// `"wlwwl"` or `["w", "l", …]`.
    pub trials: Trials,
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
#[derive(Debug, Serialize)]
pub struct BatchAccepted {
    /// How many observations were stored.
    pub accepted: usize,
    /// The id of the first and last entry.
    pub first_id: EventId,
    /// The id of the last entry.
    pub last_id: EventId,
}

/// `POST /update_model`: append a batch all-or-nothing; 202 once stored.
async fn record_batch(
    State(state): State<AppState>,
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
    let ids = match &batch.trials {
        Trials::Letters(letters) => {
            let max = state.ingest.max_batch();
            if letters.len() > max {
                return Err(ApiError::TooLarge(format!(
                    "a batch holds at most {max} trials, got {}",
                    letters.len()
                )));
            }
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
    let (Some(first_id), Some(last_id)) = (ids.first().cloned(), ids.last().cloned()) else {
        return Err(ApiError::Internal(
            "the log returned no ids for a non-empty batch".into(),
        ));
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(BatchAccepted {
            accepted: ids.len(),
            first_id,
            last_id,
        }),
    ))
}

/// `GET /model`: the posterior summary of the stored counts.
async fn model(State(state): State<AppState>) -> Result<Json<ModelSummary>, ApiError> {
    Ok(Json(state.query.summary().await?))
}

/// `GET /healthz`: the process is alive. No I/O.
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: Redis answers.
async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.readiness.check().await?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

/// `GET /graphs/posterior.png`: the latest plot bayes drew. The path is
/// fixed, never taken from the request, so nothing else can be read.
async fn posterior_png(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
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

/// Any other route.
async fn not_found() -> ApiError {
    ApiError::NotFound(format!(
        "no such route; try GET /update_model/{}, GET /model, GET /healthz",
        Observation::ACCEPTED.join("|")
    ))
}
