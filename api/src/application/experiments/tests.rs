use super::reads::assign;
use super::*;
use crate::application::memory::MemoryModels;
use domain::{DefaultDefinitions, ExperimentKind, Observation};
use platform::log_time::HistorySettings;

fn name(text: &str) -> ModelName {
    ModelName::parse(text).unwrap()
}

fn experiments(memory: &Arc<MemoryModels>, max_models: u64) -> Experiments {
    let defaults = DefaultDefinitions::default();
    let limit = Arc::new(ModelLimit::new(max_models, memory.clone()));
    let catalog = Catalog::new(memory.clone(), memory.clone(), defaults).with_limit(limit.clone());
    Experiments::new(
        memory.clone(),
        memory.clone(),
        catalog,
        Decisions::new(memory.clone(), defaults),
        Timelines::new(memory.clone(), defaults, HistorySettings::DEFAULT),
    )
    .with_limit(limit)
}

fn draft(kind: ExperimentKind, variants: &[&str]) -> ExperimentDraft {
    ExperimentDraft {
        kind: Some(kind),
        variants: variants.iter().map(|v| (*v).to_owned()).collect(),
        ..ExperimentDraft::default()
    }
}

#[tokio::test]
async fn a_definition_creates_its_missing_variants_and_reads_back() {
    let memory = Arc::new(MemoryModels::new());
    memory
        .append(&name("a"), &[Observation::Win], None)
        .await
        .unwrap();
    let use_case = experiments(&memory, 100);
    let defined = use_case
        .define(&name("e"), &draft(ExperimentKind::Ab, &["a", "b"]))
        .await
        .unwrap();
    assert_eq!(defined.created, ["b"]);
    assert!(memory.model("b").is_some());
    let view = use_case.get(&name("e")).await.unwrap();
    assert_eq!(view.status, ExperimentStatus::Running);
    assert_eq!(view.comparison.models.len(), 2);
    assert!(view.srm.is_some(), "an A/B test has its SRM check");
}

#[tokio::test]
async fn a_refused_definition_stores_nothing() {
    let memory = Arc::new(MemoryModels::new());
    let use_case = experiments(&memory, 100);
    let mut bad = draft(ExperimentKind::Ab, &["a", "b"]);
    bad.weights = Some(vec![0.5, 0.6]);
    let error = use_case.define(&name("e"), &bad).await.unwrap_err();
    assert!(
        error.to_string().starts_with("weights: must sum to 1"),
        "{error}"
    );
    assert!(memory.model("a").is_none());
    assert!(use_case.get(&name("e")).await.is_err());
}

#[tokio::test]
async fn new_variants_past_the_model_bound_are_refused_all_or_none() {
    let memory = Arc::new(MemoryModels::new());
    let use_case = experiments(&memory, 1);
    let error = use_case
        .define(&name("e"), &draft(ExperimentKind::Bandit, &["a", "b"]))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        ExperimentsError::Define(DefineError::ModelLimit(_))
    ));
    assert!(memory.model("a").is_none() && memory.model("b").is_none());
}

#[tokio::test]
async fn a_stop_names_a_variant_and_happens_once() {
    let memory = Arc::new(MemoryModels::new());
    let use_case = experiments(&memory, 100);
    use_case
        .define(&name("e"), &draft(ExperimentKind::Bandit, &["a", "b"]))
        .await
        .unwrap();
    assert!(matches!(
        use_case.stop(&name("e"), "c").await,
        Err(ExperimentsError::NotAVariant { .. })
    ));
    use_case.stop(&name("e"), "b").await.unwrap();
    assert!(matches!(
        use_case.stop(&name("e"), "a").await,
        Err(ExperimentsError::AlreadyStopped { .. })
    ));
    let choice = use_case.choose(&name("e")).await.unwrap();
    assert_eq!(
        (choice.variant.as_str(), choice.by),
        ("b", ChosenBy::Stopped)
    );
    assert!(matches!(
        use_case.stop(&name("nope"), "a").await,
        Err(ExperimentsError::Unknown(_))
    ));
}

#[test]
fn an_assignment_follows_the_weights() {
    let weights = [0.2, 0.3, 0.5];
    assert_eq!(assign(&weights, 0.0), 0);
    assert_eq!(assign(&weights, 0.199), 0);
    assert_eq!(assign(&weights, 0.2), 1);
    assert_eq!(assign(&weights, 0.75), 2);
    assert_eq!(assign(&weights, 0.999_999_999_999), 2);
}
