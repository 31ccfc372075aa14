//! An A/B test's whole life over HTTP.

use super::{defined, put};
use crate::harness::{SETTLE, TestApp, eventually};

use serde_json::{Value, json};

#[tokio::test]
async fn an_ab_test_lives_its_whole_life_over_http() {
    let app = TestApp::builder().env("PARTITIONS", "2").spawn().await;
    let (status, answer) = put(
        &app,
        "checkout",
        json!({"kind": "ab", "variants": ["control", "v1"], "weights": [0.5, 0.5], "window": "2d"}),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["name"], "checkout");
    assert!(answer["id"].is_string(), "{answer}");
    assert_eq!(answer["created"], json!(["control", "v1"]));
    assert_eq!(
        answer["definition"],
        json!({"kind": "ab", "variants": ["control", "v1"], "baseline": "control",
               "threshold": 0.0025, "weights": [0.5, 0.5], "window": "2d"})
    );
    let experiment = defined(&app, "checkout").await;
    assert_eq!(experiment["status"], "running", "{experiment}");
    assert_eq!(experiment["definition"], answer["definition"]);
    assert_eq!(experiment["decision"]["seq"], 0);
    assert_eq!(experiment["decision"]["winner"], Value::Null);
    assert_eq!(experiment["stopped"], Value::Null);
    assert!(experiment["srm"]["p_value"].is_number(), "{experiment}");
    assert!(experiment["defined_at"].as_u64().unwrap() > 0);
    let names: Vec<&str> = experiment["comparison"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["control", "v1"], "the baseline first");
    assert_eq!(experiment["comparison"]["lens"]["window"], "2d");
    for variant in ["control", "v1"] {
        let path = format!("/models/{variant}");
        eventually(&format!("{variant} created"), SETTLE, || async {
            (app.call("GET", &path, None).await.0 == 200).then_some(())
        })
        .await;
    }

    // Observations: a keyed one replayed counts once; a stranger is refused.
    let observe = |body: Value, key: &'static str| {
        let request = app
            .http
            .post(format!("{}/experiments/checkout/observations", app.api_url))
            .header("idempotency-key", key)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            let replayed = response.headers().contains_key("idempotent-replayed");
            let status = response.status().as_u16();
            (status, replayed, response.json::<Value>().await.unwrap())
        }
    };
    let first = observe(json!({"variant": "v1", "w": 300, "l": 700}), "k1").await;
    assert_eq!((first.0, first.1), (202, false), "{}", first.2);
    let again = observe(json!({"variant": "v1", "w": 300, "l": 700}), "k1").await;
    assert_eq!((again.0, again.1), (202, true), "{}", again.2);
    assert_eq!(again.2, first.2, "the first answer, word for word");
    let control = observe(
        json!({"variant": "control", "trials": "l".repeat(990) + &"w".repeat(10)}),
        "k2",
    )
    .await;
    assert_eq!(control.0, 202, "{}", control.2);
    let stranger = observe(json!({"variant": "v2", "w": 1}), "k3").await;
    assert_eq!(stranger.0, 400, "{}", stranger.2);
    assert!(stranger.2["error"].as_str().unwrap().starts_with("variant"));
    let (status, answer) = app
        .call(
            "POST",
            "/experiments/checkout/observations",
            Some(json!({"w": 1})),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("variant"));
    let (status, _) = app
        .call(
            "POST",
            "/experiments/checkout/observations",
            Some(json!({"variant": "v1", "trials": "wx"})),
        )
        .await;
    assert_eq!(status, 400);

    // bayes announces v1 once the tick is over; the answer shows it.
    let decided = eventually("v1 announced the winner", SETTLE, || async {
        let (_, e) = app.call("GET", "/experiments/checkout", None).await;
        (e["status"] == "decided").then_some(e)
    })
    .await;
    assert_eq!(decided["decision"]["winner"], "v1", "{decided}");
    assert_eq!(decided["decision"]["seq"], 1);
    assert!(decided["decision"]["at"].as_u64().is_some());
    assert_eq!(decided["comparison"]["decision"]["winner"], "v1");
    let trials: Vec<u64> = decided["comparison"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["n"].as_u64().unwrap())
        .collect();
    assert_eq!(trials, [1000, 1000], "the replay counted once");
    assert_eq!(decided["srm"]["ok"], true, "1000 and 1000 at 50/50");
    let (_, decisions) = app
        .call("GET", "/experiments/checkout/decisions", None)
        .await;
    assert_eq!(decisions["decisions"][0]["to"], "v1", "{decisions}");
    assert_eq!(decisions["decisions"][0]["status"], "decided");
    assert_eq!(
        decisions["decisions"][0]["counts"]["v1"],
        json!([300.0, 1000.0])
    );

    // Assignment by the weights.
    for _ in 0..5 {
        let (status, choice) = app.call("GET", "/experiments/checkout/choose", None).await;
        assert_eq!(
            (status, &choice["by"]),
            (200, &json!("weights")),
            "{choice}"
        );
        assert!(["control", "v1"].contains(&choice["variant"].as_str().unwrap()));
    }

    // History: each variant's rate, band, chance to win, and the winner then.
    let (status, history) = app.call("GET", "/experiments/checkout/history", None).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["variants"], json!(["control", "v1"]));
    let last = history["points"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["winner"], "v1", "{history}");
    assert_eq!(last["leader"], "v1");
    let v1 = &last["variants"][1];
    assert_eq!(
        (v1["name"].as_str(), v1["n"].as_f64()),
        (Some("v1"), Some(1000.0))
    );
    assert!((v1["mean"].as_f64().unwrap() - 0.3).abs() < 0.01, "{v1}");
    assert!(v1["interval_89"][0].as_f64() < v1["mean"].as_f64());
    assert!(v1["p_best"].as_f64().unwrap() > 0.99);
    assert!(v1["expected_loss"].is_number());
    let (status, _) = app
        .call("GET", "/experiments/checkout/history?step=90s", None)
        .await;
    assert_eq!(status, 400, "a step that is not a multiple of the interval");

    // Stop: a stranger refused, then once, then 409.
    let stop = |variant: &str| {
        app.call(
            "POST",
            "/experiments/checkout/stop",
            Some(json!({ "variant": variant })),
        )
    };
    assert_eq!(stop("v9").await.0, 400);
    let (status, answer) = stop("v1").await;
    assert_eq!(status, 202, "{answer}");
    let stopped = eventually("the stop applied", SETTLE, || async {
        let (_, e) = app.call("GET", "/experiments/checkout", None).await;
        (e["status"] == "stopped").then_some(e)
    })
    .await;
    assert_eq!(stopped["stopped"]["variant"], "v1", "{stopped}");
    let (status, answer) = stop("control").await;
    assert_eq!(status, 409, "{answer}");
    let (_, choice) = app.call("GET", "/experiments/checkout/choose", None).await;
    assert_eq!(
        (&choice["variant"], &choice["by"]),
        (&json!("v1"), &json!("stopped"))
    );

    // Delete: the experiment goes, its models stay.
    let (status, answer) = app.call("DELETE", "/experiments/checkout", None).await;
    assert_eq!(status, 202, "{answer}");
    eventually("the deletion applied", SETTLE, || async {
        (app.call("GET", "/experiments/checkout", None).await.0 == 404).then_some(())
    })
    .await;
    let (status, model) = app.call("GET", "/models/v1", None).await;
    assert_eq!((status, &model["n"]), (200, &json!(1000)));
}
