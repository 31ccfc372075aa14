//! `GET /models/{name}/posterior`: a model's curve, for drawing.

use super::error::{ApiError, ErrorBody};
use super::extract::{self, AppQuery, NamedModel};
use super::state::Shared;
use crate::application::PosteriorCurve;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

/// The query of `GET /models/{name}/posterior`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CurveQuery {
    /// At most this many points (2 to 10,000): a larger grid is cut to where
    /// the posterior's mass is and summed into bins of neighbouring points.
    /// The whole grid if absent.
    #[param(minimum = 2, maximum = 10_000, example = 200)]
    points: Option<usize>,
}

/// Most points a curve may be asked for.
const MAX_CURVE_POINTS: usize = 10_000;

/// A model's prior and posterior mass at each grid point, for drawing; with
/// `points`, at most that many, where the posterior's mass is (the
/// dashboard asks for 200: a few kilobytes where a 10,001-point grid is
/// half a megabyte).
#[utoipa::path(
    get,
    path = "/models/{name}/posterior",
    tag = "models",
    params(extract::ModelPath, CurveQuery),
    responses(
        (status = 200, description = "The grid, the prior and the posterior, and the posterior's warnings", body = PosteriorCurve),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 400, description = "Not a model name, or `points` outside 2 to 10,000", body = ErrorBody),
        (status = 404, description = "No such model", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn posterior(
    State(state): State<Shared>,
    NamedModel(model): NamedModel,
    AppQuery(query): AppQuery<CurveQuery>,
) -> Result<Json<PosteriorCurve>, ApiError> {
    if let Some(points) = query.points
        && !(2..=MAX_CURVE_POINTS).contains(&points)
    {
        return Err(ApiError::BadRequest(format!(
            "points must be between 2 and {MAX_CURVE_POINTS}, got {points}"
        )));
    }
    Ok(Json(state.catalog.posterior(&model, query.points).await?))
}
