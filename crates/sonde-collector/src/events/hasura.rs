//! `POST /v1/http`: Hasura's `{topic, data}` envelope, decoded by
//! [`sonde_protocol::hasura::decode`]. The product is `hasura` unless the
//! query names another (`/v1/http?product=my-fork`); it must be registered
//! (a release published) like any product.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use sonde_protocol::hasura::{self, MAX_HASURA_BODY};

use crate::extract::parse_product;
use crate::{ApiError, ApiQuery, AppState};

#[derive(Debug, Deserialize)]
pub(super) struct Params {
    product: Option<String>,
}

pub(super) async fn ingest(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let product = parse_product(params.product.as_deref().unwrap_or("hasura"))?;
    let bytes = super::body::read(&headers, body, MAX_HASURA_BODY).await?;
    let routes = state.routes().get(product.as_str()).await?;
    let registered = state.catalog().has_product(product.as_str());
    let vocab = state.vocabulary().get(product.as_str(), registered).await?;
    let (event, dropped) = hasura::decode(&bytes, product.clone(), &routes, &vocab, crate::clock::now_ms())
        .map_err(ApiError::InvalidEnvelope)?;
    let summary = state
        .pipeline()
        .submit_events_from("hasura", &product, vec![event], dropped)
        .await?;
    Ok(crate::routes::json(StatusCode::OK, &summary))
}
