//! The bodies and queries of the experiment routes, what they answer, and
//! how a body's every field is read with its name in the error.

use crate::application::EventId;
use crate::application::experiments::{DecisionView, DefinitionView, ListedExperiment};
use crate::infrastructure::http::extract::Expected;
use crate::infrastructure::http::observations::bodies::Observations;
use domain::{ExperimentDraft, ExperimentKind};
use platform::log_time::Span;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// The body of `PUT /experiments/{name}`: a definition; every field but
/// `kind` and `variants` takes its default if absent.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // describes the body in the OpenAPI document; read by `Draft`
pub struct ExperimentBody {
    /// `ab` (a fixed split) or `bandit` (Thompson sampling).
    kind: ExperimentKind,
    /// The variants' model names, 2 to 20, distinct; those that do not
    /// exist are created with the named models' defaults.
    #[schema(min_items = 2, max_items = 20, example = json!(["control", "v1"]))]
    variants: Vec<String>,
    /// The variant the others are compared with; the first if absent.
    baseline: Option<String>,
    /// The expected loss a winner may carry; 0.0025 if absent.
    #[schema(minimum = 0.0)]
    threshold: Option<f64>,
    /// `ab` only: each variant's share of the traffic, in the variants'
    /// order, each in (0, 1], summing to 1; equal if absent.
    weights: Option<Vec<f64>>,
    /// `bandit` only: the least share of draws each arm gets, 0 to 1/K; 0 if absent.
    #[schema(minimum = 0.0, maximum = 0.5)]
    floor: Option<f64>,
    /// Read only the last window of log time, e.g. `7d`. Not with `half_life`.
    #[schema(example = "7d", pattern = r"^[0-9]+(ms|s|m|h|d|w)?$")]
    window: Option<String>,
    /// Decay the evidence with this half-life, e.g. `3d`. Not with `window`.
    #[schema(example = "3d", pattern = r"^[0-9]+(ms|s|m|h|d|w)?$")]
    half_life: Option<String>,
}

/// The fields of [`ExperimentBody`].
const FIELDS: [&str; 8] = [
    "kind",
    "variants",
    "baseline",
    "threshold",
    "weights",
    "floor",
    "window",
    "half_life",
];

/// A definition body, read field by field so every refusal names its field.
#[derive(Debug)]
pub(in crate::infrastructure::http) struct Draft(pub ExperimentDraft);

impl Expected for Draft {
    const EXPECTED: &'static str = "{\"kind\": \"ab\", \"variants\": [\"control\", \"v1\"], \"weights\": [0.5, 0.5], \"window\": \"7d\"}";
}

/// `map[key]` as a `T`; absent or null: `None`.
fn field<T: DeserializeOwned, E: serde::de::Error>(
    map: &Map<String, Value>,
    key: &str,
) -> Result<Option<T>, E> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|e| E::custom(format!("{key}: {e}"))),
    }
}

/// `map[key]` as a span, in ms.
fn span<E: serde::de::Error>(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, E> {
    field::<String, E>(map, key)?
        .map(|text| {
            Span::parse(&text)
                .map(Span::millis)
                .map_err(|e| E::custom(format!("{key}: {e}")))
        })
        .transpose()
}

impl<'de> Deserialize<'de> for Draft {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(D::Error::custom(format!(
                "{unknown}: unknown field, expected one of {}",
                FIELDS.join(", ")
            )));
        }
        Ok(Self(ExperimentDraft {
            kind: field(&map, "kind")?,
            variants: field(&map, "variants")?.unwrap_or_default(),
            baseline: field(&map, "baseline")?,
            threshold: field(&map, "threshold")?,
            weights: field(&map, "weights")?,
            floor: field(&map, "floor")?,
            window_ms: span(&map, "window")?,
            half_life_ms: span(&map, "half_life")?,
        }))
    }
}

