//! Named models end to end, on two partitions: every route, bad input,
//! unknown models, a deletion followed by re-creation, a redefinition,
//! pub/sub to a named channel, and a replay of the log alone.

use crate::harness::{SETTLE, TestApp, eventually};
use serde_json::{Value, json};

/// `GET /models/{name}` once its trial count is `n`.
async fn applied(app: &TestApp, name: &str, n: u64) -> Value {
    eventually(&format!("{name} to reach n = {n}"), SETTLE, || async {
        let (status, model) = app.call("GET", &format!("/models/{name}"), None).await;
        (status == 200 && model["n"] == n).then_some(model)
    })
    .await
}

async fn observe(app: &TestApp, name: &str, body: Value) -> (u16, Value) {
    app.call("POST", &format!("/models/{name}/observations"), Some(body))
        .await
}

#[tokio::test]
async fn a_named_model_lives_its_whole_life_over_http() {
    let app = TestApp::builder().env("PARTITIONS", "2").spawn().await;
    assert_eq!(app.call("GET", "/models/checkout", None).await.0, 404);

    // Every form of observation, all counted for the one model.
    for body in [
        json!({"trials": "wlw"}),
        json!({"trials": ["l", "w"]}),
        json!({"w": 30, "l": 170}),
    ] {
        let (status, answer) = observe(&app, "checkout", body).await;
        assert_eq!(status, 202, "{answer}");
        assert!(answer["id"].is_string(), "{answer}");
    }
    let model = applied(&app, "checkout", 205).await;
    assert_eq!(
        (model["w"].as_u64(), model["name"].as_str()),
        (Some(33), Some("checkout"))
    );
    assert_eq!(
        (model["prior"].as_str(), model["grid_points"].as_u64()),
        (Some("uniform"), Some(10_001)),
        "created with the named models' defaults"
    );

    // Bad names and bodies: 400 and nothing stored.
    for (name, body) in [
        ("-x", json!({"trials": "w"})),
        ("a b", json!({"trials": "w"})),
        ("checkout", json!({"trials": "wx"})),
        ("checkout", json!({"w": 1, "trials": "w"})),
        ("checkout", json!({"w": "many"})),
    ] {
        let (status, answer) = observe(&app, name, body.clone()).await;
        assert_eq!(status, 400, "{name} {body}: {answer}");
    }
    let (status, _) = observe(&app, "checkout", json!({"w": 10_001})).await;
    assert_eq!(status, 413);

    // Redefine the prior: the counts stay.
    let (status, _) = app
        .call(
            "PUT",
            "/models/checkout",
            Some(json!({"prior": "beta:2,5", "grid_points": 201})),
        )
        .await;
    assert_eq!(status, 202);
    let model = eventually("the new prior", SETTLE, || async {
        let (_, model) = app.call("GET", "/models/checkout", None).await;
        (model["prior"] == "beta:2,5").then_some(model)
    })
    .await;
    assert_eq!(
        (
            model["w"].as_u64(),
            model["n"].as_u64(),
            model["grid_points"].as_u64()
        ),
        (Some(33), Some(205), Some(201))
    );
    assert_eq!(
        app.call(
            "PUT",
            "/models/checkout",
            Some(json!({"prior": "beta:0,1"}))
        )
        .await
        .0,
        400
    );

    // The list, the curve and the plot.
    observe(&app, "banner", json!({"w": 1, "l": 1})).await;
    applied(&app, "banner", 2).await;
    let (_, list) = app.call("GET", "/models?limit=1", None).await;
    assert_eq!(
        (list["models"][0]["name"].as_str(), list["next"].as_str()),
        (Some("banner"), Some("banner"))
    );
    let (_, rest) = app.call("GET", "/models?after=banner", None).await;
    assert_eq!(rest["models"][0]["name"], "checkout");
    assert_eq!(rest["models"][0]["n"], 205);
    let (_, curve) = app.call("GET", "/models/checkout/posterior", None).await;
    assert_eq!(curve["posterior"].as_array().map(Vec::len), Some(201));
    let plot = app.graphs.path().join("checkout").join("posterior.png");
    eventually("checkout's plot", SETTLE, || async {
        plot.exists().then_some(())
    })
    .await;
    let png = app.get("/graphs/checkout/posterior.png").await.unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");

    // Delete, then re-create from nothing.
    assert_eq!(app.call("DELETE", "/models/checkout", None).await.0, 202);
    eventually("checkout deleted", SETTLE, || async {
        (app.call("GET", "/models/checkout", None).await.0 == 404).then_some(())
    })
    .await;
    eventually("its plot removed", SETTLE, || async {
        (!plot.exists()).then_some(())
    })
    .await;
    assert_eq!(app.call("DELETE", "/models/checkout", None).await.0, 404);
    observe(&app, "checkout", json!({"trials": "w"})).await;
    let model = applied(&app, "checkout", 1).await;
    assert_eq!(
        (model["w"].as_u64(), model["prior"].as_str()),
        (Some(1), Some("uniform"))
    );
    assert_eq!(app.model().await["n"], 0, "default untouched");
}

