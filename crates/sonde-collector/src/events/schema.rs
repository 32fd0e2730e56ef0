//! `GET /api/v1/schema` (the allowlists, Hasura's topics of every generation
//! and the limits of each door, public) and `GET /sdk/console.js`
//! (the console snippet, public, importable from any origin).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::openapi::TAG_EVENTS;

/// The console snippet, compiled into the binary.
pub(super) const CONSOLE_JS: &str = include_str!("../../assets/console.js");

/// `GET /api/v1/schema`.
#[utoipa::path(
    get,
    path = "/api/v1/schema",
    operation_id = "allowlist_schema",
    tag = TAG_EVENTS,
    responses((status = 200, description = "The published allowlists, Hasura's topics and each door's limits", body = Object))
)]
pub(super) async fn schema() -> Response {
    crate::routes::json(StatusCode::OK, &sonde_protocol::schema::schema())
}

/// `GET /sdk/console.js`.
#[utoipa::path(
    get,
    path = "/sdk/console.js",
    tag = TAG_EVENTS,
    responses((status = 200, description = "The console snippet (an ES module)", content_type = "text/javascript", body = String))
)]
pub(super) async fn console_js() -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            // A module script from another origin is fetched in CORS mode.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        CONSOLE_JS,
    )
        .into_response()
}
