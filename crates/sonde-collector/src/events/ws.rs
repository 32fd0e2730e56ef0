//! `GET /v1/ws`: the Hasura console's telemetry WebSocket.
//!
//! The console opens one WebSocket and sends one text frame per event, the
//! same `{"data": {...}, "topic": "console" | "console-v2" | ...}` envelope
//! the server posts to `/v1/http`; it reads nothing back. Each frame is
//! decoded by [`sonde_protocol::hasura::decode`] and stored through
//! [`crate::Pipeline`] like a `/v1/http` body (rejections counted under the
//! source `hasura-ws`); the next frame is read only after the previous one
//! has committed, so a frame is acknowledged in the only sense the console
//! knows — the socket stays open — once it is stored. No reply is sent per
//! frame.
//!
//! The product is `hasura` unless `?product=` names another registered
//! product (404 otherwise), as on `/v1/http`.
//!
//! Limits, like every other door:
//!
//! - a frame or message over [`MAX_HASURA_BODY`] closes the socket with 1009
//!   (message too big);
//! - a binary frame closes it with 1003 (unsupported data);
//! - more than [`MAX_FRAMES_PER_CONNECTION`] frames, or frames faster than
//!   [`FRAMES_PER_SECOND`] (bursts of [`FRAME_BURST`]), close it with 1008
//!   (policy violation); the console opens a new one;
//! - no frame for [`IDLE_TIMEOUT`] closes it with 1000;
//! - a text frame that is not an envelope (not JSON, unknown topic) is
//!   counted as a drop (`envelope / invalid_format`), not stored, and the
//!   socket stays open;
//! - at most [`crate::AppState::set_socket_cap`] sockets are open at once
//!   (a quarter of the connection budget); an upgrade beyond that is
//!   answered 503 with `Retry-After`;
//! - when the store cannot take the write the socket closes with 1013 (try
//!   again later): the frame is not stored and the client is told.
//!
//! Origin: a WebSocket is not subject to CORS, so the check is explicit. The
//! policy mirrors `/api/v1/events` (`Access-Control-Allow-Origin: *`): the
//! console is served by every user's own Hasura server, from any host, and
//! the socket carries only anonymous telemetry with no credentials, so any
//! web origin (`http(s)://host[:port]`, or `null`) is accepted; an `Origin`
//! that is not one is refused with 403. Clients that send no `Origin`
//! (non-browsers) are accepted.
//!
//! Shutdown: [`crate::AppState::close_sockets`] tells every socket to stop;
//! each finishes committing the frame it holds, stores the frames that have
//! already arrived, and closes with 1001 (going away) before the store is
//! closed. A frame that cannot be stored closes the socket with 1013.

use std::time::{Duration, Instant};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use sonde_protocol::dropped::{DropReason, Dropped};
use sonde_protocol::hasura::{self, MAX_HASURA_BODY};
use sonde_protocol::ProductName;
use tokio::sync::watch;

use crate::extract::parse_product;
use crate::openapi::{BadRequest, Forbidden, NotFound, Unavailable, TAG_EVENTS};
use crate::pipeline::PipelineError;
use crate::{ApiError, ApiQuery, AppState};

/// Most frames one connection may send.
pub const MAX_FRAMES_PER_CONNECTION: u64 = hasura::WS_MAX_FRAMES_PER_CONNECTION;
/// Sustained frames per second a connection may send.
pub const FRAMES_PER_SECOND: f64 = hasura::WS_FRAMES_PER_SECOND;
/// Frames a connection may send at once before [`FRAMES_PER_SECOND`] applies.
pub const FRAME_BURST: f64 = hasura::WS_FRAME_BURST;
/// How long a connection may stay silent.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(hasura::WS_IDLE_TIMEOUT_SECS);

/// How long a socket the collector closes waits for the client's close.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// The rejection counters' name for this door.
const SOURCE: &str = "hasura-ws";

