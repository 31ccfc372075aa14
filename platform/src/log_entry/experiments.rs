//! The log's experiment entries: an experiment's definition, its stop and
//! its deletion, each in the partition of the experiment's name, so a
//! replay of the log rebuilds experiments as it rebuilds models.
//!
//! - a definition: `experiment` = name, `op` = `experiment`, `spec` = the
//!   definition as JSON (an [`ExperimentDraft`], every default filled in);
//! - a stop: `experiment`, `op` = `experiment_stop`, `variant` = the one chosen;
//! - a deletion: `experiment`, `op` = `experiment_delete` (its models stay).

use domain::{Experiment, ExperimentDraft, ModelName};

/// The experiment an entry is for.
pub const EXPERIMENT: &str = "experiment";
/// A definition's JSON.
pub const SPEC: &str = "spec";
/// The variant a stop chose.
pub const VARIANT: &str = "variant";
/// The `op` of a definition.
pub const OP_EXPERIMENT: &str = "experiment";
/// The `op` of a stop.
pub const OP_EXPERIMENT_STOP: &str = "experiment_stop";
/// The `op` of a deletion.
pub const OP_EXPERIMENT_DELETE: &str = "experiment_delete";

/// What happened to an experiment.
#[derive(Debug, Clone, PartialEq)]
pub enum ExperimentChange {
    /// (Re)defined; a stopped experiment runs again.
    Defined(Experiment),
    /// Stopped, with the variant chosen.
    Stopped(ModelName),
    /// Deleted (its models stay).
    Deleted,
}

/// An experiment entry, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentEvent {
    /// The experiment (validated).
    pub name: ModelName,
    /// What happened.
    pub change: ExperimentChange,
}

/// Reads an experiment entry from its `experiment`, `op`, `spec` and
/// `variant` fields.
pub(super) fn decode(
    name: &[u8],
    op: Option<&[u8]>,
    spec: Option<&[u8]>,
    variant: Option<&[u8]>,
) -> Result<ExperimentEvent, String> {
    let name = ModelName::parse_bytes(name).map_err(|e| format!("experiment: {e}"))?;
    let change = match (op, spec, variant) {
        (Some(b"experiment"), Some(spec), None) => {
            let draft: ExperimentDraft = serde_json::from_slice(spec)
                .map_err(|e| format!("\"spec\" is not an experiment definition: {e}"))?;
            ExperimentChange::Defined(Experiment::new(&draft).map_err(|e| e.to_string())?)
        }
        (Some(b"experiment_stop"), None, Some(variant)) => ExperimentChange::Stopped(
            ModelName::parse_bytes(variant).map_err(|e| format!("variant: {e}"))?,
        ),
        (Some(b"experiment_delete"), None, None) => ExperimentChange::Deleted,
        (Some(b"experiment"), None, _) => return Err("a definition needs \"spec\"".to_owned()),
        (Some(b"experiment_stop"), _, None) => return Err("a stop needs \"variant\"".to_owned()),
        (Some(op), _, _)
            if [OP_EXPERIMENT, OP_EXPERIMENT_STOP, OP_EXPERIMENT_DELETE]
                .iter()
                .any(|known| known.as_bytes() == op) =>
        {
            return Err(format!(
                "\"spec\" belongs to op \"experiment\", \"variant\" to \"experiment_stop\"; got op {:?}",
                String::from_utf8_lossy(op)
            ));
        }
        (op, _, _) => {
            return Err(format!(
                "an \"experiment\" entry's op is \"experiment\", \"experiment_stop\" or \"experiment_delete\", got {:?}",
                op.map(String::from_utf8_lossy)
            ));
        }
    };
    Ok(ExperimentEvent { name, change })
}

/// A definition as its `spec` field (and the experiment hash) hold it.
#[must_use]
pub fn spec(experiment: &Experiment) -> String {
    // A struct of strings, numbers and options always serialises.
    serde_json::to_string(&experiment.draft()).unwrap_or_default()
}

/// The fields of a definition entry.
#[must_use]
pub fn definition_fields(name: &str, experiment: &Experiment) -> Vec<(&'static str, String)> {
    vec![
        (EXPERIMENT, name.to_owned()),
        (super::OP, OP_EXPERIMENT.to_owned()),
        (SPEC, spec(experiment)),
    ]
}

/// The fields of a stop entry.
#[must_use]
pub fn stop_fields(name: &str, variant: &str) -> Vec<(&'static str, String)> {
    vec![
        (EXPERIMENT, name.to_owned()),
        (super::OP, OP_EXPERIMENT_STOP.to_owned()),
        (VARIANT, variant.to_owned()),
    ]
}

/// The fields of a deletion entry.
#[must_use]
pub fn deletion_fields(name: &str) -> Vec<(&'static str, String)> {
    vec![
        (EXPERIMENT, name.to_owned()),
        (super::OP, OP_EXPERIMENT_DELETE.to_owned()),
    ]
}
