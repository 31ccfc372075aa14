//! The sample-ratio-mismatch check of an A/B test: are the trials each
//! variant got what its traffic weight asked for? Pearson's chi-square test
//! of the observed `n` against `weight × total`, with `K − 1` degrees of
//! freedom; a p-value below [`SRM_P_VALUE`] (GrowthBook's threshold) says
//! the split is off, and the test's result should not be trusted until the
//! cause is found.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Below this p-value the split is called off.
pub const SRM_P_VALUE: f64 = 0.001;

/// How far the weights may sum from 1 (they are decimals a user typed).
const WEIGHT_SUM_TOLERANCE: f64 = 1e-9;

/// The check's result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SampleRatio {
    /// Pearson's statistic, `Σ (n − e)² / e`.
    pub chi_square: f64,
    /// `P(χ²(K − 1) ≥ chi_square)`: 1 with no trials yet.
    pub p_value: f64,
    /// Whether the split is as asked (`p_value` ≥ [`SRM_P_VALUE`]).
    pub ok: bool,
}

/// Why the check cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum SampleRatioError {
    /// Not one weight per variant.
    #[error("{counts} variants and {weights} weights: give one weight per variant")]
    Lengths {
        /// Variants.
        counts: usize,
        /// Weights.
        weights: usize,
    },
    /// Fewer than two variants.
    #[error("a split needs at least 2 variants, got {0}")]
    TooFew(usize),
    /// A weight that is not a share of the traffic.
    #[error("weight {index} is {weight}: each weight must be in (0, 1]")]
    Weight {
        /// Its position.
        index: usize,
        /// Its value.
        weight: f64,
    },
    /// Weights that do not sum to 1.
    #[error("the weights sum to {0}, not 1")]
    Sum(f64),
}

/// The chi-square check of `counts` (each variant's trials) against
/// `weights` (each variant's share of the traffic).
///
/// # Errors
/// [`SampleRatioError`] for mismatched lengths, fewer than two variants,
/// or weights that are not shares summing to 1.
pub fn sample_ratio(counts: &[u64], weights: &[f64]) -> Result<SampleRatio, SampleRatioError> {
    if counts.len() != weights.len() {
        return Err(SampleRatioError::Lengths {
            counts: counts.len(),
            weights: weights.len(),
        });
    }
    if counts.len() < 2 {
        return Err(SampleRatioError::TooFew(counts.len()));
    }
    if let Some((index, &weight)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(**w > 0.0 && **w <= 1.0))
    {
        return Err(SampleRatioError::Weight { index, weight });
    }
    let sum: f64 = weights.iter().sum();
    if (sum - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
        return Err(SampleRatioError::Sum(sum));
    }
    let total: f64 = counts.iter().map(|n| *n as f64).sum();
    if total == 0.0 {
        return Ok(SampleRatio {
            chi_square: 0.0,
            p_value: 1.0,
            ok: true,
        });
    }
    let chi_square: f64 = counts
        .iter()
        .zip(weights)
        .map(|(n, w)| {
            let expected = w / sum * total;
            let gap = *n as f64 - expected;
            gap * gap / expected
        })
        .sum();
    let degrees = (counts.len() - 1) as f64;
    let p_value = ChiSquared::new(degrees).map_or(f64::NAN, |d| d.sf(chi_square));
    Ok(SampleRatio {
        chi_square,
        p_value,
        ok: p_value >= SRM_P_VALUE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from SciPy 1.x, `scipy.stats.chisquare(obs, [w * n
    /// for w in weights])`, computed outside this crate.
    const REFERENCE: [(&[u64], &[f64], f64, f64); 6] = [
        (&[5_000, 5_000], &[0.5, 0.5], 0.0, 1.0),
        (&[5_100, 4_900], &[0.5, 0.5], 4.0, 0.045_500_263_896_358_57),
        (&[5_200, 4_800], &[0.5, 0.5], 16.0, 6.334_248_366_623_988e-5),
        (
            &[10_000, 10_300],
            &[0.5, 0.5],
            4.433_497_536_945_813,
            0.035_240_223_824_274_594,
        ),
        (
            &[821, 1_179],
            &[0.4, 0.6],
            0.918_75,
            0.337_803_395_623_813_8,
        ),
        (
            &[50_000, 50_600, 49_000],
            &[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
            26.203_208_556_149_733,
            2.041_952_136_380_998_5e-6,
        ),
    ];

    #[test]
    fn the_check_matches_scipy() {
        for (counts, weights, chi_square, p_value) in REFERENCE {
            let check = sample_ratio(counts, weights).unwrap();
            assert!(
                (check.chi_square - chi_square).abs() < 1e-9,
                "{counts:?}: {check:?}"
            );
            assert!(
                (check.p_value - p_value).abs() <= 1e-9 * p_value.max(1e-6),
                "{counts:?}: {check:?} against {p_value}"
            );
            assert_eq!(check.ok, p_value >= 0.001, "{counts:?}");
        }
    }

    #[test]
    fn three_uneven_weights_as_asked_pass() {
        let check = sample_ratio(&[1_000, 2_000, 3_100], &[1.0 / 6.0, 1.0 / 3.0, 0.5]).unwrap();
        assert!((check.chi_square - 1.639_344_262_295_078_2).abs() < 1e-9);
        assert!((check.p_value - 0.440_576_082_002_494_65).abs() < 1e-9);
        assert!(check.ok);
    }

    #[test]
    fn no_trials_is_no_mismatch() {
        let check = sample_ratio(&[0, 0], &[0.5, 0.5]).unwrap();
        assert_eq!((check.p_value, check.ok), (1.0, true));
    }

    #[test]
    fn bad_splits_are_refused() {
        use SampleRatioError::*;
        assert_eq!(
            sample_ratio(&[1, 2], &[1.0]),
            Err(Lengths {
                counts: 2,
                weights: 1
            })
        );
        assert_eq!(sample_ratio(&[1], &[1.0]), Err(TooFew(1)));
        assert!(matches!(
            sample_ratio(&[1, 2], &[0.0, 1.0]),
            Err(Weight { index: 0, .. })
        ));
        assert!(matches!(
            sample_ratio(&[1, 2], &[f64::NAN, 0.5]),
            Err(Weight { .. })
        ));
        assert!(matches!(sample_ratio(&[1, 2], &[0.5, 0.6]), Err(Sum(_))));
        assert!(sample_ratio(&[1, 2, 3], &[0.2, 0.3, 0.5]).is_ok());
    }
}
