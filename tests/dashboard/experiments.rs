//! Experiments on the dashboard, in headless Chromium: the home page lists
//! them above the loose models (status, leader, chance to win, risk, a
//! warning when the split is off), and an experiment's page shows its
//! variants, its decision and the decisions announced, and changes live,
//! without a reload, when its decision does.

use super::{applied, observe, shows};
use crate::harness::{Browser, SETTLE, TestApp, eventually};
use serde_json::{Value, json};

/// Defines the experiment `name` (admin).
async fn define(app: &TestApp, name: &str, spec: Value) {
    let (status, body) = app
        .call("PUT", &format!("/experiments/{name}"), Some(spec))
        .await;
    assert!(
        (200..300).contains(&status),
        "PUT /experiments/{name}: {status} {body}"
    );
    eventually(
        &format!("the experiment {name} defined"),
        SETTLE,
        || async {
            let (status, _) = app.call("GET", &format!("/experiments/{name}"), None).await;
            (status == 200).then_some(())
        },
    )
    .await;
}

/// Runs `script` in the page and returns its answer.
async fn run(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .execute(script, vec![])
        .await
        .expect("run a script in the page")
}

/// Waits until the page's element `css` has `attribute` = `expected`.
async fn has(browser: &Browser, css: &str, attribute: &str, expected: &str) {
    let script = format!(
        r#"const e = document.querySelector('{css}');
           return e ? e.getAttribute('{attribute}') : null;"#
    );
    eventually(
        &format!("{css} with {attribute}={expected:?}"),
        SETTLE,
        || async { (run(browser, &script).await == json!(expected)).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_experiment_page_changes_live_when_its_decision_does() {
    let app = TestApp::spawn().await;
    define(
        &app,
        "checkout",
        json!({"kind": "ab", "variants": ["control", "treatment"]}),
    )
    .await;
    observe(&app, "control", 10, 90).await;
    observe(&app, "treatment", 12, 88).await;
    applied(&app, "control", 100).await;
    applied(&app, "treatment", 100).await;

    let browser = Browser::start().await;
    let url = format!("{}/#experiment=checkout", app.api_url);
    browser
        .client
        .goto(&url)
        .await
        .expect("open the experiment");
    has(&browser, "#experiment-status", "data-status", "running").await;
    shows(
        &browser,
        r#"#variants tr[data-variant="control"] .n"#,
        "100",
    )
    .await;
    shows(&browser, "#experiment-winner", "no winner yet").await;
    shows(&browser, "#live", "live").await;
    assert!(
        run(&browser, "return document.querySelector('#models').hidden;").await == json!(true),
        "the experiment's page, not the lists"
    );
    run(&browser, "window.sameLoad = true;").await;

    // A clearly better treatment: 10% against 30% over 2,000 trials each.
    observe(&app, "control", 200, 1_800).await;
    observe(&app, "treatment", 600, 1_400).await;
    has(&browser, "#experiment-status", "data-status", "decided").await;
    has(&browser, "#experiment-winner", "data-winner", "treatment").await;
    shows(&browser, "#experiment-winner", "winner: treatment").await;
    shows(
        &browser,
        r#"#variants tr[data-variant="treatment"] .n"#,
        "2100",
    )
    .await;
    // The decision announced is in the page's list of decisions.
    shows(&browser, "#experiment-decisions", "treatment").await;
    // The chance to win and the rates over time, a line a variant.
    eventually("the charts over time", SETTLE, || async {
        let lines = run(
            &browser,
            r#"return [...document.querySelectorAll('#experiment-history svg.p-best path.line, #experiment-history svg.rates path.line')].map((l) => l.dataset.series);"#,
        )
        .await;
        (lines == json!(["control", "treatment", "control", "treatment"])).then_some(())
    })
    .await;
    assert_eq!(
        run(&browser, "return window.sameLoad === true;").await,
        json!(true),
        "updated in place, not reloaded"
    );
    // The page's numbers are the route's.
    let (_, detail) = app.call("GET", "/experiments/checkout", None).await;
    let model = detail["comparison"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "treatment")
        .unwrap()
        .clone();
    let p_best = format!("{:.1}%", 100.0 * model["p_best"].as_f64().unwrap());
    shows(
        &browser,
        r#"#variants tr[data-variant="treatment"] .p-best"#,
        &p_best,
    )
    .await;

    // The whole page in one picture, for a person to look at.
    browser.client.set_window_size(1200, 1500).await.unwrap();
    browser
        .screenshot(std::path::Path::new("/tmp/dashboard-experiment.png"))
        .await;
    println!("experiment screenshot: /tmp/dashboard-experiment.png");
    assert_eq!(browser.page_errors().await, Vec::<String>::new());
    browser.close().await;
}

#[tokio::test]
async fn the_home_page_lists_experiments_above_models_and_warns_of_a_split_off() {
    let app = TestApp::spawn().await;
    define(
        &app,
        "split",
        // Equal rates under a small risk accepted: running throughout.
        json!({"kind": "ab", "variants": ["left", "right"], "weights": [0.5, 0.5], "threshold": 0.0001}),
    )
    .await;
    // 45% and 55% of 20,000 under a 50/50 split asked for.
    // (At most 10,000 observations a request.)
    observe(&app, "left", 900, 8_100).await;
    observe(&app, "right", 550, 4_950).await;
    observe(&app, "right", 550, 4_950).await;
    observe(&app, "loose", 3, 7).await;
    applied(&app, "left", 9_000).await;
    applied(&app, "right", 11_000).await;
    applied(&app, "loose", 10).await;

    let browser = Browser::start().await;
    browser.client.goto(&app.api_url).await.unwrap();
    let row = r#"tr[data-experiment="split"]"#;
    shows(&browser, &format!("{row} .warnings"), "split off").await;
    shows(&browser, &format!("{row} .status"), "running").await;
    shows(&browser, r#"tr[data-name="loose"] .n"#, "10").await;
    let above = run(
        &browser,
        r#"const e = document.querySelector('#experiments'), m = document.querySelector('#models');
           return !e.hidden && Boolean(e.compareDocumentPosition(m) & Node.DOCUMENT_POSITION_FOLLOWING);"#,
    )
    .await;
    assert_eq!(above, json!(true), "experiments above the models");
    let listed = run(
        &browser,
        "return [...document.querySelectorAll('#experiment-rows tr')].map((r) => r.dataset.experiment);",
    )
    .await;
    assert_eq!(listed, json!(["split"]));

    // Its link opens its page in place; the split check says why.
    run(&browser, "window.sameLoad = true;").await;
    browser.click(&format!("{row} a")).await;
    has(&browser, "#experiment-srm", "data-ok", "false").await;
    shows(&browser, "#experiment-srm", "Sample ratio mismatch").await;
    shows(
        &browser,
        r#"#variants tr[data-variant="right"] .share"#,
        "55.0%",
    )
    .await;
    assert_eq!(
        run(&browser, "return window.sameLoad === true;").await,
        json!(true)
    );
    // And back.
    browser.click("#experiment a.back").await;
    shows(&browser, &format!("{row} .warnings"), "split off").await;
    assert_eq!(browser.page_errors().await, Vec::<String>::new());
    browser.close().await;
}
