//! The event front doors (issue 4): Hasura's `POST /v1/http`, the native
//! `POST /api/v1/events`, the published allowlist `GET /api/v1/schema`, the
//! console snippet `GET /sdk/console.js`, and the admin routes for route
//! templates and event counts.
//!
//! Each front door is a thin adapter: read the body (size-limited, gzip
//! decoded), decode it with [`sonde_protocol::hasura`] or
//! [`sonde_protocol::native`] — which run the one allowlist validation of
//! [`sonde_protocol::allowlist`] — and hand the events and what was dropped to
//! [`crate::Pipeline::submit_events_from`], which answers after the batch has
//! committed. No validation or storage logic lives here.

mod admin;
mod body;
mod hasura;
mod native;
mod route_cache;
mod schema;

use std::sync::Arc;

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

pub use route_cache::RouteCache;

use crate::routes::admin::require_token;
use crate::AppState;

/// What the event routes share: the collector's state (and its store) and
/// the route-template cache.
#[derive(Clone, Debug)]
pub struct EventsState {
    app: AppState,
    routes: Arc<RouteCache>,
}

impl EventsState {
    /// The event routes' state over `app`'s store.
    pub fn new(app: AppState) -> Self {
        let routes = Arc::new(RouteCache::new(app.store().clone()));
        EventsState { app, routes }
    }
}

/// The event routes, ready to merge into [`crate::app`]'s router.
pub fn router<S: Clone + Send + Sync + 'static>(state: EventsState) -> Router<S> {
    let admin_routes = Router::new()
        .route("/api/v1/routes", post(admin::add_routes).get(admin::list_routes))
        .route("/api/v1/stats/events", get(admin::event_counts))
        .route_layer(middleware::from_fn_with_state(state.app.clone(), require_token));
    Router::new()
        .route("/v1/http", post(hasura::ingest))
        .route("/api/v1/events", post(native::ingest).options(native::preflight))
        .route("/api/v1/schema", get(schema::schema))
        .route("/sdk/console.js", get(schema::console_js))
        .merge(admin_routes)
        .with_state(state)
}
