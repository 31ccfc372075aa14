//! A bounded HTTP load, to loopback only: a fixed number of observations or
//! a fixed duration, over a fixed number of connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// When a load stops.
#[derive(Clone, Copy)]
enum Budget {
    Requests(u64),
    Until(Instant),
}

/// What a load got back.
#[derive(Default)]
struct Tally {
    next: AtomicU64,
    wins: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
}

/// Sends `total` observations (two `w` for every `l`) to `api_url` over
/// `concurrency` connections. Returns `(w, n)` of those answered 202.
pub async fn send_load(
    http: reqwest::Client,
    api_url: String,
    total: u64,
    concurrency: usize,
) -> (u64, u64) {
    let (w, n, _) = run(http, api_url, Budget::Requests(total), concurrency).await;
    (w, n)
}

/// As [`send_load`], also returning how many requests were not answered 202.
pub async fn send_load_counted(
    http: reqwest::Client,
    api_url: String,
    total: u64,
    concurrency: usize,
) -> (u64, u64, u64) {
    run(http, api_url, Budget::Requests(total), concurrency).await
}

/// Sends observations for `duration`; returns `(w, n)` answered 202 and how many were not.
pub async fn send_load_for(
    http: reqwest::Client,
    api_url: String,
    duration: Duration,
    concurrency: usize,
) -> (u64, u64, u64) {
    run(
        http,
        api_url,
        Budget::Until(Instant::now() + duration),
        concurrency,
    )
    .await
}

async fn run(
    http: reqwest::Client,
    api_url: String,
    budget: Budget,
    concurrency: usize,
) -> (u64, u64, u64) {
    let tally = Arc::new(Tally::default());
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, tally) = (http.clone(), api_url.clone(), tally.clone());
            tokio::spawn(async move {
                loop {
                    let i = tally.next.fetch_add(1, Ordering::Relaxed);
                    let done = match budget {
                        Budget::Requests(total) => i >= total,
                        Budget::Until(deadline) => Instant::now() >= deadline,
                    };
                    if done {
                        return;
                    }
                    let trial = if i.is_multiple_of(3) { "l" } else { "w" };
                    let response = http.get(format!("{url}/update_model/{trial}")).send().await;
                    if response.is_ok_and(|r| r.status() == 202) {
                        tally.accepted.fetch_add(1, Ordering::Relaxed);
                        if trial == "w" {
                            tally.wins.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        tally.refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("load worker");
    }
    (
        tally.wins.load(Ordering::Relaxed),
        tally.accepted.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
    )
}
