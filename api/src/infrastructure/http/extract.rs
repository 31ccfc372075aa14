//! Turning what the request carries into the domain's types, with the
//! error each rejection is answered with.

use super::ApiError;
use super::routes::MAX_BODY_BYTES;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use domain::ModelName;

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
