//! `GET /healthz`: 200 when the store answers, 503 otherwise.

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
    let generation = state.read(|s| s.catalog_generation()).await?;
    Ok(super::json(
        StatusCode::OK,
        &serde_json::json!({"status": "ok", "catalog_generation": generation}),
    ))
}
