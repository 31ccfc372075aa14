//! Weighted (decayed) evidence: what `Evidence` accepts, and that integral
//! evidence gives exactly what integer counts give — posterior, summary,
//! decisions, Thompson draws and JSON — with fractional values written as
//! floats. The fractional posteriors against independent references are in
//! `weighted_reference.rs`.

mod common;

use common::{evidence, posterior, weighted};
use domain::{
    Counts, DEFAULT_THRESHOLD, Evidence, EvidenceError, Grid, ModelDefinition, ModelSummary,
    PosteriorError, Prior, Thompson, compare, expected_loss, p_best,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

#[test]
fn evidence_refuses_nan_infinity_negatives_and_more_wins_than_trials() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    for (w, n) in [(nan, 1.0), (0.0, nan), (inf, inf), (0.0, inf), (-inf, 1.0)] {
        assert!(
            matches!(Evidence::new(w, n), Err(EvidenceError::NotFinite { .. })),
            "{w} {n}"
        );
    }
    for (w, n) in [(-1.0, 2.0), (0.0, -0.5), (-1e-300, 0.0)] {
        assert_eq!(
            Evidence::new(w, n),
            Err(EvidenceError::Negative { w, n }),
            "{w} {n}"
        );
    }
    // Exactly: the next float above n is already too many wins.
    for (w, n) in [(3.0, 2.0), (2.5f64.next_up(), 2.5), (1e-300, 0.0)] {
        assert_eq!(
            Evidence::new(w, n),
            Err(EvidenceError::MoreWinsThanTrials { w, n }),
            "{w} {n}"
        );
    }
    assert_eq!(
        Evidence::new(3.0, 2.0).unwrap_err().to_string(),
        "w = 3 exceeds n = 2"
    );
    for (w, n) in [(0.0, 0.0), (2.5, 2.5), (0.0, 1e-300), (1.25, 7.5)] {
        let e = Evidence::new(w, n).unwrap();
        assert_eq!((e.w(), e.n(), e.losses()), (w, n, n - w));
    }
    assert!(Evidence::new(0.0, 0.0).unwrap().is_empty());
    assert!(!Evidence::new(0.0, 1e-300).unwrap().is_empty());
}

#[test]
fn no_mass_names_the_evidence_integers_without_a_fraction() {
    // step:0.9 on 3 points leaves only p = 1, which any loss rules out.
    let grid = Grid::new(3).unwrap();
    let prior = Prior::parse("step:0.9").unwrap();
    let counts = Counts::new(2, 5).unwrap();
    let message = |e: PosteriorError| e.to_string();
    let integer = domain::Posterior::new(grid, prior, counts).unwrap_err();
    assert!(
        message(integer).contains("w = 2, n = 5 is zero"),
        "{integer}"
    );
    let fractional = domain::Posterior::new(grid, prior, evidence(2.5, 5.25)).unwrap_err();
    assert!(
        message(fractional).contains("w = 2.5, n = 5.25 is zero"),
        "{fractional}"
    );
}

const PRIORS: [&str; 4] = ["uniform", "step:0.1", "beta:2,5", "beta:1.5,1"];

/// The same integer evidence as `Counts` and as `Evidence`.
fn both(w: u64, n: u64) -> (Counts, Evidence) {
    let counts = Counts::new(w, n).unwrap();
    (counts, evidence(w as f64, n as f64))
}

proptest! {
    #[test]
    fn integral_evidence_is_the_counts_bit_for_bit(
        prior in 0..PRIORS.len(),
        points in 2..400usize,
        n in 0..5_000u64,
        share in 0.0..=1.0f64,
        big in any::<bool>(),
    ) {
        let n = if big { n * 1_000_000_007 } else { n };
        let w = (n as f64 * share) as u64;
        let (counts, real) = both(w, n);
        prop_assert_eq!(Evidence::from(counts), real);
        let grid = Grid::new(points).unwrap();
        let prior = Prior::parse(PRIORS[prior]).unwrap();
        let (a, b) = (domain::Posterior::new(grid, prior, counts), domain::Posterior::new(grid, prior, real));
        prop_assert_eq!(&a, &b);
        let Ok(a) = a else { return Ok(()) };
        let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(a.probabilities()), bits(b.unwrap().probabilities()));
        let (sa, sb) = (ModelSummary::new(grid, prior, counts).unwrap(), ModelSummary::new(grid, prior, real).unwrap());
        prop_assert_eq!(serde_json::to_string(&sa).unwrap(), serde_json::to_string(&sb).unwrap());
        prop_assert_eq!(sa, sb);
    }
}

