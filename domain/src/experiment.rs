//! An experiment: the unit users run. An A/B test (a baseline and variants,
//! the traffic split asked for) or a bandit (arms and a floor), each with the
//! risk it accepts and, optionally, a window or half-life through which its
//! evidence is read. Its variants are models; what it adds is which models
//! belong together, how to decide between them and, for an A/B test, a
//! check that the split is what was asked for.
//!
//! [`ExperimentDraft`] is the definition as written (by a user, in the log,
//! in Redis); [`Experiment::new`] checks every field of it, naming the
//! field it refuses.

use crate::decision::{DecisionError, MAX_MODELS, SampleRatio, decide_only, sample_ratio};
use crate::{DEFAULT_THRESHOLD, Evidence, ModelDefinition, ModelName};
use serde::{Deserialize, Serialize};

/// The fewest variants an experiment has.
pub const MIN_VARIANTS: usize = 2;
/// The most: what one comparison takes.
pub const MAX_VARIANTS: usize = MAX_MODELS;

/// What kind of experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ExperimentKind {
    /// A fixed split between a baseline and variants.
    Ab,
    /// Arms chosen by Thompson sampling, each at least `floor` of the time.
    Bandit,
}

/// How the evidence is read: all of it, the latest window, or decayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExperimentLens {
    /// Every observation counts.
    All,
    /// Only the last `ms` milliseconds of log time count.
    Window(u64),
    /// Each observation counts `2^(−age / ms)`.
    HalfLife(u64),
}

/// How an experiment splits its traffic.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// `ab`: a fixed share per variant, in the variants' order.
    Weights(Vec<f64>),
    /// `bandit`: Thompson sampling, each arm at least this share.
    Floor(f64),
}

/// A winner and how sure: its chance to be best and its expected loss.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The winner.
    pub winner: ModelName,
    /// Its chance to be best.
    pub p_best: f64,
    /// Its expected loss.
    pub expected_loss: f64,
}

/// A checked experiment definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    variants: Vec<ModelName>,
    baseline: usize,
    threshold: f64,
    split: Split,
    lens: ExperimentLens,
}

impl Experiment {
    /// Checks `draft`.
    ///
    /// # Errors
    /// [`ExperimentError`] naming the first field refused: no kind, fewer
    /// than 2 or more than 20 variants, a bad or repeated name, a baseline
    /// not among them, a bad threshold, weights not one per variant in
    /// (0, 1] summing to 1, a floor outside `[0, 1/K]`, a split of the
    /// other kind, a zero window or half-life, or both.
    pub fn new(draft: &ExperimentDraft) -> Result<Self, ExperimentError> {
        let kind = draft
            .kind
            .ok_or_else(|| refuse("kind", "required: \"ab\" or \"bandit\""))?;
        let count = draft.variants.len();
        if !(MIN_VARIANTS..=MAX_VARIANTS).contains(&count) {
            return Err(refuse(
                "variants",
                format!("{MIN_VARIANTS} to {MAX_VARIANTS} variants, got {count}"),
            ));
        }
        let mut variants = Vec::with_capacity(count);
        for name in &draft.variants {
            let name = ModelName::parse(name).map_err(|e| refuse("variants", e.to_string()))?;
            if variants.contains(&name) {
                return Err(refuse("variants", format!("{name} is listed twice")));
            }
            variants.push(name);
        }
        let baseline = match &draft.baseline {
            None => 0,
            Some(name) => variants
                .iter()
                .position(|v| v.as_str() == name)
                .ok_or_else(|| refuse("baseline", format!("{name:?} is not among the variants")))?,
        };
        let threshold = draft.threshold.unwrap_or(DEFAULT_THRESHOLD);
        if !(threshold.is_finite() && threshold >= 0.0) {
            return Err(refuse(
                "threshold",
                format!("a finite number >= 0, got {threshold}"),
            ));
        }
        let split = match kind {
            ExperimentKind::Ab => {
                if draft.floor.is_some() {
                    return Err(refuse(
                        "floor",
                        "belongs to a bandit; an A/B test has weights",
                    ));
                }
                Split::Weights(weights(draft.weights.as_deref(), count)?)
            }
            ExperimentKind::Bandit => {
                if draft.weights.is_some() {
                    return Err(refuse(
                        "weights",
                        "belong to an A/B test; a bandit has a floor",
                    ));
                }
                let floor = draft.floor.unwrap_or(0.0);
                let most = 1.0 / count as f64;
                if !(floor.is_finite() && (0.0..=most).contains(&floor)) {
                    return Err(refuse(
                        "floor",
                        format!("between 0 and 1/K = {most} for {count} arms, got {floor}"),
                    ));
                }
                Split::Floor(floor)
            }
        };
        let lens = match (draft.window_ms, draft.half_life_ms) {
            (Some(_), Some(_)) => {
                return Err(refuse("window", "give a window or a half-life, not both"));
            }
            (Some(0), None) => return Err(refuse("window", "must be longer than 0")),
            (None, Some(0)) => return Err(refuse("half_life", "must be longer than 0")),
            (Some(ms), None) => ExperimentLens::Window(ms),
            (None, Some(ms)) => ExperimentLens::HalfLife(ms),
            (None, None) => ExperimentLens::All,
        };
        Ok(Self {
            variants,
            baseline,
            threshold,
            split,
            lens,
        })
    }