/// `GET /v1/ws`: the WebSocket upgrade.
#[utoipa::path(
    get,
    path = "/v1/ws",
    operation_id = "hasura_websocket",
    tag = TAG_EVENTS,
    description = "A WebSocket (RFC 6455) upgrade: send `Connection: Upgrade`, `Upgrade: websocket`, \
        `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key`. Then send one text frame per Hasura \
        console event, the `{topic, data}` envelope of `POST /v1/http`; nothing is sent back per frame. \
        Limits and close codes: docs/events.md.",
    params(
        ("product" = Option<String>, Query, description = "A registered product; `hasura` when absent", example = "demo"),
        ("Origin" = Option<String>, Header, description = "A web origin, `null`, or none"),
    ),
    responses(
        (status = 101, description = "Switching protocols: the WebSocket is open"),
        BadRequest, Forbidden, NotFound, Unavailable
    )
)]
pub(super) async fn upgrade(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<super::hasura::Params>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    check_origin(&headers)?;
    let product = parse_product(params.product.as_deref().unwrap_or("hasura"))?;
    if !state.catalog().has_product(product.as_str()) {
        return Err(ApiError::UnknownProduct(product.to_string()));
    }
    let ws = ws.map_err(|r| ApiError::NotWebSocket(r.body_text()))?;
    let closing = state.socket_guard().ok_or(ApiError::TooManySockets)?;
    Ok(ws
        .max_message_size(MAX_HASURA_BODY)
        .max_frame_size(MAX_HASURA_BODY)
        .on_upgrade(move |socket| session(socket, state, product, closing))
        .into_response())
}

/// Any web origin, `null`, or none; see the module docs.
fn check_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| ApiError::ForbiddenOrigin)?;
    if origin == "null" || is_web_origin(origin) {
        Ok(())
    } else {
        Err(ApiError::ForbiddenOrigin)
    }
}

/// `http://host[:port]` or `https://host[:port]`: a host name, an IPv4 or a
/// bracketed IPv6 address, nothing after the port.
fn is_web_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let (host_ok, port) = if let Some(v6) = rest.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return false;
        };
        let ok = !addr.is_empty() && addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        match (after, after.strip_prefix(':')) {
            ("", _) => (ok, None),
            (_, Some(p)) => (ok, Some(p)),
            (_, None) => return false,
        }
    } else {
        let (host, port) = match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        };
        let ok = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        (ok, port)
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// A token bucket: [`FRAME_BURST`] frames, refilled at [`FRAMES_PER_SECOND`].
#[derive(Debug)]
struct Rate {
    tokens: f64,
    at: Instant,
}

