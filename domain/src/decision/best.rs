//! Which model is best: `p_best` and the expected loss of choosing each
//! model, both exact, from one sweep over the merged support.
//!
//! With `f_j`, `F_j` the pmf and CDF of model `j`, at a support value `x`
//! the probability that model `k` takes `x`, no model exceeds it and `m`
//! others tie with it is `f_k(x)` times the coefficient of `t^m` in
//! `Π_{j≠k} (F_j(x⁻) + t·f_j(x))`. Splitting a tie of `m + 1` models evenly
//! weighs that coefficient by `1 / (m + 1) = ∫₀¹ t^m dt`, so the share of
//! `k` at `x` is `f_k(x) · ∫₀¹ Π_{j≠k} (F_j(x⁻) + t·f_j(x)) dt`.
//!
//! Models without mass at `x` contribute the constant `F_j(x⁻)`. For the
//! `g` models with mass there the integrand is a polynomial of degree
//! `g − 1 < K`, which Gauss–Legendre with `⌈K/2⌉` nodes integrates exactly;
//! at each node, prefix and suffix products give every "all but `k`" product
//! in O(g), so a value costs O(K + g·K) and the sweep O(S·K²) at worst. All
//! terms and weights are positive: nothing cancels.
//!
//! The shares at `x` add up to `P(max = x)`, which gives `E[max]` without
//! the cancellation of `Π F_j(x) − Π F_j(x⁻)`. The integrand at `t = 0` is
//! the probability that `k` is the largest alone, so the same sweep gives
//! how likely the largest value is shared ([`Ranking::p_tie`]).

use super::quadrature::gauss_legendre;
use super::support::{Atom, sweep};
use crate::Posterior;

/// `p_best` and expected loss of each model, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// `E[1{k ∈ argmax} / |argmax|]`: the probability that model `k` is the
    /// best, ties split evenly; sums to 1.
    pub p_best: Vec<f64>,
    /// `E[max_j p_j − p_k]`: what choosing model `k` is expected to cost
    /// against the best, on the proportion scale; 0 or more.
    pub expected_loss: Vec<f64>,
    /// `P(|argmax| ≥ 2)`: the probability that two or more models share the
    /// largest value on their grids, where `p_best` is split evenly — a
    /// coin flip, not evidence. 0 for fewer than two posteriors.
    pub p_tie: f64,
}

/// `p_best` and expected loss of each posterior, exactly. Empty for no
/// posteriors; `[1]` and `[0]` for one.
#[must_use]
pub fn rank(posteriors: &[Posterior]) -> Ranking {
    rank_refs(&posteriors.iter().collect::<Vec<_>>())
}

/// The probability that each posterior is the largest, ties split evenly.
#[must_use]
pub fn p_best(posteriors: &[Posterior]) -> Vec<f64> {
    rank(posteriors).p_best
}

/// `E[max_j p_j − p_k]` for each posterior `k`.
#[must_use]
pub fn expected_loss(posteriors: &[Posterior]) -> Vec<f64> {
    rank(posteriors).expected_loss
}

/// `P(p_candidate > p_baseline)` with ties counted half, so that
/// `prob_beats(a, b) + prob_beats(b, a) = 1`.
#[must_use]
pub fn prob_beats(baseline: &Posterior, candidate: &Posterior) -> f64 {
    rank_refs(&[baseline, candidate]).p_best[1]
}

/// [`rank`] on borrowed posteriors.
pub(super) fn rank_refs(posteriors: &[&Posterior]) -> Ranking {
    let rule = gauss_legendre(posteriors.len().div_ceil(2));
    let mut below = vec![0.0; posteriors.len()];
    let mut p_best = vec![0.0; posteriors.len()];
    let mut expected_max = 0.0;
    let mut alone = 0.0;
    let mut scratch = TieScratch::default();
    sweep(posteriors, |x, atoms| {
        let outside = product_outside(&below, atoms);
        if outside > 0.0 {
            let shares = tie_integrals(&below, atoms, &rule, &mut scratch);
            for (atom, tie) in atoms.iter().zip(shares) {
                let share = atom.mass * outside * tie;
                p_best[atom.model] += share;
                expected_max += x * share;
            }
            alone += outside * largest_alone(&below, atoms);
        }
        for atom in atoms {
            below[atom.model] += atom.mass;
        }
    });
    let expected_loss = posteriors
        .iter()
        // Exact up to rounding, which may leave -1e-17 where the loss is 0.
        .map(|posterior| (expected_max - posterior.mean()).max(0.0))
        .collect();
    let total: f64 = p_best.iter().sum();
    Ranking {
        p_best,
        expected_loss,
        // P(max shared) = Σ_x P(max = x) − P(one model alone at x); clamped,
        // as rounding may leave -1e-16 where nothing ties.
        p_tie: if posteriors.len() < 2 {
            0.0
        } else {
            (total - alone).max(0.0)
        },
    }
}

/// `Σ_k f_k(x) Π_{j ∈ atoms, j ≠ k} F_j(x⁻)`: the probability, over the
/// models with mass at `x`, that exactly one of them takes `x` and the
/// others are below it (times the models without mass there, by the caller).
fn largest_alone(below: &[f64], atoms: &[Atom]) -> f64 {
    let mut prefix = 1.0;
    let mut sum = 0.0;
    for (k, atom) in atoms.iter().enumerate() {
        let suffix: f64 = atoms[k + 1..].iter().map(|a| below[a.model]).product();
        sum += atom.mass * prefix * suffix;
        prefix *= below[atom.model];
    }
    sum
}

