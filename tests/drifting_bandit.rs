//! A bandit experiment with a window over HTTP, its arms drifting: three
//! arms whose rates swap halfway through the pulls. Two bandit experiments
//! (`PUT /experiments/{name}`, a floor of 0.02) run side by side on the
//! same arms' rates, drawing with `GET /experiments/{name}/choose` and
//! sending outcomes to `POST /experiments/{name}/observations`: one reads
//! every observation alike, one only those of its last `WINDOW` of log
//! time. After the swap the windowed one moves to the new best arm, its
//! regret far below the stationary one's, and its leader now (the least
//! expected loss of its comparison) is the new best arm. Figures, the
//! windowed one's announced decisions and where it stands are printed.

use crate::harness::{SETTLE, TestApp, eventually};
use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The arms' rates before and after the swap: the best becomes the worst.
const BEFORE: [f64; 3] = [0.10, 0.05, 0.02];
const AFTER: [f64; 3] = [0.02, 0.05, 0.10];
const PULLS: usize = 12_000;
/// Pulls chosen (concurrently) before their outcomes are sent.
const ROUND: usize = 100;
/// Log time a round takes at least, so the history has intervals to weigh.
const ROUND_TIME: Duration = Duration::from_millis(60);
/// The windowed experiment's window (the history's interval is 1 s).
const WINDOW: &str = "10s";

/// One bandit experiment: its name, its arms' model names, what it did.
struct Bandit {
    name: &'static str,
    arms: [String; 3],
    pulls_after: [usize; 3],
    regret_before: f64,
    regret_after: f64,
    /// Log time (Unix ms) of the last draw's "now", when it has a window.
    as_of: Option<u64>,
}

