//! The dashboard over time: a model's history (the rate with its band and
//! the cumulative n), the chance to win over time, the window and
//! half-life selector, and live redraws, in headless Chromium.

use super::{applied, observe, shows};
use crate::harness::{Browser, SETTLE, TestApp, eventually};
use serde_json::json;

const HOUR: u64 = 3_600_000;

/// Writes `trials` of `model` into its partition's log at log time `ms`,
/// with the ids Redis would have given them then (`<ms>-<k>`).
async fn logged_at(
    app: &TestApp,
    connection: &mut redis::aio::MultiplexedConnection,
    model: &str,
    ms: u64,
    trials: &str,
) {
    let name = domain::ModelName::parse(model).unwrap();
    let stream = app.keys().partition_for(&name).events.clone();
    for (k, trial) in trials.chars().enumerate() {
        let _: String = redis::cmd("XADD")
            .arg(&stream)
            .arg(format!("{ms}-{k}"))
            .arg("model")
            .arg(model)
            .arg("trial")
            .arg(trial.to_string())
            .query_async(connection)
            .await
            .unwrap();
    }
}

/// Runs `script` in the page and returns its answer.
async fn run(browser: &Browser, script: &str) -> serde_json::Value {
    browser
        .client
        .execute(script, vec![])
        .await
        .expect("run a script in the page")
}

/// Waits until the chart `css` is drawn; its `data-points`, `data-query`
/// and `data-last-n`.
async fn drawn(browser: &Browser, css: &str) -> (u64, String, String) {
    let script = format!(
        r#"const c = document.querySelector('{css}');
           return c ? [Number(c.dataset.points), c.dataset.query || '', c.dataset.lastN || ''] : null;"#
    );
    eventually(&format!("the chart {css}"), SETTLE, || async {
        let found = run(browser, &script).await;
        let found = found.as_array()?;
        Some((
            found[0].as_u64()?,
            found[1].as_str()?.to_owned(),
            found[2].as_str()?.to_owned(),
        ))
    })
    .await
}

/// Clicks `css`, again if a live re-render replaced it between the find
/// and the click.
async fn clicked(browser: &Browser, css: &str) {
    eventually(&format!("a click on {css}"), SETTLE, || async {
        let element = browser
            .client
            .find(fantoccini::Locator::Css(css))
            .await
            .ok()?;
        element.click().await.ok()
    })
    .await;
}

