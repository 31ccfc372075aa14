//! `GET /events`: Server-Sent Events for the live view. bayes's notices of
//! applied batches (`{"partition", "models", "more"}`) and of changed
//! decisions (`{"partition", "experiments": [name]}`) are coalesced per
//! stream: the first one opens a window of [`WINDOW`], and one `applied`
//! event then carries the union of the models named in it (at most
//! [`MAX_MODELS`], `more` past that) and of the experiments whose decision
//! changed (at most [`MAX_EXPERIMENTS`], `more` past that):
//! `{"experiments": [...], "models": [...], "more": false}`. A page redraws
//! an experiment named, and one whose variants are among the models (its
//! counts changed). Under heavy ingest a page gets at
//! most four events a second instead of one per batch, and the api's work
//! per open page stays bounded. `resync` tells the page to read everything
//! again: first on every new stream (a page that reconnects may have
//! missed notices), after the api resubscribed, and when a stream fell more
//! than the buffer behind. A comment every 15 s keeps proxies from closing
//! an idle stream; the stream ends when the server shuts down, so it never
//! holds a graceful shutdown open.

use super::state::Shared;
use crate::application::Notice;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};

/// How long notices are gathered into one event.
const WINDOW: Duration = Duration::from_millis(250);
/// Most model names one event carries: as many as one notice.
const MAX_MODELS: usize = platform::notice::MAX_NOTICE_MODELS;
/// Most experiment names one event carries.
const MAX_EXPERIMENTS: usize = platform::notice::MAX_NOTICE_MODELS;

pub(super) async fn events(
    State(state): State<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let start = (state.notices.subscribe(), state.stopping.clone());
    let stream = futures_util::stream::unfold(start, |(mut notices, mut stopping)| async move {
        let event = tokio::select! {
            _ = stopping.wait_for(|stopping| *stopping) => return None,
            event = next(&mut notices) => event?,
        };
        Some((Ok(event), (notices, stopping)))
    });
    // First a resync: a page that reconnects may have missed notices meanwhile.
    let first = futures_util::stream::once(async { Ok(resync()) });
    Sse::new(first.chain(stream)).keep_alive(KeepAlive::default())
}

/// The next event: a resync, or the notices of one window merged.
async fn next(notices: &mut broadcast::Receiver<Notice>) -> Option<Event> {
    let mut changes = Changes::default();
    match notices.recv().await {
        Ok(Notice::Applied(notice)) => changes.add(&notice),
        Ok(Notice::Resync) | Err(RecvError::Lagged(_)) => return Some(resync()),
        Err(RecvError::Closed) => return None,
    }
    let deadline = tokio::time::Instant::now() + WINDOW;
    loop {
        match tokio::time::timeout_at(deadline, notices.recv()).await {
            Err(_) => break,
            Ok(Ok(Notice::Applied(notice))) => changes.add(&notice),
            Ok(Ok(Notice::Resync) | Err(RecvError::Lagged(_))) => return Some(resync()),
            Ok(Err(RecvError::Closed)) => return None,
        }
    }
    Some(changes.event())
}

/// The models and experiments named in a window, bounded.
#[derive(Default)]
struct Changes {
    models: BTreeSet<String>,
    experiments: BTreeSet<String>,
    more: bool,
}

impl Changes {
    fn add(&mut self, notice: &str) {
        // Something else on the channel: the page reads everything.
        let Some(notice) = platform::notice::Notice::parse(notice) else {
            self.more = true;
            return;
        };
        self.more |= notice.more;
        for name in notice.models {
            if self.models.len() < MAX_MODELS {
                self.models.insert(name);
            } else {
                self.more = true;
            }
        }
        for name in notice.experiments {
            if self.experiments.len() < MAX_EXPERIMENTS {
                self.experiments.insert(name);
            } else {
                self.more = true;
            }
        }
    }

    fn event(self) -> Event {
        let data = serde_json::json!({
            "models": self.models,
            "experiments": self.experiments,
            "more": self.more,
        });
        Event::default().event("applied").data(data.to_string())
    }
}

fn resync() -> Event {
    Event::default().event("resync").data("{}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(changes: Changes) -> serde_json::Value {
        serde_json::json!({
            "models": changes.models,
            "experiments": changes.experiments,
            "more": changes.more,
        })
    }

    #[test]
    fn a_window_carries_the_models_and_the_experiments_named() {
        let mut changes = Changes::default();
        changes.add(&platform::notice::Notice::of(0, ["b", "a"]).to_json());
        changes.add(&platform::notice::Notice::of_experiment(1, "checkout").to_json());
        changes.add(&platform::notice::Notice::of(1, ["a"]).to_json());
        assert_eq!(
            data(changes),
            serde_json::json!({"models": ["a", "b"], "experiments": ["checkout"], "more": false})
        );
    }

    #[test]
    fn a_notice_of_old_shape_or_something_else_still_reads() {
        let mut changes = Changes::default();
        changes.add(r#"{"partition":0,"models":["a"],"more":false}"#);
        assert_eq!(
            data(changes),
            serde_json::json!({"models": ["a"], "experiments": [], "more": false})
        );
        let mut changes = Changes::default();
        changes.add("not a notice");
        assert!(changes.more);
    }

    #[test]
    fn too_many_experiments_say_more() {
        let mut changes = Changes::default();
        for i in 0..=MAX_EXPERIMENTS {
            changes.add(&platform::notice::Notice::of_experiment(0, &format!("e{i:03}")).to_json());
        }
        assert_eq!(changes.experiments.len(), MAX_EXPERIMENTS);
        assert!(changes.more);
    }
}
