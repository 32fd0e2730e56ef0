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

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use route_cache::{RouteCache, RouteCacheError};
pub use vocabulary_cache::{VocabularyCache, VocabularyRef};

use crate::AppState;

/// The public event routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hasura::ingest))
        .routes(routes!(ws::upgrade))
        .routes(routes!(native::ingest, native::preflight))
        .routes(routes!(error_reports::ingest, error_reports::preflight))
        .routes(routes!(schema::schema))
        .routes(routes!(schema::console_js))
}

/// The event admin routes; [`crate::app`] puts them behind the admin token.
pub(crate) fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::add_routes, admin::list_routes))
        .routes(routes!(admin::add_vocabulary, admin::list_vocabulary))
        .routes(routes!(admin::event_counts))
        .routes(routes!(error_reports::list))
        .routes(routes!(error_reports::show))
}
