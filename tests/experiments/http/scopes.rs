//! The scope each experiment route needs.

use crate::harness::{SETTLE, TestApp, eventually};

use serde_json::{Value, json};

const READ: &str = "read-0123456789abcdef";
const WRITE: &str = "write-0123456789abcdef";
const ADMIN: &str = "admin-0123456789abcdef";

#[tokio::test]
async fn each_experiment_route_needs_its_scope() {
    let app = TestApp::builder()
        .env(
            "API_TOKENS",
            &format!("read={READ},write={WRITE},admin={ADMIN}"),
        )
        .spawn()
        .await;
    let call = |method: &str, path: &str, body: Option<Value>, token: &str| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = app
            .http
            .request(method, format!("{}{path}", app.api_url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let definition = json!({"kind": "ab", "variants": ["a", "b"]});
    assert_eq!(
        call("PUT", "/experiments/e", Some(definition.clone()), READ).await,
        403
    );
    assert_eq!(
        call("PUT", "/experiments/e", Some(definition.clone()), WRITE).await,
        403
    );
    assert_eq!(
        call("PUT", "/experiments/e", Some(definition), ADMIN).await,
        202
    );
    eventually("e applied", SETTLE, || async {
        (call("GET", "/experiments/e", None, READ).await == 200).then_some(())
    })
    .await;
    for path in [
        "/experiments",
        "/experiments/e/choose",
        "/experiments/e/history",
        "/experiments/e/decisions",
    ] {
        assert_eq!(call("GET", path, None, READ).await, 200, "{path}");
    }
    let observation = Some(json!({"variant": "a", "trials": "w"}));
    assert_eq!(
        call(
            "POST",
            "/experiments/e/observations",
            observation.clone(),
            READ
        )
        .await,
        403
    );
    assert_eq!(
        call("POST", "/experiments/e/observations", observation, WRITE).await,
        202
    );
    let stop = Some(json!({"variant": "a"}));
    assert_eq!(
        call("POST", "/experiments/e/stop", stop.clone(), WRITE).await,
        403
    );
    assert_eq!(call("DELETE", "/experiments/e", None, WRITE).await, 403);
    assert_eq!(call("POST", "/experiments/e/stop", stop, ADMIN).await, 202);
    assert_eq!(call("DELETE", "/experiments/e", None, ADMIN).await, 202);
}
