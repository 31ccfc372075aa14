//! A bandit's Thompson draws and the list's pages.

use super::{defined, put};
use crate::harness::{SETTLE, TestApp, eventually};

use serde_json::{Value, json};

#[tokio::test]
async fn a_bandit_draws_by_thompson_and_the_list_pages_by_name() {
    let app = TestApp::spawn().await;
    // One variant exists already: only the other is created.
    app.call(
        "POST",
        "/models/arm-a/observations",
        Some(json!({"w": 5, "l": 5})),
    )
    .await;
    eventually("arm-a applied", SETTLE, || async {
        (app.call("GET", "/models/arm-a", None).await.0 == 200).then_some(())
    })
    .await;
    let (status, answer) = put(
        &app,
        "banner",
        json!({"kind": "bandit", "variants": ["arm-a", "arm-b"], "floor": 0.1, "half_life": "3d"}),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["created"], json!(["arm-b"]));
    assert_eq!(answer["definition"]["half_life"], "3d");
    assert_eq!(answer["definition"]["floor"], 0.1);
    let (status, _) = put(
        &app,
        "another",
        json!({"kind": "ab", "variants": ["arm-a", "arm-b"]}),
    )
    .await;
    assert_eq!(status, 202);
    let bandit = defined(&app, "banner").await;
    assert_eq!(bandit["srm"], Value::Null, "a bandit has no SRM check");
    assert_eq!(bandit["comparison"]["lens"]["half_life"], "3d");
    for _ in 0..5 {
        let (status, choice) = app.call("GET", "/experiments/banner/choose", None).await;
        assert_eq!(
            (status, &choice["by"]),
            (200, &json!("thompson")),
            "{choice}"
        );
        assert!(["arm-a", "arm-b"].contains(&choice["variant"].as_str().unwrap()));
        assert!(choice["warnings"].is_array());
    }

    defined(&app, "another").await;
    let (status, page) = app.call("GET", "/experiments?limit=1", None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["next"], "another", "{page}");
    let item = &page["experiments"][0];
    assert_eq!(
        (&item["name"], &item["kind"], &item["status"]),
        (&json!("another"), &json!("ab"), &json!("running"))
    );
    assert_eq!(item["variants"], json!(["arm-a", "arm-b"]));
    assert!(
        item["leader"].is_string() && item["p_best"].is_number(),
        "{item}"
    );
    assert!(item["srm"]["ok"].is_boolean(), "{item}");
    let (_, rest) = app.call("GET", "/experiments?after=another", None).await;
    assert_eq!(rest["experiments"][0]["name"], "banner", "{rest}");
    assert_eq!(rest["experiments"][0]["srm"], Value::Null);
    assert_eq!(rest["next"], Value::Null);
    assert_eq!(app.call("GET", "/experiments?limit=101", None).await.0, 400);
    assert_eq!(app.call("GET", "/experiments?after=-x", None).await.0, 400);
}
