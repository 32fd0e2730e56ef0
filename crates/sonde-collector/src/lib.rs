//! Sonde's collector: the HTTP service that answers version checks, ingests
//! telemetry and serves the admin API.
//!
//! - [`app`] builds the whole HTTP service, every route, from an
//!   [`AppState`]; [`start`] / [`start_in_background`] open the store, bind a
//!   listener, serve [`app`] and run the background tasks.
//! - [`routes`]: the checkpoint front door (`/v1/check`, `/v1/versions`,
//!   `/v1/telemetry`), the admin API (`/api/v1/...`), `/healthz`.
//! - [`dashboard`]: the dashboard at `/`, behind a sign-in with the admin
//!   token.
//! - [`events`]: the event front doors (Hasura, native, the console snippet)
//!   and their admin routes.
//! - [`ApiError`]: every way a request can fail, with its status and code;
//!   [`extract`]: extractors whose rejections are [`ApiError`]s.
//! - [`pipeline::Pipeline`]: the one path from every front door to the store;
//!   it resolves only after the write's batch has committed.
//! - [`catalog`]: releases, alerts and version constraints as an in-memory
//!   snapshot, refreshed when the store's catalog generation moves.
//! - [`admin`]: admin inputs and their validation, shared with the CLI.
//! - [`openapi`]: the OpenAPI document, generated from the handlers and
//!   served at `/openapi.json`; [`metrics`]: `/metrics`.
//! - [`analytics`]: analytics as shown, under the minimum group size.
//! - How versions are compared and ranges matched is the crate
//!   [`sonde_versions`], shared with the store.
//! - [`clock`]: the collector's clock; the store is given every time it records.
//! - `listener` and `conn`: the accept loop, with its connection cap, and each
//!   connection's timeouts (HTTP/1.1 only, plain or TLS); [`RateLimit`]: the
//!   per-client-address rate limit, kept only in memory.
//!
//! Nothing here logs or stores a client's IP address (the rate limit keys an
//! in-memory map by it, and that is all).
//!
//! ```no_run
//! # async fn demo() -> Result<(), sonde_collector::CollectorError> {
//! let running = sonde_collector::start(sonde_collector::Config::default()).await?;
//! println!("listening on {}", running.local_addr());
//! running.shutdown().await
//! # }
//! ```

#![warn(missing_docs)]

pub mod admin;
pub mod analytics;
pub mod catalog;
pub mod clock;
mod config;
mod conn;
pub mod dashboard;
mod error;
pub mod events;
pub mod extract;
mod listener;
pub mod metrics;
mod open;
pub mod openapi;
pub mod pipeline;
mod ratelimit;
pub mod retention;
pub mod routes;
mod server;
mod state;
mod tls;
pub mod token;

pub use config::{Config, StoreChoice, StoreChoiceError};
pub use error::{ApiError, CollectorError};
pub use extract::{ApiJson, ApiQuery};
pub use pipeline::{IngestSummary, Pipeline, PipelineError};
pub use ratelimit::{RateLimit, MAX_ADDRESSES};
pub use server::{start, start_in_background, BackgroundCollector, Running};
pub use state::AppState;
pub use tls::TlsError;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

/// The public routes and the admin routes (before the admin token guard),
/// each with its part of the OpenAPI document.
fn api_parts() -> (OpenApiRouter<AppState>, OpenApiRouter<AppState>) {
    let public = OpenApiRouter::with_openapi(openapi::frame())
        .merge(routes::checkpoint::router())
        .merge(routes::health::router())
        .merge(dashboard::router())
        .merge(events::router());
    let admin = routes::admin::router().merge(events::admin_router());
    (public, admin)
}

/// Every route with the whole OpenAPI document ([`openapi::document`]).
fn api_router() -> OpenApiRouter<AppState> {
    let (public, admin) = api_parts();
    public.merge(admin)
}

/// The whole HTTP service over `state`: every route, the admin ones behind
/// the admin token, and JSON errors for an unknown route (404) or method (405).
pub fn app(state: AppState) -> Router {
    let (public, admin) = api_parts();
    let (router, _) = public
        .merge(routes::admin::guarded(admin, state.clone()))
        .split_for_parts();
    router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .fallback(routes::unmatched)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state)
}
