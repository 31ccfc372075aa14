//! `GET /events`: Server-Sent Events for the live view. bayes's notices of
//! applied batches (`{"partition", "models", "more"}`) are coalesced per
//! stream: the first one opens a window of [`WINDOW`], and one `applied`
//! event then carries the union of the models named in it (at most
//! [`MAX_MODELS`], `more` past that). Under heavy ingest a page gets at
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

/// The models named in a window, bounded.
#[derive(Default)]
struct Changes {
    models: BTreeSet<String>,
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
    }

    fn event(self) -> Event {
        let data = serde_json::json!({ "models": self.models, "more": self.more });
        Event::default().event("applied").data(data.to_string())
    }
}

fn resync() -> Event {
    Event::default().event("resync").data("{}")
}
