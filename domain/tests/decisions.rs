//! Decisions between models against brute-force enumeration of every joint
//! grid point (exact rationals, no shared code).

mod common;

use common::posterior;
use domain::{
    Counts, Grid, LiftDistribution, MAX_MODELS, Posterior, Prior, p_best, prob_beats, rank,
};
use proptest::prelude::*;

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} differs from {expected} by more than {tolerance}"
    );
}

/// `last_of(p)`: the denominator `G - 1` of the posterior's grid points.
fn last_of(posterior: &Posterior) -> i128 {
    posterior.grid().points() as i128 - 1
}

/// Brute force over every joint grid point: (p_best, expected loss, the
/// probability of a tie for the maximum). Points compared as rationals.
fn brute_rank(posteriors: &[Posterior]) -> (Vec<f64>, Vec<f64>, f64) {
    let k = posteriors.len();
    let (mut best, mut loss, mut tie) = (vec![0.0; k], vec![0.0; k], 0.0);
    let mut index = vec![0_usize; k];
    loop {
        let mass: f64 = (0..k)
            .map(|j| posteriors[j].probabilities()[index[j]])
            .product();
        // The maximum as a rational, then who attains it.
        let value = |j: usize| (index[j] as i128, last_of(&posteriors[j]));
        let greater = |x: (i128, i128), y: (i128, i128)| x.0 * y.1 > y.0 * x.1;
        let max = (1..k).fold(
            value(0),
            |m, j| if greater(value(j), m) { value(j) } else { m },
        );
        let argmax: Vec<usize> = (0..k)
            .filter(|j| value(*j).0 * max.1 == max.0 * value(*j).1)
            .collect();
        for j in &argmax {
            best[*j] += mass / argmax.len() as f64;
        }
        if argmax.len() > 1 {
            tie += mass;
        }
        let max_value = max.0 as f64 / max.1 as f64;
        for j in 0..k {
            loss[j] += mass * (max_value - posteriors[j].grid().p(index[j]));
        }
        // Next joint index, odometer style.
        let mut j = 0;
        while j < k {
            index[j] += 1;
            if index[j] < posteriors[j].probabilities().len() {
                break;
            }
            index[j] = 0;
            j += 1;
        }
        if j == k {
            return (best, loss, tie);
        }
    }
}

/// Every atom of `p_b - p_a` as (numerator over `a·b`, mass), sorted and merged.
fn brute_lift(a: &Posterior, b: &Posterior) -> Vec<(i128, f64)> {
    let (la, lb) = (last_of(a), last_of(b));
    let mut atoms = Vec::new();
    for (i, ma) in a.probabilities().iter().enumerate() {
        for (j, mb) in b.probabilities().iter().enumerate() {
            atoms.push((j as i128 * la - i as i128 * lb, ma * mb));
        }
    }
    atoms.sort_by_key(|atom| atom.0);
    let mut merged: Vec<(i128, f64)> = Vec::new();
    for (n, m) in atoms {
        match merged.last_mut() {
            Some(last) if last.0 == n => last.1 += m,
            _ => merged.push((n, m)),
        }
    }
    merged
}

/// The first atom whose cumulative mass reaches `u - 1e-12`.
fn brute_quantile(atoms: &[(i128, f64)], denominator: i128, u: f64) -> f64 {
    let mut cumulative = 0.0;
    for (n, m) in atoms {
        cumulative += m;
        if cumulative >= u - 1e-12 {
            return *n as f64 / denominator as f64;
        }
    }
    1.0
}

/// Uniform, step:0.1 and beta:2,5 on 5, 9 and 11 points: 0, 0.25, 0.5, 0.75
/// and 1 are shared by two or three grids, and step:0.1 leaves 0 and 0.1 empty.
fn three_models() -> Vec<Posterior> {
    vec![
        posterior(5, "uniform", 2, 4),
        posterior(9, "step:0.1", 3, 5),
        posterior(11, "beta:2,5", 2, 4),
    ]
}

#[test]
fn p_best_and_expected_loss_match_brute_force_across_grids_with_ties() {
    let models = three_models();
    let (best, loss, tie) = brute_rank(&models);
    assert!(tie > 0.05, "the case must exercise ties: {tie}");
    let ranking = rank(&models);
    for k in 0..3 {
        close(ranking.p_best[k], best[k], 1e-12);
        close(ranking.expected_loss[k], loss[k], 1e-12);
    }
    close(ranking.p_best.iter().sum(), 1.0, 1e-12);
}

