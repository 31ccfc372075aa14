//! Experiments on the real binaries: decisions announced exactly once per
//! change — through a flip of the leader, a kill -9 between a batch's apply
//! and its announcement with a second instance taking over, and a rebuild
//! from the log, which announces the same events with the same ids.

mod announce;
mod http;
mod replay;
mod srm;

use crate::harness::TestApp;
use platform::stored_experiment::DecisionEvent;
use serde_json::{Value, json};

/// Defines `name` by appending its definition to the log, as the api does.
pub(super) async fn define(app: &TestApp, name: &str, spec: Value) {
    let draft: domain::ExperimentDraft = serde_json::from_value(spec).unwrap();
    let experiment = domain::Experiment::new(&draft).unwrap();
    let fields = platform::log_entry::experiments::definition_fields(name, &experiment);
    let keys = app.keys();
    let stream = &keys
        .partition_for_experiment(&domain::ModelName::parse(name).unwrap())
        .events;
    let mut connection = app.redis.connection().await;
    let _: String = redis::cmd("XADD")
        .arg(stream)
        .arg("*")
        .arg(&fields)
        .query_async(&mut connection)
        .await
        .unwrap();
}

/// `w` wins of `n` trials for `model`, through the api (one log entry).
pub(super) async fn observe(app: &TestApp, model: &str, w: u64, n: u64) {
    let (status, body) = app
        .call(
            "POST",
            &format!("/models/{model}/observations"),
            Some(json!({"w": w, "l": n - w})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
}

/// Every announced event, with its stream id, over every partition, in id order.
pub(super) async fn decisions(app: &TestApp) -> Vec<(String, DecisionEvent)> {
    let mut connection = app.redis.connection().await;
    let mut all = Vec::new();
    for partition in app.keys().partitions() {
        let entries: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
            .arg(&partition.decisions)
            .arg("-")
            .arg("+")
            .query_async(&mut connection)
            .await
            .unwrap();
        for (id, fields) in entries {
            let event = DecisionEvent::parse(&fields).unwrap_or_else(|e| panic!("{id}: {e}"));
            all.push((id, event));
        }
    }
    all.sort_by_key(|(id, _)| {
        let (ms, seq) = id.split_once('-').unwrap();
        (ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap())
    });
    all
}

/// The experiment's hash, as stored.
pub(super) async fn stored(
    app: &TestApp,
    name: &str,
) -> Option<platform::stored_experiment::StoredExperiment> {
    let mut connection = app.redis.connection().await;
    let values: [Option<String>; 9] = redis::cmd("HMGET")
        .arg(
            app.keys()
                .experiment(&domain::ModelName::parse(name).unwrap()),
        )
        .arg(&platform::stored_experiment::FIELDS)
        .query_async(&mut connection)
        .await
        .unwrap();
    platform::stored_experiment::decode(&values).unwrap()
}

/// What the events say, without their ids: who, from, to.
pub(super) fn moves(
    events: &[(String, DecisionEvent)],
) -> Vec<(String, Option<String>, Option<String>)> {
    events
        .iter()
        .map(|(_, e)| (e.experiment.clone(), e.from.clone(), e.to.clone()))
        .collect()
}
