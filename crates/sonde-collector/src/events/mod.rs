//! The event front doors: Hasura's `POST /v1/http` and `GET /v1/ws`
//! (WebSocket), the native `POST /api/v1/events`, error reports
//! `POST /api/v1/error-reports`, the published allowlist `GET /api/v1/schema`,
//! the console snippet `GET /sdk/console.js`, and the admin routes for route
//! templates, vocabularies, event counts and error groups. [`crate::app`]
//! mounts them.
//!
//! Each front door is a thin adapter: read the body (size-limited, gzip
//! decoded), decode it with [`sonde_protocol::hasura`] or
//! [`sonde_protocol::native`] — which run the one allowlist validation of
//! [`sonde_protocol::allowlist`] — and hand the events and what was dropped to
//! [`crate::Pipeline::submit_events_from`], which answers after the batch has
//! committed. No validation or storage logic lives here.

mod admin;
pub(crate) mod body;
mod error_reports;
mod hasura;
mod native;
mod route_cache;
mod schema;
mod vocabulary_cache;
pub mod ws;

use axum::routing::{get, post};
use axum::Router;

pub use route_cache::{RouteCache, RouteCacheError};
pub use vocabulary_cache::{VocabularyCache, VocabularyRef};

use crate::AppState;

/// The public event routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/http", post(hasura::ingest))
        .route("/v1/ws", get(ws::upgrade))
        .route("/api/v1/events", post(native::ingest).options(native::preflight))
        .route(
            "/api/v1/error-reports",
            post(error_reports::ingest).options(native::preflight),
        )
        .route("/api/v1/schema", get(schema::schema))
        .route("/sdk/console.js", get(schema::console_js))
}

/// The event admin routes; [`crate::app`] puts them behind the admin token.
pub(crate) fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/routes", post(admin::add_routes).get(admin::list_routes))
        .route(
            "/api/v1/vocabulary",
            post(admin::add_vocabulary).get(admin::list_vocabulary),
        )
        .route("/api/v1/stats/events", get(admin::event_counts))
        .route("/api/v1/errors", get(error_reports::list))
        .route("/api/v1/errors/{group}", get(error_reports::show))
}
