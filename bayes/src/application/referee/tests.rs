use super::*;
use crate::application::batch::{BatchBuilder, ExperimentEvent};
use domain::ModelName;
use domain::{Counts, Evidence, ExperimentDraft, ModelDefinition, ModelEvent};
use platform::stored_experiment::DecisionEvent;
use platform::stored_experiment::StoredExperiment;
use std::sync::Mutex;

/// A store whose counts the test sets, announcing with the script's
/// compare-and-set on `seq`.
#[derive(Default)]
struct FakeStore {
    counts: Mutex<HashMap<String, Counts>>,
    seq: Mutex<HashMap<String, u64>>,
    announced: Mutex<Vec<DecisionEvent>>,
}

#[async_trait::async_trait]
impl ExperimentStore for FakeStore {
    fn partition_of(&self, _: &str) -> u32 {
        0
    }
    async fn experiments(&self, _: u32) -> Result<Vec<(String, StoredExperiment)>, PortError> {
        Ok(Vec::new())
    }
    async fn now(&self) -> Result<u64, PortError> {
        Ok(0)
    }
    async fn evidence(
        &self,
        experiments: &[&Experiment],
        _: u64,
    ) -> Result<Vec<Vec<(ModelDefinition, Evidence)>>, PortError> {
        let counts = self.counts.lock().unwrap();
        let definition = ModelDefinition {
            prior: domain::Prior::Uniform,
            grid: domain::Grid::new(1_001).unwrap(),
        };
        Ok(experiments
            .iter()
            .map(|e| {
                e.order()
                    .map(|v| {
                        let c = counts.get(v.as_str()).copied().unwrap_or(Counts::ZERO);
                        (definition, c.into())
                    })
                    .collect()
            })
            .collect())
    }
    async fn announce(
        &self,
        _: u32,
        _: &str,
        seq: u64,
        event: &DecisionEvent,
    ) -> Result<AnnounceReply, PortError> {
        let mut seqs = self.seq.lock().unwrap();
        let stored = seqs.entry(event.experiment.clone()).or_default();
        if *stored != seq {
            return Ok(AnnounceReply::Stale(*stored));
        }
        *stored += 1;
        self.announced.lock().unwrap().push(event.clone());
        Ok(AnnounceReply::Announced(*stored))
    }
}

fn definition_batch(tick: u64) -> Batch {
    let draft = ExperimentDraft {
        kind: Some(domain::ExperimentKind::Ab),
        variants: vec!["a".into(), "b".into()],
        threshold: Some(0.001),
        ..ExperimentDraft::default()
    };
    let mut builder = BatchBuilder::new("0-0").with_tick(Some(1_000));
    builder.push_experiment(
        &format!("{}-0", tick - 1),
        ExperimentEvent {
            name: ModelName::parse("e").unwrap(),
            change: ExperimentChange::Defined(Experiment::new(&draft).unwrap()),
        },
    );
    builder.finish()
}

fn observed(tick: u64, model: &str) -> Batch {
    let mut builder = BatchBuilder::new("0-0").with_tick(Some(1_000));
    let events = vec![ModelEvent::Observed {
        model,
        wins: 1,
        trials: 1,
    }];
    builder.push(
        &format!("{}-0", tick - 1),
        Ok::<_, String>(events),
        String::new,
    );
    builder.finish()
}

#[tokio::test]
async fn each_change_is_announced_once_at_the_tick_it_was_reached() {
    let store = Arc::new(FakeStore::default());
    let mut referee = Referee::new(store.clone(), 0, 1_000);
    referee.open("0-0").await.unwrap();
    assert_eq!(
        referee.pending(),
        None,
        "a fresh partition has nothing to evaluate"
    );

    referee.note(&definition_batch(5_000));
    assert_eq!(referee.pending(), Some(5_000));
    referee.settle("5-0").await.unwrap().unwrap();
    assert!(
        store.announced.lock().unwrap().is_empty(),
        "no data, no winner"
    );

    // b pulls ahead: one announcement, at the tick's end, with the counts.
    store.counts.lock().unwrap().extend([
        ("a".to_owned(), Counts::new(100, 1_000).unwrap()),
        ("b".to_owned(), Counts::new(300, 1_000).unwrap()),
    ]);
    referee.note(&observed(7_000, "b"));
    referee.settle("7-0").await.unwrap().unwrap();
    // Evaluated again on the same counts: no second announcement.
    referee.note(&observed(8_000, "a"));
    referee.settle("8-0").await.unwrap().unwrap();
    // A model of no experiment marks nothing.
    referee.note(&observed(9_000, "unrelated"));
    assert_eq!(referee.pending(), None);
    {
        let announced = store.announced.lock().unwrap();
        assert_eq!(announced.len(), 1, "{announced:?}");
        let event = &announced[0];
        assert_eq!(
            (event.from.as_deref(), event.to.as_deref()),
            (None, Some("b"))
        );
        assert_eq!(event.at, 7_000);
        assert_eq!(
            event.counts,
            vec![
                ("a".to_owned(), [100.0, 1_000.0]),
                ("b".to_owned(), [300.0, 1_000.0])
            ]
        );
        assert_eq!(event.status, Status::Decided);
    }

    // The leader flips: exactly one more.
    store.counts.lock().unwrap().extend([
        ("a".to_owned(), Counts::new(700, 2_000).unwrap()),
        ("b".to_owned(), Counts::new(350, 2_000).unwrap()),
    ]);
    referee.note(&observed(10_000, "a"));
    referee.settle("10-0").await.unwrap().unwrap();
    let announced = store.announced.lock().unwrap().clone();
    assert_eq!(announced.len(), 2);
    assert_eq!(
        (announced[1].from.as_deref(), announced[1].to.as_deref()),
        (Some("b"), Some("a"))
    );

    // A second referee over the same store (a takeover), knowing nothing of
    // what was announced, is refused by the record: no repeat.
    let mut second = Referee::new(store.clone(), 0, 1_000);
    second.note(&definition_batch(10_000));
    second.settle("10-0").await.unwrap().unwrap();
    assert_eq!(store.announced.lock().unwrap().len(), 2);
}

#[test]
fn a_batch_holds_one_tick() {
    let mut builder = BatchBuilder::new("0-0").with_tick(Some(1_000));
    let one = || {
        Ok::<_, String>(vec![ModelEvent::Observed {
            model: "a",
            wins: 1,
            trials: 1,
        }])
    };
    builder.push("1000-0", one(), String::new);
    builder.push("1999-5", one(), String::new);
    assert!(!builder.is_cut());
    builder.push("2000-0", one(), String::new);
    builder.push("1999-9", one(), String::new);
    assert!(builder.is_cut());
    let batch = builder.finish();
    assert_eq!(
        (batch.entries, batch.tick, batch.last.as_str()),
        (2, 2_000, "1999-5")
    );
    assert!(batch.cut);
}