#[tokio::test]
async fn compare_and_choose_answer_from_the_stored_counts() {
    let app = TestApp::builder().env("PARTITIONS", "2").spawn().await;
    observe(&app, "control", json!({"w": 100, "l": 900})).await;
    observe(&app, "variant", json!({"w": 150, "l": 850})).await;
    applied(&app, "control", 1000).await;
    applied(&app, "variant", 1000).await;
    let (status, compared) = app
        .call("GET", "/compare?models=control,variant", None)
        .await;
    assert_eq!(status, 200, "{compared}");
    let against = &compared["models"][1]["against_baseline"];
    let grid = against["prob_beats_baseline"].as_f64().unwrap();
    let closed = against["prob_beats_baseline_closed_form"].as_f64();
    assert!(grid > 0.99, "{compared}");
    let closed = closed.expect("the named default, uniform, has a closed form");
    assert!((grid - closed).abs() < 1e-3, "{compared}");
    assert_eq!(compared["decision"]["winner"], "variant");

    for (uri, status) in [
        ("/compare?models=control", 400),
        ("/compare?models=control,control", 400),
        ("/compare?models=control,nobody", 404),
        ("/choose?models=control,nobody", 404),
        ("/choose?models=control,variant&floor=0.7", 400),
    ] {
        assert_eq!(app.call("GET", uri, None).await.0, status, "{uri}");
    }
    let mut variant = 0;
    for _ in 0..200 {
        let (_, chosen) = app
            .call("GET", "/choose?models=control,variant", None)
            .await;
        variant += u32::from(chosen["model"] == "variant");
    }
    assert!(
        variant > 190,
        "P(best) of variant is > 0.99: chosen {variant} of 200"
    );
    let metrics = app.get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("api_decisions_total{kind=\"choose\"} 200"),
        "{metrics}"
    );
    assert!(metrics.contains("\napi_models 2\n"), "{metrics}");
}

#[tokio::test]
async fn publish_to_a_named_channel_counts_for_that_model() {
    let app = TestApp::spawn().await;
    app.wait_for_subscriber().await;
    let mut connection = app.redis.connection().await;
    for (channel, trial) in [
        (format!("{}:ads", app.channel), "w"),
        (format!("{}:ads", app.channel), "l"),
        (app.channel.clone(), "w"),
        (format!("{}:bad name", app.channel), "w"),
    ] {
        let _: u64 = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(trial)
            .query_async(&mut connection)
            .await
            .unwrap();
    }
    let ads = applied(&app, "ads", 2).await;
    assert_eq!(ads["w"], 1);
    app.wait_for_n(1).await;
    assert_eq!(app.call("GET", "/models/bad%20name", None).await.0, 400);
}
