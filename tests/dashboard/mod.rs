//! The dashboard in a real headless Chromium against the real binaries:
//! models listed with their charts, a comparison with its verdict (its
//! numbers as the table prints them), warnings of pinned posteriors, a row
//! updated live (Server-Sent Events) without a reload, the token-needed
//! state and a session opened with a read token; no error or warning in the
//! page or the browser's console (a `/favicon.ico` 404 included). And the
//! event stream itself, over HTTP.

mod experiments;
mod over_time;

use crate::harness::{Browser, SETTLE, TestApp, eventually};
use serde_json::json;

pub(super) async fn observe(app: &TestApp, name: &str, w: u64, l: u64) {
    let path = format!("/models/{name}/observations");
    let (status, _) = app.call("POST", &path, Some(json!({"w": w, "l": l}))).await;
    assert_eq!(status, 202);
}

pub(super) async fn applied(app: &TestApp, name: &str, n: u64) {
    eventually(&format!("{name} at n = {n}"), SETTLE, || async {
        let (_, model) = app.call("GET", &format!("/models/{name}"), None).await;
        (model["n"] == n).then_some(())
    })
    .await;
}

/// Waits until the page shows `expected` in the element `css`.
pub(super) async fn shows(browser: &Browser, css: &str, expected: &str) {
    eventually(&format!("{css} to show {expected:?}"), SETTLE, || async {
        browser.text(css).await.contains(expected).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_dashboard_lists_compares_and_updates_live() {
    let app = TestApp::builder().env("PARTITIONS", "2").spawn().await;
    observe(&app, "control", 120, 880).await;
    observe(&app, "variant", 160, 840).await;
    applied(&app, "control", 1000).await;
    applied(&app, "variant", 1000).await;

    let browser = Browser::start().await;
    let url = format!("{}/#compare=control,variant", app.api_url);
    browser.client.goto(&url).await.expect("open the dashboard");
    shows(&browser, r#"tr[data-name="control"] .n"#, "1000").await;
    shows(&browser, "#verdict", "stop and ship variant").await;
    shows(&browser, "#live", "live").await;
    // Read in one script: a resync may re-render the rows between a find
    // and a read of the element found.
    let label = browser
        .client
        .execute(
            r#"const chart = document.querySelector('tr[data-name="variant"] svg[role="img"]');
               return chart ? chart.getAttribute('aria-label') : '';"#,
            vec![],
        )
        .await
        .expect("run a script in the page");
    let label = label.as_str().unwrap_or_default();
    assert!(
        label.contains("89% interval"),
        "a chart with a text alternative: {label}"
    );

    // Live: a new observation reaches the open page without a reload.
    browser
        .client
        .execute("window.sameLoad = true;", vec![])
        .await
        .unwrap();
    observe(&app, "control", 100, 400).await;
    shows(&browser, r#"tr[data-name="control"] .n"#, "1500").await;
    let same = browser
        .client
        .execute("return window.sameLoad === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!(true), "updated in place, not reloaded");
    // A model created meanwhile appears too.
    observe(&app, "banner", 1, 1).await;
    shows(&browser, r#"tr[data-name="banner"] .n"#, "2").await;

    // The comparison on the page is /compare's, to the digits shown.
    let (_, compared) = app
        .call("GET", "/compare?models=control,variant", None)
        .await;
    for (row, model) in compared["models"].as_array().unwrap().iter().enumerate() {
        let p_best = format!("{:.1}%", 100.0 * model["p_best"].as_f64().unwrap());
        let css = format!("#compared tr:nth-child({}) td:nth-child(2)", row + 1);
        shows(&browser, &css, &p_best).await;
    }
    // The verdict's risk is the table's number, digit for digit.
    let loss = eventually("variant's expected loss", SETTLE, || async {
        let cell = browser
            .text("#compared tr:nth-child(2) td:nth-child(3)")
            .await;
        (!cell.is_empty()).then_some(cell)
    })
    .await;
    let number = loss
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(!number.contains('e'), "plain decimals: {loss}");
    shows(&browser, "#verdict", &format!("risks {number}, under")).await;

    let shot = std::env::temp_dir().join(format!("dashboard-{}.png", std::process::id()));
    browser.screenshot(&shot).await;
    println!("dashboard screenshot: {}", shot.display());
    assert_eq!(browser.page_errors().await, Vec::<String>::new());
    browser.close().await;
}

#[tokio::test]
async fn the_page_shows_the_warnings_of_pinned_posteriors_and_no_winner() {
    let app = TestApp::spawn().await;
    for name in ["old-a", "old-b"] {
        let define = json!({"prior": "step:0.1", "grid_points": 120});
        let (status, _) = app
            .call("PUT", &format!("/models/{name}"), Some(define))
            .await;
        assert_eq!(status, 202);
    }
    observe(&app, "old-a", 100, 4_900).await;
    observe(&app, "old-b", 150, 4_850).await;
    observe(&app, "fine", 100, 4_900).await;
    applied(&app, "old-a", 5_000).await;
    applied(&app, "old-b", 5_000).await;
    applied(&app, "fine", 5_000).await;

    let browser = Browser::start().await;
    let url = format!("{}/#compare=old-a,old-b", app.api_url);
    browser.client.goto(&url).await.expect("open the dashboard");
    shows(&browser, "#verdict", "no winner").await;
    shows(&browser, "#verdict", "keep collecting").await;
    shows(
        &browser,
        r#"tr[data-name="old-a"] .warnings"#,
        "pinned at its prior's edge",
    )
    .await;
    shows(&browser, "#warnings", "old-b: the posterior is pinned").await;
    assert_eq!(browser.text(r#"tr[data-name="fine"] .warnings"#).await, "");
    assert!(!browser.text("#verdict").await.contains("ship"));
    assert_eq!(browser.page_errors().await, Vec::<String>::new());
    browser.close().await;
}

#[tokio::test]
async fn with_tokens_the_page_asks_for_a_read_token_once() {
    let read = "read-0123456789abcdef";
    let tokens = format!("read={read},admin=admin-0123456789abcdef");
    let app = TestApp::builder().env("API_TOKENS", &tokens).spawn().await;
    let (status, _) = app
        .http
        .post(format!("{}/models/a/observations", app.api_url))
        .bearer_auth("admin-0123456789abcdef")
        .json(&json!({"w": 3, "l": 4}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 202);

    let browser = Browser::start().await;
    browser.client.goto(&app.api_url).await.unwrap();
    shows(&browser, "#token", "Token needed").await;
    let input = browser
        .client
        .find(fantoccini::Locator::Css("#token-input"))
        .await
        .unwrap();
    input.send_keys("wrong-0123456789abcdef").await.unwrap();
    browser.click("#token-form button").await;
    shows(&browser, "#token-error", "refused").await;
    // The refused token is the one failed request the browser may log.
    let refused = browser.console().await;
    assert!(
        refused.len() == 1 && refused[0].contains("/session") && refused[0].contains("401"),
        "{refused:?}"
    );
    input.clear().await.unwrap();
    input.send_keys(read).await.unwrap();
    browser.click("#token-form button").await;
    shows(&browser, r#"tr[data-name="a"] .n"#, "7").await;
    shows(&browser, "#live", "live").await;
    let url = browser.client.current_url().await.unwrap();
    assert!(
        !url.as_str().contains(read),
        "the token is never in a URL: {url}"
    );
    assert_eq!(browser.page_errors().await, Vec::<String>::new());
    browser.close().await;
}

#[tokio::test]
async fn the_event_stream_tells_of_applied_batches_and_ends_at_shutdown() {
    let mut app = TestApp::spawn().await;
    let response = app.get("/events").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut response = response;
    observe(&app, "streamed", 1, 0).await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + SETTLE;
    while !seen.contains("event: applied") || !seen.contains("\"streamed\"") {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("an applied event in time")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains(r#""models":["streamed"]"#), "{seen}");
    // An open stream does not hold the shutdown: the api exits 0 at once.
    let started = std::time::Instant::now();
    assert!(app.api.terminate().await.success());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_page_reconnects_by_itself_after_the_api_and_redis_restart() {
    let mut app = TestApp::builder()
        .redis_args(&["--appendonly", "yes", "--appendfsync", "always"])
        .spawn()
        .await;
    observe(&app, "steady", 1, 1).await;
    applied(&app, "steady", 2).await;
    let browser = Browser::start().await;
    browser.client.goto(&app.api_url).await.unwrap();
    shows(&browser, r#"tr[data-name="steady"] .n"#, "2").await;
    shows(&browser, "#live", "live").await;
    browser
        .client
        .execute("window.sameLoad = true;", vec![])
        .await
        .unwrap();

    assert!(app.api.terminate().await.success());
    app.api.restart();
    eventually("the api back", SETTLE, || async {
        app.get("/healthz").await.ok().filter(|r| r.status() == 200)
    })
    .await;
    observe(&app, "steady", 1, 0).await;
    shows(&browser, r#"tr[data-name="steady"] .n"#, "3").await;

    app.redis.kill();
    app.redis.restart();
    eventually("Redis back for the api", SETTLE, || async {
        (app.call("GET", "/readyz", None).await.0 == 200).then_some(())
    })
    .await;
    eventually(
        "an observation stored after the restart",
        SETTLE,
        || async {
            let path = "/models/steady/observations";
            (app.call("POST", path, Some(json!({"w": 1}))).await.0 == 202).then_some(())
        },
    )
    .await;
    shows(&browser, r#"tr[data-name="steady"] .n"#, "4").await;
    let same = browser
        .client
        .execute("return window.sameLoad === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!(true), "no reload");
    assert_eq!(browser.page_errors().await, Vec::<String>::new());
    browser.close().await;
}
