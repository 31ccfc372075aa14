use super::*;
use domain::{Grid, Prior};

fn defaults() -> DefaultDefinitions {
    DefaultDefinitions::default()
}

fn add(model: &str, wins: u64, trials: u64) -> Op {
    Op::Add {
        model: model.into(),
        wins,
        trials,
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
        plan.writes[0],
        ("a".into(), ModelWrite::Whole(counts(1, 3), named))
    );
    let original = defaults().default_model;
    assert_eq!(plan.writes[1].1, ModelWrite::Whole(counts(0, 1), original));
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
        plan.writes,
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
    let stored = ModelState {
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
        cache.learn(model, Some(stored));
    }
    cache.learn("fresh", None);
    let plan = cache.plan(&batch, &defaults()).unwrap();
    assert_eq!(
        plan.writes,
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
        Some(ModelState {
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
