//! `GET /healthz` (200 when the store answers, `"status": "degraded"` while
//! it accepts writes it cannot yet make durable where they belong, e.g. into
//! ClickHouse's spill; 503 otherwise) and `GET /openapi.json`, the API
//! document ([`crate::openapi`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi::{Unavailable, TAG_OPS};
use crate::{ApiError, AppState};

/// The health routes and the document's.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(crate::openapi::openapi_json))
}

/// The answer of `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok`, or `degraded` while writes are accepted into a spill.
    status: &'static str,
    /// Why it is degraded (absent when `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The store's catalog generation (moves on every catalog change);
    /// absent when degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog_generation: Option<u64>,
}

/// `GET /healthz`.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = TAG_OPS,
    responses((status = 200, description = "The store answers (`ok`), or accepts writes into a spill (`degraded`)", body = Health), Unavailable)
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    if let Some(reason) = state.store().degraded() {
        return Ok(super::json(
            StatusCode::OK,
            &Health {
                status: "degraded",
                reason: Some(reason.to_string()),
                catalog_generation: None,
            },
        ));
    }
    let generation = state.read(|s| s.catalog_generation()).await?;
    Ok(super::json(
        StatusCode::OK,
        &Health {
            status: "ok",
            reason: None,
            catalog_generation: Some(generation),
        },
    ))
}
