//! Six partitions spread over three masters, many models counted exactly
//! through a kill -9 of bayes, `bayes status` per node, and pub/sub
//! forwarded once on a cluster.

use super::{ClusterApp, wait_applied};
use crate::harness::{SETTLE, eventually};
use platform::partition::key_slot;
use std::collections::{BTreeMap, BTreeSet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_partitions_spread_over_three_masters_and_many_models_count_exactly_through_a_kill_9() {
    let mut app = ClusterApp::start(&[("BATCH_SIZE", "50")], 0).await;
    // The partitions' slots lie on all three masters, two each.
    let masters: BTreeMap<u16, u32> =
        app.keys()
            .partitions()
            .iter()
            .fold(BTreeMap::new(), |mut masters, partition| {
                *masters
                    .entry(app.cluster.master_of_slot(key_slot(&partition.events)))
                    .or_default() += 1;
                masters
            });
    assert_eq!(
        masters.values().copied().collect::<Vec<_>>(),
        [2, 2, 2],
        "{masters:?}"
    );
    let ready: serde_json::Value = app
        .http
        .get(format!("{}/readyz", app.api_url))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("JSON");
    assert_eq!(ready["cluster"]["state"], "ok", "{ready}");
    assert_eq!(ready["cluster"]["masters"], 3, "{ready}");

    let expected = store_while_no_bayes_runs(&app).await;

    // Three instances drain it; one is killed mid-drain.
    for _ in 0..3 {
        app.start_bayes();
    }
    let total: u64 = expected.values().map(|(_, n)| n).sum();
    eventually("the drain under way", SETTLE, || async {
        let applied: u64 = expected.keys().map(|m| app.counts(m).1).sum();
        (applied > 0 && applied < total).then_some(())
    })
    .await;
    app.bayes[0].kill();
    wait_applied(&app).await;
    for (model, (w, n)) in &expected {
        assert_eq!(app.counts(model), (*w, *n), "{model}: {}", app.logs());
    }

    // `bayes status` names the node serving each partition.
    let env: Vec<(&str, &str)> = app
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (code, stdout) = bayes_status(&env);
    assert!(code, "{stdout}");
    // The partition table's rows: a partition number first.
    let rows = stdout.lines().filter(|line| {
        let first = line.split_whitespace().next();
        first.is_some_and(|p| p.parse::<u32>().is_ok())
    });
    let nodes: BTreeSet<&str> = rows
        .filter_map(|line| {
            line.split_whitespace()
                .find(|w| w.starts_with("127.0.0.1:"))
        })
        .collect();
    assert_eq!(nodes.len(), 3, "{stdout}");

    published_on_any_node_is_forwarded_once(&app).await;
}

/// 40 models, 3,000 requests of 10 trials, stored while no bayes runs;
/// `(w, n)` per model.
async fn store_while_no_bayes_runs(app: &ClusterApp) -> BTreeMap<String, (u64, u64)> {
    let models = 40;
    let mut expected = BTreeMap::new();
    let mut sends = Vec::new();
    for i in 0..3_000usize {
        let model = format!("arm-{}", i % models);
        let trials = if i % 3 == 0 {
            "wwwwwlllll"
        } else {
            "wwllllllll"
        };
        let entry = expected.entry(model.clone()).or_insert((0u64, 0u64));
        entry.0 += trials.matches('w').count() as u64;
        entry.1 += 10;
        let (http, url) = (app.http.clone(), app.api_url.clone());
        sends.push(async move {
            http.post(format!("{url}/models/{model}/observations"))
                .json(&serde_json::json!({ "trials": trials }))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        if sends.len() == 64 {
            for status in futures_util::future::join_all(sends.drain(..)).await {
                assert_eq!(status.expect("POST"), 202);
            }
        }
    }
    for status in futures_util::future::join_all(sends).await {
        assert_eq!(status.expect("POST"), 202);
    }
    expected
}

/// pub/sub on a cluster: published on any node, forwarded once. The lease
/// holder alone subscribes (to a pattern), so one pattern subscription over
/// all nodes means one forwarder; a last `w` published after the rest is
/// the barrier: once it is counted, everything published before it is.
async fn published_on_any_node_is_forwarded_once(app: &ClusterApp) {
    let patterns = || {
        let ports = app.cluster.ports();
        let each = ports.iter().map(|p| {
            let mut connection = app.cluster.connection(*p);
            let numpat = redis::cmd("PUBSUB")
                .arg("NUMPAT")
                .query::<u64>(&mut connection);
            numpat.expect("PUBSUB NUMPAT")
        });
        each.sum::<u64>()
    };
    eventually("one forwarder subscribed", SETTLE, || async {
        (patterns() == 1).then_some(())
    })
    .await;
    let channel = format!("{}-update_model:arm-0", app.prefix);
    let mut connection = app.cluster.connection(app.cluster.ports()[5]);
    let mut publish = |trial: &str| {
        let () = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(trial)
            .query(&mut connection)
            .expect("PUBLISH");
    };
    let (w, n) = app.counts("arm-0");
    for _ in 0..20 {
        publish("l");
    }
    publish("w");
    let counted = eventually("21 published counted", SETTLE, || async {
        let counts = app.counts("arm-0");
        assert!(counts.1 <= n + 21, "{counts:?}: counted twice");
        (counts.1 == n + 21).then_some(counts)
    })
    .await;
    assert_eq!(counted, (w + 1, n + 21), "20 losses and the barrier's win");
    assert_eq!(patterns(), 1, "still one forwarder");
}

fn bayes_status(env: &[(&str, &str)]) -> (bool, String) {
    let mut command = std::process::Command::new(crate::harness::binary_path("bayes"));
    command.arg("status");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("bayes status runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}
