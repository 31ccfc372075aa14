//! The evidence a posterior is formed from: `w` wins in `n` trials, as
//! non-negative reals. Integer [`Counts`] are the undecayed case; decay
//! weights each observation by `2^(−age / half_life)`, so a decayed model's
//! `w` and `n` are fractional, and the likelihood `p^w (1 − p)^(n − w)`
//! takes them as they are.

use crate::Counts;
use crate::format::serialize_count;
use serde::Serialize;

/// Wins `w` out of trials `n`, non-negative finite reals with `w <= n`.
///
/// Serialised as `{"w": …, "n": …}`, an integral value as a JSON integer.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Evidence {
    #[serde(serialize_with = "serialize_count")]
    w: f64,
    #[serde(serialize_with = "serialize_count")]
    n: f64,
}

/// Why evidence cannot be formed.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum EvidenceError {
    /// `w` or `n` is NaN or infinite (or a sum or scaling overflowed).
    #[error("evidence must be finite, got w = {w}, n = {n}")]
    NotFinite {
        /// The wins given.
        w: f64,
        /// The trials given.
        n: f64,
    },
    /// `w` or `n` is below zero.
    #[error("evidence must be non-negative, got w = {w}, n = {n}")]
    Negative {
        /// The wins given.
        w: f64,
        /// The trials given.
        n: f64,
    },
    /// More wins than trials (compared exactly: nothing is clamped).
    #[error("w = {w} exceeds n = {n}")]
    MoreWinsThanTrials {
        /// The wins given.
        w: f64,
        /// The trials given.
        n: f64,
    },
    /// A scale factor that is negative, NaN or infinite.
    #[error("a scale factor must be finite and non-negative, got {0}")]
    Factor(f64),
}

impl Evidence {
    /// No evidence: the posterior is the prior.
    pub const ZERO: Self = Self { w: 0.0, n: 0.0 };

    /// `w` wins in `n` trials.
    ///
    /// # Errors
    /// [`EvidenceError::NotFinite`] for NaN or infinity,
    /// [`EvidenceError::Negative`] below zero, and
    /// [`EvidenceError::MoreWinsThanTrials`] when `w > n` (exactly: callers
    /// sum the wins and the trials with the same weights, so `w <= n` holds
    /// in floating point too, see [`Evidence::merge`]).
    pub fn new(w: f64, n: f64) -> Result<Self, EvidenceError> {
        if !(w.is_finite() && n.is_finite()) {
            return Err(EvidenceError::NotFinite { w, n });
        }
        if w < 0.0 || n < 0.0 {
            return Err(EvidenceError::Negative { w, n });
        }
        if w > n {
            return Err(EvidenceError::MoreWinsThanTrials { w, n });
        }
        // -0.0 is 0.0 here: one zero, so equal evidence serialises equally.
        Ok(Self {
            w: w + 0.0,
            n: n + 0.0,
        })
    }

    /// Wins.
    #[must_use]
    pub const fn w(self) -> f64 {
        self.w
    }

    /// Trials.
    #[must_use]
    pub const fn n(self) -> f64 {
        self.n
    }

    /// Losses, `n − w` (exact for integral `w`, `n` up to `2^53`).
    #[must_use]
    pub fn losses(self) -> f64 {
        self.n - self.w
    }

    /// Whether there is no evidence at all (`n == 0`).
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.n == 0.0
    }

    /// The evidence with every observation weighted by `factor` (a decay
    /// weight `2^(−age / half_life)`, say): `(factor·w, factor·n)`.
    /// Rounding is monotonic, so `w <= n` survives it.
    ///
    /// # Errors
    /// [`EvidenceError::Factor`] for a negative or non-finite factor,
    /// [`EvidenceError::NotFinite`] if the product overflows.
    pub fn scaled(self, factor: f64) -> Result<Self, EvidenceError> {
        if !(factor.is_finite() && factor >= 0.0) {
            return Err(EvidenceError::Factor(factor));
        }
        Self::new(self.w * factor, self.n * factor)
    }

    /// Both bodies of evidence together: `(w + w', n + n')`. Rounding is
    /// monotonic, so `w <= n` and `w' <= n'` give a sum with `w <= n`.
    ///
    /// # Errors
    /// [`EvidenceError::NotFinite`] if the sum overflows.
    pub fn merge(self, other: Self) -> Result<Self, EvidenceError> {
        Self::new(self.w + other.w, self.n + other.n)
    }

    /// The integer counts, when both `w` and `n` are integral and fit
    /// `u64` exactly (at most `2^53`).
    #[must_use]
    pub fn as_counts(self) -> Option<Counts> {
        let integral = |x: f64| x.fract() == 0.0 && x <= MAX_EXACT;
        if integral(self.w) && integral(self.n) {
            Counts::new(self.w as u64, self.n as u64).ok()
        } else {
            None
        }
    }
}

/// `2^53`: every integer up to it is an `f64` exactly.
pub(crate) const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

impl From<Counts> for Evidence {
    /// The counts as reals: exact for `n <= 2^53` (about 9·10^15 trials);
    /// beyond, `w` and `n` are rounded to the nearest `f64` (a relative
    /// error of at most 2^-53, far below anything a posterior resolves),
    /// and rounding is monotonic, so `w <= n` still holds.
    fn from(counts: Counts) -> Self {
        Self {
            w: counts.w() as f64,
            n: counts.n() as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_convert_exactly_and_back() {
        let counts = Counts::new(6, 9).unwrap();
        let evidence = Evidence::from(counts);
        assert_eq!(
            (evidence.w(), evidence.n(), evidence.losses()),
            (6.0, 9.0, 3.0)
        );
        assert_eq!(evidence.as_counts(), Some(counts));
        assert_eq!(Evidence::new(2.5, 4.0).unwrap().as_counts(), None);
        assert!(Evidence::from(Counts::ZERO).is_empty());
        assert_eq!(Evidence::from(Counts::ZERO), Evidence::ZERO);
    }

    #[test]
    fn scaling_and_adding_keep_wins_within_trials() {
        let half = Evidence::new(3.0, 7.0).unwrap().scaled(0.5).unwrap();
        assert_eq!(half, Evidence::new(1.5, 3.5).unwrap());
        let total = half.merge(Evidence::new(1.0, 1.0).unwrap()).unwrap();
        assert_eq!(total, Evidence::new(2.5, 4.5).unwrap());
        assert!(matches!(half.scaled(-1.0), Err(EvidenceError::Factor(_))));
        assert!(matches!(
            half.scaled(f64::NAN),
            Err(EvidenceError::Factor(_))
        ));
        let huge = Evidence::new(f64::MAX, f64::MAX).unwrap();
        assert!(matches!(
            huge.merge(huge),
            Err(EvidenceError::NotFinite { .. })
        ));
        assert!(matches!(
            huge.scaled(2.0),
            Err(EvidenceError::NotFinite { .. })
        ));
    }
}
