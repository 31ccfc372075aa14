//! Multi-model group commits: one entry with a `trials:<model>` field per
//! model, how they read (every run valid, each model once, or the whole
//! entry is refused) and how the api writes them.

use super::{ExperimentEvent, LogEvent, TRIALS_OF, count_trials, observations_fields};
use domain::ModelName;

/// What an entry holds: one event, or a group commit's observations of
/// several models (each model once), or an experiment's change. Iterate it
/// for the model events (an experiment's change has none).
#[derive(Debug, PartialEq)]
pub enum Decoded<'a> {
    /// One event.
    One(LogEvent<'a>),
    /// Observations of several models.
    Many(Vec<LogEvent<'a>>),
    /// An experiment defined, stopped or deleted.
    Experiment(ExperimentEvent),
}

impl<'a> Decoded<'a> {
    /// Its events, borrowed.
    pub fn iter(&self) -> impl Iterator<Item = &LogEvent<'a>> {
        match self {
            Self::One(event) => std::slice::from_ref(event).iter(),
            Self::Many(events) => events.iter(),
            Self::Experiment(_) => [].iter(),
        }
    }
}

impl<'a> IntoIterator for Decoded<'a> {
    type Item = LogEvent<'a>;
    type IntoIter =
        std::iter::Chain<std::option::IntoIter<LogEvent<'a>>, std::vec::IntoIter<LogEvent<'a>>>;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            Self::One(event) => Some(event).into_iter().chain(Vec::new()),
            Self::Many(events) => None.into_iter().chain(events),
            Self::Experiment(_) => None.into_iter().chain(Vec::new()),
        }
    }
}

/// The observations of a multi-model group commit, each model once.
pub(super) fn runs_of<'a>(runs: &[(&'a [u8], &'a [u8])]) -> Result<Vec<LogEvent<'a>>, String> {
    let mut events = Vec::with_capacity(runs.len());
    for (i, (model, trials)) in runs.iter().enumerate() {
        ModelName::parse_bytes(model).map_err(|e| format!("{TRIALS_OF}{e}"))?;
        // Validated above: ASCII, so UTF-8.
        let model = std::str::from_utf8(model).map_err(|e| e.to_string())?;
        if runs[..i]
            .iter()
            .any(|(other, _)| *other == model.as_bytes())
        {
            return Err(format!("more than one \"{TRIALS_OF}{model}\" field"));
        }
        let (wins, trials) = count_trials(trials)?;
        events.push(LogEvent::Observed {
            model,
            wins,
            trials,
        });
    }
    Ok(events)
}

/// The fields of one entry holding the runs of `w`/`l` of several models
/// (each once): `trials:<model>` each. One run is written as
/// [`observations_fields`] would.
#[must_use]
pub fn runs_fields(runs: &[(&str, &str)]) -> Vec<(String, String)> {
    if let [(model, trials)] = runs {
        return observations_fields(model, trials)
            .into_iter()
            .map(|(f, v)| (f.to_owned(), v.to_owned()))
            .collect();
    }
    runs.iter()
        .map(|(model, trials)| (format!("{TRIALS_OF}{model}"), (*trials).to_owned()))
        .collect()
}
