//! Live boards over Server-Sent Events: `GET /v1/attendance/board/{conference_id}/events`.
//!
//! The stream follows the conference as `hoinghi_client::board::Board` does, on the caller's own
//! connection (so only an identity allowed to read the board and the live feed gets one): first an
//! event `snapshot` with the whole board (every page of lines) and its `seq` as the event id, then one
//! event `change` per change (`BoardChange`, its `seq` as the id), in order, none twice, gaps filled
//! from the log. A client that reconnects sends `Last-Event-ID` (browsers' `EventSource` does it by
//! itself): the stream then resumes with the changes after that `seq`, without a snapshot. A
//! failure ends the stream with an event `error` (the contract's error body); `EventSource`
//! reconnects and resumes. Comments keep the connection alive every 15 s.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use hoinghi_client::board::Board;
use hoinghi_shared::{ApiError, ConferenceId};

use crate::error::HttpError;
use crate::http::App;

/// Holds one of an identity's live streams; gives it back when dropped.
struct StreamSlot {
    app: Arc<App>,
    identity: String,
}

impl StreamSlot {
    fn take(app: &Arc<App>, identity: &str) -> Result<Self, HttpError> {
        let mut streams = app.streams.lock().map_err(|_| crate::http::unexpected("stream count poisoned"))?;
        let open = streams.entry(identity.to_owned()).or_default();
        if *open >= app.settings.limits.streams_per_identity {
            return Err(HttpError::rate_limited(5));
        }
        *open += 1;
        Ok(Self { app: app.clone(), identity: identity.to_owned() })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut streams) = self.app.streams.lock() {
            if let Some(open) = streams.get_mut(&self.identity) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    streams.remove(&self.identity);
                }
            }
        }
    }
}

/// The handler.
pub async fn board_events(
    State(app): State<Arc<App>>,
    conference: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Response {
    match open(&app, conference, &headers).await {
        Ok(stream) => Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn open(
    app: &Arc<App>,
    conference: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: &HeaderMap,
) -> Result<impl Stream<Item = Result<Event, Infallible>>, HttpError> {
    let caller = app.gate.admit(headers)?;
    let Path(conference) = conference.map_err(|e| ApiError::invalid(format!("path: {e}")))?;
    let conference = ConferenceId::parse(&conference).map_err(|e| ApiError::invalid(e.to_string()))?;
    let resume = match headers.get("last-event-id").map(|v| v.to_str().map(str::parse::<u64>)) {
        None => None,
        Some(Ok(Ok(seq))) => Some(seq),
        Some(_) => return Err(ApiError::invalid("Last-Event-ID is not a sequence number").into()),
    };
    let slot = StreamSlot::take(app, &caller.identity)?;
    let api = app.pool.get(&caller.identity).await?;
    let (board, first) = match resume {
        Some(since) => (Board::resume(&api, conference, since).await?, None),
        None => {
            let (board, snapshot) = Board::open(&api, conference).await?;
            let data = serde_json::to_string(&snapshot).map_err(crate::http::unexpected)?;
            (board, Some(Event::default().event("snapshot").id(snapshot.seq.to_string()).data(data)))
        }
    };
    tracing::info!(identity = %caller.identity, %conference, resume, "board stream opened");
    let stopping = app.stopping.clone().cancelled_owned();
    Ok(futures::StreamExt::take_until(
        futures::stream::unfold((board, first, Some(slot)), |(mut board, first, slot)| async move {
            let slot = slot?;
            if let Some(event) = first {
                return Some((Ok(event), (board, None, Some(slot))));
            }
            match board.next().await {
                Ok(change) => {
                    let event = serde_json::to_string(&change)
                        .map(|data| Event::default().event("change").id(change.seq.to_string()).data(data))
                        .unwrap_or_else(|e| Event::default().event("error").data(e.to_string()));
                    Some((Ok(event), (board, None, Some(slot))))
                }
                Err(e) => {
                    let body = HttpError::from(e).body();
                    // Ends the stream after this event (the slot is given back).
                    drop(slot);
                    Some((Ok(Event::default().event("error").data(body)), (board, None, None)))
                }
            }
        }),
        stopping,
    ))
}
