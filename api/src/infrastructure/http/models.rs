//! Models out: the v1 `default` summary and plot, and the named models'
//! summaries, list, definitions, deletions, curves and plots.

use super::error::{ApiError, ErrorBody};
use super::extract::{self, AppQuery, Expected, JsonObject, LensQuery, NamedModel};
use super::state::Shared;
use crate::application::{Cause, ListedModel, NamedSummary, catalog::MAX_PAGE};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use domain::{Grid, ModelDefinition, ModelName, ModelSummary, Prior};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use utoipa::{IntoParams, ToSchema};

/// The posterior summary of the model `default` as bayes stored it (the
/// prior's, before any observation).
#[utoipa::path(
    get,
    path = "/model",
    tag = "model",
    responses(
        (status = 200, description = "Counts, definition and posterior summaries", body = ModelSummary),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn model(State(state): State<Shared>) -> Result<Json<ModelSummary>, ApiError> {
    Ok(Json(state.query.summary().await?))
}

/// A page of `GET /models`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Page {
    /// Start after this name (the previous page's `next`).
    #[param(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    after: Option<String>,
    /// Models per page, 1 to 1,000; 100 if absent.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// The models of one page, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// The models, in name order.
    pub models: Vec<ListedModel>,
    /// The `after` of the next page; null on the last.
    pub next: Option<String>,
}

/// The models, by name, with their counts and posterior means, a page at a time.
#[utoipa::path(
    get,
    path = "/models",
    tag = "models",
    params(Page),
    responses(
        (status = 200, description = "One page of models", body = ModelList),
        (status = 400, description = "A bad `after` or `limit`", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn list(
    State(state): State<Shared>,
    AppQuery(page): AppQuery<Page>,
) -> Result<Json<ModelList>, ApiError> {
    let limit = page.limit.unwrap_or(100);
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
    let models = state.catalog.list(after.as_ref(), limit).await?;
    let next = (models.len() == limit)
        .then(|| models.last().map(|m| m.name.clone()))
        .flatten();
    Ok(Json(ModelList { models, next }))
}

/// A model's summary: the `/model` summary plus its name.
#[utoipa::path(
    get,
    path = "/models/{name}",
    tag = "models",
    params(extract::ModelPath, extract::LensParams),
    responses(
        (status = 200, description = "Counts, definition and posterior summaries (of the window, or decayed, if asked)", body = NamedSummary),
        (status = 409, description = "A model's observations rule out every point of its grid (e.g. wins and losses on a 2-point grid): redefine it with a finer grid", body = ErrorBody),
        (status = 400, description = "Not a model name; a bad window or half-life, both, or a window past the model's history", body = ErrorBody),
        (status = 404, description = "No such model", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    )
)]
pub(super) async fn get_named(
    State(state): State<Shared>,
    NamedModel(model): NamedModel,
    LensQuery(lens): LensQuery,
) -> Result<Json<NamedSummary>, ApiError> {
    Ok(Json(state.catalog.summary(&model, lens).await?))
}

/// The body of `PUT /models/{name}`; an absent field takes the configured default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// `uniform`, `step:T` or `beta:A,B`.
    #[schema(example = "beta:2,5")]
    pub prior: Option<String>,
    /// Points of the grid, 2 to 100,000.
    #[schema(example = 1001, minimum = 2, maximum = 100_000)]
    pub grid_points: Option<usize>,
}

impl Expected for Definition {
    const EXPECTED: &'static str = "{\"prior\": \"beta:2,5\", \"grid_points\": 1001}";
}

/// Most grid points a model defined over HTTP may have: a comparison of 20
/// such models stays in tens of milliseconds.
pub const MAX_DEFINED_POINTS: usize = 100_000;

/// Answer to an accepted definition or deletion.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventAccepted {
    /// The id of the log entry holding it.
    pub id: String,
    /// The model.
    pub name: String,
}

