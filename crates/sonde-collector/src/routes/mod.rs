//! HTTP routes, one module per area. [`crate::app`] puts them together.

pub mod admin;
pub mod checkpoint;
pub mod health;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ApiError;

/// A JSON response from bytes serialized once, with the right content type.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes(status, body),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// A JSON response from bytes already serialized.
pub(crate) fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

/// Unknown routes: a JSON 404.
pub(crate) async fn fallback() -> ApiError {
    ApiError::NotFound("no_route", "no such endpoint".into())
}
