//! A bounded HTTP load, to loopback only: a fixed number of observations,
//! a fixed duration, or until stopped ([`TimedLoad`], which keeps every
//! answer with its instants), over a fixed number of connections.

use super::{SETTLE, eventually};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// When a load stops.
#[derive(Clone)]
enum Budget {
    Requests(u64),
    Until(Instant),
    Stopped(Arc<AtomicBool>),
}

/// What a load got back.
#[derive(Default)]
struct Tally {
    next: AtomicU64,
    wins: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
    /// Every answer, for a [`TimedLoad`].
    timeline: Option<Mutex<Vec<Timed>>>,
}

/// One answer of a [`TimedLoad`].
#[derive(Debug, Clone, Copy)]
pub struct Timed {
    /// When the request was sent.
    pub sent: Instant,
    /// When its answer (or transport error) came.
    pub answered: Instant,
    /// Whether it was a 202.
    pub accepted: bool,
}

impl Timed {
    /// Sent before `instant` and answered after it: in flight across it.
    pub fn across(&self, instant: Instant) -> bool {
        self.sent < instant && instant < self.answered
    }
}

/// A load that runs until [`TimedLoad::finish`], its answers readable
/// while it runs: a drill waits for states of the load (under way, refused
/// during an outage, accepted after it) and shows requests in flight across
/// its disruption.
pub struct TimedLoad {
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    run: JoinHandle<(u64, u64, u64)>,
}

/// What a [`TimedLoad`] got: how many answered 202 and how many not, and
/// every answer.
pub struct Timeline {
    pub n: u64,
    pub refused: u64,
    pub answers: Vec<Timed>,
}

impl Timeline {
    /// How many answers are `wanted`.
    pub fn count(&self, wanted: impl Fn(&Timed) -> bool) -> usize {
        self.answers.iter().filter(|a| wanted(a)).count()
    }
}

impl TimedLoad {
    /// Starts sending observations to `api_url` over `concurrency` connections.
    pub fn start(http: reqwest::Client, api_url: String, concurrency: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Tally {
            timeline: Some(Mutex::new(Vec::new())),
            ..Tally::default()
        });
        let budget = Budget::Stopped(stop.clone());
        let run = tokio::spawn(run(http, api_url, budget, concurrency, tally.clone()));
        Self { stop, tally, run }
    }

    /// Waits (up to `SETTLE`) until at least `count` answers are `wanted`.
    pub async fn wait_for(&self, what: &str, count: usize, wanted: impl Fn(&Timed) -> bool) {
        eventually(what, SETTLE, || async {
            let timeline = self.tally.timeline.as_ref()?.lock().expect("timeline");
            (timeline.iter().filter(|a| wanted(a)).count() >= count).then_some(())
        })
        .await;
    }

    /// Stops the load (each connection finishes its request) and reports.
    pub async fn finish(self) -> Timeline {
        self.stop.store(true, Ordering::Relaxed);
        let (_, n, refused) = self.run.await.expect("load");
        let answers = self.tally.timeline.as_ref().map_or_else(Vec::new, |t| {
            std::mem::take(&mut *t.lock().expect("timeline"))
        });
        Timeline {
            n,
            refused,
            answers,
        }
    }
}

/// Sends `total` observations (two `w` for every `l`) to `api_url` over
/// `concurrency` connections. Returns `(w, n)` of those answered 202.
pub async fn send_load(
    http: reqwest::Client,
    api_url: String,
    total: u64,
    concurrency: usize,
) -> (u64, u64) {
    let tally = Arc::default();
    let (w, n, _) = run(http, api_url, Budget::Requests(total), concurrency, tally).await;
    (w, n)
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
        Arc::default(),
    )
    .await
}

async fn run(
    http: reqwest::Client,
    api_url: String,
    budget: Budget,
    concurrency: usize,
    tally: Arc<Tally>,
) -> (u64, u64, u64) {
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, tally) = (http.clone(), api_url.clone(), tally.clone());
            let budget = budget.clone();
            tokio::spawn(async move {
                loop {
                    let i = tally.next.fetch_add(1, Ordering::Relaxed);
                    let done = match &budget {
                        Budget::Requests(total) => i >= *total,
                        Budget::Until(deadline) => Instant::now() >= *deadline,
                        Budget::Stopped(stop) => stop.load(Ordering::Relaxed),
                    };
                    if done {
                        return;
                    }
                    let trial = if i.is_multiple_of(3) { "l" } else { "w" };
                    let sent = Instant::now();
                    let response = http.get(format!("{url}/update_model/{trial}")).send().await;
                    let accepted = response.is_ok_and(|r| r.status() == 202);
                    if let Some(timeline) = &tally.timeline {
                        let answered = Instant::now();
                        let answer = Timed {
                            sent,
                            answered,
                            accepted,
                        };
                        timeline.lock().expect("timeline").push(answer);
                    }
                    if accepted {
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