impl Rate {
    fn new() -> Self {
        Rate {
            tokens: FRAME_BURST,
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * FRAMES_PER_SECOND;
        self.tokens = (self.tokens + refill).min(FRAME_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// How a session ended: the close frame to send, if any.
type Close = Option<(u16, &'static str)>;

async fn session(mut socket: WebSocket, state: AppState, product: ProductName, mut closing: watch::Receiver<bool>) {
    let close = serve(&mut socket, &state, &product, &mut closing).await;
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = socket.send(Message::Close(Some(frame))).await;
        // The closing handshake: read and discard until the client's close
        // (or [`CLOSE_WAIT`]), so frames still in flight are not answered
        // with a reset that could lose the close frame on the client's side.
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(m)) = socket.recv().await {
                if matches!(m, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    } else {
        // The client closed: reading on sends the close reply the WebSocket
        // library has queued, and ends when the connection does.
        while let Some(Ok(_)) = socket.recv().await {}
    }
    // `closing` is dropped here: shutdown waits for every receiver.
}

/// Reads and stores frames until the connection ends; returns the close
/// frame to send.
async fn serve(
    socket: &mut WebSocket,
    state: &AppState,
    product: &ProductName,
    closing: &mut watch::Receiver<bool>,
) -> Close {
    let mut frames = 0u64;
    let mut rate = Rate::new();
    loop {
        if *closing.borrow() {
            return drain(socket, state, product).await;
        }
        let next = tokio::select! {
            _ = closing.changed() => continue,
            next = tokio::time::timeout(IDLE_TIMEOUT, socket.recv()) => next,
        };
        let message = match next {
            Err(_) => return Some((close_code::NORMAL, "idle")),
            Ok(None) => return None,
            Ok(Some(Err(e))) => return Some(read_error(e)),
            Ok(Some(Ok(m))) => m,
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => return Some((close_code::UNSUPPORTED, "text frames only")),
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Close(_) => return None,
        };
        frames += 1;
        if frames > MAX_FRAMES_PER_CONNECTION {
            return Some((close_code::POLICY, "too many frames on one connection"));
        }
        if !rate.take() {
            return Some((close_code::POLICY, "too many frames per second"));
        }
        if let Err(e) = ingest(state, product, text.as_bytes()).await {
            return Some(match e {
                ApiError::Ingest(PipelineError::Unavailable(_)) | ApiError::StoreUnavailable(_) => {
                    // The store's writer logs a run of failed writes once (a
                    // full disk, a full queue): one line per socket would be
                    // a flood.
                    tracing::debug!(error = %e, "a WebSocket frame was not stored; closing the socket");
                    (close_code::AGAIN, "store unavailable, retry later")
                }
                ApiError::Ingest(PipelineError::UnknownProduct(_)) => (close_code::POLICY, "unknown product"),
                e => {
                    tracing::warn!(error = %e, "a WebSocket frame was not stored; closing the socket");
                    (close_code::ERROR, "internal error")
                }
            });
        }
    }
}

/// At shutdown: stores the text frames already received (those readable
/// without waiting), then closes with 1001 (going away).
async fn drain(socket: &mut WebSocket, state: &AppState, product: &ProductName) -> Close {
    // A zero timeout polls the read once: it completes only for a frame
    // that has already arrived.
    while let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(Duration::ZERO, socket.recv()).await {
        if let Err(e) = ingest(state, product, text.as_bytes()).await {
            tracing::warn!(error = %e, "a WebSocket frame received at shutdown was not stored");
            return Some((close_code::AGAIN, "store unavailable, retry later"));
        }
    }
    Some((close_code::AWAY, "collector stopping"))
}

/// The close frame for a read error: 1009 for a frame or message over the
/// limit, 1002 for anything else.
fn read_error(e: axum::Error) -> (u16, &'static str) {
    match e.into_inner().downcast::<tungstenite::Error>().map(|e| *e) {
        Ok(tungstenite::Error::Capacity(_)) => (close_code::SIZE, "frame or message too big"),
        _ => (close_code::PROTOCOL, "protocol error"),
    }
}

/// Stores one frame's event; a frame that is not an envelope is counted.
async fn ingest(state: &AppState, product: &ProductName, bytes: &[u8]) -> Result<(), ApiError> {
    let routes = state.routes().get(product.as_str()).await?;
    let registered = state.catalog().has_product(product.as_str());
    let vocab = state.vocabulary().get(product.as_str(), registered).await?;
    let (events, dropped) = match hasura::decode(bytes, product.clone(), &routes, &vocab, crate::clock::now_ms()) {
        Ok((event, dropped)) => (event.into_iter().collect(), dropped),
        Err(e) => {
            tracing::debug!(error = %e, "a WebSocket frame is not an envelope");
            let bad = Dropped {
                field: "envelope",
                reason: DropReason::InvalidFormat,
            };
            (Vec::new(), vec![bad])
        }
    };
    state
        .pipeline()
        .submit_events_from(SOURCE, product, events, dropped)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_origins() {
        for ok in [
            "http://localhost:8080",
            "https://console.example.com",
            "http://127.0.0.1:9695",
            "http://[::1]:8080",
            "https://a-b.example",
        ] {
            assert!(is_web_origin(ok), "{ok}");
        }
        for bad in [
            "localhost",
            "ftp://x",
            "http://",
            "http://a/b",
            "http://a:b",
            "http://user@host",
            "http://a b",
            "http://[::1]x",
            "chrome-extension://abc",
        ] {
            assert!(!is_web_origin(bad), "{bad}");
        }
    }
}
