//! What a reader of the model wants at a glance, as one serialisable value.

use crate::format::serialize_count;
use crate::{
    BetaPosterior, CREDIBLE_MASS, Evidence, Grid, Interval, Posterior, PosteriorError, Prior,
    Warning,
};
use serde::Serialize;

/// The summary of a model state: counts, definition and posterior summaries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelSummary {
    /// Wins: an integer for counts, fractional for decayed evidence (written
    /// as a JSON integer whenever it is integral, `5`, else `2.5`).
    #[serde(serialize_with = "serialize_count")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub w: f64,
    /// Trials, likewise.
    #[serde(serialize_with = "serialize_count")]
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub n: f64,
    /// Grid posterior mean.
    pub mean: f64,
    /// Grid posterior standard deviation.
    pub sd: f64,
    /// Grid point of highest posterior probability.
    pub map: f64,
    /// 89% highest posterior density interval on the grid, `[lo, hi]`.
    #[cfg_attr(feature = "openapi", schema(value_type = [f64; 2]))]
    pub hpdi_89: Interval,
    /// 89% percentile interval on the grid, `[lo, hi]`.
    #[cfg_attr(feature = "openapi", schema(value_type = [f64; 2]))]
    pub pi_89: Interval,
    /// The prior spec, e.g. `step:0.1`.
    pub prior: String,
    /// Grid size.
    pub grid_points: usize,
    /// The exact Beta posterior, where the prior is uniform or Beta.
    pub closed_form: Option<ClosedFormSummary>,
    /// Why the posterior may not show what the data say (pinned at the
    /// prior's edge, most mass on one grid point); empty when it does.
    pub warnings: Vec<Warning>,
}

/// The exact Beta posterior's summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClosedFormSummary {
    /// Posterior `alpha`.
    pub alpha: f64,
    /// Posterior `beta`.
    pub beta: f64,
    /// Exact mean.
    pub mean: f64,
    /// Exact standard deviation.
    pub sd: f64,
    /// Exact equal-tailed 89% interval, `[lo, hi]`.
    #[cfg_attr(feature = "openapi", schema(value_type = [f64; 2]))]
    pub interval_89: Interval,
}

impl ModelSummary {
    /// Summarises the posterior of `prior` after `evidence` (integer counts
    /// or fractional, decayed evidence) on `grid`.
    ///
    /// # Errors
    /// [`PosteriorError::NoMass`] if the posterior has no mass on the grid.
    pub fn new(
        grid: Grid,
        prior: Prior,
        evidence: impl Into<Evidence>,
    ) -> Result<Self, PosteriorError> {
        Self::of(&Posterior::new(grid, prior, evidence)?)
    }

    /// Summarises an already computed posterior, with the prior and
    /// evidence it was formed from.
    ///
    /// # Errors
    /// Only if [`CREDIBLE_MASS`] were out of range, which it is not.
    pub fn of(posterior: &Posterior) -> Result<Self, PosteriorError> {
        let (prior, evidence) = (posterior.prior(), posterior.evidence());
        let closed_form = BetaPosterior::new(prior, evidence)
            .map(|exact| -> Result<_, PosteriorError> {
                Ok(ClosedFormSummary {
                    alpha: exact.alpha(),
                    beta: exact.beta(),
                    mean: exact.mean(),
                    sd: exact.sd(),
                    interval_89: exact.interval(CREDIBLE_MASS)?,
                })
            })
            .transpose()?;
        Ok(Self {
            w: evidence.w(),
            n: evidence.n(),
            mean: posterior.mean(),
            sd: posterior.sd(),
            map: posterior.map(),
            hpdi_89: posterior.hpdi(CREDIBLE_MASS)?,
            pi_89: posterior.percentile_interval(CREDIBLE_MASS)?,
            prior: prior.to_string(),
            grid_points: posterior.grid().points(),
            closed_form,
            warnings: posterior.warnings(),
        })
    }
}
