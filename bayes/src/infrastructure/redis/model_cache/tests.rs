use super::*;
use domain::{Grid, Prior};
use platform::StoredModel;
use platform::scripts::apply::{HistoryPoint, HistoryStart};

fn defaults() -> DefaultDefinitions {
    DefaultDefinitions::default()
}

fn add(model: &str, wins: u64, trials: u64) -> Op {
    Op::Add {
        model: model.into(),
        wins,
        trials,
        at: 0,
    }
}

fn batch(after: &str, last: &str, ops: Vec<Op>) -> Batch {
    Batch {
        after: after.into(),
        last: last.into(),
        entries: ops.len() as u64,
        ops,
        ..Batch::default()
    }
}

fn counts(w: u64, n: u64) -> Counts {
    Counts::new(w, n).unwrap()
}

fn stored(state: ModelState) -> Option<StoredModel> {
    Some(StoredModel {
        state,
        changed: 0,
        known_from: 0,
    })
}

fn writes(plan: &Plan) -> Vec<(String, ModelWrite)> {
    plan.writes
        .iter()
        .map(|w| (w.model.clone(), w.write))
        .collect()
}

fn add_at(model: &str, wins: u64, trials: u64, at: u64) -> Op {
    Op::Add {
        model: model.into(),
        wins,
        trials,
        at,
    }
}

fn point(t: u64, w: u64, n: u64) -> HistoryPoint {
    HistoryPoint {
        t,
        counts: counts(w, n),
    }
}

#[test]
fn a_new_model_is_written_whole_with_its_default_and_then_by_counts() {
    let mut cache = ModelCache::default();
    let first = batch("0-0", "1-0", vec![add("a", 1, 3), add("default", 0, 1)]);
    cache.start_at(&first.after);
    assert_eq!(cache.missing(&first), ["a", "default"]);
    cache.learn("a", None);
    cache.learn("default", None);
    let plan = cache.plan(&first, &defaults()).unwrap();
    let named = defaults().named;
    assert_eq!(
        writes(&plan)[0],
        ("a".into(), ModelWrite::Whole(counts(1, 3), named))
    );
    let original = defaults().default_model;
    assert_eq!(
        plan.writes[1].write,
        ModelWrite::Whole(counts(0, 1), original)
    );
    assert_eq!(plan.created, ["a", "default"]);
    cache.commit(plan, &first.last);

    let second = batch("1-0", "2-0", vec![add("a", 2, 2)]);
    cache.start_at(&second.after);
    assert!(
        cache.missing(&second).is_empty(),
        "known since the last batch"
    );
    let plan = cache.plan(&second, &defaults()).unwrap();
    assert_eq!(
        writes(&plan),
        [("a".into(), ModelWrite::Counts(counts(3, 5)))]
    );
    assert!(plan.created.is_empty() && plan.removed.is_empty());
}

#[test]
fn a_batch_from_elsewhere_drops_what_was_known() {
    let mut cache = ModelCache::default();
    cache.start_at("1-0");
    cache.learn("a", None);
    cache.start_at("1-0");
    assert_eq!(cache.len(), 1);
    cache.start_at("5-0");
    assert!(cache.is_empty(), "another owner applied 1-0..5-0");
    cache.learn("a", None);
    cache.drop_all();
    assert!(cache.is_empty());
}

#[test]
fn definitions_and_deletions_keep_their_order_within_a_batch() {
    let mut cache = ModelCache::default();
    let beta = ModelDefinition {
        prior: Prior::parse("beta:2,5").unwrap(),
        grid: Grid::new(101).unwrap(),
    };
    let state = ModelState {
        counts: counts(4, 10),
        definition: Some(beta),
    };
    let ops = vec![
        add("kept", 1, 1),
        Op::Delete {
            model: "gone".into(),
        },
        Op::Delete {
            model: "again".into(),
        },
        add("again", 1, 2),
        Op::Define {
            model: "fresh".into(),
            definition: beta,
        },
    ];
    let batch = batch("0-0", "1-0", ops);
    cache.start_at("0-0");
    for model in ["kept", "gone", "again"] {
        cache.learn(model, stored(state));
    }
    cache.learn("fresh", None);
    let plan = cache.plan(&batch, &defaults()).unwrap();
    assert_eq!(
        writes(&plan),
        [
            ("kept".into(), ModelWrite::Counts(counts(5, 11))),
            ("gone".into(), ModelWrite::Deleted),
            (
                "again".into(),
                ModelWrite::Whole(counts(1, 2), defaults().named)
            ),
            ("fresh".into(), ModelWrite::Whole(Counts::ZERO, beta)),
        ]
    );
    assert_eq!(plan.created, ["fresh"]);
    assert_eq!(plan.removed, ["gone"]);
}

