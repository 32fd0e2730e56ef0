//! `POST /api/v1/events`: Sonde's native batch API, decoded by
//! [`sonde_protocol::native`]. Over [`MAX_BATCH_BYTES`] or
//! [`MAX_BATCH_EVENTS`] → 413 and nothing stored. Answers
//! `{stored, duplicates, dropped, rejected: [{index, reason}]}` after the
//! batch has committed.
//!
//! CORS: the console snippet posts with `navigator.sendBeacon` and a
//! `text/plain` body — a "simple" request that needs no preflight. The
//! answer allows any origin (it carries nothing but counts), and a preflight
//! for `fetch` with `Content-Type: application/json` is answered too.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sonde_protocol::native::{self, Rejected, MAX_BATCH_BYTES};

use crate::openapi::{BadRequest, NotFound, Timeout, TooLarge, Unavailable, UnsupportedMedia, TAG_EVENTS};
use crate::{ApiError, AppState, IngestSummary};

#[derive(Debug, Serialize)]
struct Answer {
    #[serde(flatten)]
    summary: IngestSummary,
    rejected: Vec<Rejected>,
}

pub(super) fn allow_any_origin(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// `POST /api/v1/events`.
#[utoipa::path(
    post,
    path = "/api/v1/events",
    operation_id = "ingest_native_events",
    tag = TAG_EVENTS,
    request_body(
        content(
            (Object = "application/json", example = json!({"product": "demo", "events": [
                {"id": "0b3f4c4e-1d2a-4c3b-8f00-000000000001", "kind": "command", "command": "demo build", "flags": ["--release"], "is_error": false}
            ]})),
            (Object = "text/plain")
        ),
        description = "A native batch `{product, events: [...]}` (docs/events.md), optionally gzip-encoded"
    ),
    responses(
        (status = 200, description = "Committed: `{stored, duplicates, dropped, rejected: [{index, reason}]}`", body = Object),
        BadRequest, NotFound, Timeout, TooLarge, UnsupportedMedia, Unavailable
    )
)]
pub(super) async fn ingest(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    allow_any_origin(match ingest_inner(state, headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    })
}

async fn ingest_inner(state: AppState, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let bytes = super::body::read(&headers, body, MAX_BATCH_BYTES).await?;
    let value = native::parse(&bytes)?;
    let product = native::peek_product(&value)?;
    let routes = state.routes().get(product.as_str()).await?;
    let registered = state.catalog().has_product(product.as_str());
    let vocab = state.vocabulary().get(product.as_str(), registered).await?;
    let batch = native::decode(value, &routes, &vocab, crate::clock::now_ms())?;
    let summary = state
        .pipeline()
        .submit_events_from("native", &batch.product, batch.events, batch.dropped)
        .await?;
    Ok(crate::routes::json(
        StatusCode::OK,
        &Answer {
            summary,
            rejected: batch.rejected,
        },
    ))
}

/// `OPTIONS /api/v1/events`: the CORS preflight.
#[utoipa::path(
    options,
    path = "/api/v1/events",
    operation_id = "preflight_native_events",
    tag = TAG_EVENTS,
    responses((status = 204, description = "CORS preflight: any origin may POST JSON"))
)]
pub(super) async fn preflight() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, content-encoding"),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    r
}
