//! Observations in: the v1 routes on the model `default`, and the named
//! models' route. Every form is all or nothing and answered once stored.

use super::error::{ApiError, ErrorBody};
use super::extract::{self, AppJson, Expected, JsonObject, NamedModel};
use super::state::Shared;
use crate::application::{Appended, IdempotencyKey};
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::ModelName;

pub(super) mod bodies;

use bodies::{Accepted, Batch, BatchAccepted, NamedBatch, Observations, Tally, Trial, Trials};

/// Appends one observation of the model `default`; answers once Redis stored it.
#[utoipa::path(
    get,
    path = "/update_model/{trial}",
    tag = "observations",
    params(("trial" = inline(Trial), Path, description = "`w` (success) or `l` (failure), exactly"), IdempotencyHeader),
    responses(
        (status = 202, description = "Stored in the event log (or, for a retry under the same Idempotency-Key, the first answer)", body = Accepted),
        (status = 400, description = "Not `w` or `l`, or a malformed Idempotency-Key; nothing stored", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another observation; nothing stored", body = ErrorBody),
        (status = 503, description = NOTHING_STORED, body = ErrorBody),
        (status = 504, description = PERHAPS_STORED, body = ErrorBody),
    )
)]
pub(super) async fn record_one(
    State(state): State<Shared>,
    TrialPath(trial): TrialPath,
    Idempotency(key): Idempotency,
) -> Result<Response, ApiError> {
    let (observation, appended) = state.ingest.record(&trial, key).await?;
    tracing::debug!(id = %appended.id.0, index = appended.index, trial = %observation, "observation stored");
    let replayed = appended.replayed;
    let answer = (
        StatusCode::ACCEPTED,
        Json(Accepted {
            id: appended.id,
            index: appended.index,
            trial: observation.as_str(),
        }),
    );
    if replayed {
        metrics::counter!("api_idempotent_replays_total").increment(1);
        return Ok(([(REPLAYED, HeaderValue::from_static("true"))], answer).into_response());
    }
    metrics::counter!("api_observations_accepted_total", "trial" => observation.as_str())
        .increment(1);
    Ok(answer.into_response())
}

/// The 503 of a write route.
pub(super) const NOTHING_STORED: &str = "Nothing stored (`stored: no`, with Retry-After): Redis unreachable or refusing, Redis out of memory, or too many requests waiting";

/// The 504 of a write route.
pub(super) const PERHAPS_STORED: &str = "Perhaps stored: `stored: unconfirmed` (on the primary, fewer replicas than REPLICAS_ACK confirmed) or `stored: unknown` (the connection failed after the write was sent); retry only under the same Idempotency-Key";

impl Expected for Batch {
    const EXPECTED: &'static str = "{\"trials\": \"wlw\"} or {\"trials\": [\"w\", \"l\"]}";
}

impl Expected for Observations {
    const EXPECTED: &'static str =
        "{\"trials\": \"wlw\"} or {\"trials\": [\"w\", \"l\"]} or {\"w\": 30, \"l\": 170}";
}

/// Appends a batch of observations of the model `default`, all or nothing;
/// answers once Redis stored them.
#[utoipa::path(
    post,
    path = "/update_model",
    tag = "observations",
    request_body = Batch,
    params(IdempotencyHeader),
    responses(
        (status = 202, description = "All stored in the event log (or, for a retry under the same Idempotency-Key, the first answer)", body = BatchAccepted),
        (status = 400, description = "A trial is not `w` or `l`, the body is malformed, or the Idempotency-Key is; nothing stored", body = ErrorBody),
        (status = 413, description = "Over 10,000 trials or 256 KiB; nothing stored", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for other observations of the model; nothing stored", body = ErrorBody),
        (status = 503, description = NOTHING_STORED, body = ErrorBody),
        (status = 504, description = PERHAPS_STORED, body = ErrorBody),
    )
)]
pub(super) async fn record_batch(
    State(state): State<Shared>,
    Idempotency(key): Idempotency,
    AppJson(batch): AppJson<Batch>,
) -> Result<Response, ApiError> {
    let batch = NamedBatch {
        trials: batch.trials,
    };
    record(
        &state,
        &ModelName::default_model(),
        Observations::Trials(batch),
        key,
    )
    .await
}

