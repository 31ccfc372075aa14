//! The entries of a partition's log stream: their field names, how the api
//! writes them and how bayes reads them. The one place that spells them.
//!
//! An entry is one of:
//! - one observation: `trial` = `w` | `l` (what v1 and outside producers
//!   such as `redis-cli XADD <stream> '*' trial w` write);
//! - a group commit for one model: `trials` = a string of `w`/`l`;
//! - a definition: `op` = `define`, `prior`, `grid_points`;
//! - a deletion: `op` = `delete`;
//! - an experiment's definition, stop or deletion: `experiment` = its name
//!   (see [`experiments`]).
//!
//! Each may carry `model` (absent: `default`), `source` (informational, e.g.
//! `pubsub`) and other metadata fields, which are ignored. Or:
//! - a group commit for several models: one `trials:<model>` field per
//!   model, each a string of `w`/`l` (and no `trial`, `trials`, `model` or
//!   `op`): one entry, one `XADD`, for a whole write of the api.
//!
//! An entry of none of these shapes is dead-lettered whole, with its reason.

pub use domain::ModelEvent as LogEvent;
use domain::{Grid, ModelDefinition, ModelName, Prior};

/// One observation, `w` or `l`.
pub const TRIAL: &str = "trial";
/// A string of observations.
pub const TRIALS: &str = "trials";
/// The model an entry is for; absent means `default`.
pub const MODEL: &str = "model";
/// Where an entry came from (informational).
pub const SOURCE: &str = "source";
/// A definition or deletion event: `define` or `delete`.
pub const OP: &str = "op";
/// A definition's prior spec.
pub const PRIOR: &str = "prior";
/// A definition's grid size.
pub const GRID_POINTS: &str = "grid_points";
/// The `op` of a definition.
pub const OP_DEFINE: &str = "define";
/// The `op` of a deletion.
pub const OP_DELETE: &str = "delete";
/// The `source` of entries forwarded from pub/sub.
pub const SOURCE_PUBSUB: &str = "pubsub";
/// The name of the model v1 addresses.
pub const DEFAULT_MODEL: &str = "default";
/// The prefix of a multi-model group commit's fields: `trials:<model>`.
pub const TRIALS_OF: &str = "trials:";

/// Reads an entry's fields. Fast for the common shapes (one `trial`, or
/// `trials` with a `model`): no allocation unless the entry is rejected;
/// one for a multi-model group commit.
///
/// # Errors
/// Why the entry is not an event, for the dead-letter stream.
pub fn decode<'a, F, V>(fields: &'a [(F, V)]) -> Result<Decoded<'a>, String>
where
    F: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let mut parts = Parts::default();
    let mut runs: Vec<(&'a [u8], &'a [u8])> = Vec::new();
    for (field, value) in fields {
        let (field, value) = (field.as_ref(), value.as_ref());
        if let Some(model) = field.strip_prefix(TRIALS_OF.as_bytes()) {
            runs.push((model, value));
            continue;
        }
        let slot = match field {
            b"trial" => &mut parts.trial,
            b"trials" => &mut parts.trials,
            b"model" => &mut parts.model,
            b"op" => &mut parts.op,
            b"prior" => &mut parts.prior,
            b"grid_points" => &mut parts.grid_points,
            b"experiment" => &mut parts.experiment,
            b"spec" => &mut parts.spec,
            b"variant" => &mut parts.variant,
            // Other fields are metadata (`source`, or a producer's own):
            // kept in the log, ignored here.
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(format!(
                "more than one {:?} field",
                String::from_utf8_lossy(field)
            ));
        }
    }
    if let Some(name) = parts.experiment {
        if !runs.is_empty()
            || parts.trial.is_some()
            || parts.trials.is_some()
            || parts.model.is_some()
        {
            return Err(
                "an \"experiment\" entry holds no \"model\", \"trial\", \"trials\" or trials:<model>"
                    .to_owned(),
            );
        }
        if parts.prior.is_some() || parts.grid_points.is_some() {
            return Err("\"prior\" and \"grid_points\" belong to \"op\" = \"define\"".to_owned());
        }
        return experiments::decode(name, parts.op, parts.spec, parts.variant)
            .map(Decoded::Experiment);
    }
    if parts.spec.is_some() || parts.variant.is_some() {
        return Err("\"spec\" and \"variant\" belong to an \"experiment\" entry".to_owned());
    }
    if runs.is_empty() {
        return parts.event().map(Decoded::One);
    }
    if !parts.is_empty() {
        return Err(format!(
            "{TRIALS_OF}<model> fields come alone: no \"trial\", \"trials\", \"model\" or \"op\" beside them"
        ));
    }
    runs_of(&runs).map(Decoded::Many)
}

#[derive(Default)]
struct Parts<'a> {
    trial: Option<&'a [u8]>,
    trials: Option<&'a [u8]>,
    model: Option<&'a [u8]>,
    op: Option<&'a [u8]>,
    prior: Option<&'a [u8]>,
    grid_points: Option<&'a [u8]>,
    experiment: Option<&'a [u8]>,
    spec: Option<&'a [u8]>,
    variant: Option<&'a [u8]>,
}

