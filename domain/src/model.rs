//! A model as stored: its definition (prior and grid) and its counts.

use crate::{Counts, Evidence, Grid, ModelSummary, PosteriorError, Prior};

/// What the model is: its prior and grid. The counts do not depend on it, so
/// changing it (a restart with another prior) reinterprets, never loses, data.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ModelDefinition {
    /// The prior.
    pub prior: Prior,
    /// The grid.
    pub grid: Grid,
}

impl ModelDefinition {
    /// Summarises the posterior after `evidence`: integer [`Counts`], or
    /// fractional, decayed [`Evidence`].
    ///
    /// # Errors
    /// [`PosteriorError::NoMass`] when prior × likelihood is zero on the grid.
    pub fn summary(self, evidence: impl Into<Evidence>) -> Result<ModelSummary, PosteriorError> {
        ModelSummary::new(self.grid, self.prior, evidence)
    }
}

/// The counts with the definition they were stored under, if any was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelState {
    /// Counts (zero before the first observation).
    pub counts: Counts,
    /// The definition the subscriber stored, `None` before it first started.
    pub definition: Option<ModelDefinition>,
}