/// Appends observations of a named model (created with the defaults if
/// new), all or nothing; answers once Redis stored them.
#[utoipa::path(
    post,
    path = "/models/{name}/observations",
    tag = "models",
    params(extract::ModelPath, IdempotencyHeader),
    request_body = Observations,
    responses(
        (status = 202, description = "All stored in the event log (or, for a retry under the same Idempotency-Key, the first answer)", body = BatchAccepted),
        (status = 400, description = "A bad name, a trial that is not `w` or `l`, a malformed body or Idempotency-Key; nothing stored", body = ErrorBody),
        (status = 413, description = "Over 10,000 observations or 256 KiB; nothing stored", body = ErrorBody),
        (status = 409, description = "A new model past MAX_MODELS; nothing stored", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for other observations of the model; nothing stored", body = ErrorBody),
        (status = 503, description = NOTHING_STORED, body = ErrorBody),
        (status = 504, description = PERHAPS_STORED, body = ErrorBody),
    )
)]
pub(super) async fn record_named(
    State(state): State<Shared>,
    NamedModel(model): NamedModel,
    Idempotency(key): Idempotency,
    JsonObject(observations): JsonObject<Observations>,
) -> Result<Response, ApiError> {
    record(&state, &model, observations, key).await
}

/// The `Idempotency-Key` header of the POST routes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // only describes the header in the OpenAPI document
pub(super) struct IdempotencyHeader {
    /// Names the request, 1 to 255 visible ASCII characters: a retry under
    /// the same key for the same model within the window (24 h by default)
    /// answers the first answer and stores nothing more.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]{1,255}$"
    )]
    idempotency_key: Option<String>,
}

/// Set on the answer to a retry: what the first answer said.
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The `Idempotency-Key` header, parsed, if the request has one.
pub(super) struct Idempotency(pub(super) Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get("idempotency-key")
            .map(|value| {
                IdempotencyKey::parse(value.as_bytes())
                    .map_err(|e| ApiError::BadRequest(e.to_string()))
            })
            .transpose()
            .map(Self)
    }
}

/// The trial in the path of `GET /update_model/{trial}`, unchecked.
pub(super) struct TrialPath(String);

impl<S: Send + Sync> FromRequestParts<S> for TrialPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(trial) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::BadTrial(format!("{}; expected \"w\" or \"l\"", e.body_text()))
            })?;
        Ok(Self(trial))
    }
}

pub(super) async fn record(
    state: &Shared,
    model: &ModelName,
    observations: Observations,
    key: Option<IdempotencyKey>,
) -> Result<Response, ApiError> {
    let ingest = &state.ingest;
    let (accepted, appended) = match &observations {
        Observations::Trials(NamedBatch {
            trials: Trials::Letters(letters),
        }) => {
            // The body limit bounds this; `record_all` enforces the batch size.
            // Split on char boundaries so a multi-byte character is reported whole.
            let trials = letters
                .char_indices()
                .map(|(i, c)| &letters[i..i + c.len_utf8()]);
            ingest.record_all(model, trials, key).await?
        }
        Observations::Trials(NamedBatch {
            trials: Trials::List(list),
        }) => {
            ingest
                .record_all(model, list.iter().map(String::as_str), key)
                .await?
        }
        Observations::Tally(Tally { w, l }) => ingest.record_counts(model, *w, *l, key).await?,
    };
    let replayed = appended.replayed;
    let answer = (
        StatusCode::ACCEPTED,
        Json(batch_accepted(accepted, appended)),
    );
    if replayed {
        metrics::counter!("api_idempotent_replays_total").increment(1);
        return Ok(([(REPLAYED, HeaderValue::from_static("true"))], answer).into_response());
    }
    metrics::counter!("api_observations_accepted_total", "trial" => "batch")
        .increment(accepted as u64);
    Ok(answer.into_response())
}

fn batch_accepted(accepted: usize, appended: Appended) -> BatchAccepted {
    BatchAccepted {
        accepted,
        first_id: appended.id.clone(),
        last_id: appended.id.clone(),
        id: appended.id,
        index: appended.index,
    }
}
