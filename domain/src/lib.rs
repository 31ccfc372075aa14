//! The model both services share: binary observations, their sufficient
//! statistic, priors, and the grid-approximated Beta-Binomial posterior.
//!
//! Pure code: no I/O, no async, no Redis. The state of the model is the pair
//! of counts `(w, n)`; an observation is applied in O(1) and the posterior is
//! computed from the counts when someone asks for it, in log space, so it is
//! exact for any `n` and independent of the order the observations came in.
//! Posteriors, summaries and decisions take [`Evidence`], real `(w, n)`, so
//! decayed (fractional) counts are as exact as integer [`Counts`], which
//! convert into it.

mod beta;
mod counts;
mod decision;
mod defaults;
mod event;
mod evidence;
mod experiment;
#[cfg(test)]
mod fixtures;
mod format;
mod grid;
mod history;
mod model;
mod model_name;
mod observation;
mod pinning;
mod posterior;
mod prior;
mod summary;
mod warning;

pub use beta::BetaPosterior;
pub use counts::{Counts, CountsError};
pub use decision::{
    BaselineComparison, Comparison, DEFAULT_THRESHOLD, Decision, DecisionError, LiftDistribution,
    MAX_MODELS, ModelComparison, Ranking, Resolution, SRM_P_VALUE, SampleRatio, SampleRatioError,
    TIE_LIMIT, Thompson, closed_form_prob_beats, compare, decide_only, expected_loss, p_best,
    prob_beats, rank, sample_ratio, thompson_choice,
};
pub use defaults::DefaultDefinitions;
pub use event::ModelEvent;
pub use evidence::{Evidence, EvidenceError};
pub use experiment::{
    Experiment, ExperimentDraft, ExperimentError, ExperimentKind, ExperimentLens, MAX_VARIANTS,
    MIN_VARIANTS, Split, Verdict as ExperimentVerdict,
};
pub use format::plain_decimal;
pub use grid::{Grid, GridError};
pub use history::{History, HistoryError, HistoryPoint};
pub use model::{ModelDefinition, ModelState};
pub use model_name::{ModelName, ModelNameError};
pub use observation::{Observation, ObservationError};
pub use posterior::{Interval, Posterior, PosteriorError};
pub use prior::{Prior, PriorError};
pub use summary::{ClosedFormSummary, ModelSummary};
pub use warning::{Pinned, Side, Warning, WarningCode};

/// Probability mass of the credible intervals reported in summaries (89%, as
/// in *Statistical Rethinking*, which the original follows).
pub const CREDIBLE_MASS: f64 = 0.89;
