//! `GET /api/v1/schema` (the allowlists, Hasura's topics of every generation
//! and the limits of each door, public) and `GET /sdk/console.js`
//! (the console snippet, public, importable from any origin).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The console snippet, compiled into the binary.
pub(super) const CONSOLE_JS: &str = include_str!("../../assets/console.js");

pub(super) async fn schema() -> Response {
    crate::routes::json(StatusCode::OK, &sonde_protocol::schema::schema())
}

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
