//! The sufficient statistic of a Binomial model: wins `w` out of `n` trials.

use crate::Observation;
use serde::{Deserialize, Serialize};

/// Wins out of trials. Always `w <= n`.
///
/// This pair is the whole state of the model: applying an observation is an
/// O(1) increment and counts from separate batches (or separate subscribers)
/// merge by addition, so order and partitioning never matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Counts {
    w: u64,
    n: u64,
}

/// Why counts cannot be formed or grown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CountsError {
    /// More wins than trials.
    #[error("w = {w} exceeds n = {n}")]
    MoreWinsThanTrials {
        /// The wins given.
        w: u64,
        /// The trials given.
        n: u64,
    },
    /// The counts would pass `u64::MAX`; they are never wrapped.
    #[error("counts overflow: the trial count would pass {}", u64::MAX)]
    Overflow,
}

impl Counts {
    /// No observations yet.
    pub const ZERO: Self = Self { w: 0, n: 0 };

    /// Counts of `w` wins in `n` trials.
    ///
    /// # Errors
    /// [`CountsError::MoreWinsThanTrials`] when `w > n`.
    pub const fn new(w: u64, n: u64) -> Result<Self, CountsError> {
        if w > n {
            return Err(CountsError::MoreWinsThanTrials { w, n });
        }
        Ok(Self { w, n })
    }

    /// Wins.
    #[must_use]
    pub const fn w(self) -> u64 {
        self.w
    }

    /// Trials.
    #[must_use]
    pub const fn n(self) -> u64 {
        self.n
    }

    /// Losses, `n - w`.
    #[must_use]
    pub const fn losses(self) -> u64 {
        self.n - self.w
    }

    /// The counts after one more observation.
    ///
    /// # Errors
    /// [`CountsError::Overflow`] if `n` would pass `u64::MAX`.
    pub fn apply(self, observation: Observation) -> Result<Self, CountsError> {
        let win = u64::from(observation == Observation::Win);
        self.merge(Self { w: win, n: 1 })
    }

    /// The counts of both sets of observations together.
    ///
    /// # Errors
    /// [`CountsError::Overflow`] if `n` would pass `u64::MAX`.
    pub fn merge(self, other: Self) -> Result<Self, CountsError> {
        let n = self.n.checked_add(other.n).ok_or(CountsError::Overflow)?;
        // w + other.w <= n + other.n, so this cannot overflow once n did not.
        Ok(Self {
            w: self.w + other.w,
            n,
        })
    }
}

impl FromIterator<Observation> for Result<Counts, CountsError> {
    fn from_iter<I: IntoIterator<Item = Observation>>(iter: I) -> Self {
        iter.into_iter().try_fold(Counts::ZERO, Counts::apply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn more_wins_than_trials_is_an_error() {
        assert_eq!(
            Counts::new(3, 2),
            Err(CountsError::MoreWinsThanTrials { w: 3, n: 2 })
        );
    }

    #[test]
    fn overflow_is_an_error_never_a_wrap() {
        let full = Counts::new(u64::MAX, u64::MAX).unwrap();
        assert_eq!(full.apply(Observation::Loss), Err(CountsError::Overflow));
        assert_eq!(
            full.merge(Counts::new(0, 1).unwrap()),
            Err(CountsError::Overflow)
        );
        assert_eq!(full.merge(Counts::ZERO), Ok(full));
    }

    #[test]
    fn applying_counts_wins_and_trials() {
        let counts: Result<Counts, _> = "wlwwwlwlw"
            .chars()
            .map(|c| Observation::parse(&c.to_string()).unwrap())
            .collect();
        assert_eq!(counts, Counts::new(6, 9));
        assert_eq!(counts.unwrap().losses(), 3);
    }

    proptest! {
        #[test]
        fn merging_batches_equals_applying_one_by_one(
            first in proptest::collection::vec(any::<bool>(), 0..200),
            second in proptest::collection::vec(any::<bool>(), 0..200),
        ) {
            let to_obs = |b: &bool| if *b { Observation::Win } else { Observation::Loss };
            let a: Counts = first.iter().map(to_obs).collect::<Result<_, _>>().unwrap();
            let b: Counts = second.iter().map(to_obs).collect::<Result<_, _>>().unwrap();
            let all: Counts = first.iter().chain(&second).map(to_obs).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(a.merge(b).unwrap(), all);
            prop_assert_eq!(b.merge(a).unwrap(), all);
        }
    }
}
