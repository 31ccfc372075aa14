//! Decisions between models against independent references: Evan Miller's
//! closed form (checked against mpmath) and the grid, Thompson sampling's
//! frequencies against the exact `p_best`, and whole comparisons.

mod common;

use common::posterior;
use domain::{
    BetaPosterior, Counts, DEFAULT_THRESHOLD, DecisionError, Grid, MAX_MODELS, ModelDefinition,
    Posterior, Prior, Thompson, closed_form_prob_beats, compare, p_best, prob_beats, rank,
    thompson_choice,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Uniform, step:0.1 and beta:2,5 on 5, 9 and 11 points: 0, 0.25, 0.5, 0.75
/// and 1 are shared by two or three grids, and step:0.1 leaves 0 and 0.1 empty.
fn three_models() -> Vec<Posterior> {
    vec![
        posterior(5, "uniform", 2, 4),
        posterior(9, "step:0.1", 3, 5),
        posterior(11, "beta:2,5", 2, 4),
    ]
}

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} differs from {expected} by more than {tolerance}"
    );
}

#[test]
fn evan_millers_closed_form_matches_an_independent_reference() {
    // Uniform priors, 100/1000 against 120/1000: Beta(101, 901) against
    // Beta(121, 881). mpmath (40 digits), integrating the densities:
    // 0.92318343897355975350778883982576.
    let a = BetaPosterior::new(Prior::Uniform, Counts::new(100, 1_000).unwrap()).unwrap();
    let b = BetaPosterior::new(Prior::Uniform, Counts::new(120, 1_000).unwrap()).unwrap();
    close(
        closed_form_prob_beats(a, b).unwrap(),
        0.923_183_438_973_559_8,
        1e-12,
    );
    // Shapes 2.5 and 3.5 have no exact sum, so this one is integrated;
    // mpmath: 0.73422169633806871920092008821569.
    let (c, d) = (
        BetaPosterior::new(Prior::parse("beta:2.5,3.5").unwrap(), Counts::ZERO).unwrap(),
        BetaPosterior::new(Prior::parse("beta:3.5,2.5").unwrap(), Counts::ZERO).unwrap(),
    );
    close(
        closed_form_prob_beats(c, d).unwrap(),
        0.734_221_696_338_068_7,
        1e-9,
    );
}

/// The grid's `P(B > A)` minus the closed form's, for 1,000 trials each.
fn discretisation_error(points: usize, wa: u64, wb: u64) -> f64 {
    let grid = Grid::new(points).unwrap();
    let counts = |w| Counts::new(w, 1_000).unwrap();
    let on_grid = |w| Posterior::new(grid, Prior::Uniform, counts(w)).unwrap();
    let exact = |w| BetaPosterior::new(Prior::Uniform, counts(w)).unwrap();
    prob_beats(&on_grid(wa), &on_grid(wb)) - closed_form_prob_beats(exact(wa), exact(wb)).unwrap()
}

#[test]
fn the_closed_form_and_a_2001_point_grid_agree_to_the_discretisation_error() {
    // Ties counted half make the grid's answer a trapezoid rule, so the
    // error is O(h²): 2.2e-5 at h = 5e-4 for 100 vs 120 wins (posterior sds
    // near 0.01), and a quarter of that at half the spacing.
    for (wa, wb) in [(100, 120), (500, 480)] {
        let error = discretisation_error(2_001, wa, wb);
        assert!(error.abs() < 5e-5, "{wa} vs {wb}: {error}");
        let ratio = error / discretisation_error(4_001, wa, wb);
        assert!((3.5..4.5).contains(&ratio), "{wa} vs {wb}: {ratio}");
    }
    // Equal counts: both answers are 1/2 up to rounding.
    assert!(discretisation_error(2_001, 100, 100).abs() < 1e-12);
}

#[test]
fn thompson_choices_are_as_frequent_as_p_best() {
    let models = three_models();
    let best = p_best(&models);
    let thompson = Thompson::new(&models, 0.0).unwrap();
    let mut rng = StdRng::seed_from_u64(20_240_601);
    let draws = 200_000;
    let mut chosen = [0_u32; 3];
    for _ in 0..draws {
        chosen[thompson.choose(&mut rng)] += 1;
    }
    for k in 0..3 {
        // Four standard errors of a binomial proportion.
        let tolerance = 4.0 * (best[k] * (1.0 - best[k]) / f64::from(draws)).sqrt();
        close(f64::from(chosen[k]) / f64::from(draws), best[k], tolerance);
    }
}

