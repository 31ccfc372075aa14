//! `GET /events`: Server-Sent Events for the live view. Each applied batch
//! arrives as an `applied` event carrying bayes's notice
//! (`{"partition", "models", "more"}`); `resync` tells the page to read
//! everything again (after the api resubscribed, or when this stream fell
//! more than the buffer behind, and first on every new stream, since a page
//! that reconnects may have missed notices). A comment every 15 s keeps proxies from
//! closing an idle stream; the stream ends when the server shuts down, so
//! it never holds a graceful shutdown open.

use super::routes::Shared;
use crate::infrastructure::redis::notices::Notice;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

pub(super) async fn events(
    State(state): State<Shared>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let notices = state.notices.subscribe();
    let stopping = state.stopping.clone();
    let stream = futures_util::stream::unfold(
        (notices, stopping),
        |(mut notices, mut stopping)| async move {
            let event = tokio::select! {
                _ = stopping.wait_for(|stopping| *stopping) => return None,
                received = notices.recv() => match received {
                    Ok(Notice::Applied(notice)) => Event::default().event("applied").data(notice),
                    Ok(Notice::Resync) | Err(RecvError::Lagged(_)) => resync(),
                    Err(RecvError::Closed) => return None,
                },
            };
            Some((Ok(event), (notices, stopping)))
        },
    );
    // First a resync: a page that reconnects may have missed notices meanwhile.
    let first = futures_util::stream::once(async { Ok(resync()) });
    Sse::new(first.chain(stream)).keep_alive(KeepAlive::default())
}

fn resync() -> Event {
    Event::default().event("resync").data("{}")
}
