//! Property tests of the warnings and of the decisions that rest on them:
//! when a posterior is pinned at its prior's edge or piled on one grid
//! point, and that a comparison never ships what the grids cannot tell
//! apart. And the small-rate A/B tests the default of named models is for.

mod common;

use common::posterior;
use domain::{
    Counts, DEFAULT_THRESHOLD, DefaultDefinitions, Grid, ModelDefinition, ModelName, Pinned,
    Posterior, Prior, Resolution, Side, compare,
};
use proptest::prelude::*;

fn named() -> ModelDefinition {
    DefaultDefinitions::default().of(&ModelName::parse("variant").unwrap())
}

fn counts(w: u64, n: u64) -> Counts {
    Counts::new(w, n).unwrap()
}

proptest! {
    #[test]
    fn a_uniform_prior_is_never_pinned_at_an_edge(points in 3..2_000usize, n in 0..100_000u64, share in 0.0..=1.0f64) {
        let w = (share * n as f64) as u64;
        let pinned = posterior(points, Prior::Uniform, w, n).pinned();
        prop_assert!(pinned.iter().all(|p| matches!(p, Pinned::OnOneGridPoint { .. })), "{:?}", pinned);
    }

    #[test]
    fn no_data_is_never_pinned_at_an_edge(
        points in 2..2_000usize,
        threshold in 0.0..0.99f64,
        alpha in 1.0..50.0f64,
        beta in 1.0..50.0f64,
    ) {
        for prior in [Prior::Step { threshold }, Prior::Beta { alpha, beta }] {
            if let Ok(prior_only) = Posterior::new(Grid::new(points).unwrap(), prior, Counts::ZERO) {
                prop_assert!(!prior_only.is_pinned_at_prior_edge(), "{prior} on {points}");
            }
        }
    }

    #[test]
    fn a_step_prior_fed_rates_well_below_it_is_pinned_at_its_first_point(
        points in 20..20_000usize,
        threshold in 0.05..0.9f64,
        fraction in 0.0..0.5f64,
        n in 2_000..1_000_000u64,
    ) {
        let w = (fraction * threshold * n as f64) as u64;
        let grid = Grid::new(points).unwrap();
        let Ok(pinned) = Posterior::new(grid, Prior::Step { threshold }, counts(w, n)) else {
            return Ok(());
        };
        let first = grid.iter().find(|p| *p > threshold).unwrap();
        prop_assert!(
            matches!(pinned.pinned()[..], [Pinned::AtPriorEdge { side: Side::Below, edge, .. }] if edge == first),
            "{:?}", pinned.pinned()
        );
    }

    #[test]
    fn one_grid_point_is_reported_exactly_when_it_holds_most_of_the_mass(
        points in 3..500usize,
        n in 0..10_000_000u64,
        share in 0.0..=1.0f64,
    ) {
        let w = (share * n as f64) as u64;
        let posterior = posterior(points, Prior::Uniform, w, n);
        let top = posterior.probabilities().iter().copied().fold(0.0, f64::max);
        let reported = posterior.pinned().iter().any(|p| matches!(p, Pinned::OnOneGridPoint { .. }));
        prop_assert_eq!(reported, top > 0.5);
    }

    #[test]
    fn models_that_tie_on_their_grids_or_are_pinned_never_have_a_winner(
        points in 2..300usize,
        threshold in 0.0..0.9f64,
        n in 0..2_000_000u64,
        share in 0.0..=1.0f64,
        other in 0.0..=1.0f64,
    ) {
        let grid = Grid::new(points).unwrap();
        let models: Vec<_> = [share, other]
            .iter()
            .enumerate()
            .map(|(k, s)| (format!("m{k}"), ModelDefinition { prior: Prior::Step { threshold }, grid }, counts((s * n as f64) as u64, n)))
            .collect();
        let Ok(comparison) = compare(&models, DEFAULT_THRESHOLD) else { return Ok(()); };
        let decision = &comparison.decision;
        let pinned = comparison.models.iter().any(|m| m.warnings.iter().any(|w| w.message.contains("pinned")));
        if decision.p_tie > domain::TIE_LIMIT || pinned {
            prop_assert_eq!(decision.winner, None, "{:?}", comparison);
        }
        if decision.winner.is_some() {
            prop_assert_eq!(&decision.resolution, &Resolution::Decided);
        }
    }
}

#[test]
fn two_and_three_percent_on_the_named_default_are_told_apart() {
    let models = [
        ("low", named(), counts(100, 5_000)),
        ("high", named(), counts(150, 5_000)),
    ];
    let comparison = compare(&models, DEFAULT_THRESHOLD).unwrap();
    let [low, high] = &comparison.models[..] else {
        panic!("two models")
    };
    assert!(high.p_best > 0.99, "{comparison:?}");
    assert!((low.mean - 0.02).abs() < 0.002 && (high.mean - 0.03).abs() < 0.002);
    assert!(low.warnings.is_empty() && high.warnings.is_empty());
    assert_eq!(comparison.decision.winner, Some(1));
}

#[test]
fn half_a_percent_against_six_tenths_at_100000_each_is_told_apart() {
    let models = [
        ("low", named(), counts(500, 100_000)),
        ("high", named(), counts(600, 100_000)),
    ];
    let comparison = compare(&models, DEFAULT_THRESHOLD).unwrap();
    assert!(comparison.models[1].p_best > 0.99, "{comparison:?}");
    assert!((comparison.models[0].mean - 0.005).abs() < 0.0002);
    assert!(comparison.decision.p_tie < 0.01, "{comparison:?}");
}

#[test]
fn the_originals_default_cannot_tell_two_from_three_percent_and_says_so() {
    let original = ModelDefinition::default();
    let models = [
        ("low", original, counts(100, 5_000)),
        ("high", original, counts(150, 5_000)),
    ];
    let comparison = compare(&models, DEFAULT_THRESHOLD).unwrap();
    assert!((comparison.models[0].p_best - 0.5).abs() < 0.01);
    assert_eq!(comparison.decision.winner, None);
    assert_eq!(
        comparison.decision.resolution,
        Resolution::PinnedAtPriorEdge { models: vec![0, 1] }
    );
    assert!(comparison.decision.p_tie > 0.99);
}
