//! The bodies of the observation routes, what they answer, and the exact
//! schemas the OpenAPI document gives them.

use crate::application::{EventId, ingest::MAX_BATCH};
use crate::infrastructure::http::extract;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Answer to an accepted observation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// The id of the log entry holding it, `<milliseconds>-<sequence>`.
    #[schema(value_type = String, example = "1732000000000-0")]
    pub id: EventId,
    /// Its index among the entry's trials (one entry holds a group commit).
    pub index: u64,
    /// The observation stored.
    pub trial: &'static str,
}

/// An observation, as the path of `GET /update_model/{trial}` takes it.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // only describes the path parameter in the OpenAPI document
pub(super) enum Trial {
    /// A success.
    W,
    /// A failure.
    L,
}

/// The body of `POST /update_model` (other fields are ignored, as in v1).
#[derive(Debug, Deserialize, ToSchema)]
pub struct Batch {
    /// `"wlwwl"` or `["w", "l", …]`: 1 to 10,000 trials.
    #[schema(schema_with = trials_schema)]
    pub trials: Trials,
}

/// The exact shape of `trials`, so the document promises no more.
pub(in crate::infrastructure::http) fn trials_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^[wl]{{1,{MAX_BATCH}}}$")))
                .min_length(Some(1))
                .max_length(Some(MAX_BATCH)),
        )
        .item(
            ArrayBuilder::new()
                .items(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(["w", "l"])),
                )
                .min_items(Some(1))
                .max_items(Some(MAX_BATCH)),
        )
        .build()
        .into()
}

/// Trials as one string of `w`/`l` characters or as an array of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Trials {
    /// `"wlwwl"`.
    Letters(String),
    /// `["w", "l"]`.
    List(Vec<String>),
}

/// Aggregated counts: `{"w": 30, "l": 170}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    /// Wins.
    #[serde(default, deserialize_with = "extract::count")]
    #[schema(minimum = 0, maximum = 10_000)]
    pub w: u64,
    /// Losses.
    #[serde(default, deserialize_with = "extract::count")]
    #[schema(minimum = 0, maximum = 10_000)]
    pub l: u64,
}

/// Trials for a named model: as [`Batch`], but no other field is allowed
/// (so `{"trials": "w", "w": 3}` is refused, not half read).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedBatch {
    /// `"wlwwl"` or `["w", "l", …]`: 1 to 10,000 trials.
    #[schema(schema_with = trials_schema)]
    pub trials: Trials,
}

/// The body of `POST /models/{name}/observations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Observations {
    /// Trials: `{"trials": "wlw"}` or `{"trials": ["w", "l"]}`.
    Trials(NamedBatch),
    /// Aggregated counts; `w + l` between 1 and 10,000.
    Tally(Tally),
}

/// Answer to an accepted batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAccepted {
    /// How many observations were stored.
    pub accepted: usize,
    /// The id of the log entry holding them (all in one entry).
    #[schema(value_type = String)]
    pub id: EventId,
    /// The index of the first of them among the entry's trials.
    pub index: u64,
    /// The same as `id` (v1 answered one entry per observation).
    #[schema(value_type = String)]
    pub first_id: EventId,
    /// The same as `id`.
    #[schema(value_type = String)]
    pub last_id: EventId,
}
