//! `P(p_B > p_A)` for two independent Beta posteriors, off the grid, to show
//! beside the grid's answer how much the discretisation costs.
//!
//! Evan Miller's sum, for an integer `α_B`:
//! `P(p_B > p_A) = Σ_{i=0}^{α_B−1} B(α_A+i, β_A+β_B) / ((β_B+i) B(1+i, β_B) B(α_A, β_A))`.
//! Its terms obey `t_{i+1} = t_i · (α_A+i)(β_B+i) / ((α_A+β_A+β_B+i)(1+i))`
//! from `t_0 = B(α_A, β_A+β_B) / B(α_A, β_A)`, so only `t_0` needs `ln_beta`;
//! the running sum is rescaled so neither it nor a term under- or overflows.
//! By symmetry the sum can run over whichever of `α_B`, `α_A`, `β_A`, `β_B`
//! is an integer and smallest (the last three through `1 − P(p_A > p_B)`
//! and `p_B > p_A ⟺ 1 − p_A > 1 − p_B`). When none is an integer of at most
//! [`MAX_TERMS`], the probability is integrated numerically instead:
//! `∫ f_A(x) · (1 − F_B(x)) dx` by 16-point Gauss–Legendre on 256 panels
//! over the narrower density's mean ± 40 sd, good to about 1e-9.

use super::quadrature::gauss_legendre;
use crate::BetaPosterior;
use statrs::distribution::{Beta, Continuous, ContinuousCDF};
use statrs::function::beta::ln_beta;

/// The most terms the exact sum may take (0.3 ms or so) before integrating.
const MAX_TERMS: f64 = 100_000.0;

/// `P(p_candidate > p_baseline)` for the continuous Beta posteriors: Evan
/// Miller's exact sum where a shape is an integer of at most 100,000
/// (always, for integer counts under uniform and integer Beta priors with
/// fewer than ~10^5 observations), numerical integration otherwise (as for
/// decayed, fractional evidence, whose shapes are fractional). `None` for
/// shapes that are not finite and positive.
#[must_use]
pub fn closed_form_prob_beats(baseline: BetaPosterior, candidate: BetaPosterior) -> Option<f64> {
    let (aa, ba) = (baseline.alpha(), baseline.beta());
    let (ab, bb) = (candidate.alpha(), candidate.beta());
    if ![aa, ba, ab, bb].iter().all(|s| s.is_finite() && *s > 0.0) {
        return None;
    }
    // (terms, P(p_B > p_A) from the sum) for each of the four forms.
    let forms: [(f64, &dyn Fn() -> f64); 4] = [
        (ab, &|| miller_sum(aa, ba, ab, bb)),
        (aa, &|| 1.0 - miller_sum(ab, bb, aa, ba)),
        (ba, &|| miller_sum(bb, ab, ba, aa)),
        (bb, &|| 1.0 - miller_sum(ba, aa, bb, ab)),
    ];
    let exact = forms
        .iter()
        .filter(|(terms, _)| terms.fract() == 0.0 && *terms <= MAX_TERMS)
        .min_by(|x, y| x.0.total_cmp(&y.0));
    match exact {
        Some((_, sum)) => Some(sum().clamp(0.0, 1.0)),
        None => integrate(baseline, candidate),
    }
}

/// Evan Miller's `P(p_B > p_A)`, summing `α_B` terms (an integer).
fn miller_sum(alpha_a: f64, beta_a: f64, alpha_b: f64, beta_b: f64) -> f64 {
    const RESCALE_ABOVE: f64 = 1e200;
    // Terms are `term · e^offset`; so is the sum.
    let mut offset = ln_beta(alpha_a, beta_a + beta_b) - ln_beta(alpha_a, beta_a);
    let (mut term, mut sum) = (1.0, 0.0);
    let terms = alpha_b as u64;
    for i in 0..terms {
        sum += term;
        if sum > RESCALE_ABOVE {
            offset += sum.ln();
            term /= sum;
            sum = 1.0;
        }
        let i = i as f64;
        term *= (alpha_a + i) * (beta_b + i) / ((alpha_a + beta_a + beta_b + i) * (1.0 + i));
    }
    sum * offset.exp()
}