/// The body of `POST /experiments/{name}/observations`: the variant, and
/// the observations as `POST /models/{name}/observations` takes them
/// (documented as two whole shapes: a schema that extended the model
/// route's `oneOf` would contradict itself).
#[derive(Debug, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // describes the body in the OpenAPI document; read by `VariantObservations`
pub enum ExperimentObservations {
    /// `{"variant": "v1", "trials": "wlw"}` or with `["w", "l"]`.
    Trials(VariantTrials),
    /// `{"variant": "v1", "w": 30, "l": 170}`; `w + l` between 1 and 10,000.
    Tally(VariantTally),
}

/// A variant's trials.
#[derive(Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the OpenAPI document's
pub struct VariantTrials {
    /// One of the experiment's variants.
    #[schema(example = "v1")]
    variant: String,
    /// `"wlwwl"` or `["w", "l", …]`: 1 to 10,000 trials.
    #[schema(schema_with = crate::infrastructure::http::observations::bodies::trials_schema)]
    trials: crate::infrastructure::http::observations::bodies::Trials,
}

/// A variant's aggregated counts.
#[derive(Debug, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the OpenAPI document's
pub struct VariantTally {
    /// One of the experiment's variants.
    #[schema(example = "v1")]
    variant: String,
    /// Wins.
    #[schema(minimum = 0, maximum = 10_000)]
    #[serde(default)]
    w: u64,
    /// Losses.
    #[schema(minimum = 0, maximum = 10_000)]
    #[serde(default)]
    l: u64,
}

/// A variant's observations, as sent.
#[derive(Debug)]
pub(in crate::infrastructure::http) struct VariantObservations {
    pub variant: String,
    pub observations: Observations,
}

impl Expected for VariantObservations {
    const EXPECTED: &'static str = "{\"variant\": \"v1\", \"trials\": \"wlw\"} or {\"variant\": \"v1\", \"w\": 30, \"l\": 170}";
}

impl<'de> Deserialize<'de> for VariantObservations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        let variant = match map.remove("variant") {
            Some(Value::String(variant)) => variant,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "variant: a variant's name (a string), got {other}"
                )));
            }
            None => return Err(D::Error::custom("variant: required")),
        };
        let observations = serde_json::from_value(Value::Object(map)).map_err(D::Error::custom)?;
        Ok(Self {
            variant,
            observations,
        })
    }
}

/// The body of `POST /experiments/{name}/stop`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopBody {
    /// The variant chosen: one of the experiment's.
    #[schema(example = "v1")]
    pub variant: String,
}

impl Expected for StopBody {
    const EXPECTED: &'static str = "{\"variant\": \"v1\"}";
}

/// Answer to an accepted definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExperimentAccepted {
    /// The id of the log entry holding it.
    #[schema(value_type = String)]
    pub id: EventId,
    /// The experiment.
    pub name: String,
    /// The definition as written to the log, every default filled in.
    pub definition: DefinitionView,
    /// The variants that did not exist, created with the defaults (each
    /// by a definition entry before this one).
    pub created: Vec<String>,
}

/// Answer to an accepted stop or deletion.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExperimentEventAccepted {
    /// The id of the log entry holding it.
    #[schema(value_type = String)]
    pub id: EventId,
    /// The experiment.
    pub name: String,
    /// The variant a stop chose; absent for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub variant: Option<String>,
}

/// A page of `GET /experiments`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(in crate::infrastructure::http) struct ExperimentPage {
    /// Start after this name (the previous page's `next`).
    #[param(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    pub after: Option<String>,
    /// Experiments per page, 1 to 100; 20 if absent.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

/// One page of experiments.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExperimentList {
    /// The experiments, in name order.
    pub experiments: Vec<ListedExperiment>,
    /// The `after` of the next page; null on the last.
    pub next: Option<String>,
}

/// The query of `GET /experiments/{name}/decisions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(in crate::infrastructure::http) struct DecisionsQuery {
    /// Most decisions, newest first, 1 to 1,000; 100 if absent.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The decisions announced for an experiment.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionList {
    /// The experiment.
    pub experiment: String,
    /// Newest first.
    pub decisions: Vec<DecisionView>,
}
