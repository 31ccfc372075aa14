//! `ApiError`: every failure a handler can return, the status it maps to,
//! and [`ErrorBody`], the one JSON shape every error answer has. Clients
//! get a plain message; 5xx causes are logged, not shown. Every answer to
//! a failed write says whether anything was stored.

use crate::application::{
    Cause, DecideError, DefineError, ExperimentsError, IngestError, ModelListError, PortError,
    QueryError,
};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::DecisionError;
use domain::Observation;
use serde::Serialize;
use utoipa::ToSchema;

/// A JSON error, as every failure is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// The accepted trials, on a bad trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub accepted: Option<[&'static str; 2]>,
    /// On a 5xx: whether the request's writes were stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub stored: Option<Stored>,
}

/// What a failed request left in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stored {
    /// Nothing: retrying is safe, with or without an Idempotency-Key.
    No,
    /// Stored on the primary, not confirmed by `REPLICAS_ACK` replicas:
    /// retry only under the same Idempotency-Key (a blind retry may count twice).
    Unconfirmed,
    /// Perhaps: the connection failed after the write was sent. Retry only
    /// under the same Idempotency-Key (a blind retry may count twice).
    Unknown,
}

impl ErrorBody {
    fn new(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            accepted: None,
            stored: None,
        }
    }
}

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
    /// The request would create a model past `MAX_MODELS`; nothing was stored.
    #[error("{0}")]
    ModelLimit(String),
    /// The request conflicts with the resource's state (an experiment
    /// stopped already); nothing was stored.
    #[error("{0}")]
    Conflict(String),
    /// No bearer token, or an unknown one.
    #[error("{0}")]
    Unauthenticated(String),
    /// A known token without the route's scope.
    #[error("{0}")]
    Forbidden(String),
    /// Redis is away or refused the command; nothing was stored.
    #[error("Redis is unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// Redis is full (`maxmemory`); nothing was stored.
    #[error("Redis is out of memory: {0}")]
    OutOfMemory(#[source] Cause),
    /// Stored on the primary, not confirmed by the replicas asked for.
    #[error("stored, not confirmed: {0}")]
    Unconfirmed(#[source] Cause),
    /// The write was sent and no answer came: perhaps stored.
    #[error("outcome unknown: {0}")]
    Unknown(#[source] Cause),
    /// The request took longer than `REQUEST_TIMEOUT_MS`: a write in it
    /// may or may not be stored.
    #[error("the request timed out")]
    TimedOut,
    /// An Idempotency-Key reused for other observations; nothing was stored.
    #[error("{0}")]
    KeyReused(String),
    /// The write queue is full; nothing was stored.
    #[error("overloaded: {0}")]
    Overloaded(#[source] Cause),
    /// Anything else; the cause is logged.
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
}

impl From<IngestError> for ApiError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::Invalid(_) | IngestError::InvalidInBatch { .. } => {
                Self::BadTrial(error.to_string())
            }
            IngestError::EmptyBatch => Self::BadRequest(error.to_string()),
            IngestError::BatchTooLarge { .. } => Self::TooLarge(error.to_string()),
            IngestError::ModelLimit(_) => Self::ModelLimit(error.to_string()),
            IngestError::Log(port) => port.into(),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::Store(port) => port.into(),
            // The stored counts rule out every point of the model's grid
            // (a 2-point grid and both wins and losses): the user's to fix.
            QueryError::Posterior(_) => Self::Conflict(format!(
                "{error}: redefine the model with a grid that has points inside (0, 1)"
            )),
            QueryError::Unknown(_) => Self::NotFound(error.to_string()),
            QueryError::BadRange(_) => Self::BadRequest(error.to_string()),
        }
    }
}

impl From<DefineError> for ApiError {
    fn from(error: DefineError) -> Self {
        match error {
            DefineError::NoMass { .. } => Self::BadRequest(error.to_string()),
            DefineError::ModelLimit(_) => Self::ModelLimit(error.to_string()),
            DefineError::Log(port) => port.into(),
        }
    }
}

impl From<DecideError> for ApiError {
    fn from(error: DecideError) -> Self {
        match error {
            DecideError::Unknown(_) => Self::NotFound(error.to_string()),
            DecideError::BadRange(_) => Self::BadRequest(error.to_string()),
            DecideError::Decision(DecisionError::Posterior { .. }) => Self::Conflict(format!(
                "{error}: redefine the model with a grid that has points inside (0, 1)"
            )),
            DecideError::Decision(_) => Self::BadRequest(error.to_string()),
            DecideError::Store(port) => port.into(),
        }
    }
}

impl From<ExperimentsError> for ApiError {
    fn from(error: ExperimentsError) -> Self {
        match error {
            ExperimentsError::Invalid(_) | ExperimentsError::NotAVariant { .. } => {
                Self::BadRequest(error.to_string())
            }
            ExperimentsError::Unknown(_) => Self::NotFound(error.to_string()),
            ExperimentsError::AlreadyStopped { .. } => Self::Conflict(error.to_string()),
            ExperimentsError::Define(define) => define.into(),
            ExperimentsError::Decide(decide) => decide.into(),
        }
    }
}

