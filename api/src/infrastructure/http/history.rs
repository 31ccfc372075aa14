//! Models over time: a model's history, and the chance to win of compared
//! models over time.

use super::error::{ApiError, ErrorBody};
use super::extract::{self, AppQuery, NamedModel};
use super::state::Shared;
use crate::application::ModelList;
use crate::application::history::{CompareHistory, ModelHistory, TimeQuery};
use axum::Json;
use axum::extract::State;
use platform::log_time::{Span, parse_moment};
use serde::Deserialize;
use utoipa::IntoParams;

/// A range and step of log time.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct RangeParams {
    /// From this time on (inclusive): Unix ms or RFC 3339; the beginning if absent.
    #[param(example = "2026-12-01T00:00:00Z")]
    from: Option<String>,
    /// Up to this time (inclusive): Unix ms or RFC 3339; now if absent.
    #[param(example = "1796169600000")]
    to: Option<String>,
    /// One point per step, at most: a multiple of the history's interval
    /// (HISTORY_INTERVAL, 60s by default), e.g. `1h`; the interval if absent
    /// (for /compare/history: a step giving about 200 points).
    #[param(example = "1h", pattern = r"^[0-9]+(ms|s|m|h|d|w)?$")]
    step: Option<String>,
}

impl RangeParams {
    pub(super) fn query(&self) -> Result<TimeQuery, ApiError> {
        let moment = |name: &str, text: &Option<String>| {
            text.as_deref()
                .map(|text| {
                    parse_moment(text).map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))
                })
                .transpose()
        };
        let step = self
            .step
            .as_deref()
            .map(|text| Span::parse(text).map_err(|e| ApiError::BadRequest(format!("step: {e}"))))
            .transpose()?;
        Ok(TimeQuery {
            from: moment("from", &self.from)?,
            to: moment("to", &self.to)?,
            step,
        })
    }
}

/// A model's history in log time: its counts, rate and 89% band at the end
/// of every interval (or step) in which it changed, oldest first; at most
/// 50,000 points an answer, `next` to go on.
#[utoipa::path(
    get,
    path = "/models/{name}/history",
    tag = "models",
    params(extract::ModelPath, RangeParams),
    responses(
        (status = 200, description = "The points, oldest first", body = ModelHistory),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 400, description = "Not a model name; a bad from, to or step, from after to, a step that is not a multiple of the interval", body = ErrorBody),
        (status = 404, description = "No such model", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn model_history(
    State(state): State<Shared>,
    NamedModel(model): NamedModel,
    AppQuery(range): AppQuery<RangeParams>,
) -> Result<Json<ModelHistory>, ApiError> {
    let query = range.query()?;
    Ok(Json(state.timelines.model(&model, query).await?))
}

/// The models of `GET /compare/history`, and the range.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CompareHistoryQuery {
    /// 2 to 20 distinct model names, comma separated.
    #[param(
        example = "control,variant",
        pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(,[A-Za-z0-9][A-Za-z0-9_.-]{0,63}){1,19}$"
    )]
    models: String,
}

/// The chance to win over time: at every step in which one of the models
/// changed, each model's counts, P(best) and expected loss, exact on the
/// grids; at most 1,000 points.
#[utoipa::path(
    get,
    path = "/compare/history",
    tag = "decisions",
    params(CompareHistoryQuery, RangeParams),
    responses(
        (status = 200, description = "The points, oldest first", body = CompareHistory),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 400, description = "Fewer than 2 or more than 20 models, a bad or repeated name; a bad from, to or step, or more than 1,000 points", body = ErrorBody),
        (status = 404, description = "An unknown model", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn compare_history(
    State(state): State<Shared>,
    AppQuery(query): AppQuery<CompareHistoryQuery>,
    AppQuery(range): AppQuery<RangeParams>,
) -> Result<Json<CompareHistory>, ApiError> {
    let models = ModelList::parse(&query.models)?;
    if models.names().len() < 2 {
        return Err(ApiError::BadRequest(
            "compare at least 2 models over time".into(),
        ));
    }
    let range = range.query()?;
    Ok(Json(state.timelines.compare(&models, range).await?))
}
