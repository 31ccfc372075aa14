//! Property tests of the posterior: order independence, incremental = batch,
//! normalisation, no NaN at extreme counts, agreement with the closed form.

use domain::{BetaPosterior, Counts, Grid, Observation, Posterior, Prior};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn observation() -> impl Strategy<Value = Observation> {
    prop_oneof![Just(Observation::Win), Just(Observation::Loss)]
}

fn prior() -> impl Strategy<Value = Prior> {
    prop_oneof![
        Just(Prior::Uniform),
        (0.0..0.99f64).prop_map(|threshold| Prior::Step { threshold }),
        (1.0..50.0f64, 1.0..50.0f64).prop_map(|(alpha, beta)| Prior::Beta { alpha, beta }),
    ]
}

fn conjugate_prior() -> impl Strategy<Value = Prior> {
    prop_oneof![
        Just(Prior::Uniform),
        (1.0..50.0f64, 1.0..50.0f64).prop_map(|(alpha, beta)| Prior::Beta { alpha, beta }),
    ]
}

fn fold(observations: &[Observation]) -> Counts {
    observations
        .iter()
        .try_fold(Counts::ZERO, |c, o| c.apply(*o))
        .unwrap()
}

proptest! {
    #[test]
    fn any_order_gives_the_same_posterior(
        observations in proptest::collection::vec(observation(), 0..300),
        seed in any::<u64>(),
        prior in prior(),
    ) {
        use rand::seq::SliceRandom;
        let mut shuffled = observations.clone();
        shuffled.shuffle(&mut StdRng::seed_from_u64(seed));
        let grid = Grid::default();
        prop_assert_eq!(
            Posterior::new(grid, prior, fold(&observations)).unwrap(),
            Posterior::new(grid, prior, fold(&shuffled)).unwrap()
        );
    }

    #[test]
    fn incremental_merging_equals_the_batch(
        batches in proptest::collection::vec(proptest::collection::vec(observation(), 0..50), 0..20),
    ) {
        let merged = batches.iter().map(|b| fold(b)).try_fold(Counts::ZERO, Counts::merge).unwrap();
        let all: Vec<Observation> = batches.concat();
        prop_assert_eq!(merged, fold(&all));
    }

    #[test]
    fn sums_to_one_without_nan_for_n_up_to_a_trillion(
        n in 0..=1_000_000_000_000u64,
        fraction in prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64],
        points in 2..2_000usize,
        prior in prior(),
    ) {
        let w = ((n as f64) * fraction).round() as u64;
        let counts = Counts::new(w.min(n), n).unwrap();
        let grid = Grid::new(points).unwrap();
        let Ok(posterior) = Posterior::new(grid, prior, counts) else {
            // Only a tiny grid can miss all of the prior's support times the data.
            let is_step = matches!(prior, Prior::Step { .. });
            prop_assert!(points == 2 || is_step, "no mass with {} on {} points", prior, points);
            return Ok(());
        };
        let total: f64 = posterior.probabilities().iter().sum();
        prop_assert!((total - 1.0).abs() < 1e-9, "total {}", total);
        prop_assert!(posterior.probabilities().iter().all(|m| m.is_finite() && *m >= 0.0));
        prop_assert!(posterior.mean().is_finite() && posterior.sd().is_finite());
        prop_assert!(posterior.hpdi(0.89).unwrap().contains(posterior.map()));
    }

    #[test]
    fn equals_the_normalised_beta_density_on_the_grid(
        n in 0..2_000u64,
        fraction in 0.0..=1.0f64,
        points in 3..500usize,
        prior in conjugate_prior(),
    ) {
        let counts = Counts::new(((n as f64) * fraction) as u64, n).unwrap();
        let grid = Grid::new(points).unwrap();
        let posterior = Posterior::new(grid, prior, counts).unwrap();
        let exact = BetaPosterior::new(prior, counts).unwrap();
        let ln_density: Vec<f64> = grid.iter().map(|p| exact.ln_pdf(p)).collect();
        let max = ln_density.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = ln_density.iter().map(|l| (l - max).exp()).sum();
        for (l, m) in ln_density.iter().zip(posterior.probabilities()) {
            let expected = (l - max).exp() / total;
            prop_assert!((expected - m).abs() < 1e-12, "{} vs {}", expected, m);
        }
    }

    #[test]
    fn the_hpdi_contains_the_map_and_its_mass(
        n in 0..10_000u64,
        fraction in 0.0..=1.0f64,
        prior in prior(),
        mass in 0.05..=1.0f64,
    ) {
        let counts = Counts::new(((n as f64) * fraction) as u64, n).unwrap();
        let posterior = Posterior::new(Grid::default(), prior, counts).unwrap();
        let hpdi = posterior.hpdi(mass).unwrap();
        prop_assert!(hpdi.contains(posterior.map()));
        let held: f64 = Grid::default()
            .iter()
            .zip(posterior.probabilities())
            .filter(|(p, _)| hpdi.contains(*p))
            .map(|(_, m)| m)
            .sum();
        prop_assert!(held >= mass - 1e-9);
        let pi = posterior.percentile_interval(mass).unwrap();
        prop_assert!(pi.lo <= pi.hi);
    }

    #[test]
    fn predictive_probabilities_sum_to_one(
        n in 0..200u64,
        fraction in 0.0..=1.0f64,
        trials in 0..30u64,
    ) {
        let counts = Counts::new(((n as f64) * fraction) as u64, n).unwrap();
        let posterior = Posterior::new(Grid::default(), Prior::default(), counts).unwrap();
        let total: f64 = (0..=trials).map(|k| posterior.predictive(k, trials).unwrap()).sum();
        prop_assert!((total - 1.0).abs() < 1e-9);
    }
}

