//! Access control on the real binaries: every route against no token, a
//! wrong one and each scope; wrong tokens count nothing; no token in any
//! log; the refused open start on a public address; the dashboard's
//! session cookie; and both services as least-privilege Redis users.

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

const CHANNEL: &str = "acltest-update_model";

/// The README's ACL rules, for this test's key prefixes (`test…`) and its
/// channel. bayes's pattern must be the very one it subscribes to (Redis
/// matches a PSUBSCRIBE pattern against the allowed ones literally).
fn acl_file(dir: &std::path::Path) -> std::path::PathBuf {
    let rules = [
        // The test's own reads and writes.
        "user default on nopass ~* &* +@all",
        "user api on >api-secret-0123456789 resetkeys ~test*:* resetchannels &test*:applied -@all +ping +info +get +set +setnx +exists +pexpire +xadd +hmget +zrange +zcard +eval +evalsha +wait +subscribe +unsubscribe",
        "user bayes on >bayes-secret-0123456789 resetkeys ~test*:* resetchannels &acltest-update_model* &test*:applied -@all +ping +info +get +set +setnx +del +exists +pexpire +time +hget +hgetall +hmget +hset +hsetnx +hincrby +zadd +zrange +zcard +zrem +zremrangebyscore +xadd +xread +xrange +xinfo +xgroup +xpending +xack +eval +evalsha +script|load +multi +exec +wait +psubscribe +punsubscribe +publish",
        "user producer on >producer-secret-0123456789 resetkeys resetchannels &acltest-update_model* -@all +publish",
    ];
    let path = dir.join("users.acl");
    std::fs::write(&path, rules.join("\n") + "\n").unwrap();
    path
}

#[tokio::test]
async fn both_services_run_as_least_privilege_redis_users_and_a_producer_can_only_publish() {
    let dir = tempfile::tempdir().unwrap();
    let acl = acl_file(dir.path());
    let app = TestApp::builder()
        .redis_args(&["--aclfile", acl.to_str().unwrap()])
        .env("PARTITIONS", "2")
        .env("REDIS_CHANNEL", CHANNEL)
        .redis_user("api", "api", "api-secret-0123456789")
        .redis_user("bayes", "bayes", "bayes-secret-0123456789")
        .spawn()
        .await;
    app.wait_for_subscriber().await;
    // Every kind of write and read, through both services.
    assert_eq!(app.send("w").await, 202);
    let (status, _) = app
        .call("PUT", "/models/a", Some(json!({"prior": "beta:2,2"})))
        .await;
    assert_eq!(status, 202);
    let (status, _) = app
        .call(
            "POST",
            "/models/a/observations",
            Some(json!({"w": 2, "l": 1})),
        )
        .await;
    assert_eq!(status, 202);
    let producer = redis::Client::open(format!(
        "redis://producer:producer-secret-0123456789@{}",
        app.redis.url().trim_start_matches("redis://")
    ))
    .unwrap();
    let mut producer = producer.get_multiplexed_async_connection().await.unwrap();
    let received: u64 = redis::cmd("PUBLISH")
        .arg(format!("{CHANNEL}:b"))
        .arg("w")
        .query_async(&mut producer)
        .await
        .expect("the producer may publish");
    assert_eq!(received, 1);
    eventually("a and b applied", SETTLE, || async {
        let (_, a) = app.call("GET", "/models/a", None).await;
        let (_, b) = app.call("GET", "/models/b", None).await;
        (a["n"] == 3 && a["prior"] == "beta:2,2" && b["n"] == 1).then_some(())
    })
    .await;
    assert_eq!(app.wait_for_n(1).await, (1, 1));
    let (status, compared) = app.call("GET", "/compare?models=a,b", None).await;
    assert_eq!(status, 200, "{compared}");
    assert_eq!(app.call("DELETE", "/models/b", None).await.0, 202);
    eventually("b deleted", SETTLE, || async {
        (app.call("GET", "/models/b", None).await.0 == 404).then_some(())
    })
    .await;
    assert_eq!(app.call("GET", "/readyz", None).await.0, 200);

    // The producer touches nothing but the channel.
    let model = app.keys().model(&domain::ModelName::parse("a").unwrap());
    for command in [
        redis::cmd("HSET")
            .arg(&model)
            .arg("n")
            .arg(1_000_000)
            .clone(),
        redis::cmd("HGET").arg(&model).arg("n").clone(),
        redis::cmd("XADD")
            .arg(app.key("events"))
            .arg("*")
            .arg("trial")
            .arg("w")
            .clone(),
        redis::cmd("PUBLISH").arg("elsewhere").arg("w").clone(),
    ] {
        let refused = command
            .query_async::<redis::Value>(&mut producer)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().to_lowercase().contains("noperm"),
            "{refused}"
        );
    }
    let (_, a) = app.call("GET", "/models/a", None).await;
    assert_eq!(a["n"], 3, "unchanged");
    // Nothing either service did was refused.
    let mut admin = app.redis.connection().await;
    let denied: Vec<redis::Value> = redis::cmd("ACL")
        .arg("LOG")
        .query_async(&mut admin)
        .await
        .unwrap();
    let denied = format!("{denied:?}");
    for user in ["\"api\"", "\"bayes\""] {
        assert!(!denied.contains(user), "Redis refused {user}: {denied}");
    }
}
