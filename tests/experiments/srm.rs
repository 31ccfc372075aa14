//! The sample-ratio-mismatch check in `GET /experiments/{name}`: a 45/55
//! split of 20,000 observations under 50/50 weights fires, a 50/50 one and
//! a 50.5/49.5 one do not; the p-values against values computed outside
//! the service (chi-square with 1 degree of freedom: p = erfc(√(χ²/2))).

use crate::harness::{SETTLE, TestApp, eventually};
use serde_json::{Value, json};

/// Python's `math.erfc(10)` and `math.erfc(1)`: χ² = 200 and χ² = 2.
const P_45_55: f64 = 2.088_487_583_762_545e-45;
const P_505_495: f64 = 0.157_299_207_050_285_13;

async fn split(app: &TestApp, name: &str, trials: [u64; 2]) -> Value {
    let variants = [format!("{name}-a"), format!("{name}-b")];
    let (status, body) = app
        .call(
            "PUT",
            &format!("/experiments/{name}"),
            Some(json!({"kind": "ab", "variants": variants, "weights": [0.5, 0.5]})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let path = format!("/experiments/{name}");
    // At once: the api checks the variants against the definition it just
    // appended, before bayes has applied it.
    for (variant, n) in variants.iter().zip(trials) {
        // At most 10,000 a request; rates alike (20%), so only the split differs.
        for part in [n / 2, n - n / 2] {
            let body = json!({"variant": variant, "w": part / 5, "l": part - part / 5});
            let (status, answer) = app
                .call("POST", &format!("{path}/observations"), Some(body))
                .await;
            assert_eq!(status, 202, "{answer}");
        }
    }
    let total = trials[0] + trials[1];
    eventually("the observations applied", SETTLE, || async {
        let (_, answer) = app.call("GET", &path, None).await;
        let n: f64 = answer["comparison"]["models"]
            .as_array()?
            .iter()
            .filter_map(|m| m["n"].as_f64())
            .sum();
        (n as u64 == total).then_some(answer)
    })
    .await["srm"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srm_fires_on_a_45_55_split_and_not_on_50_50() {
    let app = TestApp::spawn().await;
    let off = split(&app, "off", [9_000, 11_000]).await;
    assert_eq!(off["ok"], false, "{off}");
    assert!(
        (off["chi_square"].as_f64().unwrap() - 200.0).abs() < 1e-9,
        "{off}"
    );
    let p = off["p_value"].as_f64().unwrap();
    assert!((p / P_45_55 - 1.0).abs() < 1e-6, "{p} against {P_45_55}");

    let even = split(&app, "even", [10_000, 10_000]).await;
    assert_eq!(
        (even["ok"].as_bool(), even["p_value"].as_f64()),
        (Some(true), Some(1.0))
    );

    let near = split(&app, "near", [10_100, 9_900]).await;
    assert_eq!(near["ok"], true, "{near}");
    assert!(
        (near["p_value"].as_f64().unwrap() - P_505_495).abs() < 1e-12,
        "{near}"
    );

    // A bandit's split is meant to move: no check.
    let (status, body) = app
        .call(
            "PUT",
            "/experiments/arms",
            Some(json!({"kind": "bandit", "variants": ["x", "y"]})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let bandit = eventually("the bandit applied", SETTLE, || async {
        let (status, body) = app.call("GET", "/experiments/arms", None).await;
        (status == 200).then_some(body)
    })
    .await;
    assert!(bandit["srm"].is_null(), "{bandit}");
}
