//! The api's experiment routes on the real binaries and a real Redis: bad
//! definitions refused by field with nothing stored, an A/B test's whole
//! life (variants created, observations with an Idempotency-Key, an
//! announced decision, assignment, history, stop, deletion), a bandit's
//! Thompson draws, the list's pages, and the scopes each route needs.

mod bandit;
mod life;
mod refusals;
mod scopes;

use crate::harness::{SETTLE, TestApp, eventually};
use serde_json::Value;

pub(super) async fn put(app: &TestApp, name: &str, body: Value) -> (u16, Value) {
    app.call("PUT", &format!("/experiments/{name}"), Some(body))
        .await
}

/// `GET /experiments/{name}` once bayes applied its definition.
pub(super) async fn defined(app: &TestApp, name: &str) -> Value {
    eventually(&format!("experiment {name} applied"), SETTLE, || async {
        let (status, answer) = app.call("GET", &format!("/experiments/{name}"), None).await;
        (status == 200).then_some(answer)
    })
    .await
}
