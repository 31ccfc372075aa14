//! Experiments over HTTP: definitions, stops and deletions (log events,
//! admin), reads (the comparison now, the list, the history, the announced
//! decisions), the next variant to serve, and observations of a variant.

pub(super) mod bodies;

use super::error::{ApiError, ErrorBody};
use super::extract::{self, AppQuery, JsonObject, NamedModel};
use super::history::RangeParams;
use super::observations::{self, Idempotency, IdempotencyHeader, NOTHING_STORED, PERHAPS_STORED};
use super::state::Shared;
use crate::application::experiments::{ExperimentChoice, ExperimentView, MAX_PAGE};
use crate::application::history::ExperimentHistory;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use bodies::{
    DecisionList, DecisionsQuery, Draft, ExperimentAccepted, ExperimentBody,
    ExperimentEventAccepted, ExperimentList, ExperimentObservations, ExperimentPage, StopBody,
    VariantObservations,
};
use domain::ModelName;

/// Defines (or redefines) an experiment: its variants (models; those that
/// do not exist are created with the defaults first), baseline, threshold,
/// weights or floor, and window or half-life. A log event, applied by bayes
/// in log order: reads show it once applied.
#[utoipa::path(
    put,
    path = "/experiments/{name}",
    tag = "experiments",
    params(extract::ModelPath),
    request_body = ExperimentBody,
    responses(
        (status = 202, description = "Stored in the event log; bayes applies it next", body = ExperimentAccepted),
        (status = 400, description = "A bad name or field (named), an unknown field; nothing stored", body = ErrorBody),
        (status = 409, description = "New variants past MAX_MODELS; nothing stored", body = ErrorBody),
        (status = 503, description = NOTHING_STORED, body = ErrorBody),
        (status = 504, description = PERHAPS_STORED, body = ErrorBody),
    )
)]
pub(super) async fn put(
    State(state): State<Shared>,
    NamedModel(name): NamedModel,
    JsonObject(Draft(draft)): JsonObject<Draft>,
) -> Result<(StatusCode, Json<ExperimentAccepted>), ApiError> {
    let defined = state.experiments.define(&name, &draft).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ExperimentAccepted {
            id: defined.id,
            name: name.to_string(),
            definition: (&defined.experiment).into(),
            created: defined.created,
        }),
    ))
}

/// An experiment: its definition, status, the decision bayes last
/// announced, the comparison of its variants now (as `GET /compare`
/// answers it, at its threshold and through its window or half-life) and,
/// for an A/B test, the sample-ratio-mismatch check.
#[utoipa::path(
    get,
    path = "/experiments/{name}",
    tag = "experiments",
    params(extract::ModelPath),
    responses(
        (status = 200, description = "The experiment", body = ExperimentView),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 400, description = "Not an experiment name; a window past a variant's history", body = ErrorBody),
        (status = 404, description = "No such experiment", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn get(
    State(state): State<Shared>,
    NamedModel(name): NamedModel,
) -> Result<Json<ExperimentView>, ApiError> {
    Ok(Json(state.experiments.get(&name).await?))
}

/// Deletes an experiment (its models stay). A log event.
#[utoipa::path(
    delete,
    path = "/experiments/{name}",
    tag = "experiments",
    params(extract::ModelPath),
    responses(
        (status = 202, description = "Stored in the event log; bayes applies it next", body = ExperimentEventAccepted),
        (status = 400, description = "Not an experiment name", body = ErrorBody),
        (status = 404, description = "No such experiment", body = ErrorBody),
        (status = 503, description = NOTHING_STORED, body = ErrorBody),
        (status = 504, description = PERHAPS_STORED, body = ErrorBody),
    )
)]
pub(super) async fn delete(
    State(state): State<Shared>,
    NamedModel(name): NamedModel,
) -> Result<(StatusCode, Json<ExperimentEventAccepted>), ApiError> {
    let id = state.experiments.delete(&name).await?;
    Ok(event_accepted(id, &name, None))
}

fn event_accepted(
    id: crate::application::EventId,
    name: &ModelName,
    variant: Option<String>,
) -> (StatusCode, Json<ExperimentEventAccepted>) {
    (
        StatusCode::ACCEPTED,
        Json(ExperimentEventAccepted {
            id,
            name: name.to_string(),
            variant,
        }),
    )
}

/// The experiments, by name, each with its status and leader now, a page at a time.
#[utoipa::path(
    get,
    path = "/experiments",
    tag = "experiments",
    params(ExperimentPage),
    responses(
        (status = 200, description = "One page of experiments", body = ExperimentList),
        (status = 400, description = "A bad `after` or `limit`", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn list(
    State(state): State<Shared>,
    AppQuery(page): AppQuery<ExperimentPage>,
) -> Result<Json<ExperimentList>, ApiError> {
    let limit = page.limit.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE}, got {limit}"
        )));
    }
    let after = page
        .after
        .map(|name| ModelName::parse(&name))
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("after: {e}")))?;
    let experiments = state.experiments.list(after.as_ref(), limit).await?;
    let next = (experiments.len() == limit)
        .then(|| experiments.last().map(|e| e.name.clone()))
        .flatten();
    Ok(Json(ExperimentList { experiments, next }))
}