#[test]
fn seven_way_ties_on_coarse_grids_match_brute_force() {
    // No model has seen a loss, so all seven have mass at p = 1, a point of
    // every grid: seven-way ties, the largest polynomials. 0.5 lies on all
    // grids but the 2-point one.
    let models = [
        posterior(2, "uniform", 0, 0),
        posterior(3, "uniform", 1, 1),
        posterior(3, "beta:1.5,1", 0, 0),
        posterior(5, "step:0.1", 2, 2),
        posterior(5, "uniform", 0, 0),
        posterior(9, "beta:1.5,1", 1, 1),
        posterior(3, "uniform", 2, 2),
    ];
    let (best, loss, tie) = brute_rank(&models);
    assert!(tie > 0.3, "{tie}");
    let ranking = rank(&models);
    for k in 0..models.len() {
        close(ranking.p_best[k], best[k], 1e-12);
        close(ranking.expected_loss[k], loss[k], 1e-12);
    }
}

#[test]
fn reordering_the_models_reorders_the_answers() {
    let models = three_models();
    let reordered = vec![models[2].clone(), models[0].clone(), models[1].clone()];
    let (original, shuffled) = (p_best(&models), p_best(&reordered));
    for (k, from) in [(0, 2), (1, 0), (2, 1)] {
        close(shuffled[k], original[from], 1e-14);
    }
}

#[test]
fn pairwise_probability_and_lift_quantiles_match_brute_force() {
    let models = three_models();
    let extra = [
        posterior(11, "uniform", 6, 9),
        posterior(21, "step:0.3", 7, 9),
    ];
    let pairs = [
        (&models[0], &models[1]),
        (&models[1], &models[2]),
        (&models[2], &models[0]),
        (&models[2], &extra[0]),
        (&extra[0], &extra[1]),
        (&models[0], &models[0]),
    ];
    for (a, b) in pairs {
        let atoms = brute_lift(a, b);
        let above: f64 = atoms.iter().filter(|x| x.0 > 0).map(|x| x.1).sum();
        let level: f64 = atoms.iter().filter(|x| x.0 == 0).map(|x| x.1).sum();
        close(prob_beats(a, b), above + level / 2.0, 1e-12);
        close(prob_beats(a, b) + prob_beats(b, a), 1.0, 1e-12);
        let lift = LiftDistribution::new(a, b);
        let denominator = last_of(a) * last_of(b);
        for u in (1..40).map(|k| f64::from(k) / 40.0).chain([0.055, 0.945]) {
            close(
                lift.quantile(u),
                brute_quantile(&atoms, denominator, u),
                1e-15,
            );
        }
        let mean: f64 = atoms
            .iter()
            .map(|(n, m)| *n as f64 / denominator as f64 * m)
            .sum();
        close(lift.mean(), mean, 1e-12);
        let interval = lift.interval(0.89).unwrap();
        close(interval.lo, brute_quantile(&atoms, denominator, 0.055), 0.0);
        close(interval.hi, brute_quantile(&atoms, denominator, 0.945), 0.0);
    }
}

#[test]
fn p_best_sums_to_one_among_the_most_models_on_mixed_grids() {
    let models: Vec<Posterior> = (0..MAX_MODELS)
        .map(|k| {
            posterior(
                100 + 50 * k,
                ["uniform", "step:0.1"][k % 2],
                30 + k as u64,
                100,
            )
        })
        .collect();
    let ranking = rank(&models);
    close(ranking.p_best.iter().sum(), 1.0, 1e-12);
    assert!(ranking.expected_loss.iter().all(|l| *l >= 0.0));
}

#[test]
fn two_identical_models_are_each_best_half_the_time() {
    let a = posterior(1_000, "beta:2,5", 40, 300);
    let best = p_best(&[a.clone(), a.clone()]);
    close(best[0], 0.5, 1e-13);
    close(best[1], 0.5, 1e-13);
    close(prob_beats(&a, &a), 0.5, 1e-13);
}

fn prior_spec() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("uniform"),
        Just("step:0.1"),
        Just("step:0.5"),
        Just("beta:2,5"),
        Just("beta:1.5,1"),
    ]
}

fn tiny_model() -> impl Strategy<Value = (usize, &'static str, u64, u64)> {
    (2..9_usize, prior_spec(), 0..12_u64, 0..12_u64)
        .prop_map(|(points, prior, a, b)| (points, prior, a.min(b), a.max(b)))
}

proptest! {
    #[test]
    fn p_best_sums_to_one_and_matches_brute_force_on_tiny_grids(
        specs in proptest::collection::vec(tiny_model(), 2..5),
    ) {
        let models: Vec<Posterior> = specs
            .iter()
            .filter_map(|(points, prior, w, n)| {
                let counts = Counts::new(*w, *n).unwrap();
                Posterior::new(Grid::new(*points).unwrap(), Prior::parse(prior).unwrap(), counts).ok()
            })
            .collect();
        prop_assume!(models.len() >= 2);
        let ranking = rank(&models);
        let (best, loss, _) = brute_rank(&models);
        prop_assert!((ranking.p_best.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for k in 0..models.len() {
            prop_assert!((ranking.p_best[k] - best[k]).abs() < 1e-12, "{:?} vs {:?}", ranking, best);
            prop_assert!((ranking.expected_loss[k] - loss[k]).abs() < 1e-12);
        }
    }
}
