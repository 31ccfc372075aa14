//! Turning what the request carries into the domain's types, with the
//! error each rejection is answered with.

use super::error::ApiError;
use crate::application::lens::Lens;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use domain::ModelName;
use platform::log_time::Span;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

/// Largest request body accepted, in bytes (a batch of 10,000 trials as a
/// JSON array of strings is about 40 KB).
pub(super) const MAX_BODY_BYTES: usize = 256 * 1024;

/// The model name in a path, as the OpenAPI document describes it.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only describes the parameter in the OpenAPI document
pub(super) struct ModelPath {
    /// The model's name.
    #[param(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    name: String,
}

/// A path parameter; a rejection is a 400 with axum's own text.
#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(ApiError))]
pub(super) struct AppPath<T>(pub T);

/// The query string; a rejection is a 400 with axum's own text.
#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
pub(super) struct AppQuery<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::TooLarge(format!("request body over {MAX_BODY_BYTES} bytes"));
        }
        Self::BadRequest(rejection.body_text())
    }
}

/// The model named in the path, parsed.
pub(super) struct NamedModel(pub ModelName);

impl<S: Send + Sync> FromRequestParts<S> for NamedModel {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let AppPath(name) = AppPath::<String>::from_request_parts(parts, state).await?;
        ModelName::parse(&name)
            .map(Self)
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}

/// `window` and `half_life` in a query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LensParams {
    /// Only the observations of the last window of log time: a whole number
    /// and a unit (ms, s, m, h, d, w), e.g. `90m`, `24h`, `7d`. The window
    /// starts at the last history interval's end at or before now − window
    /// (that edge included): exact to one interval.
    #[param(example = "24h", pattern = r"^[0-9]+(ms|s|m|h|d|w)?$")]
    window: Option<String>,
    /// Weigh each observation by 2^(−age / half_life), age in log time at
    /// the history's interval; w and n become fractional. Not with `window`.
    #[param(example = "3d", pattern = r"^[0-9]+(ms|s|m|h|d|w)?$")]
    half_life: Option<String>,
}

/// The lens a query's `window` or `half_life` asks for.
pub(super) struct LensQuery(pub Lens);

impl<S: Send + Sync> FromRequestParts<S> for LensQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let AppQuery(params) = AppQuery::<LensParams>::from_request_parts(parts, state).await?;
        let span = |name: &str, text: Option<String>| {
            text.map(|text| {
                Span::parse(&text).map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))
            })
            .transpose()
        };
        let window = span("window", params.window)?;
        let half_life = span("half_life", params.half_life)?;
        Lens::new(window, half_life)
            .map(Self)
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}

/// What a client should send as a body of this type: the hint a rejected
/// body is answered with.
pub(super) trait Expected {
    /// The shape, as JSON a client could send.
    const EXPECTED: &'static str;
}

/// A JSON body of `T`; a rejection is a 400 that says what was expected, or
/// a 413.
pub(super) struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Expected> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        json(Json::from_request(request, state).await, T::EXPECTED).map(Self)
    }
}

/// A JSON object body of `T`: serde would also read a struct from an array
/// (`[30, 170]`), which no client means.
pub(super) struct JsonObject<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Expected> FromRequest<S> for JsonObject<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_object(Json::from_request(request, state).await, T::EXPECTED).map(Self)
    }
}

/// A JSON body; `expected` tells the client what it should look like.
fn json<T>(body: Result<Json<T>, JsonRejection>, expected: &str) -> Result<T, ApiError> {
    body.map(|Json(value)| value)
        .map_err(|rejection| match ApiError::from(rejection) {
            ApiError::BadRequest(text) => {
                ApiError::BadRequest(format!("{text}; expected {expected}"))
            }
            other => other,
        })
}

/// A JSON object body read as `T`.
fn json_object<T: DeserializeOwned>(
    body: Result<Json<serde_json::Value>, JsonRejection>,
    expected: &str,
) -> Result<T, ApiError> {
    let body = json(body, expected)?;
    if !body.is_object() {
        return Err(ApiError::BadRequest(format!("expected {expected}")));
    }
    serde_json::from_value(body)
        .map_err(|e| ApiError::BadRequest(format!("{e}; expected {expected}")))
}

/// A count given as a JSON integer (`30`, or `30.0`, which JSON Schema
/// also calls an integer).
pub(super) fn count<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(count) = number.as_u64() {
        return Ok(count);
    }
    match number.as_f64() {
        // Exactly representable up to 2^53; a larger float is no exact count.
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0 => Ok(x as u64),
        _ => Err(serde::de::Error::custom(format!(
            "expected a count (a whole number >= 0), got {number}"
        ))),
    }
}
