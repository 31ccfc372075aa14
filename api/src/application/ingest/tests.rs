use super::*;
use crate::application::memory::MemoryModels;

fn ingest(log: &Arc<MemoryModels>) -> Ingest {
    Ingest::new(log.clone(), 10)
}

fn counts(log: &MemoryModels, model: &str) -> Option<(u64, u64)> {
    log.model(model).map(|m| (m.counts.w(), m.counts.n()))
}

fn named(name: &str) -> ModelName {
    ModelName::parse(name).unwrap()
}

#[tokio::test]
async fn a_valid_trial_is_appended_to_default() {
    let log = Arc::new(MemoryModels::new());
    let (observation, _) = ingest(&log).record("w", None).await.unwrap();
    assert_eq!(observation, Observation::Win);
    assert_eq!(counts(&log, "default"), Some((1, 1)));
}

#[tokio::test]
async fn unknown_trial_is_rejected_and_not_counted() {
    let log = Arc::new(MemoryModels::new());
    for bad in ["x", "W", "ww", "", "\0"] {
        let error = ingest(&log).record(bad, None).await.unwrap_err();
        assert!(matches!(error, IngestError::Invalid(_)), "{bad:?}: {error}");
    }
    assert_eq!(log.observations(), 0);
}

#[tokio::test]
async fn a_batch_with_one_bad_trial_stores_nothing() {
    let log = Arc::new(MemoryModels::new());
    let error = ingest(&log)
        .record_all(&named("a"), ["w", "l", "x"], None)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "trial 2: invalid trial \"x\": expected \"w\" or \"l\""
    );
    assert_eq!(log.observations(), 0);
}

#[tokio::test]
async fn batches_are_bounded_and_non_empty() {
    let log = Arc::new(MemoryModels::new());
    let a = named("a");
    assert!(matches!(
        ingest(&log).record_all(&a, ["w"; 11], None).await,
        Err(IngestError::BatchTooLarge { max: 10, given: 11 })
    ));
    assert!(matches!(
        ingest(&log).record_all(&a, [], None).await,
        Err(IngestError::EmptyBatch)
    ));
    assert_eq!(log.observations(), 0);
    assert_eq!(
        ingest(&log)
            .record_all(&a, ["w"; 10], None)
            .await
            .unwrap()
            .0,
        10
    );
    assert_eq!(counts(&log, "a"), Some((10, 10)));
}

#[tokio::test]
async fn aggregated_counts_are_recorded_under_the_same_bound() {
    let log = Arc::new(MemoryModels::new());
    let b = named("b");
    assert_eq!(
        ingest(&log).record_counts(&b, 3, 7, None).await.unwrap().0,
        10
    );
    assert_eq!(counts(&log, "b"), Some((3, 10)));
    for (w, l) in [(0, 0), (6, 5), (u64::MAX, 1), (1, u64::MAX)] {
        let error = ingest(&log)
            .record_counts(&b, w, l, None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                IngestError::EmptyBatch | IngestError::BatchTooLarge { .. }
            ),
            "{w}/{l}: {error}"
        );
    }
    assert_eq!(counts(&log, "b"), Some((3, 10)));
}

#[tokio::test]
async fn a_retry_under_the_same_key_counts_once_and_another_request_is_refused() {
    let log = Arc::new(MemoryModels::new());
    let a = named("a");
    let key = || Some(IdempotencyKey::parse(b"order-17").unwrap());
    let (_, first) = ingest(&log)
        .record_all(&a, ["w", "l"], key())
        .await
        .unwrap();
    let (accepted, again) = ingest(&log).record_counts(&a, 1, 1, key()).await.unwrap();
    assert_eq!((accepted, &again.id, again.replayed), (2, &first.id, true));
    assert!(!first.replayed);
    assert_eq!(counts(&log, "a"), Some((1, 2)));
    let error = ingest(&log).record_all(&a, ["w"], key()).await.unwrap_err();
    assert!(
        matches!(error, IngestError::Log(PortError::KeyReused(_))),
        "{error}"
    );
    // Keys are per model.
    ingest(&log)
        .record_all(&named("b"), ["w"], key())
        .await
        .unwrap();
    assert_eq!(counts(&log, "a"), Some((1, 2)));
    assert_eq!(counts(&log, "b"), Some((1, 1)));
}

#[tokio::test]
async fn an_unavailable_log_is_reported() {
    let log = Arc::new(MemoryModels::new());
    log.set_up(false);
    let error = ingest(&log).record("w", None).await.unwrap_err();
    assert!(matches!(error, IngestError::Log(PortError::Unavailable(_))));
}