/// Appends observations of one of the experiment's variants, exactly as
/// `POST /models/{variant}/observations` does (the same Idempotency-Key
/// rules, per variant).
#[utoipa::path(
    post,
    path = "/experiments/{name}/observations",
    tag = "experiments",
    params(extract::ModelPath, IdempotencyHeader),
    request_body = ExperimentObservations,
    responses(
        (status = 202, description = "All stored in the event log (or, for a retry under the same Idempotency-Key, the first answer)", body = observations::bodies::BatchAccepted),
        (status = 400, description = "Not one of the experiment's variants, a trial that is not `w` or `l`, a malformed body or Idempotency-Key; nothing stored", body = ErrorBody),
        (status = 404, description = "No such experiment", body = ErrorBody),
        (status = 413, description = "Over 10,000 observations or 256 KiB; nothing stored", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for other observations of the variant; nothing stored", body = ErrorBody),
        (status = 503, description = NOTHING_STORED, body = ErrorBody),
        (status = 504, description = PERHAPS_STORED, body = ErrorBody),
    )
)]
pub(super) async fn observe(
    State(state): State<Shared>,
    NamedModel(name): NamedModel,
    Idempotency(key): Idempotency,
    JsonObject(body): JsonObject<VariantObservations>,
) -> Result<Response, ApiError> {
    let variant = state.experiments.variant(&name, &body.variant).await?;
    observations::record(&state, &variant, body.observations, key).await
}

/// The variant to serve next: for a bandit one Thompson draw among its
/// variants (with its floor, through its window or half-life); for an A/B
/// test an assignment drawn by its weights; for a stopped experiment the
/// variant it was stopped with.
#[utoipa::path(
    get,
    path = "/experiments/{name}/choose",
    tag = "experiments",
    params(extract::ModelPath),
    responses(
        (status = 200, description = "The variant, and how it was chosen", body = ExperimentChoice),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 400, description = "Not an experiment name; a window past a variant's history", body = ErrorBody),
        (status = 404, description = "No such experiment", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn choose(
    State(state): State<Shared>,
    NamedModel(name): NamedModel,
) -> Result<Json<ExperimentChoice>, ApiError> {
    Ok(Json(state.experiments.choose(&name).await?))
}

/// Stops an experiment with a variant chosen. A log event.
#[utoipa::path(
    post,
    path = "/experiments/{name}/stop",
    tag = "experiments",
    params(extract::ModelPath),
    request_body = StopBody,
    responses(
        (status = 202, description = "Stored in the event log; bayes applies it next", body = ExperimentEventAccepted),
        (status = 400, description = "Not one of the experiment's variants, a malformed body; nothing stored", body = ErrorBody),
        (status = 404, description = "No such experiment", body = ErrorBody),
        (status = 409, description = "Stopped already; nothing stored", body = ErrorBody),
        (status = 503, description = NOTHING_STORED, body = ErrorBody),
        (status = 504, description = PERHAPS_STORED, body = ErrorBody),
    )
)]
pub(super) async fn stop(
    State(state): State<Shared>,
    NamedModel(name): NamedModel,
    JsonObject(body): JsonObject<StopBody>,
) -> Result<(StatusCode, Json<ExperimentEventAccepted>), ApiError> {
    let id = state.experiments.stop(&name, &body.variant).await?;
    Ok(event_accepted(id, &name, Some(body.variant)))
}

/// The experiment over time: at every step in which a variant changed,
/// each variant's rate, 89% interval, chance to win and expected loss, and
/// the winner at the experiment's threshold then (through its window or
/// half-life as of that time); at most 1,000 points.
#[utoipa::path(
    get,
    path = "/experiments/{name}/history",
    tag = "experiments",
    params(extract::ModelPath, RangeParams),
    responses(
        (status = 200, description = "The points, oldest first", body = ExperimentHistory),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 400, description = "Not an experiment name; a bad from, to or step, or more than 1,000 points", body = ErrorBody),
        (status = 404, description = "No such experiment", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn history(
    State(state): State<Shared>,
    NamedModel(name): NamedModel,
    AppQuery(range): AppQuery<RangeParams>,
) -> Result<Json<ExperimentHistory>, ApiError> {
    let query = range.query()?;
    Ok(Json(state.experiments.history(&name, query).await?))
}

/// The decisions bayes announced for the experiment (each change of winner,
/// and its stop), newest first.
#[utoipa::path(
    get,
    path = "/experiments/{name}/decisions",
    tag = "experiments",
    params(extract::ModelPath, DecisionsQuery),
    responses(
        (status = 200, description = "The announced decisions, newest first", body = DecisionList),
        (status = 400, description = "Not an experiment name; a bad limit", body = ErrorBody),
        (status = 404, description = "No such experiment", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn decisions(
    State(state): State<Shared>,
    NamedModel(name): NamedModel,
    AppQuery(query): AppQuery<DecisionsQuery>,
) -> Result<Json<DecisionList>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    let most = crate::application::experiments::MAX_DECISIONS;
    if !(1..=most).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {most}, got {limit}"
        )));
    }
    let decisions = state.experiments.decisions(&name, limit).await?;
    Ok(Json(DecisionList {
        experiment: name.to_string(),
        decisions,
    }))
}
