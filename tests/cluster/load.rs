//! The load of the cluster drills: 16 clients POSTing one `w` each to 30
//! models, every answer kept with the instants it was sent and answered,
//! so that a drill can show requests were in flight across its disruption
//! (answered before it, sent before and answered after it, and after it).

use super::ClusterApp;
use crate::harness::{SETTLE, eventually};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

const MODELS: usize = 30;
const CLIENTS: usize = 16;

/// One answer the load got.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub(super) model: String,
    pub(super) partition: u32,
    /// The HTTP status, or `error: …` for a transport error.
    pub(super) status: String,
    pub(super) sent: Instant,
    pub(super) answered: Instant,
}

impl Answer {
    pub(super) fn accepted(&self) -> bool {
        self.status == "202"
    }

    /// Sent before `instant` and answered after it.
    pub(super) fn across(&self, instant: Instant) -> bool {
        self.sent < instant && instant < self.answered
    }
}

/// A load running on the test's runtime, its answers shared as they come.
pub(super) struct Load {
    stop: Arc<AtomicBool>,
    answers: Arc<Mutex<Vec<Answer>>>,
    clients: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts the clients. With `retry`, each request carries an
    /// Idempotency-Key and is retried under it until answered 202 (as a
    /// careful client does); without, a failed request is dropped and only
    /// 202s count.
    pub(super) fn start(app: &ClusterApp, retry: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(Mutex::new(Vec::new()));
        let keys = app.keys();
        let clients = (0..CLIENTS)
            .map(|client| {
                let (http, url) = (app.http.clone(), app.api_url.clone());
                let (stop, answers, keys) = (stop.clone(), answers.clone(), keys.clone());
                tokio::spawn(async move {
                    let mut sequence = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        sequence += 1;
                        let model = format!("m{}", (client + sequence * CLIENTS) % MODELS);
                        let name = domain::ModelName::parse(&model).expect("valid name");
                        let partition = keys.partition_for(&name).index;
                        let key = format!("c{client}-{sequence}");
                        loop {
                            let mut request = http
                                .post(format!("{url}/models/{model}/observations"))
                                .json(&serde_json::json!({ "trials": "w" }));
                            if retry {
                                request = request.header("Idempotency-Key", &key);
                            }
                            let sent = Instant::now();
                            let status = match request.send().await {
                                Ok(r) => r.status().as_u16().to_string(),
                                Err(e) => format!("error: {e}"),
                            };
                            let answer = Answer {
                                model: model.clone(),
                                partition,
                                status,
                                sent,
                                answered: Instant::now(),
                            };
                            let accepted = answer.accepted();
                            answers.lock().expect("answers").push(answer);
                            if accepted || !retry {
                                break;
                            }
                            // Paces the retries of one client.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                })
            })
            .collect();
        Self {
            stop,
            answers,
            clients,
        }
    }

    /// Waits until at least `count` answers so far are `wanted`.
    pub(super) async fn wait_for(
        &self,
        what: &str,
        count: usize,
        wanted: impl Fn(&Answer) -> bool,
    ) {
        eventually(what, SETTLE, || async {
            let answers = self.answers.lock().expect("answers");
            (answers.iter().filter(|a| wanted(a)).count() >= count).then_some(())
        })
        .await;
    }

    /// Stops the clients (each finishes its request) and reports.
    pub(super) async fn finish(self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients {
            tokio::time::timeout(SETTLE * 2, client)
                .await
                .expect("the load ends")
                .expect("load client");
        }
        let answers = std::mem::take(&mut *self.answers.lock().expect("answers"));
        LoadReport { answers }
    }
}

/// Every answer a load got.
pub(super) struct LoadReport {
    pub(super) answers: Vec<Answer>,
}

impl LoadReport {
    /// How many answers are `wanted`.
    pub(super) fn count(&self, wanted: impl Fn(&Answer) -> bool) -> usize {
        self.answers.iter().filter(|a| wanted(a)).count()
    }

    /// Answers per status.
    pub(super) fn statuses(&self) -> BTreeMap<String, u64> {
        self.answers.iter().fold(BTreeMap::new(), |mut all, a| {
            *all.entry(a.status.clone()).or_default() += 1;
            all
        })
    }

    /// The longest a request took.
    pub(super) fn slowest(&self) -> Duration {
        let took = self.answers.iter().map(|a| a.answered - a.sent);
        took.max().unwrap_or_default()
    }

    /// Per model: requests answered 202, requests answered otherwise, and
    /// of those the 504s (perhaps stored).
    fn per_model(&self) -> BTreeMap<&str, (u64, u64, u64)> {
        self.answers.iter().fold(BTreeMap::new(), |mut all, a| {
            let entry = all.entry(a.model.as_str()).or_insert((0, 0, 0));
            if a.accepted() {
                entry.0 += 1;
            } else {
                entry.1 += 1;
                entry.2 += u64::from(a.status == "504");
            }
            all
        })
    }
}

/// What was acknowledged against what was counted, over all models.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) acknowledged: u64,
    pub(super) counted: u64,
    /// Acknowledged and not counted.
    pub(super) lost: u64,
    /// Counted and not acknowledged.
    pub(super) extra: u64,
    /// Counted past every request sent, acknowledged or not: a double count.
    pub(super) unexplained: u64,
    /// Counted past the 202s and the 504s ("perhaps stored"): a request
    /// answered 503 ("nothing stored") that was counted all the same.
    pub(super) counted_though_refused: u64,
    /// The models whose count is not what was acknowledged: (model,
    /// answered 202, answered otherwise, counted, in the log).
    pub(super) odd: Vec<(String, u64, u64, u64, u64)>,
}

/// Reads each model's count and compares it with what the load saw.
pub(super) fn tally(app: &ClusterApp, load: &LoadReport) -> Tally {
    let mut tally = Tally::default();
    for (model, (acked, refused, perhaps)) in load.per_model() {
        let (_, n) = app.counts(model);
        tally.acknowledged += acked;
        tally.counted += n;
        tally.lost += acked.saturating_sub(n);
        tally.extra += n.saturating_sub(acked);
        tally.unexplained += n.saturating_sub(acked + refused);
        tally.counted_though_refused += n.saturating_sub(acked + perhaps);
        if n != acked {
            let logged = app.logged(model);
            tally
                .odd
                .push((model.to_owned(), acked, refused, n, logged));
        }
    }
    tally
}

/// Every answer was a 202, a 503 (nothing stored) or a 504 (stored, not
/// confirmed, or unknown): never a 500, never a transport error (the
/// client's timeout is longer than the api's).
pub(super) fn assert_only_202_503_and_504(load: &LoadReport) {
    let statuses = load.statuses();
    let unexpected: Vec<_> = statuses
        .keys()
        .filter(|s| !["202", "503", "504"].contains(&s.as_str()))
        .collect();
    assert!(unexpected.is_empty(), "never 500 nor a hang: {statuses:?}");
}
