//! HTTP routes, one module per area, and the answers of no route and of a
//! method a route does not take. [`crate::app`] puts them together.

pub mod admin;
pub mod checkpoint;
pub mod health;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::{ApiError, AppState};

/// A JSON response from bytes serialized once, with the right content type.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes(status, body),
        Err(e) => ApiError::Serialize(e).into_response(),
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
    ApiError::NoRoute
}

/// Unknown routes of the collector's service: a JSON 404, counted under the
/// route `unmatched` (the metrics middleware sees matched routes only).
pub(crate) async fn unmatched(State(state): State<AppState>, method: Method) -> ApiError {
    state.metrics().request(
        crate::metrics::UNMATCHED,
        crate::metrics::known_method(&method),
        StatusCode::NOT_FOUND,
    );
    ApiError::NoRoute
}

/// A known route asked with a method it does not take: a JSON 405 (axum adds
/// the `Allow` header).
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