/// The `n` the page shows for `model`, once it is `expected`.
async fn shows_n(browser: &Browser, model: &str, expected: &str) {
    let css = format!(r#"tr[data-name="{model}"] .n"#);
    eventually(&format!("{model}'s n to be {expected}"), SETTLE, || async {
        (browser.text(&css).await == expected).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_page_draws_histories_the_chance_to_win_over_time_and_lenses() {
    let app = TestApp::spawn().await;
    // The last two days of log time (a lens's "now" is Redis's clock): a
    // converts at 20%, then 60%; b at 40% throughout. Five trials an hour each.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let base = (now / HOUR - 48) * HOUR;
    let mut connection = app.redis.connection().await;
    for hour in 0..48 {
        let t = base + hour * HOUR;
        let a = if hour < 24 { "wllll" } else { "wwwll" };
        logged_at(&app, &mut connection, "a", t, a).await;
        logged_at(&app, &mut connection, "b", t + 1_000, "wwlll").await;
    }
    applied(&app, "a", 240).await;
    applied(&app, "b", 240).await;

    let browser = Browser::start().await;
    let url = format!("{}/#compare=a,b", app.api_url);
    browser.client.goto(&url).await.expect("open the dashboard");
    shows_n(&browser, "a", "240").await;
    shows(&browser, "#live", "live").await;

    // a's row opens its history: the page's points are the route's.
    clicked(&browser, r#"tr[data-name="a"] .open-history"#).await;
    let (points, query, last_n) = drawn(&browser, "#history svg.rate").await;
    let (status, history) = app
        .call("GET", &format!("/models/a/history?{query}"), None)
        .await;
    assert_eq!(status, 200, "{history}");
    let expected = history["points"].as_array().unwrap();
    assert_eq!(points, expected.len() as u64, "{query}: {history}");
    assert!(
        points >= 24,
        "one point an hour at least: {points} ({query})"
    );
    assert_eq!(last_n, "240");
    let counts = run(
        &browser,
        r#"return document.querySelectorAll('#history svg.count path.line').length;"#,
    )
    .await;
    assert_eq!(counts, json!(1), "the cumulative n drawn too");

    // The comparison draws both models' chance to win over time.
    let (points, query, _) = drawn(&browser, "#compare-history-chart svg.p-best").await;
    let (status, compared) = app
        .call("GET", &format!("/compare/history?models=a,b&{query}"), None)
        .await;
    assert_eq!(status, 200, "{compared}");
    assert_eq!(
        points,
        compared["points"].as_array().unwrap().len() as u64,
        "{query}: {compared}"
    );
    assert!(points >= 2, "{compared}");
    let lines = run(
        &browser,
        r#"return [...document.querySelectorAll('#compare-history-chart path.line')].map((l) => l.dataset.series);"#,
    )
    .await;
    assert_eq!(lines, json!(["a", "b"]));

    let shot = std::env::temp_dir().join(format!("dashboard-history-{}.png", std::process::id()));
    browser.screenshot(&shot).await;
    println!("history screenshot: {}", shot.display());

    // The lens: the last 24 h of log time count a's second day only.
    let lens = browser
        .client
        .find(fantoccini::Locator::Css("#lens"))
        .await
        .unwrap();
    lens.select_by_value("window=24h").await.unwrap();
    let (_, windowed) = app.call("GET", "/models/a?window=24h", None).await;
    let n = windowed["n"].as_u64().expect("whole counts in a window");
    assert!(n > 0 && n < 240, "{windowed}");
    shows_n(&browser, "a", &n.to_string()).await;
    // The lens as the api names it (24h is a day).
    let last = format!("last {}", windowed["lens"]["window"].as_str().unwrap());
    shows(&browser, "#lens-note", &last).await;
    shows(&browser, "#compare-lens", &last).await;
    // Decayed counts are fractional: two decimals, as the api has them.
    lens.select_by_value("half_life=1d").await.unwrap();
    let (_, decayed) = app.call("GET", "/models/a?half_life=1d", None).await;
    let n = decayed["n"].as_f64().unwrap();
    assert!(n.fract() != 0.0 && n < 240.0, "{decayed}");
    shows_n(&browser, "a", &format!("{n:.2}")).await;
    lens.select_by_value("").await.unwrap();
    shows_n(&browser, "a", "240").await;

    // Live: an observation reaches the open history without a reload. First
    // the redraw for the lens, and a redraw's throttle (1 s) past.
    eventually("the history of all observations", SETTLE, || async {
        let (_, query, _) = drawn(&browser, "#history svg.rate").await;
        (!query.contains("from=")).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    run(&browser, "window.sameLoad = true;").await;
    observe(&app, "a", 1, 0).await;
    eventually("the history redrawn with n = 241", SETTLE, || async {
        let (_, _, last_n) = drawn(&browser, "#history svg.rate").await;
        (last_n == "241").then_some(())
    })
    .await;
    assert_eq!(
        run(&browser, "return window.sameLoad === true;").await,
        json!(true)
    );

    run(
        &browser,
        "document.querySelector('#comparison').scrollIntoView();",
    )
    .await;
    let shot = std::env::temp_dir().join(format!("dashboard-compare-{}.png", std::process::id()));
    browser.screenshot(&shot).await;
    println!("comparison screenshot: {}", shot.display());
    assert_eq!(browser.page_errors().await, Vec::<String>::new());
    browser.close().await;
}
