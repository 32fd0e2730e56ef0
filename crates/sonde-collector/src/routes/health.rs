//! `GET /healthz`: 200 when the store answers (`"status": "degraded"` while
//! it accepts writes it cannot yet make durable where they belong, e.g. into
//! ClickHouse's spill), 503 otherwise.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::{ApiError, AppState};

/// The health route.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    if let Some(reason) = state.store().degraded() {
        return Ok(super::json(
            StatusCode::OK,
            &serde_json::json!({"status": "degraded", "reason": reason}),
        ));
    }
    let generation = state.read(|s| s.catalog_generation()).await?;
    Ok(super::json(
        StatusCode::OK,
        &serde_json::json!({"status": "ok", "catalog_generation": generation}),
    ))
}