#[test]
fn predictive_of_one_trial_is_the_posterior_mean() {
    let posterior = Posterior::new(
        Grid::default(),
        Prior::default(),
        Counts::new(6, 9).unwrap(),
    )
    .unwrap();
    let p_win = posterior.predictive(1, 1).unwrap();
    assert!((p_win - posterior.mean()).abs() < 1e-12);
    assert!(posterior.predictive(3, 2).is_err());
}

#[test]
fn samples_are_reproducible_and_centre_on_the_mean() {
    let posterior = Posterior::new(
        Grid::default(),
        Prior::default(),
        Counts::new(6, 9).unwrap(),
    )
    .unwrap();
    let draw = |seed| posterior.sample(&mut StdRng::seed_from_u64(seed), 20_000);
    let samples = draw(7);
    assert_eq!(samples, draw(7));
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    assert!((mean - posterior.mean()).abs() < 0.01, "{mean}");
    assert!(samples.iter().all(|p| (0.0..=1.0).contains(p)));
    assert!(
        samples.iter().all(|p| *p > 0.1),
        "the step prior has no mass at or below 0.1"
    );
}

#[test]
fn a_prior_with_no_mass_on_the_grid_is_an_error() {
    let two_points = Grid::new(2).unwrap();
    let err = Posterior::new(
        two_points,
        Prior::Beta {
            alpha: 2.0,
            beta: 2.0,
        },
        Counts::ZERO,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("zero on all 2 grid points"),
        "{err}"
    );
}

#[test]
fn extreme_counts_stay_exact_at_the_edges() {
    let all_wins = Posterior::new(
        Grid::default(),
        Prior::Uniform,
        Counts::new(1_000_000_000_000, 1_000_000_000_000).unwrap(),
    )
    .unwrap();
    assert_eq!(all_wins.map(), 1.0);
    assert!((all_wins.probabilities()[119] - 1.0).abs() < 1e-12);
    let no_wins = Posterior::new(
        Grid::default(),
        Prior::Uniform,
        Counts::new(0, 1_000_000_000_000).unwrap(),
    )
    .unwrap();
    assert_eq!(no_wins.map(), 0.0);
    assert!(no_wins.mean() < 1e-12);
}

#[test]
fn bad_interval_masses_are_refused() {
    let posterior = Posterior::new(Grid::default(), Prior::Uniform, Counts::ZERO).unwrap();
    for mass in [0.0, -0.1, 1.5, f64::NAN] {
        assert!(posterior.hpdi(mass).is_err());
        assert!(posterior.percentile_interval(mass).is_err());
    }
}
