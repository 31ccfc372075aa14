//! Access control on the real binaries: every route against no token, a
//! wrong one and each scope; wrong tokens count nothing; no token in any
//! log; the refused open start on a public address; the dashboard's
//! session cookie. (Least-privilege Redis users: `redis_users.rs`.)

use crate::harness::{SETTLE, TestApp, eventually, run_to_exit};
use reqwest::StatusCode;
use serde_json::json;

const READ: &str = "read-0123456789abcdef";
const WRITE: &str = "write-0123456789abcdef";
const ADMIN: &str = "admin-0123456789abcdef";
const WRONG: &str = "wrong-0123456789abcdef";

fn tokens() -> String {
    format!("read={READ},write={WRITE},admin={ADMIN}")
}

/// `(method, path, body, scope needed)`; `None`: open.
fn routes() -> Vec<(
    &'static str,
    &'static str,
    Option<serde_json::Value>,
    Option<&'static str>,
)> {
    let trials = Some(json!({"trials": "w"}));
    vec![
        ("GET", "/healthz", None, None),
        ("GET", "/readyz", None, None),
        ("GET", "/openapi.json", None, None),
        ("GET", "/", None, None),
        ("GET", "/assets/app.js", None, None),
        ("GET", "/events", None, Some("read")),
        ("GET", "/update_model/w", None, Some("write")),
        ("POST", "/update_model", trials.clone(), Some("write")),
        ("POST", "/models/a/observations", trials, Some("write")),
        ("GET", "/model", None, Some("read")),
        ("GET", "/models", None, Some("read")),
        ("GET", "/models/a", None, Some("read")),
        ("GET", "/models/a/posterior", None, Some("read")),
        ("GET", "/compare?models=a,default", None, Some("read")),
        ("GET", "/choose?models=a,default", None, Some("read")),
        ("GET", "/graphs/posterior.png", None, Some("read")),
        ("GET", "/metrics", None, Some("read")),
        (
            "PUT",
            "/models/a",
            Some(json!({"prior": "uniform"})),
            Some("admin"),
        ),
        ("DELETE", "/models/zz", None, Some("admin")),
    ]
}

fn allows(token: &str, scope: &str) -> bool {
    token == ADMIN || (token == READ && scope == "read") || (token == WRITE && scope == "write")
}

