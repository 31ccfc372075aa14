//! The router with the in-memory ports, driven with `oneshot`.

#![allow(dead_code)] // each test file uses its own part

use api::application::memory::MemoryModels;
use api::application::{Catalog, Decisions, Experiments, Ingest, ModelQuery};
use api::infrastructure::http::{AppState, UseCases, app};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::DefaultDefinitions;
use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub fn router(up: bool) -> (axum::Router, Arc<MemoryModels>) {
    router_with(up, false)
}

pub fn router_with(up: bool, full: bool) -> (axum::Router, Arc<MemoryModels>) {
    bounded_router(up, full, 10)
}

/// With the api's own batch bound.
pub fn models_router() -> (axum::Router, Arc<MemoryModels>) {
    bounded_router(true, false, api::application::ingest::MAX_BATCH)
}

fn bounded_router(up: bool, full: bool, max_batch: usize) -> (axum::Router, Arc<MemoryModels>) {
    let memory = Arc::new(MemoryModels::new());
    memory.set_up(up);
    memory.set_full(full);
    let defaults = DefaultDefinitions::default();
    let catalog = Catalog::new(memory.clone(), memory.clone(), defaults);
    let decisions = Decisions::new(memory.clone(), defaults);
    let timelines = api::application::history::Timelines::new(
        memory.clone(),
        defaults,
        platform::log_time::HistorySettings::DEFAULT,
    );
    let experiments = Experiments::new(
        memory.clone(),
        memory.clone(),
        catalog.clone(),
        decisions.clone(),
        timelines.clone(),
    );
    let use_cases = UseCases {
        ingest: Ingest::new(memory.clone(), max_batch),
        query: ModelQuery::new(memory.clone(), defaults),
        catalog,
        decisions,
        timelines,
        experiments,
    };
    let state = AppState::new(
        use_cases,
        memory.clone(),
        std::env::temp_dir().join("no-such-graphs-dir"),
        PrometheusBuilder::new().build_recorder().handle(),
    );
    (app(state), memory)
}

pub async fn call(
    router: &axum::Router,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
