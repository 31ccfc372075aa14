//! `ApiError`: every failure a handler can return, and the status it maps to.
//! Clients get a plain JSON message; 5xx causes are logged, not shown.

use crate::application::{DecideError, DefineError, IngestError, PortError, QueryError};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::DecisionError;
use domain::Observation;
use serde_json::json;

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Not an observation; the answer lists the accepted ones.
    #[error("{0}")]
    BadTrial(String),
    /// A malformed body, a bad name or parameter.
    #[error("{0}")]
    BadRequest(String),
    /// A batch past the size bound.
    #[error("{0}")]
    TooLarge(String),
    /// No such route or file.
    #[error("{0}")]
    NotFound(String),
    /// Redis is away; nothing was stored.
    #[error("Redis is unavailable: {0}")]
    Unavailable(String),
    /// An Idempotency-Key reused for other observations; nothing was stored.
    #[error("{0}")]
    KeyReused(String),
    /// The write queue is full; nothing was stored.
    #[error("overloaded: {0}")]
    Overloaded(String),
    /// Anything else; the cause is logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<IngestError> for ApiError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::Invalid(_) | IngestError::InvalidInBatch { .. } => {
                Self::BadTrial(error.to_string())
            }
            IngestError::EmptyBatch => Self::BadRequest(error.to_string()),
            IngestError::BatchTooLarge { .. } => Self::TooLarge(error.to_string()),
            IngestError::Log(port) => port.into(),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::Store(port) => port.into(),
            QueryError::Posterior(e) => Self::Internal(e.to_string()),
            QueryError::Unknown(_) => Self::NotFound(error.to_string()),
        }
    }
}

impl From<DefineError> for ApiError {
    fn from(error: DefineError) -> Self {
        match error {
            DefineError::NoMass { .. } => Self::BadRequest(error.to_string()),
            DefineError::Log(port) => port.into(),
        }
    }
}

impl From<DecideError> for ApiError {
    fn from(error: DecideError) -> Self {
        match error {
            DecideError::BadRequest(_) => Self::BadRequest(error.to_string()),
            DecideError::Unknown(_) => Self::NotFound(error.to_string()),
            DecideError::Decision(DecisionError::Posterior { .. }) => {
                Self::Internal(error.to_string())
            }
            DecideError::Decision(_) => Self::BadRequest(error.to_string()),
            DecideError::Store(port) => port.into(),
        }
    }
}

impl From<PortError> for ApiError {
    fn from(error: PortError) -> Self {
        match error {
            PortError::Unavailable(cause) => Self::Unavailable(cause),
            PortError::Overloaded(cause) => Self::Overloaded(cause),
            PortError::KeyReused(_) => Self::KeyReused(error.to_string()),
            PortError::Failed(cause) => Self::Internal(cause),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = match &self {
            Self::BadTrial(_) | Self::BadRequest(_) => "bad_request",
            Self::TooLarge(_) => "too_large",
            Self::NotFound(_) => "not_found",
            Self::Unavailable(_) => "unavailable",
            Self::Overloaded(_) => "overloaded",
            Self::KeyReused(_) => "key_reused",
            Self::Internal(_) => "internal",
        };
        metrics::counter!("api_errors_total", "kind" => kind).increment(1);
        let (status, body) = match &self {
            Self::BadTrial(message) => (
                StatusCode::BAD_REQUEST,
                json!({ "error": message, "accepted": Observation::ACCEPTED }),
            ),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, json!({ "error": message })),
            Self::TooLarge(message) => (StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": message })),
            Self::NotFound(message) => (StatusCode::NOT_FOUND, json!({ "error": message })),
            Self::KeyReused(message) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": message }),
            ),
            Self::Unavailable(cause) => {
                tracing::warn!(%cause, "Redis unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({ "error": "Redis is unavailable; the request was not stored, or not confirmed stored: retry later (under the same Idempotency-Key a retry counts once)" }),
                )
            }
            Self::Overloaded(cause) => {
                tracing::debug!(%cause, "overloaded");
                let body = json!({ "error": "too many requests are waiting to be written; nothing was stored, retry in a second" });
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(axum::http::header::RETRY_AFTER, "1")],
                    Json(body),
                )
                    .into_response();
            }
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "internal error" }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
