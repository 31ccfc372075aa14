//! Decisions between named models: the exact comparison and one Thompson
//! draw, from the counts and definitions stored now.

use super::{ModelStore, PortError};
use domain::{
    Comparison, Counts, DecisionError, ModelComparison, ModelDefinition, ModelName, Posterior,
    Thompson,
};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;

/// A comparison as the api answers it: the domain's, with the decision
/// told by name and in words.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Compared {
    /// Each model, in the order given; the first is the baseline.
    pub models: Vec<ModelComparison>,
    /// What to do.
    pub decision: Verdict,
}

/// The decision: the model with the least expected loss, and whether its
/// risk is under the threshold.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    /// The risk threshold.
    pub threshold: f64,
    /// The model with the least expected loss.
    pub best: String,
    /// Its probability of being the best.
    pub p_best: f64,
    /// Its expected loss: the risk of choosing it.
    pub expected_loss: f64,
    /// `best` once its expected loss is at most the threshold, else null.
    pub winner: Option<String>,
    /// The decision in words.
    pub verdict: String,
}

/// An expected loss in words: four decimals, or two significant digits
/// when smaller (so a tiny risk does not read as none).
fn risk(loss: f64) -> String {
    if loss >= 1e-3 || loss == 0.0 {
        format!("{loss:.4}")
    } else {
        format!("{loss:.1e}")
    }
}

impl From<Comparison> for Compared {
    fn from(comparison: Comparison) -> Self {
        let decision = comparison.decision;
        let best = &comparison.models[decision.least_loss];
        let verdict = if decision.winner.is_some() {
            format!(
                "{} is best with {:.1}% probability; choosing it risks {}, under {}: stop and ship {}",
                best.name,
                best.p_best * 100.0,
                risk(decision.expected_loss),
                decision.threshold,
                best.name
            )
        } else {
            format!(
                "{} leads with {:.1}% probability to be best, but choosing it risks {}, over {}: keep collecting",
                best.name,
                best.p_best * 100.0,
                risk(decision.expected_loss),
                decision.threshold
            )
        };
        Self {
            decision: Verdict {
                threshold: decision.threshold,
                best: best.name.clone(),
                p_best: best.p_best,
                expected_loss: decision.expected_loss,
                winner: decision.winner.map(|_| best.name.clone()),
                verdict,
            },
            models: comparison.models,
        }
    }
}

/// The decisions use case.
#[derive(Clone)]
pub struct Decisions {
    store: Arc<dyn ModelStore>,
    defaults: ModelDefinition,
}

/// Why a decision was not made.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// A name that is not a model name, or given twice.
    #[error("{0}")]
    BadRequest(String),
    /// A model that does not exist.
    #[error("unknown model {0}")]
    Unknown(String),
    /// Too few or too many models, a bad threshold or floor.
    #[error(transparent)]
    Decision(#[from] DecisionError),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] PortError),
}

impl Decisions {
    /// Decisions over `store`'s models; `defaults` for one stored without a definition.
    pub fn new(store: Arc<dyn ModelStore>, defaults: ModelDefinition) -> Self {
        Self { store, defaults }
    }

    /// The comparison of `names` (the first is the baseline) at `threshold`.
    ///
    /// # Errors
    /// A bad, repeated or unknown name, a count outside 2 to
    /// [`domain::MAX_MODELS`], a bad threshold, or the store failing.
    pub async fn compare(&self, names: &str, threshold: f64) -> Result<Compared, DecideError> {
        let models = self.load(names).await?;
        let comparison = tokio::task::spawn_blocking(move || domain::compare(&models, threshold))
            .await
            .map_err(|e| PortError::Failed(format!("compare task failed: {e}")))??;
        metrics::counter!("api_decisions_total", "kind" => "compare").increment(1);
        Ok(comparison.into())
    }

    /// One Thompson draw among `names`, each chosen with at least `floor`.
    ///
    /// # Errors
    /// As [`Decisions::compare`], and a floor outside `[0, 1/K]`.
    pub async fn choose(&self, names: &str, floor: f64) -> Result<String, DecideError> {
        let mut models = self.load(names).await?;
        let chosen = tokio::task::spawn_blocking(move || {
            let posteriors = models
                .iter()
                .map(|(name, d, counts)| {
                    Posterior::new(d.grid, d.prior, *counts).map_err(|source| {
                        DecisionError::Posterior {
                            name: name.clone(),
                            source,
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let thompson = Thompson::new(&posteriors, floor)?;
            let index = thompson.choose(&mut rand::rng());
            Ok::<_, DecisionError>(models.swap_remove(index).0)
        })
        .await
        .map_err(|e| PortError::Failed(format!("choose task failed: {e}")))??;
        metrics::counter!("api_decisions_total", "kind" => "choose").increment(1);
        Ok(chosen)
    }

    /// Parses `a,b,c` and loads each model.
    async fn load(
        &self,
        names: &str,
    ) -> Result<Vec<(String, ModelDefinition, Counts)>, DecideError> {
        let mut seen = HashSet::new();
        let mut parsed = Vec::new();
        for name in names.split(',') {
            let model =
                ModelName::parse(name).map_err(|e| DecideError::BadRequest(e.to_string()))?;
            if !seen.insert(model.clone()) {
                return Err(DecideError::BadRequest(format!(
                    "model {model} is given twice"
                )));
            }
            parsed.push(model);
        }
        if parsed.len() > domain::MAX_MODELS {
            return Err(DecisionError::TooManyModels {
                given: parsed.len(),
                max: domain::MAX_MODELS,
            }
            .into());
        }
        let mut models = Vec::with_capacity(parsed.len());
        for model in parsed {
            let state = self
                .store
                .load(&model)
                .await?
                .ok_or_else(|| DecideError::Unknown(model.to_string()))?;
            models.push((
                model.to_string(),
                state.definition.unwrap_or(self.defaults),
                state.counts,
            ));
        }
        Ok(models)
    }
}