/// Creates or redefines a model: its prior and grid (its counts stay: they
/// are sufficient statistics). A log event, applied by bayes in log order.
#[utoipa::path(
    put,
    path = "/models/{name}",
    tag = "models",
    params(extract::ModelPath),
    request_body = Definition,
    responses(
        (status = 202, description = "Stored in the event log; bayes applies it next", body = EventAccepted),
        (status = 400, description = "A bad name, prior or grid size, or a prior without mass on the grid; nothing stored", body = ErrorBody),
        (status = 409, description = "A new model past MAX_MODELS; nothing stored", body = ErrorBody),
        (status = 503, description = "Nothing stored (`stored: no`, with Retry-After): Redis unreachable or refusing, out of memory, or too many requests waiting", body = ErrorBody),
        (status = 504, description = "Perhaps stored (`stored: unconfirmed` or `unknown`); a repeat is harmless", body = ErrorBody),
    )
)]
pub(super) async fn put_named(
    State(state): State<Shared>,
    NamedModel(model): NamedModel,
    JsonObject(body): JsonObject<Definition>,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    let defaults = state.catalog.defaults(&model);
    let prior = match body.prior {
        Some(spec) => {
            Prior::parse(&spec).map_err(|e| ApiError::BadRequest(format!("prior: {e}")))?
        }
        None => defaults.prior,
    };
    let grid = match body.grid_points {
        Some(points) if points > MAX_DEFINED_POINTS => {
            return Err(ApiError::BadRequest(format!(
                "grid_points: at most {MAX_DEFINED_POINTS}, got {points}"
            )));
        }
        Some(points) => {
            Grid::new(points).map_err(|e| ApiError::BadRequest(format!("grid_points: {e}")))?
        }
        None => defaults.grid,
    };
    let id = state
        .catalog
        .define(&model, ModelDefinition { prior, grid })
        .await?;
    Ok(accepted(id.0, &model))
}

/// Deletes a model: its counts and definition. A log event, applied by bayes
/// in log order.
#[utoipa::path(
    delete,
    path = "/models/{name}",
    tag = "models",
    params(extract::ModelPath),
    responses(
        (status = 202, description = "Stored in the event log; bayes applies it next", body = EventAccepted),
        (status = 400, description = "Not a model name", body = ErrorBody),
        (status = 404, description = "No such model", body = ErrorBody),
        (status = 503, description = "Nothing stored (`stored: no`, with Retry-After): Redis unreachable or refusing, out of memory, or too many requests waiting", body = ErrorBody),
        (status = 504, description = "Perhaps stored (`stored: unconfirmed` or `unknown`); a repeat is harmless", body = ErrorBody),
    )
)]
pub(super) async fn delete_named(
    State(state): State<Shared>,
    NamedModel(model): NamedModel,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    let id = state.catalog.delete(&model).await?;
    Ok(accepted(id.0, &model))
}

fn accepted(id: String, model: &ModelName) -> (StatusCode, Json<EventAccepted>) {
    (
        StatusCode::ACCEPTED,
        Json(EventAccepted {
            id,
            name: model.to_string(),
        }),
    )
}

/// The latest plot of the model `default`.
#[utoipa::path(
    get,
    path = "/graphs/posterior.png",
    tag = "model",
    responses(
        (status = 200, description = "The latest plot", content_type = "image/png"),
        (status = 404, description = "No plot drawn yet", body = ErrorBody),
    )
)]
pub(super) async fn posterior_png(
    State(state): State<Shared>,
) -> Result<impl IntoResponse, ApiError> {
    png(state.graphs_dir.join("posterior.png")).await
}

/// The latest plot of a model. The path is built from a validated name
/// (no `/`, no leading `.`), so nothing else can be read through it.
#[utoipa::path(
    get,
    path = "/graphs/{name}/posterior.png",
    tag = "models",
    params(extract::ModelPath),
    responses(
        (status = 200, description = "The latest plot", content_type = "image/png"),
        (status = 400, description = "Not a model name", body = ErrorBody),
        (status = 404, description = "No plot drawn (yet) for this model", body = ErrorBody),
    )
)]
pub(super) async fn named_png(
    State(state): State<Shared>,
    NamedModel(model): NamedModel,
) -> Result<impl IntoResponse, ApiError> {
    let path = if model.is_default() {
        state.graphs_dir.join("posterior.png")
    } else {
        state.graphs_dir.join(model.as_str()).join("posterior.png")
    };
    png(path).await
}

async fn png(path: PathBuf) -> Result<impl IntoResponse, ApiError> {
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::NotFound(
            "no plot yet: bayes draws a model's plot once it has applied its events".into(),
        )),
        Err(e) => Err(ApiError::Internal(Cause::context(
            format!("cannot read {}", path.display()),
            e,
        ))),
    }
}
