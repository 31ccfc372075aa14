//! One comparison of several models against the first (the baseline), and
//! the decision it supports, as one serialisable value.

use super::best::{prob_beats, rank_refs};
use super::resolution::{Decision, decide};
use super::{DecisionError, LiftDistribution, check_model_count, closed_form_prob_beats};
use crate::format::serialize_count;
use crate::{
    BetaPosterior, CREDIBLE_MASS, Evidence, Interval, ModelDefinition, Posterior, Warning,
};
use serde::Serialize;

/// Every model's standing and the decision; `models[0]` is the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    /// One entry per model, in the order given.
    pub models: Vec<ModelComparison>,
    /// What to do.
    pub decision: Decision,
}

/// One model's standing among the others.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelComparison {
    /// The name the caller gave.
    pub name: String,
    /// Wins: an integer for counts, fractional for decayed evidence (written
    /// as a JSON integer whenever it is integral).
    #[serde(serialize_with = "serialize_count")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub w: f64,
    /// Trials, likewise.
    #[serde(serialize_with = "serialize_count")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub n: f64,
    /// Grid posterior mean.
    pub mean: f64,
    /// 89% equal-tailed (percentile) interval on the grid, `[lo, hi]`: the
    /// `pi_89` of the model's summary.
    #[cfg_attr(feature = "openapi", schema(value_type = [f64; 2]))]
    pub interval_89: Interval,
    /// Probability that this model is the best, ties split evenly.
    pub p_best: f64,
    /// `E[max_j p_j − p_this]`: expected cost of choosing it.
    pub expected_loss: f64,
    /// Against the baseline; `None` for the baseline itself.
    pub against_baseline: Option<BaselineComparison>,
    /// The posterior's warnings (see [`crate::Posterior::pinned`]).
    pub warnings: Vec<Warning>,
}

/// A model against the baseline (`models[0]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BaselineComparison {
    /// `P(p_this > p_baseline)` on the grids, ties counted half.
    pub prob_beats_baseline: f64,
    /// The same for the continuous Beta posteriors, where both priors are
    /// uniform or Beta: the difference from the grid's is the
    /// discretisation error.
    pub prob_beats_baseline_closed_form: Option<f64>,
    /// `E[p_this − p_baseline]`.
    pub lift_mean: f64,
    /// 89% equal-tailed interval of `p_this − p_baseline`, `[lo, hi]`.
    #[cfg_attr(feature = "openapi", schema(value_type = [f64; 2]))]
    pub lift_interval_89: Interval,
}

/// Compares `models` (name, definition, and integer [`crate::Counts`] or
/// fractional [`Evidence`]) against the first, exactly
/// on their grids, and decides at the risk `threshold` (see
/// [`super::DEFAULT_THRESHOLD`]).
///
/// # Errors
/// [`DecisionError::TooFewModels`] below 2, [`DecisionError::TooManyModels`]
/// above [`super::MAX_MODELS`], [`DecisionError::Threshold`] for a negative
/// or non-finite threshold, [`DecisionError::Posterior`] for a model whose
/// posterior has no mass on its grid.
pub fn compare<N: AsRef<str>, E: Copy + Into<Evidence>>(
    models: &[(N, ModelDefinition, E)],
    threshold: f64,
) -> Result<Comparison, DecisionError> {
    let (posteriors, ranking, decision) = decided(models, threshold)?;
    let mut entries = Vec::with_capacity(models.len());
    for (k, ((name, _, _), posterior)) in models.iter().zip(&posteriors).enumerate() {
        let against_baseline = (k > 0)
            .then(|| against(name, &posteriors[0], posterior))
            .transpose()?;
        let evidence = posterior.evidence();
        entries.push(ModelComparison {
            name: name.as_ref().to_owned(),
            w: evidence.w(),
            n: evidence.n(),
            mean: posterior.mean(),
            interval_89: posterior
                .percentile_interval(CREDIBLE_MASS)
                .map_err(|source| posterior_error(name, source))?,
            p_best: ranking.p_best[k],
            expected_loss: ranking.expected_loss[k],
            against_baseline,
            warnings: posterior.warnings(),
        });
    }
    Ok(Comparison {
        decision,
        models: entries,
    })
}

/// The decision alone (no lift distributions, intervals or closed forms):
/// what [`compare`] decides, with each model's `p_best` and expected loss,
/// at a fraction of its cost. For a referee that evaluates many
/// experiments every second.
///
/// # Errors
/// As [`compare`].
pub fn decide_only<N: AsRef<str>, E: Copy + Into<Evidence>>(
    models: &[(N, ModelDefinition, E)],
    threshold: f64,
) -> Result<(Decision, super::Ranking), DecisionError> {
    let (_, ranking, decision) = decided(models, threshold)?;
    Ok((decision, ranking))
}

/// The posteriors of `models`, their exact ranking and the decision at
/// `threshold`: what [`compare`] and [`decide_only`] share.
fn decided<N: AsRef<str>, E: Copy + Into<Evidence>>(
    models: &[(N, ModelDefinition, E)],
    threshold: f64,
) -> Result<(Vec<Posterior>, super::Ranking, Decision), DecisionError> {
    check_model_count(models.len(), 2)?;
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(DecisionError::Threshold(threshold));
    }
    let posteriors = models
        .iter()
        .map(|(name, definition, evidence)| {
            Posterior::new(definition.grid, definition.prior, *evidence)
                .map_err(|source| posterior_error(name, source))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ranking = rank_refs(&posteriors.iter().collect::<Vec<_>>());
    let pinned = posteriors
        .iter()
        .enumerate()
        .filter(|(_, posterior)| posterior.is_pinned_at_prior_edge())
        .map(|(k, _)| k)
        .collect();
    let decision = decide(&ranking.expected_loss, threshold, ranking.p_tie, pinned);
    Ok((posteriors, ranking, decision))
}

/// The candidate (named `name`) against the baseline, on the grids and in
/// closed form.
fn against(
    name: &impl AsRef<str>,
    baseline: &Posterior,
    candidate: &Posterior,
) -> Result<BaselineComparison, DecisionError> {
    let lift = LiftDistribution::new(baseline, candidate);
    let closed_form = BetaPosterior::new(baseline.prior(), baseline.evidence())
        .zip(BetaPosterior::new(candidate.prior(), candidate.evidence()))
        .and_then(|(a, b)| closed_form_prob_beats(a, b));
    Ok(BaselineComparison {
        prob_beats_baseline: prob_beats(baseline, candidate),
        prob_beats_baseline_closed_form: closed_form,
        lift_mean: lift.mean(),
        lift_interval_89: lift
            .interval(CREDIBLE_MASS)
            .map_err(|source| posterior_error(name, source))?,
    })
}

fn posterior_error(name: &impl AsRef<str>, source: crate::PosteriorError) -> DecisionError {
    DecisionError::Posterior {
        name: name.as_ref().to_owned(),
        source,
    }
}
