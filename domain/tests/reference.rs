//! Reference values computed independently of this code: the Python
//! original's defaults and *Statistical Rethinking* (2nd ed.), chapters 2–3.

use domain::{BetaPosterior, Counts, Grid, ModelSummary, Observation, Posterior, Prior};

const TOSSES: &str = "wlwwwlwlw";

fn tosses() -> Vec<Observation> {
    TOSSES
        .chars()
        .map(|c| Observation::parse(&c.to_string()).expect("w or l"))
        .collect()
}

fn counts_of(observations: &[Observation]) -> Counts {
    observations
        .iter()
        .copied()
        .collect::<Result<_, _>>()
        .expect("no overflow")
}

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} differs from {expected} by more than {tolerance}"
    );
}

#[test]
fn the_originals_defaults_after_nine_tosses() {
    let counts = counts_of(&tosses());
    let posterior = Posterior::new(Grid::default(), Prior::default(), counts).unwrap();
    close(posterior.mean(), 0.636_367_606_656_288_2, 1e-9);
    close(posterior.map(), 0.663_865_546_218_487_4, 1e-9);
}

#[test]
fn rethinking_2_3_uniform_prior_on_20_points() {
    let posterior = Posterior::new(
        Grid::new(20).unwrap(),
        Prior::Uniform,
        Counts::new(6, 9).unwrap(),
    )
    .unwrap();
    let probs = posterior.probabilities();
    let max = probs.iter().copied().fold(0.0, f64::max);
    close(max, 0.142_834_88, 1e-8);
    close(posterior.map(), 13.0 / 19.0, 1e-15);
    close(posterior.mean(), 0.636_382, 1e-6);
}

#[test]
fn rethinking_2_5_step_prior_at_one_half_on_20_points() {
    let prior = Prior::parse("step:0.5").unwrap();
    let posterior =
        Posterior::new(Grid::new(20).unwrap(), prior, Counts::new(6, 9).unwrap()).unwrap();
    let max = posterior
        .probabilities()
        .iter()
        .copied()
        .fold(0.0, f64::max);
    close(max, 0.172_240_45, 1e-8);
    close(posterior.mean(), 0.681_388, 1e-6);
}

#[test]
fn rethinking_3_6_mass_below_one_half_on_1000_points() {
    let posterior = Posterior::new(
        Grid::new(1000).unwrap(),
        Prior::Uniform,
        Counts::new(6, 9).unwrap(),
    )
    .unwrap();
    close(posterior.mass_below(0.5), 0.171_874_59, 1e-8);
}

#[test]
fn closed_form_beta_7_4() {
    let exact = BetaPosterior::new(Prior::Uniform, Counts::new(6, 9).unwrap()).unwrap();
    close(exact.mean(), 0.636_364, 1e-6);
    close(exact.sd(), 0.138_866, 1e-6);
    let summary =
        ModelSummary::new(Grid::default(), Prior::Uniform, Counts::new(6, 9).unwrap()).unwrap();
    let closed = summary.closed_form.expect("uniform is conjugate");
    assert!(closed.interval_89.contains(closed.mean));
}

/// Bayesian updating one observation at a time: multiply the previous
/// posterior by the likelihood of *that one* observation and renormalise.
fn sequential(grid: Grid, prior: Prior, observations: &[Observation]) -> Vec<f64> {
    let mut posterior = Posterior::new(grid, prior, Counts::ZERO)
        .unwrap()
        .probabilities()
        .to_vec();
    for obs in observations {
        for (i, m) in posterior.iter_mut().enumerate() {
            *m *= if *obs == Observation::Win {
                grid.p(i)
            } else {
                grid.q(i)
            };
        }
        let total: f64 = posterior.iter().sum();
        posterior.iter_mut().for_each(|m| *m /= total);
    }
    posterior
}

/// The original's update: multiply the *stored posterior* by the likelihood
/// of the *cumulative* counts, counting every earlier observation again.
fn originals_double_counting(grid: Grid, prior: Prior, observations: &[Observation]) -> Vec<f64> {
    let mut posterior = Posterior::new(grid, prior, Counts::ZERO)
        .unwrap()
        .probabilities()
        .to_vec();
    let mut counts = Counts::ZERO;
    for obs in observations {
        counts = counts.apply(*obs).unwrap();
        for (i, m) in posterior.iter_mut().enumerate() {
            *m *= grid.p(i).powi(counts.w() as i32) * grid.q(i).powi(counts.losses() as i32);
        }
        let total: f64 = posterior.iter().sum();
        posterior.iter_mut().for_each(|m| *m /= total);
    }
    posterior
}

fn mean_of(grid: Grid, probabilities: &[f64]) -> f64 {
    grid.iter().zip(probabilities).map(|(p, m)| p * m).sum()
}

#[test]
fn one_observation_at_a_time_equals_the_batch_unlike_the_original() {
    let (grid, prior, observations) = (Grid::default(), Prior::default(), tosses());
    let batch = Posterior::new(grid, prior, counts_of(&observations)).unwrap();

    let one_at_a_time = sequential(grid, prior, &observations);
    for (a, b) in one_at_a_time.iter().zip(batch.probabilities()) {
        close(*a, *b, 1e-12);
    }

    let original = originals_double_counting(grid, prior, &observations);
    close(mean_of(grid, &original), 0.681, 5e-4);
    assert!((mean_of(grid, &original) - batch.mean()).abs() > 0.04);
}