/// `Π F_j(x⁻)` over the models without mass at `x`; `atoms` is sorted by
/// model, so one pointer walks it alongside.
fn product_outside(below: &[f64], atoms: &[Atom]) -> f64 {
    let mut next = atoms.iter().peekable();
    let mut product = 1.0;
    for (model, cdf) in below.iter().enumerate() {
        if next.next_if(|atom| atom.model == model).is_none() {
            product *= cdf;
        }
    }
    product
}

/// Buffers reused from one support value to the next.
#[derive(Default)]
struct TieScratch {
    prefix: Vec<f64>,
    integrals: Vec<f64>,
}

/// For each atom `k`, `∫₀¹ Π_{j ∈ atoms, j ≠ k} (F_j(x⁻) + t·f_j(x)) dt`,
/// by the Gauss–Legendre `rule`, exact for the integrand's degree as long
/// as the rule has at least `atoms.len() / 2` nodes.
fn tie_integrals<'s>(
    below: &[f64],
    atoms: &[Atom],
    rule: &[(f64, f64)],
    scratch: &'s mut TieScratch,
) -> &'s [f64] {
    let TieScratch { prefix, integrals } = scratch;
    integrals.clear();
    if atoms.len() == 1 {
        integrals.push(1.0);
        return integrals;
    }
    integrals.resize(atoms.len(), 0.0);
    for (t, weight) in rule {
        let factor = |atom: &Atom| below[atom.model] + t * atom.mass;
        prefix.clear();
        prefix.push(1.0);
        for atom in atoms {
            prefix.push(prefix[prefix.len() - 1] * factor(atom));
        }
        let mut suffix = 1.0;
        for (k, atom) in atoms.iter().enumerate().rev() {
            integrals[k] += weight * prefix[k] * suffix;
            suffix *= factor(atom);
        }
    }
    integrals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::posterior;

    #[test]
    fn two_identical_models_split_evenly() {
        let a = posterior(120, "step:0.1", 6, 9);
        let ranking = rank(&[a.clone(), a]);
        assert!((ranking.p_best[0] - 0.5).abs() < 1e-14, "{ranking:?}");
        assert!((ranking.p_best[1] - 0.5).abs() < 1e-14, "{ranking:?}");
        assert_eq!(ranking.expected_loss[0], ranking.expected_loss[1]);
        assert!(ranking.expected_loss[0] > 0.0);
    }

    #[test]
    fn a_three_way_tie_at_one_point_is_split_in_three() {
        // All mass at p = 1 on three different grids.
        let sure = |points| posterior(points, "step:0.999999", 1, 1);
        let ranking = rank(&[sure(2), sure(3), sure(7)]);
        for p in &ranking.p_best {
            assert!((p - 1.0 / 3.0).abs() < 1e-15, "{ranking:?}");
        }
        assert!(ranking.expected_loss.iter().all(|l| *l < 1e-15));
        assert!((ranking.p_tie - 1.0).abs() < 1e-15, "{ranking:?}");
    }

    #[test]
    fn the_tie_probability_is_the_chance_the_largest_value_is_shared() {
        // Both uniform on {0, 0.5, 1}: the max is shared when both take it.
        let flat = posterior(3, "uniform", 0, 0);
        let ranking = rank(&[flat.clone(), flat]);
        assert!((ranking.p_tie - 3.0 / 9.0).abs() < 1e-15, "{ranking:?}");
        // Apart on a fine grid: no ties to speak of.
        let low = posterior(10_001, "uniform", 100, 5_000);
        let high = posterior(10_001, "uniform", 150, 5_000);
        assert!(rank(&[low, high]).p_tie < 1e-3);
        assert_eq!(rank(&[posterior(11, "uniform", 1, 2)]).p_tie, 0.0);
    }

    #[test]
    fn the_tie_integral_weighs_each_tie_pattern() {
        // Two others, each with F = 0.25 and f = 0.5: patterns
        // 0.0625 (no tie), 0.25 (one tie, halved), 0.25 (two, a third).
        let atoms = [0, 1, 2].map(|model| Atom { model, mass: 0.5 });
        let rule = gauss_legendre(2);
        let mut scratch = TieScratch::default();
        let integrals = tie_integrals(&[0.25; 3], &atoms, &rule, &mut scratch);
        for integral in integrals {
            assert!((integral - (0.0625 + 0.25 / 2.0 + 0.25 / 3.0)).abs() < 1e-15);
        }
    }

    #[test]
    fn a_model_beating_another_surely_has_p_best_one_and_no_loss() {
        let low = posterior(11, "uniform", 0, 1000);
        let high = posterior(11, "uniform", 1000, 1000);
        let ranking = rank(&[low, high]);
        assert!((ranking.p_best[1] - 1.0).abs() < 1e-12);
        assert!(ranking.expected_loss[1] < 1e-12);
        assert!((ranking.expected_loss[0] - 1.0).abs() < 1e-9);
    }
}
