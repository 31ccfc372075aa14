//! The definitions models get when they are created without one.
//!
//! The model `default` (the v1 routes) keeps the original's `step:0.1` on
//! 120 points, as the seed did. A named model gets `uniform` on 10,001
//! points: grid spacing 1e-4, so a 2% rate is resolved to a hundredth of a
//! percentage point and the 0.1-point differences of small-rate A/B tests
//! are told apart, while a 60% rate is served as well. `step:0.1` would pin
//! every rate under 10% at its edge (see [`crate::Pinned`]).

use crate::{Grid, ModelDefinition, ModelName, Prior};

/// The definition of a model first observed without one, by name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefaultDefinitions {
    /// For the model `default`: the original's `step:0.1` on 120 points,
    /// unless configured otherwise.
    pub default_model: ModelDefinition,
    /// For every other model: [`DefaultDefinitions::NAMED_PRIOR`] on
    /// [`DefaultDefinitions::NAMED_POINTS`], unless configured otherwise.
    pub named: ModelDefinition,
}

impl DefaultDefinitions {
    /// The prior of a named model created without a definition.
    pub const NAMED_PRIOR: Prior = Prior::Uniform;
    /// Its grid size: spacing 1e-4.
    pub const NAMED_POINTS: usize = 10_001;

    /// The definition `model` gets when it has none.
    #[must_use]
    pub fn of(&self, model: &ModelName) -> ModelDefinition {
        self.of_name(model.as_str())
    }

    /// As [`DefaultDefinitions::of`], for a name already validated elsewhere.
    #[must_use]
    pub fn of_name(&self, model: &str) -> ModelDefinition {
        if model == ModelName::DEFAULT {
            self.default_model
        } else {
            self.named
        }
    }
}

impl Default for DefaultDefinitions {
    fn default() -> Self {
        Self {
            default_model: ModelDefinition::default(),
            named: ModelDefinition {
                prior: Self::NAMED_PRIOR,
                // NAMED_POINTS is within the grid's bounds; the fallback is never taken.
                grid: Grid::new(Self::NAMED_POINTS).unwrap_or_default(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keeps_the_originals_definition_and_named_models_get_a_fine_uniform_grid() {
        let defaults = DefaultDefinitions::default();
        let original = defaults.of(&ModelName::default_model());
        assert_eq!(
            (original.prior.to_string(), original.grid.points()),
            ("step:0.1".to_owned(), 120)
        );
        let named = defaults.of(&ModelName::parse("checkout").unwrap());
        assert_eq!((named.prior, named.grid.points()), (Prior::Uniform, 10_001));
        assert!((named.grid.spacing() - 1e-4).abs() < 1e-18);
    }
}