impl<'a> Parts<'a> {
    fn is_empty(&self) -> bool {
        self.trial.is_none() && self.trials.is_none() && self.model.is_none() && self.op.is_none()
    }

    fn event(self) -> Result<LogEvent<'a>, String> {
        let model = match self.model {
            None => DEFAULT_MODEL,
            Some(bytes) => {
                ModelName::parse_bytes(bytes).map_err(|e| e.to_string())?;
                // Validated above: ASCII, so UTF-8.
                std::str::from_utf8(bytes).map_err(|e| e.to_string())?
            }
        };
        match (self.trial, self.trials, self.op) {
            (Some(trial), None, None) => {
                let wins = match trial {
                    b"w" => 1,
                    b"l" => 0,
                    other => {
                        return Err(domain::Observation::parse_bytes(other)
                            .err()
                            .map_or_else(String::new, |e| e.to_string()));
                    }
                };
                self.no_definition()?;
                Ok(LogEvent::Observed {
                    model,
                    wins,
                    trials: 1,
                })
            }
            (None, Some(trials), None) => {
                self.no_definition()?;
                let (wins, count) = count_trials(trials)?;
                Ok(LogEvent::Observed {
                    model,
                    wins,
                    trials: count,
                })
            }
            (None, None, Some(b"define")) => {
                let definition = definition(self.prior, self.grid_points)?;
                Ok(LogEvent::Defined { model, definition })
            }
            (None, None, Some(b"delete")) => {
                self.no_definition()?;
                Ok(LogEvent::Deleted { model })
            }
            (None, None, Some(op)) => Err(format!(
                "unknown op {:?}: expected \"define\" or \"delete\"",
                String::from_utf8_lossy(op)
            )),
            (None, None, None) => Err("no \"trial\", \"trials\" or \"op\" field".to_owned()),
            _ => Err("more than one of \"trial\", \"trials\" and \"op\"".to_owned()),
        }
    }

    fn no_definition(&self) -> Result<(), String> {
        if self.prior.is_some() || self.grid_points.is_some() {
            Err("\"prior\" and \"grid_points\" belong to \"op\" = \"define\"".to_owned())
        } else {
            Ok(())
        }
    }
}

/// Wins and trials in a string of `w`/`l`; an empty string or any other
/// byte rejects the whole entry.
fn count_trials(trials: &[u8]) -> Result<(u64, u64), String> {
    if trials.is_empty() {
        return Err("empty \"trials\"".to_owned());
    }
    let mut wins = 0u64;
    for (index, byte) in trials.iter().enumerate() {
        match byte {
            b'w' => wins += 1,
            b'l' => {}
            _ => {
                return Err(format!(
                    "\"trials\" holds {:?} at byte {index}: expected only \"w\" and \"l\"",
                    char::from(*byte)
                ));
            }
        }
    }
    Ok((wins, trials.len() as u64))
}

fn definition(prior: Option<&[u8]>, grid: Option<&[u8]>) -> Result<ModelDefinition, String> {
    fn text<'b>(field: &str, bytes: Option<&'b [u8]>) -> Result<&'b str, String> {
        let bytes = bytes.ok_or_else(|| format!("a definition needs {field:?}"))?;
        std::str::from_utf8(bytes).map_err(|_| format!("{field:?} is not UTF-8"))
    }
    let prior = Prior::parse(text(PRIOR, prior)?).map_err(|e| e.to_string())?;
    let grid = Grid::parse(text(GRID_POINTS, grid)?).map_err(|e| e.to_string())?;
    // Every prior has mass at p = 1 or strictly inside (0, 1), and with three
    // or more points index 1 is inside: these three points decide it cheaply.
    let last = grid.points() - 1;
    let has_mass = [0, 1, last]
        .iter()
        .any(|&i| prior.ln_density(grid.p(i), grid.q(i)).is_finite());
    if !has_mass {
        return Err(format!(
            "the prior {prior} has no mass on a grid of {grid} points"
        ));
    }
    Ok(ModelDefinition { prior, grid })
}

/// The fields of a group-commit entry of `trials` (`w`/`l` only) for `model`.
#[must_use]
pub fn observations_fields<'a>(model: &'a str, trials: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields = Vec::with_capacity(2);
    if model != DEFAULT_MODEL {
        fields.push((MODEL, model));
    }
    fields.push((TRIALS, trials));
    fields
}

/// The fields of a definition event.
#[must_use]
pub fn definition_fields(model: &str, definition: ModelDefinition) -> Vec<(&'static str, String)> {
    vec![
        (MODEL, model.to_owned()),
        (OP, OP_DEFINE.to_owned()),
        (PRIOR, definition.prior.to_string()),
        (GRID_POINTS, definition.grid.points().to_string()),
    ]
}

/// The fields of a deletion event.
#[must_use]
pub fn deletion_fields(model: &str) -> Vec<(&'static str, String)> {
    vec![(MODEL, model.to_owned()), (OP, OP_DELETE.to_owned())]
}

pub mod experiments;
mod runs;
pub use experiments::{ExperimentChange, ExperimentEvent};
use runs::runs_of;
pub use runs::{Decoded, runs_fields};

#[cfg(test)]
mod tests;
