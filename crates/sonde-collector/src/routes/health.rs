//! `GET /healthz` (200 when the store answers, 503 otherwise) and
//! `GET /openapi.json`, the API document ([`crate::openapi`]).

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
    /// Always `ok`.
    status: &'static str,
    /// The store's catalog generation (moves on every catalog change).
    catalog_generation: u64,
}

/// `GET /healthz`.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = TAG_OPS,
    responses((status = 200, description = "The store answers", body = Health), Unavailable)
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    let generation = state.read(|s| s.catalog_generation()).await?;
    Ok(super::json(
        StatusCode::OK,
        &Health {
            status: "ok",
            catalog_generation: generation,
        },
    ))
}