#[test]
fn decisions_on_integral_evidence_are_the_counts_decisions() {
    let cases = [(120, 1_000, 160, 1_000), (0, 0, 3, 7), (5_000, 5_000, 1, 9)];
    for (wa, na, wb, nb) in cases {
        let (ca, ea) = both(wa, na);
        let (cb, eb) = both(wb, nb);
        let counted = [
            posterior(101, "uniform", wa, na),
            weighted(51, "beta:2,5", cb),
        ];
        let real = [weighted(101, "uniform", ea), weighted(51, "beta:2,5", eb)];
        let bits = |xs: Vec<f64>| xs.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        assert_eq!(bits(p_best(&counted)), bits(p_best(&real)));
        assert_eq!(bits(expected_loss(&counted)), bits(expected_loss(&real)));
        let draws = |models: &[domain::Posterior]| {
            let thompson = Thompson::new(models, 0.1).unwrap();
            let mut rng = StdRng::seed_from_u64(11);
            (0..2_000)
                .map(|_| thompson.choose(&mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(&counted), draws(&real));
        let definition = ModelDefinition::default();
        let as_counts = [("a", definition, ca), ("b", definition, cb)];
        let as_evidence = [("a", definition, ea), ("b", definition, eb)];
        assert_eq!(
            compare(&as_counts, DEFAULT_THRESHOLD),
            compare(&as_evidence, DEFAULT_THRESHOLD)
        );
    }
}

#[test]
fn integral_counts_are_json_integers_and_fractional_ones_floats() {
    let json =
        |e: Evidence| serde_json::to_value(ModelDefinition::default().summary(e).unwrap()).unwrap();
    let integer = json(Counts::new(5, 9).unwrap().into());
    assert!(integer["w"].is_u64() && integer["n"].is_u64(), "{integer}");
    assert_eq!(
        (integer["w"].as_u64(), integer["n"].as_u64()),
        (Some(5), Some(9))
    );
    assert_eq!(json(evidence(5.0, 9.0)), integer);
    let text = serde_json::to_string(
        &ModelDefinition::default()
            .summary(evidence(5.0, 9.0))
            .unwrap(),
    )
    .unwrap();
    assert!(text.starts_with(r#"{"w":5,"n":9,"#), "{text}");

    let fractional = json(evidence(2.5, 9.0));
    assert!(fractional["w"].is_f64(), "{fractional}");
    assert_eq!(fractional["w"].as_f64(), Some(2.5));
    assert_eq!(fractional["n"].as_u64(), Some(9));
    let text = serde_json::to_string(
        &ModelDefinition::default()
            .summary(evidence(2.5, 9.0))
            .unwrap(),
    )
    .unwrap();
    assert!(text.starts_with(r#"{"w":2.5,"n":9,"#), "{text}");

    let e = serde_json::to_string(&evidence(0.75, 3.0)).unwrap();
    assert_eq!(e, r#"{"w":0.75,"n":3}"#);
    let definition = ModelDefinition::default();
    let compared = compare(
        &[
            ("a", definition, evidence(1.5, 20.0)),
            ("b", definition, evidence(4.0, 20.0)),
        ],
        DEFAULT_THRESHOLD,
    )
    .unwrap();
    let compared = serde_json::to_value(compared).unwrap();
    assert_eq!(compared["models"][0]["w"].as_f64(), Some(1.5));
    assert!(compared["models"][1]["w"].is_u64(), "{compared}");
}
