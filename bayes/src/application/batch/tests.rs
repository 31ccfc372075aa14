use super::*;
use domain::{Grid, Prior};

fn observed(model: &str, wins: u64, trials: u64) -> Result<[ModelEvent<'_>; 1], String> {
    Ok([ModelEvent::Observed {
        model,
        wins,
        trials,
    }])
}

#[test]
fn observations_for_a_model_merge_into_one_add() {
    let mut builder = BatchBuilder::new("0-0");
    builder.push("5-0", observed("default", 1, 1), String::new);
    builder.push("5-1", observed("b", 2, 5), String::new);
    builder.push("5-2", observed("default", 0, 1), String::new);
    let batch = builder.finish();
    assert_eq!((batch.after.as_str(), batch.last.as_str()), ("0-0", "5-2"));
    assert_eq!((batch.entries, batch.observations()), (3, 7));
    assert_eq!(batch.first_millis, Some(5));
    assert_eq!(
        batch.ops,
        [
            Op::Add {
                model: "default".into(),
                wins: 1,
                trials: 2,
                at: 0,
            },
            Op::Add {
                model: "b".into(),
                wins: 2,
                trials: 5,
                at: 0,
            },
        ]
    );
}

#[test]
fn a_definition_or_deletion_orders_the_observations_around_it() {
    let definition = ModelDefinition {
        prior: Prior::Uniform,
        grid: Grid::new(11).unwrap(),
    };
    let mut builder = BatchBuilder::new("0-0");
    builder.push("1-0", observed("a", 1, 1), String::new);
    builder.push("1-1", Ok([ModelEvent::Deleted { model: "a" }]), String::new);
    builder.push("1-2", observed("a", 0, 1), String::new);
    builder.push(
        "1-3",
        Ok([ModelEvent::Defined {
            model: "a",
            definition,
        }]),
        String::new,
    );
    builder.push("1-4", observed("a", 1, 1), String::new);
    let kinds: Vec<String> = builder
        .finish()
        .ops
        .iter()
        .map(|op| match op {
            Op::Add { wins, trials, .. } => format!("add {wins}/{trials}"),
            Op::Define { .. } => "define".into(),
            Op::Delete { .. } => "delete".into(),
        })
        .collect();
    assert_eq!(kinds, ["add 1/1", "delete", "add 0/1", "define", "add 1/1"]);
}

#[test]
fn rejected_entries_become_dead_letters_shortened() {
    let mut builder = BatchBuilder::new("0-0");
    builder.push(
        "1-0",
        Err::<[ModelEvent<'_>; 1], _>("no \"trial\" field".into()),
        || "x".repeat(10_000),
    );
    let batch = builder.finish();
    assert_eq!(batch.entries, 1);
    assert!(batch.ops.is_empty());
    assert_eq!(batch.dead[0].reason, "no \"trial\" field");
    assert!(batch.dead[0].raw.ends_with("(10000 bytes)"));
}

#[test]
fn stream_ids_carry_their_append_time() {
    assert_eq!(id_millis("1700000000123-7"), Some(1_700_000_000_123));
    assert_eq!(id_millis("garbage"), None);
}

#[test]
fn a_multi_model_entry_is_one_entry_of_several_adds() {
    let mut builder = BatchBuilder::new("0-0");
    let events = [
        ModelEvent::Observed {
            model: "a",
            wins: 1,
            trials: 2,
        },
        ModelEvent::Observed {
            model: "b",
            wins: 0,
            trials: 1,
        },
    ];
    builder.push("1-0", Ok(events), String::new);
    builder.push("1-1", observed("a", 1, 1), String::new);
    let batch = builder.finish();
    assert_eq!(batch.entries, 2);
    assert_eq!(batch.observations(), 4);
    assert_eq!(batch.ops.len(), 2, "a's adds merge");
}