    /// The definition as written back: every default filled in.
    #[must_use]
    pub fn draft(&self) -> ExperimentDraft {
        let (kind, weights, floor) = match &self.split {
            Split::Weights(w) => (ExperimentKind::Ab, Some(w.clone()), None),
            Split::Floor(f) => (ExperimentKind::Bandit, None, Some(*f)),
        };
        let (window_ms, half_life_ms) = match self.lens {
            ExperimentLens::All => (None, None),
            ExperimentLens::Window(ms) => (Some(ms), None),
            ExperimentLens::HalfLife(ms) => (None, Some(ms)),
        };
        ExperimentDraft {
            kind: Some(kind),
            variants: self.variants.iter().map(ToString::to_string).collect(),
            baseline: Some(self.baseline().to_string()),
            threshold: Some(self.threshold),
            weights,
            floor,
            window_ms,
            half_life_ms,
        }
    }

    /// `ab` or `bandit`.
    #[must_use]
    pub fn kind(&self) -> ExperimentKind {
        match self.split {
            Split::Weights(_) => ExperimentKind::Ab,
            Split::Floor(_) => ExperimentKind::Bandit,
        }
    }

    /// The variants, in the order given.
    #[must_use]
    pub fn variants(&self) -> &[ModelName] {
        &self.variants
    }

    /// The baseline.
    #[must_use]
    pub fn baseline(&self) -> &ModelName {
        &self.variants[self.baseline]
    }

    /// The variants as compared: the baseline first, then the others in
    /// the order given.
    pub fn order(&self) -> impl Iterator<Item = &ModelName> {
        std::iter::once(self.baseline()).chain(
            self.variants
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != self.baseline)
                .map(|(_, v)| v),
        )
    }

    /// The risk a winner may carry.
    #[must_use]
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The split.
    #[must_use]
    pub fn split(&self) -> &Split {
        &self.split
    }

    /// The bandit's floor (0 for an A/B test).
    #[must_use]
    pub fn floor(&self) -> f64 {
        match self.split {
            Split::Floor(floor) => floor,
            Split::Weights(_) => 0.0,
        }
    }

    /// How the evidence is read.
    #[must_use]
    pub fn lens(&self) -> ExperimentLens {
        self.lens
    }

    /// The winner at the threshold of the variants' `evidence` (in
    /// [`Experiment::order`], each with its definition), and its chance to be
    /// best and expected loss: what [`crate::compare`] decides, without the
    /// comparison's lift distributions and intervals (a referee's evaluation).
    ///
    /// # Errors
    /// [`DecisionError`] for a posterior with no mass on its grid, or
    /// evidence not one per variant.
    pub fn decide<E: Copy + Into<Evidence>>(
        &self,
        evidence: &[(ModelDefinition, E)],
    ) -> Result<Option<Verdict>, DecisionError> {
        let models = self.with_names(evidence)?;
        let (decision, ranking) = decide_only(&models, self.threshold)?;
        Ok(decision.winner.map(|k| Verdict {
            winner: models[k].0.clone(),
            p_best: ranking.p_best[k],
            expected_loss: ranking.expected_loss[k],
        }))
    }

    fn with_names<'a, E: Copy + Into<Evidence>>(
        &'a self,
        evidence: &[(ModelDefinition, E)],
    ) -> Result<Vec<(&'a ModelName, ModelDefinition, E)>, DecisionError> {
        if evidence.len() != self.variants.len() {
            return Err(DecisionError::TooFewModels {
                given: evidence.len(),
                min: self.variants.len(),
            });
        }
        Ok(self
            .order()
            .zip(evidence)
            .map(|(name, (definition, e))| (name, *definition, *e))
            .collect())
    }

    /// The sample-ratio-mismatch check of an A/B test: `trials` is each
    /// variant's `n`, in the variants' order. `None` for a bandit, whose
    /// split is meant to move.
    #[must_use]
    pub fn srm(&self, trials: &[u64]) -> Option<SampleRatio> {
        match &self.split {
            Split::Weights(weights) => sample_ratio(trials, weights).ok(),
            Split::Floor(_) => None,
        }
    }
}

mod draft;
pub use draft::{ExperimentDraft, ExperimentError};
use draft::{refuse, weights};

#[cfg(test)]
mod tests;
