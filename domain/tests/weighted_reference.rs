//! Fractional (decayed) evidence against references computed here, with no
//! shared code: the grid posterior as prior × `p^w (1 − p)^(n − w)` by
//! `powf`, the continuous Beta mean, and `P(best)` and the expected loss by
//! brute force on the grids and by numerical integration.

mod common;

use common::{evidence, weighted};
use domain::{
    BetaPosterior, Prior, Thompson, closed_form_prob_beats, expected_loss, p_best, prob_beats,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The prior density at `p`, up to a constant, written out again.
fn density(prior: &str, p: f64) -> f64 {
    match prior {
        "uniform" => 1.0,
        "step:0.1" => f64::from(u8::from(p > 0.1)),
        "beta:2,3" => p * (1.0 - p).powi(2),
        "beta:1.5,2.5" => p.powf(0.5) * (1.0 - p).powf(1.5),
        _ => unreachable!("{prior}"),
    }
}

/// prior × `p^w (1 − p)^(n − w)` on `points` grid points, normalised.
fn reference(points: usize, prior: &str, w: f64, n: f64) -> Vec<f64> {
    let unnormalised: Vec<f64> = (0..points)
        .map(|i| {
            let p = i as f64 / (points - 1) as f64;
            density(prior, p) * p.powf(w) * (1.0 - p).powf(n - w)
        })
        .collect();
    let total: f64 = unnormalised.iter().sum();
    unnormalised.iter().map(|x| x / total).collect()
}

#[test]
fn a_fractional_grid_posterior_is_prior_times_the_weighted_likelihood() {
    let cases = [
        (2.5, 7.25),
        (0.3, 0.7),
        (0.0, 1.5),
        (3.75, 3.75),
        (11.125, 40.5),
    ];
    for prior in ["uniform", "step:0.1", "beta:2,3", "beta:1.5,2.5"] {
        for points in [3, 11, 21, 101] {
            for (w, n) in cases {
                let post = weighted(points, prior, evidence(w, n));
                let expected = reference(points, prior, w, n);
                for (i, (got, want)) in post.probabilities().iter().zip(&expected).enumerate() {
                    assert!(
                        (got - want).abs() < 1e-12,
                        "{prior} {points} ({w}, {n}) point {i}: {got} vs {want}"
                    );
                }
                assert_eq!(post.evidence(), evidence(w, n));
            }
        }
    }
}

#[test]
fn the_fractional_grid_mean_converges_to_the_beta_mean() {
    for (w, n) in [(12.5, 40.25), (0.5, 1.0), (1_234.567, 10_000.125)] {
        let post = weighted(10_001, "uniform", evidence(w, n));
        let exact = (1.0 + w) / (2.0 + n);
        assert!(
            (post.mean() - exact).abs() < 1e-6,
            "({w}, {n}): {} vs {exact}",
            post.mean()
        );
        let beta = BetaPosterior::new(Prior::Uniform, evidence(w, n)).unwrap();
        assert_eq!((beta.alpha(), beta.beta()), (1.0 + w, 1.0 + n - w));
        assert!((beta.mean() - exact).abs() < 1e-15);
        let summary = domain::ModelSummary::of(&post).unwrap();
        let closed = summary.closed_form.unwrap();
        assert_eq!((summary.w, summary.n, closed.alpha), (w, n, 1.0 + w));
        assert!((summary.mean - closed.mean).abs() < 1e-6);
    }
}

/// `P(A wins)` with ties split and `E[max − p_A]`, by brute force over the
/// joint grid of two independently computed reference posteriors.
fn brute_force(a: &[f64], b: &[f64]) -> ([f64; 2], [f64; 2]) {
    let p = |i: usize, len: usize| i as f64 / (len - 1) as f64;
    let (mut best, mut loss) = ([0.0; 2], [0.0; 2]);
    for (i, ma) in a.iter().enumerate() {
        for (j, mb) in b.iter().enumerate() {
            let (pa, pb, joint) = (p(i, a.len()), p(j, b.len()), ma * mb);
            if pa > pb {
                best[0] += joint;
            } else if pb > pa {
                best[1] += joint;
            } else {
                best[0] += joint / 2.0;
                best[1] += joint / 2.0;
            }
            loss[0] += joint * (pa.max(pb) - pa);
            loss[1] += joint * (pa.max(pb) - pb);
        }
    }
    (best, loss)
}

#[test]
fn p_best_of_fractional_posteriors_is_the_brute_force_sum_on_the_grids() {
    let (ea, eb) = ((3.5, 20.25), (6.75, 22.5));
    for (points_a, points_b, prior) in [
        (101, 101, "uniform"),
        (41, 61, "beta:2,3"),
        (11, 21, "step:0.1"),
    ] {
        let models = [
            weighted(points_a, prior, evidence(ea.0, ea.1)),
            weighted(points_b, prior, evidence(eb.0, eb.1)),
        ];
        let a = reference(points_a, prior, ea.0, ea.1);
        let b = reference(points_b, prior, eb.0, eb.1);
        let (best, loss) = brute_force(&a, &b);
        let (got_best, got_loss) = (p_best(&models), expected_loss(&models));
        for k in 0..2 {
            assert!(
                (got_best[k] - best[k]).abs() < 1e-12,
                "{prior} {got_best:?} vs {best:?}"
            );
            assert!(
                (got_loss[k] - loss[k]).abs() < 1e-12,
                "{prior} {got_loss:?} vs {loss:?}"
            );
        }
    }
}

/// `P(p_B > p_A)` for the continuous Beta(1 + w, 1 + n − w) posteriors by the
/// midpoint rule on `cells` cells: `Σ f_B(x) F_A(x)`, `F_A` at the midpoint
/// taking half its own cell.
fn integrated(a: (f64, f64), b: (f64, f64), cells: usize) -> f64 {
    let h = 1.0 / cells as f64;
    let mids: Vec<f64> = (0..cells).map(|i| (i as f64 + 0.5) * h).collect();
    let masses = |(w, n): (f64, f64)| {
        let ln: Vec<f64> = mids
            .iter()
            .map(|x| w * x.ln() + (n - w) * (1.0 - x).ln())
            .collect();
        let max = ln.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let raw: Vec<f64> = ln.iter().map(|l| (l - max).exp()).collect();
        let total: f64 = raw.iter().sum();
        raw.into_iter().map(|x| x / total).collect::<Vec<_>>()
    };
    let (fa, fb) = (masses(a), masses(b));
    let (mut below, mut total) = (0.0, 0.0);
    for (ma, mb) in fa.iter().zip(&fb) {
        total += mb * (below + ma / 2.0);
        below += ma;
    }
    total
}

#[test]
fn p_best_of_fractional_posteriors_matches_numerical_integration() {
    for (a, b) in [((30.5, 300.25), (42.75, 310.5)), ((2.5, 7.0), (1.25, 9.75))] {
        let reference = integrated(a, b, 200_000);
        let models = [
            weighted(10_001, "uniform", evidence(a.0, a.1)),
            weighted(10_001, "uniform", evidence(b.0, b.1)),
        ];
        let grid = p_best(&models)[1];
        assert!(
            (grid - reference).abs() < 1e-5,
            "grid {grid} vs {reference}"
        );
        assert!((prob_beats(&models[0], &models[1]) - grid).abs() < 1e-12);
        let beta = |(w, n)| BetaPosterior::new(Prior::Uniform, evidence(w, n)).unwrap();
        let closed = closed_form_prob_beats(beta(a), beta(b)).unwrap();
        assert!(
            (closed - reference).abs() < 1e-7,
            "closed form {closed} vs {reference}"
        );
        // Thompson chooses each model with its p_best: 4 standard errors.
        let thompson = Thompson::new(&models, 0.0).unwrap();
        let mut rng = StdRng::seed_from_u64(3);
        let draws = 40_000;
        let second = (0..draws)
            .filter(|_| thompson.choose(&mut rng) == 1)
            .count();
        let se = (grid * (1.0 - grid) / draws as f64).sqrt();
        assert!(
            (second as f64 / draws as f64 - grid).abs() < 4.0 * se + 1e-9,
            "{second}"
        );
    }
}
