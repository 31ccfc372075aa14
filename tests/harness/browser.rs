//! A real headless Chromium driven through chromedriver (WebDriver), for
//! the dashboard's tests. Both come from Debian's packages (`chromium`,
//! `chromium-driver`; scripts/test installs them); a test fails, never
//! skips, without them. The browser's own console (a failed request such
//! as a `/favicon.ico` 404, a CSP refusal) is read through chromedriver's
//! log endpoint, so a test sees every error and warning, not only what the
//! page's script caught.

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// chromedriver and one browser session; both ended when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a port it picks and opens a headless window.
    pub async fn start() -> Self {
        let mut driver = Command::new("chromedriver")
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver: install Debian's chromium and chromium-driver (scripts/test does)",
            );
        let stdout = driver.stdout.take().expect("chromedriver's stdout");
        // "ChromeDriver was started successfully on port 41235."
        let port = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                let (_, rest) = line.split_once("started successfully on port ")?;
                rest.trim_end_matches('.').trim().parse::<u16>().ok()
            })
            .expect("chromedriver printed the port it took");
        let profile = tempfile::tempdir().expect("a browser profile directory");
        let capabilities = serde_json::json!({
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session through chromedriver");
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Ends the browser session (then chromedriver, when dropped).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// The text of the first element matching `css`, or "" if none.
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(fantoccini::Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// What the page recorded as errors (`window.dashboardErrors`), then
    /// every console error and warning of the browser since the last call
    /// (see [`Browser::console`]).
    pub async fn page_errors(&self) -> Vec<String> {
        let errors = self
            .client
            .execute(
                "return window.dashboardErrors || ['the dashboard script did not run'];",
                vec![],
            )
            .await
            .expect("run a script in the page");
        let mut errors: Vec<String> = serde_json::from_value(errors).unwrap_or_default();
        errors.extend(self.console().await);
        errors
    }

    /// The browser console's errors and warnings (levels `SEVERE` and
    /// `WARNING`: failed requests, CSP refusals, script errors) since the
    /// last call, each as `LEVEL source: message`.
    pub async fn console(&self) -> Vec<String> {
        let entries = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("chromedriver's browser log");
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| matches!(entry["level"].as_str(), Some("SEVERE" | "WARNING")))
            .map(|entry| {
                format!(
                    "{} {}: {}",
                    entry["level"].as_str().unwrap_or_default(),
                    entry["source"].as_str().unwrap_or_default(),
                    entry["message"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }

    /// A screenshot, for a person to look at.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(path, png).expect("write the screenshot");
    }
}

/// chromedriver's `POST /session/{id}/se/log` for the `browser` log: the
/// entries since the last call (W3C WebDriver has no log command).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &reqwest::Url,
        session_id: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(r#"{"type":"browser"}"#.to_owned()),
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
