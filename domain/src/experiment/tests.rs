use super::*;
use crate::{Counts, Grid, Prior};

fn draft(kind: ExperimentKind, variants: &[&str]) -> ExperimentDraft {
    ExperimentDraft {
        kind: Some(kind),
        variants: variants.iter().map(|v| (*v).to_owned()).collect(),
        ..ExperimentDraft::default()
    }
}

fn refused(draft: &ExperimentDraft) -> &'static str {
    Experiment::new(draft).expect_err("refused").field
}

#[test]
fn defaults_are_filled_in_and_written_back() {
    let ab = Experiment::new(&draft(ExperimentKind::Ab, &["a", "b", "c", "d"])).unwrap();
    assert_eq!(ab.baseline().as_str(), "a");
    assert_eq!(ab.threshold(), 0.0025);
    assert_eq!(ab.split(), &Split::Weights(vec![0.25; 4]));
    assert_eq!(ab.lens(), ExperimentLens::All);
    // What is written back reads as the same experiment.
    assert_eq!(Experiment::new(&ab.draft()).unwrap(), ab);
    let bandit = Experiment::new(&ExperimentDraft {
        baseline: Some("y".into()),
        floor: Some(0.05),
        window_ms: Some(3_600_000),
        ..draft(ExperimentKind::Bandit, &["x", "y"])
    })
    .unwrap();
    assert_eq!(bandit.floor(), 0.05);
    assert_eq!(bandit.lens(), ExperimentLens::Window(3_600_000));
    let order: Vec<&str> = bandit.order().map(ModelName::as_str).collect();
    assert_eq!(order, ["y", "x"]);
    assert_eq!(Experiment::new(&bandit.draft()).unwrap(), bandit);
}

#[test]
fn every_bad_field_is_named() {
    let ab = |variants: &[&str]| draft(ExperimentKind::Ab, variants);
    assert_eq!(refused(&ExperimentDraft::default()), "kind");
    assert_eq!(refused(&ab(&["only"])), "variants");
    let many: Vec<String> = (0..21).map(|i| format!("v{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(refused(&ab(&many)), "variants");
    assert!(
        Experiment::new(&ab(&many[..20])).is_ok(),
        "20 variants are fine"
    );
    assert_eq!(refused(&ab(&["a", "a"])), "variants");
    assert_eq!(refused(&ab(&["a", "b/c"])), "variants");
    let with = |f: fn(&mut ExperimentDraft)| {
        let mut d = ab(&["a", "b"]);
        f(&mut d);
        refused(&d)
    };
    assert_eq!(with(|d| d.baseline = Some("z".into())), "baseline");
    assert_eq!(with(|d| d.threshold = Some(-0.1)), "threshold");
    assert_eq!(with(|d| d.threshold = Some(f64::NAN)), "threshold");
    assert_eq!(with(|d| d.weights = Some(vec![0.5, 0.6])), "weights");
    assert_eq!(with(|d| d.weights = Some(vec![1.0])), "weights");
    assert_eq!(with(|d| d.weights = Some(vec![0.0, 1.0])), "weights");
    assert_eq!(with(|d| d.floor = Some(0.1)), "floor");
    assert_eq!(with(|d| d.window_ms = Some(0)), "window");
    assert_eq!(with(|d| d.half_life_ms = Some(0)), "half_life");
    assert_eq!(
        with(|d| {
            d.window_ms = Some(1);
            d.half_life_ms = Some(1);
        }),
        "window"
    );
    let bandit = |f: fn(&mut ExperimentDraft)| {
        let mut d = draft(ExperimentKind::Bandit, &["a", "b", "c"]);
        f(&mut d);
        Experiment::new(&d).map(|_| ()).map_err(|e| e.field)
    };
    // 1/K for K = 3 is allowed; just above it is not.
    assert_eq!(bandit(|d| d.floor = Some(1.0 / 3.0)), Ok(()));
    assert_eq!(bandit(|d| d.floor = Some(0.34)), Err("floor"));
    assert_eq!(bandit(|d| d.floor = Some(-0.01)), Err("floor"));
    assert_eq!(bandit(|d| d.weights = Some(vec![0.5, 0.5])), Err("weights"));
}

#[test]
fn the_draft_is_the_json_the_log_keeps() {
    let json = r#"{"kind":"ab","variants":["control","v1"],"baseline":"control","threshold":0.01,"weights":[0.4,0.6],"window_ms":60000}"#;
    let parsed: ExperimentDraft = serde_json::from_str(json).unwrap();
    let experiment = Experiment::new(&parsed).unwrap();
    assert_eq!(serde_json::to_string(&experiment.draft()).unwrap(), json);
    let unknown = r#"{"kind":"ab","variants":["a","b"],"colour":"red"}"#;
    assert!(serde_json::from_str::<ExperimentDraft>(unknown).is_err());
}

#[test]
fn the_evaluation_compares_baseline_first_and_names_the_winner() {
    let experiment = Experiment::new(&ExperimentDraft {
        baseline: Some("b".into()),
        threshold: Some(0.001),
        ..draft(ExperimentKind::Ab, &["a", "b"])
    })
    .unwrap();
    let definition = ModelDefinition {
        prior: Prior::Uniform,
        grid: Grid::new(1_001).unwrap(),
    };
    // In order(): b (the baseline) then a; a is far better.
    let strong = [
        (definition, Counts::new(100, 1_000).unwrap()),
        (definition, Counts::new(300, 1_000).unwrap()),
    ];
    // The comparison of the same evidence, baseline first, as /compare makes it.
    let comparison = crate::compare(
        &[
            ("b", definition, strong[0].1),
            ("a", definition, strong[1].1),
        ],
        0.001,
    )
    .unwrap();
    // The decision alone agrees with the comparison's, number for number.
    let verdict = experiment.decide(&strong).unwrap().unwrap();
    assert_eq!(verdict.winner.as_str(), "a");
    assert_eq!(comparison.decision.winner, Some(1));
    assert_eq!(verdict.p_best, comparison.models[1].p_best);
    assert_eq!(verdict.expected_loss, comparison.models[1].expected_loss);
    assert_eq!(comparison.models[0].name, "b");
    assert_eq!(
        experiment.decide(&strong[..1]).map(|_| ()),
        Err(DecisionError::TooFewModels { given: 1, min: 2 })
    );
    let weak = [
        (definition, Counts::new(1, 10).unwrap()),
        (definition, Counts::new(2, 10).unwrap()),
    ];
    assert_eq!(experiment.decide(&weak).unwrap(), None);
}

#[test]
fn srm_is_checked_for_ab_tests_in_the_variants_order() {
    let experiment = Experiment::new(&ExperimentDraft {
        weights: Some(vec![0.4, 0.6]),
        ..draft(ExperimentKind::Ab, &["a", "b"])
    })
    .unwrap();
    // SciPy: chisquare([821, 1179], [800, 1200]) → p = 0.3378.
    let srm = experiment.srm(&[821, 1_179]).unwrap();
    assert!((srm.p_value - 0.337_803_395_623_813_8).abs() < 1e-12 && srm.ok);
    let bandit = Experiment::new(&draft(ExperimentKind::Bandit, &["a", "b"])).unwrap();
    assert_eq!(bandit.srm(&[1, 1_000]), None);
}
