//! `ModelList`: the models a decision is made among, parsed from the
//! comma list a client sends (`a,b,c`) before any use case sees it.

use domain::{DecisionError, ModelName, ModelNameError};
use std::collections::HashSet;

/// 1 to [`domain::MAX_MODELS`] distinct model names, in the order given
/// (a comparison's first is its baseline). How many a decision needs at
/// least (2 to compare, 1 to choose) is the decision's own bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelList(Vec<ModelName>);

/// Why a list of models is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelListError {
    /// A name that is not a model name (an empty list is one empty name).
    #[error(transparent)]
    Name(#[from] ModelNameError),
    /// A name given twice.
    #[error("model {0} is given twice")]
    Repeated(ModelName),
    /// More than [`domain::MAX_MODELS`]: [`DecisionError::TooManyModels`].
    #[error(transparent)]
    TooMany(DecisionError),
}

impl ModelList {
    /// Parses `a,b,c`: each name valid, none twice, at most
    /// [`domain::MAX_MODELS`]; the first bad name is the one reported.
    ///
    /// # Errors
    /// [`ModelListError`] for a bad or repeated name, or too many names.
    pub fn parse(names: &str) -> Result<Self, ModelListError> {
        let mut seen = HashSet::new();
        let mut models = Vec::new();
        for name in names.split(',') {
            let model = ModelName::parse(name)?;
            if !seen.insert(model.clone()) {
                return Err(ModelListError::Repeated(model));
            }
            models.push(model);
        }
        if models.len() > domain::MAX_MODELS {
            return Err(ModelListError::TooMany(DecisionError::TooManyModels {
                given: models.len(),
                max: domain::MAX_MODELS,
            }));
        }
        Ok(Self(models))
    }

    /// The names, in the order given.
    #[must_use]
    pub fn names(&self) -> &[ModelName] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_in_the_order_given() {
        let list = ModelList::parse("b,a,c").unwrap();
        let names: Vec<&str> = list.names().iter().map(ModelName::as_str).collect();
        assert_eq!(names, ["b", "a", "c"]);
    }

    #[test]
    fn a_repeated_name_is_refused_by_name() {
        let error = ModelList::parse("a,b,a").unwrap_err();
        assert_eq!(error.to_string(), "model a is given twice");
    }

    #[test]
    fn an_empty_list_is_an_invalid_name() {
        assert!(matches!(ModelList::parse(""), Err(ModelListError::Name(_))));
        assert!(matches!(
            ModelList::parse("a,,b"),
            Err(ModelListError::Name(_))
        ));
    }

    #[test]
    fn more_than_max_models_is_refused_with_the_count() {
        let names: Vec<String> = (0..=domain::MAX_MODELS).map(|i| format!("m{i}")).collect();
        let error = ModelList::parse(&names.join(",")).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "at most {} models can be compared, got {}",
                domain::MAX_MODELS,
                domain::MAX_MODELS + 1
            )
        );
    }

    #[test]
    fn one_name_is_a_list() {
        assert_eq!(ModelList::parse("a").unwrap().names().len(), 1);
    }
}