/// `P(p_B > p_A)` by quadrature over the narrower posterior's density:
/// `∫ f_A (1 − F_B)` or, equivalently, `∫ f_B F_A`.
fn integrate(baseline: BetaPosterior, candidate: BetaPosterior) -> Option<f64> {
    let a = Beta::new(baseline.alpha(), baseline.beta()).ok()?;
    let b = Beta::new(candidate.alpha(), candidate.beta()).ok()?;
    let (narrow, integrand): (BetaPosterior, Box<dyn Fn(f64) -> f64>) =
        if baseline.sd() <= candidate.sd() {
            (baseline, Box::new(move |x| a.pdf(x) * b.sf(x)))
        } else {
            (candidate, Box::new(move |x| b.pdf(x) * a.cdf(x)))
        };
    let lo = (narrow.mean() - 40.0 * narrow.sd()).max(0.0);
    let hi = (narrow.mean() + 40.0 * narrow.sd()).min(1.0);
    Some(integrate_panels(&*integrand, lo, hi).clamp(0.0, 1.0))
}

/// `∫_lo^hi f` by 16-point Gauss–Legendre on 256 equal panels.
fn integrate_panels(f: &dyn Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    const PANELS: usize = 256;
    let rule = gauss_legendre(16);
    let width = (hi - lo) / PANELS as f64;
    let mut total = 0.0;
    for panel in 0..PANELS {
        let start = lo + width * panel as f64;
        for (t, weight) in &rule {
            total += weight * f(start + width * t);
        }
    }
    total * width
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counts, Prior};

    fn beta(alpha: f64, beta: f64) -> BetaPosterior {
        BetaPosterior::new(Prior::Beta { alpha, beta }, Counts::ZERO).unwrap()
    }

    #[test]
    fn known_values_of_small_shapes() {
        // Uniform vs density 2x: E[p_B] = 2/3; 2x vs 2(1 − x): 1/6.
        let cases = [
            ((1.0, 1.0), (2.0, 1.0), 2.0 / 3.0),
            ((2.0, 1.0), (1.0, 2.0), 1.0 / 6.0),
            ((1.0, 1.0), (1.0, 1.0), 0.5),
        ];
        for ((aa, ba), (ab, bb), expected) in cases {
            let (a, b) = (beta(aa, ba), beta(ab, bb));
            let sum = closed_form_prob_beats(a, b).unwrap();
            assert!((sum - expected).abs() < 1e-14, "{sum} vs {expected}");
            assert!((integrate(a, b).unwrap() - expected).abs() < 1e-9);
        }
    }

    #[test]
    fn all_four_forms_of_the_sum_agree() {
        let (aa, ba, ab, bb) = (31.0, 71.0, 41.0, 61.0);
        let direct = miller_sum(aa, ba, ab, bb);
        assert!((direct - (1.0 - miller_sum(ab, bb, aa, ba))).abs() < 1e-12);
        assert!((direct - miller_sum(bb, ab, ba, aa)).abs() < 1e-12);
        assert!((direct - (1.0 - miller_sum(ba, aa, bb, ab))).abs() < 1e-12);
        assert!((direct - integrate(beta(aa, ba), beta(ab, bb)).unwrap()).abs() < 1e-9);
    }

    #[test]
    fn large_shapes_neither_overflow_nor_underflow() {
        // 10^5 trials at 10% and 10.2%: sd of the difference 1.35e-3, so the
        // lift of 0.002 is 1.484 sd: P ≈ Φ(1.484) ≈ 0.931. The sum runs over
        // 10,001 terms from t_0 ≈ 2^-10000, far below f64, so it must rescale.
        let (a, b) = (beta(10_001.0, 90_001.0), beta(10_201.0, 89_801.0));
        let exact = closed_form_prob_beats(a, b).unwrap();
        let numeric = integrate(a, b).unwrap();
        assert!((exact - numeric).abs() < 1e-9, "{exact} vs {numeric}");
        assert!((exact - 0.931).abs() < 3e-3, "{exact}");
    }

    #[test]
    fn non_integer_shapes_are_integrated_and_bad_shapes_refused() {
        let p = closed_form_prob_beats(beta(2.5, 3.5), beta(3.5, 2.5)).unwrap();
        let q = closed_form_prob_beats(beta(3.5, 2.5), beta(2.5, 3.5)).unwrap();
        assert!((p + q - 1.0).abs() < 1e-9 && p > 0.5, "{p} {q}");
        assert_eq!(
            closed_form_prob_beats(beta(1.0, 1.0), beta(f64::NAN, 1.0)),
            None
        );
    }
}