impl From<ModelListError> for ApiError {
    fn from(error: ModelListError) -> Self {
        Self::BadRequest(error.to_string())
    }
}

impl From<PortError> for ApiError {
    fn from(error: PortError) -> Self {
        match error {
            PortError::Unavailable(cause) => Self::Unavailable(cause),
            PortError::OutOfMemory(cause) => Self::OutOfMemory(cause),
            PortError::Unconfirmed(cause) => Self::Unconfirmed(cause),
            PortError::Unknown(cause) => Self::Unknown(cause),
            PortError::Overloaded(cause) => Self::Overloaded(cause),
            PortError::KeyReused(_) => Self::KeyReused(error.to_string()),
            PortError::Failed(cause) => Self::Internal(cause),
        }
    }
}

impl ApiError {
    /// The error's kind, as the `api_errors_total` metric labels it.
    fn kind(&self) -> &'static str {
        match self {
            Self::BadTrial(_) | Self::BadRequest(_) => "bad_request",
            Self::TooLarge(_) => "too_large",
            Self::NotFound(_) => "not_found",
            Self::ModelLimit(_) => "model_limit",
            Self::Conflict(_) => "conflict",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::Unavailable(_) => "unavailable",
            Self::OutOfMemory(_) => "out_of_memory",
            Self::Unconfirmed(_) => "unconfirmed",
            Self::Unknown(_) => "unknown",
            Self::TimedOut => "timed_out",
            Self::Overloaded(_) => "overloaded",
            Self::KeyReused(_) => "key_reused",
            Self::Internal(_) => "internal",
        }
    }

    /// The status and the body; causes of 5xx are logged here, not shown.
    fn answer(self) -> (StatusCode, ErrorBody) {
        let stored = |stored, message: &str| {
            let mut body = ErrorBody::new(message);
            body.stored = Some(stored);
            body
        };
        match self {
            Self::BadTrial(message) => {
                let mut body = ErrorBody::new(message);
                body.accepted = Some(Observation::ACCEPTED);
                (StatusCode::BAD_REQUEST, body)
            }
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, ErrorBody::new(message)),
            Self::TooLarge(message) => (StatusCode::PAYLOAD_TOO_LARGE, ErrorBody::new(message)),
            Self::NotFound(message) => (StatusCode::NOT_FOUND, ErrorBody::new(message)),
            Self::ModelLimit(message) | Self::Conflict(message) => {
                (StatusCode::CONFLICT, ErrorBody::new(message))
            }
            Self::Unauthenticated(message) => (StatusCode::UNAUTHORIZED, ErrorBody::new(message)),
            Self::Forbidden(message) => (StatusCode::FORBIDDEN, ErrorBody::new(message)),
            Self::KeyReused(message) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorBody::new(message)),
            Self::Unavailable(cause) => {
                tracing::warn!(%cause, "Redis unavailable");
                let message = "Redis is unavailable; nothing was stored: retry later";
                (StatusCode::SERVICE_UNAVAILABLE, stored(Stored::No, message))
            }
            Self::OutOfMemory(cause) => {
                tracing::warn!(%cause, "Redis is out of memory");
                let message = "Redis is out of memory (maxmemory reached); nothing was stored: \
                               retry once memory is freed";
                (StatusCode::SERVICE_UNAVAILABLE, stored(Stored::No, message))
            }
            Self::Overloaded(cause) => {
                tracing::debug!(%cause, "overloaded");
                let message = "too many requests are waiting to be written; nothing was stored, \
                               retry in a second";
                (StatusCode::SERVICE_UNAVAILABLE, stored(Stored::No, message))
            }
            Self::Unconfirmed(cause) => {
                tracing::warn!(%cause, "write not confirmed by the replicas");
                let message = "stored, but not confirmed by the replicas asked for \
                               (REPLICAS_ACK): a failover may yet lose it; retry only under the \
                               same Idempotency-Key, or it may count twice";
                (
                    StatusCode::GATEWAY_TIMEOUT,
                    stored(Stored::Unconfirmed, message),
                )
            }
            Self::Unknown(cause) => {
                tracing::warn!(%cause, "write outcome unknown");
                let message = "the connection to Redis failed after the write was sent: it may \
                               or may not be stored; retry only under the same Idempotency-Key, \
                               or it may count twice";
                (
                    StatusCode::GATEWAY_TIMEOUT,
                    stored(Stored::Unknown, message),
                )
            }
            Self::TimedOut => {
                let message = "the request took longer than REQUEST_TIMEOUT_MS; a write in it may \
                               or may not be stored: retry only under the same Idempotency-Key";
                (
                    StatusCode::GATEWAY_TIMEOUT,
                    stored(Stored::Unknown, message),
                )
            }
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorBody::new("internal error"),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        metrics::counter!("api_errors_total", "kind" => self.kind()).increment(1);
        let (status, body) = self.answer();
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Nothing was stored: a retry after a pause is safe.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests;
