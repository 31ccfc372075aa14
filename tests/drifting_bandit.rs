//! A drifting bandit over HTTP: three arms whose rates swap halfway
//! through 20,000 pulls. Two bandits run side by side on the same arms'
//! outcomes, one reading every observation alike, one with a half-life in
//! log time; after the swap the decayed one moves to the new best arm and
//! its regret is far below the stationary one's. Figures are printed.

use crate::harness::{SETTLE, TestApp, eventually};
use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::json;
use std::time::{Duration, Instant};

/// The arms' rates before and after the swap: the best becomes the worst.
const BEFORE: [f64; 3] = [0.10, 0.05, 0.02];
const AFTER: [f64; 3] = [0.02, 0.05, 0.10];
const PULLS: usize = 20_000;
/// Pulls chosen (concurrently) before their outcomes are sent.
const ROUND: usize = 100;
/// Log time a round takes at least, so the history has intervals to weigh.
const ROUND_TIME: Duration = Duration::from_millis(60);

/// One bandit: its arms' model names and the lens it chooses with.
struct Bandit {
    arms: [String; 3],
    lens: &'static str,
    pulls_after: [usize; 3],
    regret_before: f64,
    regret_after: f64,
}

impl Bandit {
    fn new(prefix: &str, lens: &'static str) -> Self {
        Self {
            arms: ["a", "b", "c"].map(|arm| format!("{prefix}-{arm}")),
            lens,
            pulls_after: [0; 3],
            regret_before: 0.0,
            regret_after: 0.0,
        }
    }

    fn choose_path(&self) -> String {
        format!("/choose?models={}{}", self.arms.join(","), self.lens)
    }

    /// One round: `ROUND` draws, their outcomes, then one batch of
    /// observations per arm.
    async fn round(&mut self, app: &TestApp, rates: [f64; 3], after: bool, rng: &mut StdRng) {
        let path = self.choose_path();
        let draws = join_all((0..ROUND).map(|_| app.call("GET", &path, None))).await;
        let best = rates.iter().copied().fold(0.0, f64::max);
        let mut outcomes = [(0u64, 0u64); 3];
        for (status, chosen) in draws {
            assert_eq!(status, 200, "{chosen}");
            let arm = self
                .arms
                .iter()
                .position(|arm| chosen["model"] == *arm)
                .expect("one of the arms");
            let regret = best - rates[arm];
            if after {
                self.pulls_after[arm] += 1;
                self.regret_after += regret;
            } else {
                self.regret_before += regret;
            }
            let won = rng.random_bool(rates[arm]);
            outcomes[arm].0 += u64::from(won);
            outcomes[arm].1 += u64::from(!won);
        }
        for (arm, (w, l)) in outcomes.iter().enumerate() {
            if w + l > 0 {
                let path = format!("/models/{}/observations", self.arms[arm]);
                let (status, body) = app.call("POST", &path, Some(json!({"w": w, "l": l}))).await;
                assert_eq!(status, 202, "{body}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_half_life_a_bandit_follows_rates_that_swap() {
    let app = TestApp::builder()
        .env("HISTORY_INTERVAL", "1s")
        .env("HISTORY_RETENTION", "1h")
        .bayes_env("READ_COALESCE_MS", "1")
        // Plots are not what this test is about: draw them seldom.
        .bayes_env("RENDER_INTERVAL_MS", "10000")
        .spawn()
        .await;
    let mut stationary = Bandit::new("still", "");
    let mut decayed = Bandit::new("fading", "&half_life=3s");
    for arm in stationary.arms.iter().chain(&decayed.arms) {
        let (status, _) = app
            .call(
                "PUT",
                &format!("/models/{arm}"),
                Some(json!({"prior": "uniform", "grid_points": 1001})),
            )
            .await;
        assert_eq!(status, 202);
    }
    for bandit in [&stationary, &decayed] {
        let path = bandit.choose_path();
        eventually("the arms defined", SETTLE, || async {
            (app.call("GET", &path, None).await.0 == 200).then_some(())
        })
        .await;
    }

    let mut rng = StdRng::seed_from_u64(11);
    let started = Instant::now();
    for round in 0..PULLS / ROUND {
        let after = round >= PULLS / ROUND / 2;
        let rates = if after { AFTER } else { BEFORE };
        let paced = Instant::now();
        stationary.round(&app, rates, after, &mut rng).await;
        decayed.round(&app, rates, after, &mut rng).await;
        tokio::time::sleep(ROUND_TIME.saturating_sub(paced.elapsed())).await;
    }
    let half = (PULLS / 2) as f64;
    for (name, bandit) in [("stationary", &stationary), ("half_life=3s", &decayed)] {
        println!(
            "drifting bandit, {name}: {PULLS} pulls in {:.1} s; regret before the swap {:.1}, \
             after {:.1}; pulls after the swap {:?} (the new best is the last; uniform play's \
             regret after: {:.1})",
            started.elapsed().as_secs_f64(),
            bandit.regret_before,
            bandit.regret_after,
            bandit.pulls_after,
            half * (0.10 - (0.02 + 0.05 + 0.10) / 3.0),
        );
    }
    let new_best = decayed.pulls_after[2];
    assert!(
        new_best * 2 > PULLS / 2,
        "the decayed bandit gives most pulls after the swap to the new best arm: {:?}",
        decayed.pulls_after
    );
    assert!(
        decayed.regret_after < 0.6 * stationary.regret_after,
        "its regret after the swap ({:.1}) is far below the stationary one's ({:.1})",
        decayed.regret_after,
        stationary.regret_after
    );
}
