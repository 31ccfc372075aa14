//! A bounded HTTP load: a fixed number of observations over a fixed number
//! of connections, to loopback only.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Sends `total` observations (two `w` for every `l`) to `api_url` over
/// `concurrency` connections. Returns `(w, n)` of those answered 202.
pub async fn send_load(
    http: reqwest::Client,
    api_url: String,
    total: u64,
    concurrency: usize,
) -> (u64, u64) {
    let wins = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, url) = (http.clone(), api_url.clone());
        let (wins, accepted, next) = (wins.clone(), accepted.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let trial = if i % 3 == 0 { "l" } else { "w" };
                let response = http.get(format!("{url}/update_model/{trial}")).send().await;
                if response.is_ok_and(|r| r.status() == 202) {
                    accepted.fetch_add(1, Ordering::Relaxed);
                    if trial == "w" {
                        wins.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for worker in workers {
        worker.await.expect("load worker");
    }
    (
        wins.load(Ordering::Relaxed),
        accepted.load(Ordering::Relaxed),
    )
}