#[test]
fn the_thompson_floor_keeps_a_hopeless_model_in_play() {
    let models = [
        posterior(120, "uniform", 10, 1_000),
        posterior(120, "uniform", 500, 1_000),
        posterior(100, "step:0.1", 510, 1_000),
    ];
    let best = p_best(&models);
    assert!(best[0] < 1e-100);
    let floor = 0.05;
    let mut rng = StdRng::seed_from_u64(3);
    let draws = 200_000;
    let mut chosen = [0_u32; 3];
    for _ in 0..draws {
        chosen[thompson_choice(&models, &mut rng, floor).unwrap()] += 1;
    }
    for k in 0..3 {
        let expected = 3.0 * floor / 3.0 + (1.0 - 3.0 * floor) * best[k];
        let tolerance = 4.0 * (expected * (1.0 - expected) / f64::from(draws)).sqrt();
        close(f64::from(chosen[k]) / f64::from(draws), expected, tolerance);
    }
}

fn definition(points: usize, prior: &str) -> ModelDefinition {
    ModelDefinition {
        prior: Prior::parse(prior).unwrap(),
        grid: Grid::new(points).unwrap(),
    }
}

#[test]
fn a_comparison_reports_every_model_against_the_baseline() {
    let models = [
        (
            "control",
            definition(1_000, "uniform"),
            Counts::new(100, 1_000).unwrap(),
        ),
        (
            "b",
            definition(1_000, "uniform"),
            Counts::new(120, 1_000).unwrap(),
        ),
        (
            "c",
            definition(120, "step:0.1"),
            Counts::new(115, 1_000).unwrap(),
        ),
    ];
    let comparison = compare(&models, DEFAULT_THRESHOLD).unwrap();
    let posteriors: Vec<Posterior> = models
        .iter()
        .map(|(_, d, c)| Posterior::new(d.grid, d.prior, *c).unwrap())
        .collect();
    let ranking = rank(&posteriors);
    assert_eq!(comparison.models[0].name, "control");
    assert_eq!(comparison.models[0].against_baseline, None);
    for (k, model) in comparison.models.iter().enumerate() {
        assert_eq!(model.p_best, ranking.p_best[k]);
        assert_eq!(model.expected_loss, ranking.expected_loss[k]);
        assert_eq!(
            model.interval_89,
            posteriors[k].percentile_interval(0.89).unwrap()
        );
    }
    let b = comparison.models[1].against_baseline.unwrap();
    close(
        b.prob_beats_baseline,
        prob_beats(&posteriors[0], &posteriors[1]),
        0.0,
    );
    close(
        b.prob_beats_baseline_closed_form.unwrap(),
        0.923_183_438_973_56,
        1e-4,
    );
    assert!(b.lift_interval_89.contains(b.lift_mean) && b.lift_interval_89.lo < 0.0);
    let c = comparison.models[2].against_baseline.unwrap();
    assert_eq!(
        c.prob_beats_baseline_closed_form, None,
        "a step prior has no closed form"
    );
    assert_eq!(comparison.decision.least_loss, 1);
    assert_eq!(comparison.decision.winner, None, "still too close to call");
}

#[test]
fn a_clear_leader_wins_once_its_risk_is_below_the_threshold() {
    let models = [
        (
            "a",
            definition(120, "step:0.1"),
            Counts::new(1_000, 10_000).unwrap(),
        ),
        (
            "b",
            definition(1_001, "uniform"),
            Counts::new(1_500, 10_000).unwrap(),
        ),
    ];
    let comparison = compare(&models, DEFAULT_THRESHOLD).unwrap();
    assert_eq!(comparison.decision.winner, Some(1));
    assert!(comparison.decision.expected_loss < 1e-12);
    assert_eq!(compare(&models, 0.0).unwrap().decision.winner, Some(1));
}

#[test]
fn bad_requests_are_refused_with_the_reason() {
    let model = ("a", definition(11, "uniform"), Counts::ZERO);
    assert_eq!(
        compare(&[model], DEFAULT_THRESHOLD),
        Err(DecisionError::TooFewModels { given: 1, min: 2 })
    );
    assert_eq!(
        compare(&vec![model; MAX_MODELS + 1], DEFAULT_THRESHOLD),
        Err(DecisionError::TooManyModels { given: 21, max: 20 })
    );
    for threshold in [-0.001, f64::INFINITY] {
        assert_eq!(
            compare(&[model, model], threshold),
            Err(DecisionError::Threshold(threshold))
        );
    }
    assert!(matches!(
        compare(&[model, model], f64::NAN),
        Err(DecisionError::Threshold(_))
    ));
    // On {0, 1}, step:0.5 allows only p = 1, which one loss rules out.
    let empty = (
        "empty",
        definition(2, "step:0.5"),
        Counts::new(0, 1).unwrap(),
    );
    let message = compare(&[model, empty], DEFAULT_THRESHOLD)
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("model \"empty\": the prior step:0.5"),
        "{message}"
    );
    let posteriors = [
        posterior(11, "uniform", 1, 2),
        posterior(11, "uniform", 1, 2),
    ];
    let mut rng = StdRng::seed_from_u64(0);
    assert_eq!(
        thompson_choice(&posteriors, &mut rng, 0.6),
        Err(DecisionError::Floor {
            floor: 0.6,
            max: 0.5
        })
    );
}