impl Bandit {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            arms: ["a", "b", "c"].map(|arm| format!("{name}-{arm}")),
            pulls_after: [0; 3],
            regret_before: 0.0,
            regret_after: 0.0,
            as_of: None,
        }
    }

    fn path(&self, tail: &str) -> String {
        format!("/experiments/{}{tail}", self.name)
    }

    /// Its arms (small grids, as models), then the experiment over them,
    /// `extra` merged into the definition; waits until bayes applied it.
    async fn define(&self, app: &TestApp, extra: Value) {
        for arm in &self.arms {
            let path = format!("/models/{arm}");
            let (status, body) = app
                .call(
                    "PUT",
                    &path,
                    Some(json!({"prior": "uniform", "grid_points": 1001})),
                )
                .await;
            assert_eq!(status, 202, "{body}");
            eventually(&format!("{arm} defined"), SETTLE, || async {
                (app.call("GET", &path, None).await.0 == 200).then_some(())
            })
            .await;
        }
        let mut definition = json!({"kind": "bandit", "variants": self.arms, "floor": 0.02});
        definition
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, answer) = app.call("PUT", &self.path(""), Some(definition)).await;
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["created"], json!([]), "the arms were there");
        let path = self.path("");
        eventually(
            &format!("experiment {} applied", self.name),
            SETTLE,
            || async { (app.call("GET", &path, None).await.0 == 200).then_some(()) },
        )
        .await;
    }

    /// One round: `ROUND` draws, their outcomes, then one batch of
    /// observations per arm.
    async fn round(&mut self, app: &TestApp, rates: [f64; 3], after: bool, rng: &mut StdRng) {
        let path = self.path("/choose");
        let draws = join_all((0..ROUND).map(|_| app.call("GET", &path, None))).await;
        let best = rates.iter().copied().fold(0.0, f64::max);
        let mut outcomes = [(0u64, 0u64); 3];
        for (status, chosen) in draws {
            assert_eq!(status, 200, "{chosen}");
            assert_eq!(chosen["by"], "thompson", "{chosen}");
            self.as_of = chosen["lens"]["as_of"].as_u64().or(self.as_of);
            let arm = self
                .arms
                .iter()
                .position(|arm| chosen["variant"] == *arm)
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
                let body = json!({"variant": self.arms[arm], "w": w, "l": l});
                let (status, body) = app
                    .call("POST", &self.path("/observations"), Some(body))
                    .await;
                assert_eq!(status, 202, "{body}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bandit_experiment_with_a_window_follows_rates_that_swap() {
    let app = TestApp::builder()
        .env("HISTORY_INTERVAL", "1s")
        .env("HISTORY_RETENTION", "1h")
        .bayes_env("READ_COALESCE_MS", "1")
        // Plots are not what this test is about: draw them seldom.
        .bayes_env("RENDER_INTERVAL_MS", "10000")
        .spawn()
        .await;
    let mut stationary = Bandit::new("still");
    let mut windowed = Bandit::new("windowed");
    stationary.define(&app, json!({})).await;
    windowed.define(&app, json!({ "window": WINDOW })).await;

    let mut rng = StdRng::seed_from_u64(11);
    let started = Instant::now();
    let mut swapped_at = None;
    for round in 0..PULLS / ROUND {
        let after = round >= PULLS / ROUND / 2;
        let rates = if after { AFTER } else { BEFORE };
        if after && swapped_at.is_none() {
            swapped_at = windowed.as_of;
        }
        let paced = Instant::now();
        stationary.round(&app, rates, after, &mut rng).await;
        windowed.round(&app, rates, after, &mut rng).await;
        tokio::time::sleep(ROUND_TIME.saturating_sub(paced.elapsed())).await;
    }
    let half = (PULLS / 2) as f64;
    let windowed_label = format!("window={WINDOW}");
    for (label, bandit) in [("stationary", &stationary), (&*windowed_label, &windowed)] {
        println!(
            "drifting bandit, {label}: {PULLS} pulls in {:.1} s; regret before the swap {:.1}, \
             after {:.1}; pulls after the swap {:?} (the new best is the last; uniform play's \
             regret after: {:.1})",
            started.elapsed().as_secs_f64(),
            bandit.regret_before,
            bandit.regret_after,
            bandit.pulls_after,
            half * (0.10 - (0.02 + 0.05 + 0.10) / 3.0),
        );
    }

    // What bayes announced for the windowed one, oldest first, and where
    // it stands now.
    let (status, decisions) = app.call("GET", &windowed.path("/decisions"), None).await;
    assert_eq!(status, 200, "{decisions}");
    let events = decisions["decisions"].as_array().unwrap();
    for event in events.iter().rev() {
        let at = event["at"].as_u64().unwrap();
        // Log time from the swap, as the windowed draws told it.
        let at = swapped_at.map_or_else(
            || format!("at {at} ms"),
            |swap| {
                format!(
                    "at {:+.1} s from the swap",
                    (at as f64 - swap as f64) / 1000.0
                )
            },
        );
        let p_best = event["p_best"]
            .as_f64()
            .map_or_else(|| "-".to_owned(), |p| format!("{p:.3}"));
        println!(
            "drifting bandit, {windowed_label}: decision {} {at}: {} -> {} (p_best {p_best})",
            event["seq"], event["from"], event["to"],
        );
    }
    let (status, now) = app.call("GET", &windowed.path(""), None).await;
    assert_eq!(status, 200, "{now}");
    let leader = &now["comparison"]["decision"];
    println!(
        "drifting bandit, {windowed_label}: status {}, announced winner {}; leader {} \
         (p_best {:.3}, expected loss {:.5})",
        now["status"],
        now["decision"]["winner"],
        leader["best"],
        leader["p_best"].as_f64().unwrap(),
        leader["expected_loss"].as_f64().unwrap(),
    );

    let new_best = windowed.pulls_after[2];
    assert!(
        new_best * 2 > PULLS / 2,
        "the windowed bandit gives most pulls after the swap to the new best arm: {:?}",
        windowed.pulls_after
    );
    assert!(
        windowed.regret_after < 0.7 * stationary.regret_after,
        "its regret after the swap ({:.1}) is far below the stationary one's ({:.1})",
        windowed.regret_after,
        stationary.regret_after
    );
    assert_eq!(
        leader["best"], windowed.arms[2],
        "the windowed one's leader now is the new best arm: {now}"
    );
}