async fn request(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
    token: Option<&str>,
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.http.request(method, format!("{}{path}", app.api_url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("api answers")
}

#[tokio::test]
async fn every_route_answers_each_credential_as_its_scope_says() {
    let app = TestApp::builder()
        .env("API_TOKENS", &tokens())
        .env("RUST_LOG", "debug")
        .spawn()
        .await;
    // Something to read: a model and a plot.
    assert_eq!(
        request(&app, "GET", "/update_model/w", None, Some(WRITE))
            .await
            .status(),
        202
    );
    let (_, _) = (app.wait_for_n(1).await, ());
    for (method, path, body, scope) in routes() {
        for token in [None, Some(WRONG), Some(READ), Some(WRITE), Some(ADMIN)] {
            let response = request(&app, method, path, body.as_ref(), token).await;
            let status = response.status();
            let case = format!("{method} {path} with {token:?}");
            match (scope, token) {
                (None, _) => assert!(status.is_success(), "{case}: {status}"),
                (Some(_), None | Some(WRONG)) => {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
                    let challenge = response.headers()["www-authenticate"]
                        .to_str()
                        .unwrap()
                        .to_owned();
                    assert!(challenge.starts_with("Bearer"), "{case}: {challenge}");
                    let error: serde_json::Value = response.json().await.unwrap();
                    assert!(error["error"].is_string(), "{case}");
                }
                (Some(scope), Some(token)) if allows(token, scope) => assert!(
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !status.is_server_error(),
                    "{case}: {status}"
                ),
                (Some(scope), Some(_)) => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
                    let error: serde_json::Value = response.json().await.unwrap();
                    assert!(
                        error["error"].as_str().unwrap().contains(scope),
                        "{case}: {error}"
                    );
                }
            }
        }
    }
    let metrics = request(&app, "GET", "/metrics", None, Some(READ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("api_auth_failures_total{reason=\"unknown\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("api_auth_failures_total{reason=\"scope\"}"),
        "{metrics}"
    );
    let logs = format!("{}{}", app.api_log(), app.bayes_logs());
    for token in [READ, WRITE, ADMIN, WRONG] {
        assert!(!logs.contains(token), "a token in the logs");
        assert!(!metrics.contains(token), "a token in the metrics");
    }
    let document = request(&app, "GET", "/openapi.json", None, None)
        .await
        .text()
        .await
        .unwrap();
    let document: serde_json::Value = serde_json::from_str(&document).unwrap();
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        document["paths"]["/models/{name}"]["delete"]["security"][0]["bearer"][0],
        "admin"
    );
}

#[tokio::test]
async fn a_thousand_wrong_tokens_count_nothing() {
    let app = TestApp::builder()
        .env("API_TOKENS", &tokens())
        .spawn()
        .await;
    for i in 0..1_000 {
        let token = format!("{WRONG}-{i}");
        let status = request(&app, "GET", "/update_model/w", None, Some(&token))
            .await
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        request(&app, "GET", "/update_model/l", None, Some(WRITE))
            .await
            .status(),
        202
    );
    assert_eq!(
        app.wait_for_n(1).await,
        (0, 1),
        "only the one with the write token"
    );
    assert_eq!(app.unapplied().await, 0);
}

#[tokio::test]
async fn the_dashboard_session_cookie_grants_read_and_nothing_else() {
    let app = TestApp::builder()
        .env("API_TOKENS", &tokens())
        .spawn()
        .await;
    let no_token = request(&app, "POST", "/session", None, None).await.status();
    assert_eq!(no_token, StatusCode::UNAUTHORIZED);
    let opened = request(&app, "POST", "/session", None, Some(ADMIN)).await;
    assert_eq!(opened.status(), StatusCode::NO_CONTENT);
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Max-Age="),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let with_cookie = |method: &str, path: &str| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        app.http
            .request(method, format!("{}{path}", app.api_url))
            .header("cookie", pair.clone())
            .send()
    };
    assert_eq!(
        with_cookie("GET", "/models").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        with_cookie("GET", "/update_model/w")
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        with_cookie("DELETE", "/models/default")
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn a_public_address_without_tokens_is_refused_unless_allowed() {
    let redis = crate::harness::RedisServer::start();
    let url = redis.url();
    let addr = format!("0.0.0.0:{}", crate::harness::free_port());
    let (status, stderr) = run_to_exit("api", &[("REDIS_URL", &url), ("API_ADDR", &addr)]);
    assert!(!status.success());
    assert!(
        stderr.contains("API_TOKENS") && stderr.contains("ALLOW_UNAUTHENTICATED"),
        "{stderr}"
    );
    let (status, stderr) = run_to_exit(
        "api",
        &[
            ("REDIS_URL", &url),
            ("API_ADDR", &addr),
            ("API_TOKENS", "read=short"),
        ],
    );
    assert!(!status.success() && stderr.contains("entry 1"), "{stderr}");
    assert!(
        !stderr.contains("short"),
        "the bad token is not echoed: {stderr}"
    );
}

#[tokio::test]
async fn allowed_unauthenticated_on_a_public_address_warns_at_start() {
    let redis = crate::harness::RedisServer::start();
    let logs = tempfile::tempdir().unwrap();
    let env = [
        ("REDIS_URL", redis.url()),
        (
            "API_ADDR",
            format!("0.0.0.0:{}", crate::harness::free_port()),
        ),
        ("ALLOW_UNAUTHENTICATED", "true".to_owned()),
    ];
    let env = env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let mut api = crate::harness::Service::start("api", env, logs.path().join("api.log"));
    eventually("the warning", SETTLE, || async {
        api.log().contains("without access control").then_some(())
    })
    .await;
    assert!(!api.has_exited(), "it serves");
}
