use super::*;
use proptest::prelude::*;

fn fields(pairs: &[(&str, &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
    pairs
        .iter()
        .map(|(f, v)| (f.as_bytes().to_vec(), v.to_vec()))
        .collect()
}

fn event(pairs: &[(&str, &[u8])]) -> Result<String, String> {
    decode_one(&fields(pairs)).map(|e| format!("{e:?}"))
}

/// The one event of an entry that holds one.
fn decode_one<F: AsRef<[u8]>, V: AsRef<[u8]>>(fields: &[(F, V)]) -> Result<LogEvent<'_>, String> {
    match decode(fields)? {
        Decoded::One(event) => Ok(event),
        Decoded::Many(events) => Err(format!("{} events", events.len())),
        Decoded::Experiment(event) => Err(format!("experiment {}", event.name)),
    }
}

fn experiment(pairs: &[(&str, &[u8])]) -> Result<ExperimentEvent, String> {
    match decode(&fields(pairs))? {
        Decoded::Experiment(event) => Ok(event),
        other => Err(format!("{other:?}")),
    }
}

#[test]
fn experiment_entries_decode_and_bad_ones_say_why() {
    let spec = br#"{"kind":"ab","variants":["a","b"],"weights":[0.5,0.5]}"#;
    let defined = experiment(&[("experiment", b"e1"), ("op", b"experiment"), ("spec", spec)]);
    let Ok(ExperimentEvent {
        name,
        change: ExperimentChange::Defined(definition),
    }) = defined
    else {
        panic!("{defined:?}");
    };
    assert_eq!((name.as_str(), definition.variants().len()), ("e1", 2));
    // The api's own fields read back as what it wrote.
    let written = experiments::definition_fields("e1", &definition);
    let written: Vec<(&str, &[u8])> = written.iter().map(|(f, v)| (*f, v.as_bytes())).collect();
    assert!(matches!(
        experiment(&written),
        Ok(ExperimentEvent { change: ExperimentChange::Defined(d), .. }) if d == definition
    ));
    assert_eq!(
        experiment(&[
            ("experiment", b"e1"),
            ("op", b"experiment_stop"),
            ("variant", b"b")
        ])
        .map(|e| e.change),
        Ok(ExperimentChange::Stopped(
            domain::ModelName::parse("b").unwrap()
        ))
    );
    assert_eq!(
        experiment(&[("experiment", b"e1"), ("op", b"experiment_delete")]).map(|e| e.change),
        Ok(ExperimentChange::Deleted)
    );
    let refused = |pairs: &[(&str, &[u8])]| experiment(pairs).expect_err("refused");
    let bad_weights = br#"{"kind":"ab","variants":["a","b"],"weights":[0.5,0.6]}"#;
    assert!(
        refused(&[
            ("experiment", b"e1"),
            ("op", b"experiment"),
            ("spec", bad_weights)
        ])
        .contains("weights")
    );
    assert!(
        refused(&[("experiment", b"e1"), ("op", b"experiment"), ("spec", b"{")]).contains("spec")
    );
    assert!(refused(&[("experiment", b"e1"), ("op", b"experiment")]).contains("spec"));
    assert!(
        refused(&[("experiment", b"a/b"), ("op", b"experiment_delete")]).contains("experiment")
    );
    assert!(refused(&[("experiment", b"e1"), ("op", b"define")]).contains("op"));
    assert!(
        refused(&[
            ("experiment", b"e1"),
            ("op", b"experiment_delete"),
            ("trial", b"w")
        ])
        .contains("trial")
    );
    assert!(refused(&[("trial", b"w"), ("variant", b"b")]).contains("variant"));
}

#[test]
fn one_trial_is_one_observation_for_default() {
    let f = fields(&[("trial", b"w"), ("source", b"pubsub")]);
    assert_eq!(
        decode_one(&f),
        Ok(LogEvent::Observed {
            model: "default",
            wins: 1,
            trials: 1
        })
    );
}

#[test]
fn other_fields_are_metadata() {
    let f = fields(&[("trial", b"l"), ("note", b"from the import")]);
    assert_eq!(
        decode_one(&f),
        Ok(LogEvent::Observed {
            model: "default",
            wins: 0,
            trials: 1
        })
    );
}

#[test]
fn a_group_commit_counts_its_trials_for_its_model() {
    let f = fields(&[("model", b"b"), ("trials", b"wlwwl")]);
    assert_eq!(
        decode_one(&f),
        Ok(LogEvent::Observed {
            model: "b",
            wins: 3,
            trials: 5
        })
    );
}

#[test]
fn definitions_and_deletions_decode() {
    let f = fields(&[
        ("model", b"b"),
        ("op", b"define"),
        ("prior", b"beta:2,5"),
        ("grid_points", b"1001"),
    ]);
    let LogEvent::Defined { model, definition } = decode_one(&f).unwrap() else {
        panic!("not a definition");
    };
    assert_eq!((model, definition.grid.points()), ("b", 1001));
    let f = fields(&[("model", b"b"), ("op", b"delete")]);
    assert_eq!(decode_one(&f), Ok(LogEvent::Deleted { model: "b" }));
}

#[test]
fn malformed_entries_are_refused_with_a_reason() {
    type Case<'a> = (&'a [(&'a str, &'a [u8])], &'a str);
    let cases: [Case<'_>; 11] = [
        (&[("trial", b"x")], "invalid trial \"x\""),
        (&[("trial", b"W")], "invalid trial \"W\""),
        (&[("trials", b"wlx")], "\"trials\" holds 'x' at byte 2"),
        (&[("trials", b"")], "empty \"trials\""),
        (
            &[("other", b"w")],
            "no \"trial\", \"trials\" or \"op\" field",
        ),
        (
            &[("trial", b"w"), ("trial", b"l")],
            "more than one \"trial\"",
        ),
        (&[("trial", b"w"), ("trials", b"l")], "more than one of"),
        (&[("trial", b"w"), ("model", b"a/b")], "invalid model name"),
        (&[("op", b"drop")], "unknown op \"drop\""),
        (
            &[
                ("op", b"define"),
                ("prior", b"beta:0,1"),
                ("grid_points", b"9"),
            ],
            "Beta shapes",
        ),
        (
            &[
                ("op", b"define"),
                ("prior", b"beta:2,2"),
                ("grid_points", b"2"),
            ],
            "no mass",
        ),
    ];
    for (pairs, expected) in cases {
        let error = event(pairs).expect_err(expected);
        assert!(error.contains(expected), "{error} lacks {expected}");
    }
}

#[test]
fn the_writers_fields_decode_back() {
    let model = "exp-1.b";
    let entry: Vec<(Vec<u8>, Vec<u8>)> = observations_fields(model, "wwl")
        .into_iter()
        .map(|(f, v)| (f.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    assert_eq!(
        decode_one(&entry),
        Ok(LogEvent::Observed {
            model,
            wins: 2,
            trials: 3
        })
    );
    assert_eq!(observations_fields("default", "w"), [(TRIALS, "w")]);
    let definition = ModelDefinition::default();
    let entry: Vec<(String, String)> = definition_fields(model, definition)
        .into_iter()
        .map(|(f, v)| (f.to_owned(), v))
        .collect();
    assert_eq!(
        decode_one(&entry),
        Ok(LogEvent::Defined { model, definition })
    );
}

#[test]
fn a_multi_model_group_commit_holds_each_model_s_run() {
    let f = fields(&[
        ("trials:a", b"wwl"),
        ("trials:default", b"l"),
        ("source", b"api"),
    ]);
    let events: Vec<LogEvent<'_>> = decode(&f).unwrap().into_iter().collect();
    assert_eq!(
        events,
        [
            LogEvent::Observed {
                model: "a",
                wins: 2,
                trials: 3
            },
            LogEvent::Observed {
                model: "default",
                wins: 0,
                trials: 1
            },
        ]
    );
    let written = runs_fields(&[("a", "wwl"), ("default", "l")]);
    assert_eq!(written[0], ("trials:a".to_owned(), "wwl".to_owned()));
    assert_eq!(decode(&written).unwrap().into_iter().count(), 2);
    // One run is written in the one-model shape.
    assert_eq!(
        runs_fields(&[("a", "w")]),
        [("model".into(), "a".into()), ("trials".into(), "w".into())]
    );
}

#[test]
fn a_bad_run_rejects_the_whole_entry() {
    type Case<'a> = (&'a [(&'a str, &'a [u8])], &'a str);
    let cases: [Case<'_>; 5] = [
        (&[("trials:a", b"w"), ("trials:b", b"wx")], "at byte 1"),
        (
            &[("trials:a", b"w"), ("trials:a", b"l")],
            "more than one \"trials:a\"",
        ),
        (&[("trials:a", b"w"), ("trials", b"l")], "come alone"),
        (&[("trials:a", b"w"), ("model", b"b")], "come alone"),
        (&[("trials:b@d", b"w")], "trials:"),
    ];
    for (pairs, expected) in cases {
        let error = decode(&fields(pairs)).expect_err(expected);
        assert!(error.contains(expected), "{error} lacks {expected}");
    }
    assert!(
        decode(&fields(&[("trials:", b"w")])).is_err(),
        "an empty name"
    );
}

proptest! {
    /// Arbitrary field/value bytes never panic, and an entry counts only
    /// when it is exactly one of the documented shapes.
    #[test]
    fn arbitrary_entries_decode_without_panic(
        raw in proptest::collection::vec(
            (
                prop_oneof![Just(b"trial".to_vec()), Just(b"trials".to_vec()), Just(b"model".to_vec()), proptest::collection::vec(any::<u8>(), 0..8)],
                prop_oneof![Just(b"w".to_vec()), Just(b"l".to_vec()), Just(b"wl".to_vec()), proptest::collection::vec(any::<u8>(), 0..40)],
            ),
            0..4,
        )
    ) {
        if let Ok(LogEvent::Observed { wins, trials, .. }) = decode_one(&raw) {
            prop_assert!(wins <= trials && trials >= 1);
            let counted: Vec<_> = raw.iter().filter(|(f, _)| f == b"trial" || f == b"trials").collect();
            prop_assert_eq!(counted.len(), 1);
            prop_assert!(counted[0].1.iter().all(|b| *b == b'w' || *b == b'l'));
        }
    }
}
