//! Events of a model's life, in the order the log holds them: observations,
//! (re)definitions and deletions. Replaying them rebuilds the same models.

use crate::ModelDefinition;

/// What happened to a model, as the log records it, borrowing the name.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelEvent<'a> {
    /// `wins` successes in `trials` trials for `model`.
    Observed {
        /// The model (validated).
        model: &'a str,
        /// Successes.
        wins: u64,
        /// Trials.
        trials: u64,
    },
    /// `model` is (re)defined.
    Defined {
        /// The model (validated).
        model: &'a str,
        /// Its new definition.
        definition: ModelDefinition,
    },
    /// `model` is deleted.
    Deleted {
        /// The model (validated).
        model: &'a str,
    },
}

impl ModelEvent<'_> {
    /// The model the event is for.
    #[must_use]
    pub fn model(&self) -> &str {
        match self {
            Self::Observed { model, .. }
            | Self::Defined { model, .. }
            | Self::Deleted { model } => model,
        }
    }
}
