//! Decisions between models: the exact comparison and a Thompson draw.

use super::error::{ApiError, ErrorBody};
use super::extract::{AppQuery, LensParams, LensQuery};
use super::state::Shared;
use crate::application::{Choice, Compared, ModelList};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

/// The query of `GET /compare`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CompareQuery {
    /// 2 to 20 distinct model names, comma separated; the first is the baseline.
    #[param(
        example = "control,variant",
        pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(,[A-Za-z0-9][A-Za-z0-9_.-]{0,63}){1,19}$"
    )]
    models: String,
    /// The risk threshold on the proportion scale; 0.0025 if absent.
    #[param(minimum = 0.0)]
    threshold: Option<f64>,
}

/// Compares models exactly on their grids: per model P(best), expected
/// loss and warnings, against the baseline P(B > A) and the lift interval,
/// and the decision. No winner while the models tie on their grids (the
/// grid is too coarse) or a posterior is pinned at its prior's edge.
#[utoipa::path(
    get,
    path = "/compare",
    tag = "decisions",
    params(CompareQuery, LensParams),
    responses(
        (status = 200, description = "Each model's standing and the decision", body = Compared),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 400, description = "Fewer than 2 or more than 20 models, a bad or repeated name, a bad threshold; a bad window or half-life, both, or a window past a model's history", body = ErrorBody),
        (status = 404, description = "An unknown model", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn compare(
    State(state): State<Shared>,
    AppQuery(query): AppQuery<CompareQuery>,
    LensQuery(lens): LensQuery,
) -> Result<Json<Compared>, ApiError> {
    let models = ModelList::parse(&query.models)?;
    let threshold = query.threshold.unwrap_or(domain::DEFAULT_THRESHOLD);
    Ok(Json(
        state.decisions.compare(&models, threshold, lens).await?,
    ))
}

/// The query of `GET /choose`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ChooseQuery {
    /// 1 to 20 distinct model names, comma separated.
    #[param(
        example = "a,b,c",
        pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(,[A-Za-z0-9][A-Za-z0-9_.-]{0,63}){0,19}$"
    )]
    models: String,
    /// Each model is chosen with at least this probability (0 to 1/K); 0 if absent.
    #[param(minimum = 0.0, maximum = 1.0)]
    floor: Option<f64>,
}

/// One Thompson draw: a grid point from each posterior, the largest wins
/// (ties broken uniformly), with an optional floor per model.
#[utoipa::path(
    get,
    path = "/choose",
    tag = "decisions",
    params(ChooseQuery, LensParams),
    responses(
        (status = 200, description = "The model to try next, and the warnings of the models drawn among", body = Choice),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 400, description = "No or more than 20 models, a bad or repeated name, a floor outside [0, 1/K]; a bad window or half-life, both, or a window past a model's history", body = ErrorBody),
        (status = 404, description = "An unknown model", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn choose(
    State(state): State<Shared>,
    AppQuery(query): AppQuery<ChooseQuery>,
    LensQuery(lens): LensQuery,
) -> Result<Json<Choice>, ApiError> {
    let models = ModelList::parse(&query.models)?;
    let floor = query.floor.unwrap_or(0.0);
    Ok(Json(state.decisions.choose(&models, floor, lens).await?))
}
