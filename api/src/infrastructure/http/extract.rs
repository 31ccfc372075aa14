//! Turning what the request carries into the domain's types, with the
//! error each rejection is answered with.

use super::error::ApiError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use domain::ModelName;
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

/// The model named in the path.
pub(super) fn model_name(path: Result<Path<String>, PathRejection>) -> Result<ModelName, ApiError> {
    let Path(name) = path.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    ModelName::parse(&name).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// A JSON body; `expected` tells the client what it should look like.
pub(super) fn json<T>(body: Result<Json<T>, JsonRejection>, expected: &str) -> Result<T, ApiError> {
    match body {
        Ok(Json(value)) => Ok(value),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::TooLarge(format!(
            "request body over {MAX_BODY_BYTES} bytes"
        ))),
        Err(e) => Err(ApiError::BadRequest(format!(
            "{}; expected {expected}",
            e.body_text()
        ))),
    }
}

/// The query string.
pub(super) fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(value)| value)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

/// A JSON object body read as `T`: serde would also read a struct from an
/// array (`[30, 170]`), which no client means.
pub(super) fn json_object<T: DeserializeOwned>(
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