#[test]
fn trials_past_2_pow_53_are_refused_before_anything_is_written() {
    let mut cache = ModelCache::default();
    cache.start_at("0-0");
    cache.learn(
        "big",
        stored(ModelState {
            counts: counts(0, MAX_TRIALS - 1),
            definition: Some(defaults().named),
        }),
    );
    let fits = batch("0-0", "1-0", vec![add("big", 0, 1)]);
    assert!(cache.plan(&fits, &defaults()).is_ok());
    let over = batch("0-0", "1-0", vec![add("big", 0, 2)]);
    let error = cache.plan(&over, &defaults()).unwrap_err();
    assert_eq!(error.model, "big");
    assert_eq!(MAX_TRIALS, 9_007_199_254_740_991);
}

#[test]
fn a_change_in_a_later_interval_closes_the_point_of_the_last_one() {
    let mut cache = ModelCache::new(60_000);
    let first = batch(
        "0-0",
        "1-0",
        vec![
            add_at("a", 1, 2, 60_000),
            add_at("a", 1, 1, 60_000),
            add_at("a", 0, 3, 120_000),
            add_at("a", 2, 2, 240_000),
        ],
    );
    cache.start_at(&first.after);
    cache.learn("a", None);
    let plan = cache.plan(&first, &defaults()).unwrap();
    let write = &plan.writes[0];
    assert_eq!(write.points, [point(60_000, 2, 3), point(120_000, 2, 6)]);
    assert_eq!(write.changed, 240_000);
    assert_eq!(write.start, HistoryStart::Continue);
    assert_eq!(
        write.write,
        ModelWrite::Whole(counts(4, 8), defaults().named)
    );
    cache.commit(plan, &first.last);

    // The open point (240 s) is closed by the next batch's change.
    let second = batch("1-0", "2-0", vec![add_at("a", 0, 1, 300_000)]);
    cache.start_at(&second.after);
    let plan = cache.plan(&second, &defaults()).unwrap();
    assert_eq!(plan.writes[0].points, [point(240_000, 4, 8)]);
    assert_eq!(plan.writes[0].changed, 300_000);
    cache.commit(plan, &second.last);

    // Within the same interval: no point, and `t` stays as stored.
    let third = batch("2-0", "3-0", vec![add_at("a", 1, 1, 300_000)]);
    cache.start_at(&third.after);
    let plan = cache.plan(&third, &defaults()).unwrap();
    assert!(plan.writes[0].points.is_empty());
    assert_eq!(plan.writes[0].changed, 0, "unchanged: keep");
}

#[test]
fn a_deletion_starts_the_history_afresh() {
    let mut cache = ModelCache::new(60_000);
    cache.start_at("0-0");
    cache.learn(
        "a",
        Some(StoredModel {
            state: ModelState {
                counts: counts(1, 4),
                definition: Some(defaults().named),
            },
            changed: 60_000,
            known_from: 0,
        }),
    );
    let ops = vec![
        add_at("a", 1, 1, 120_000),
        Op::Delete { model: "a".into() },
        add_at("a", 0, 2, 180_000),
        add_at("a", 1, 1, 240_000),
    ];
    let plan = cache.plan(&batch("0-0", "1-0", ops), &defaults()).unwrap();
    let write = &plan.writes[0];
    assert_eq!(write.start, HistoryStart::Fresh);
    assert_eq!(
        write.points,
        [point(180_000, 0, 2)],
        "nothing of before the deletion"
    );
    assert_eq!(write.changed, 240_000);
}

#[test]
fn counts_from_before_history_become_its_base() {
    let mut cache = ModelCache::new(60_000);
    cache.start_at("0-0");
    cache.learn(
        "old",
        stored(ModelState {
            counts: counts(3, 7),
            definition: Some(defaults().named),
        }),
    );
    let plan = cache
        .plan(
            &batch("0-0", "1-0", vec![add_at("old", 1, 1, 180_000)]),
            &defaults(),
        )
        .unwrap();
    let write = &plan.writes[0];
    assert_eq!(write.start, HistoryStart::Base);
    assert_eq!(write.points, [point(120_000, 3, 7)]);
    assert_eq!(write.changed, 180_000);
}

#[test]
fn with_history_off_no_point_is_planned() {
    let mut cache = ModelCache::new(0);
    cache.start_at("0-0");
    cache.learn("a", None);
    let plan = cache
        .plan(
            &batch("0-0", "1-0", vec![add("a", 1, 1), add("a", 1, 1)]),
            &defaults(),
        )
        .unwrap();
    assert!(plan.writes[0].points.is_empty());
    assert_eq!(plan.writes[0].changed, 0);
}
