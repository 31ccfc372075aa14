//! A Thompson-sampling bandit run entirely over HTTP: three arms with known
//! rates, 20,000 pulls, each chosen by `GET /choose` and its outcome sent
//! back as observations. The best arm ends with most pulls; the regret is
//! printed.

use crate::harness::{SETTLE, TestApp, eventually};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::json;

const ARMS: [(&str, f64); 3] = [("arm-a", 0.04), ("arm-b", 0.05), ("arm-c", 0.07)];
const PULLS: usize = 20_000;
/// Pulls chosen before their outcomes are sent, as a real bandit batches them.
const ROUND: usize = 100;

#[tokio::test]
async fn thompson_sampling_over_http_finds_the_best_arm() {
    let app = TestApp::builder().env("PARTITIONS", "2").spawn().await;
    for (arm, _) in ARMS {
        let (status, _) = app
            .call(
                "PUT",
                &format!("/models/{arm}"),
                Some(json!({"prior": "uniform", "grid_points": 1001})),
            )
            .await;
        assert_eq!(status, 202);
    }
    let names = ARMS.map(|(arm, _)| arm).join(",");
    eventually("the arms defined", SETTLE, || async {
        (app.call("GET", &format!("/compare?models={names}"), None)
            .await
            .0
            == 200)
            .then_some(())
    })
    .await;

    let mut rng = StdRng::seed_from_u64(7);
    let mut pulls = [0usize; 3];
    let mut regret = 0.0;
    let best = ARMS.iter().map(|(_, rate)| *rate).fold(0.0, f64::max);
    let mut sent = 0u64;
    for round in 0..PULLS / ROUND {
        let mut outcomes = [(0u64, 0u64); 3];
        for _ in 0..ROUND {
            let (status, chosen) = app
                .call("GET", &format!("/choose?models={names}"), None)
                .await;
            assert_eq!(status, 200, "{chosen}");
            let arm = ARMS
                .iter()
                .position(|(arm, _)| chosen["model"] == *arm)
                .expect("one of the arms");
            pulls[arm] += 1;
            regret += best - ARMS[arm].1;
            let won = rng.random_bool(ARMS[arm].1);
            outcomes[arm].0 += u64::from(won);
            outcomes[arm].1 += u64::from(!won);
        }
        for (arm, (w, l)) in outcomes.iter().enumerate() {
            if w + l > 0 {
                let path = format!("/models/{}/observations", ARMS[arm].0);
                assert_eq!(
                    app.call("POST", &path, Some(json!({"w": w, "l": l})))
                        .await
                        .0,
                    202
                );
            }
        }
        sent += ROUND as u64;
        if round % 20 == 19 {
            println!("after {sent} pulls: pulls {pulls:?}, regret {regret:.1}");
        }
    }
    let (_, compared) = app
        .call("GET", &format!("/compare?models={names}"), None)
        .await;
    println!(
        "bandit: {PULLS} pulls {pulls:?} of rates {:?}; regret {regret:.1} (uniform play: {:.1}); verdict: {}",
        ARMS.map(|(_, rate)| rate),
        PULLS as f64 * (best - ARMS.iter().map(|(_, r)| r).sum::<f64>() / 3.0),
        compared["decision"]["verdict"]
    );
    assert!(
        pulls[2] > pulls[0] && pulls[2] > pulls[1],
        "the best arm has most pulls: {pulls:?}"
    );
    assert!(pulls[2] > PULLS / 2, "and most of them: {pulls:?}");
}
