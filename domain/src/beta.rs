//! The exact Beta posterior, for priors that are conjugate (uniform and Beta).

use crate::{Evidence, Interval, PosteriorError, Prior};
use statrs::distribution::{Beta, ContinuousCDF};

/// `Beta(alpha + w, beta + n - w)`: the posterior in closed form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaPosterior {
    alpha: f64,
    beta: f64,
}

impl BetaPosterior {
    /// The closed-form posterior after `evidence` (integer counts or
    /// fractional, decayed evidence), or `None` for a prior that is not a
    /// Beta.
    #[must_use]
    pub fn new(prior: Prior, evidence: impl Into<Evidence>) -> Option<Self> {
        let (alpha, beta) = prior.beta_shape()?;
        let evidence = evidence.into();
        Some(Self {
            alpha: alpha + evidence.w(),
            beta: beta + evidence.losses(),
        })
    }

    /// First shape parameter.
    #[must_use]
    pub const fn alpha(self) -> f64 {
        self.alpha
    }

    /// Second shape parameter.
    #[must_use]
    pub const fn beta(self) -> f64 {
        self.beta
    }

    /// `alpha / (alpha + beta)`.
    #[must_use]
    pub fn mean(self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// `sqrt(alpha beta / ((alpha + beta)^2 (alpha + beta + 1)))`.
    #[must_use]
    pub fn sd(self) -> f64 {
        let total = self.alpha + self.beta;
        (self.alpha * self.beta / (total * total * (total + 1.0))).sqrt()
    }

    /// Log density at `p`, normalised.
    #[must_use]
    pub fn ln_pdf(self, p: f64) -> f64 {
        use statrs::distribution::Continuous;
        self.distribution().map_or(f64::NAN, |d| d.ln_pdf(p))
    }

    /// Equal-tailed interval holding `mass`.
    ///
    /// # Errors
    /// [`PosteriorError::Mass`] if `mass` is not in `(0, 1]`.
    pub fn interval(self, mass: f64) -> Result<Interval, PosteriorError> {
        if !(mass > 0.0 && mass <= 1.0) {
            return Err(PosteriorError::Mass(mass));
        }
        let tail = (1.0 - mass) / 2.0;
        let distribution = self.distribution().ok_or(PosteriorError::Mass(mass))?;
        Ok(Interval {
            lo: distribution.inverse_cdf(tail),
            hi: distribution.inverse_cdf(1.0 - tail),
        })
    }

    fn distribution(self) -> Option<Beta> {
        Beta::new(self.alpha, self.beta).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counts;
    use statrs::distribution::ContinuousCDF;
    use statrs::statistics::Distribution;

    #[test]
    fn beta_7_4_matches_statistical_rethinking() {
        let post = BetaPosterior::new(Prior::Uniform, Counts::new(6, 9).unwrap()).unwrap();
        assert_eq!((post.alpha(), post.beta()), (7.0, 4.0));
        assert!((post.mean() - 0.636364).abs() < 1e-6);
        assert!((post.sd() - 0.138866).abs() < 1e-6);
        let mean = Distribution::mean(&post.distribution().unwrap()).unwrap();
        assert!((mean - post.mean()).abs() < 1e-15);
    }

    #[test]
    fn the_interval_holds_its_mass() {
        let post = BetaPosterior::new(Prior::Uniform, Counts::new(6, 9).unwrap()).unwrap();
        let interval = post.interval(0.89).unwrap();
        let d = post.distribution().unwrap();
        assert!((d.cdf(interval.hi) - d.cdf(interval.lo) - 0.89).abs() < 1e-9);
        assert!(post.interval(0.0).is_err());
    }

    #[test]
    fn a_step_prior_has_no_closed_form() {
        assert_eq!(BetaPosterior::new(Prior::DEFAULT, Counts::ZERO), None);
    }
}
