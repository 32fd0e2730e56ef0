//! `POST /v1/http`: the Hasura server's `{topic, data}` envelope and the
//! CLI's (flat or wrapped), decoded by [`sonde_protocol::hasura::decode`].
//! The body may come with no Content-Type (Go's `net/http`, as the CLI
//! sends it), `application/json` or `text/plain`. The product is `hasura`
//! unless the query names another (`/v1/http?product=my-fork`); it must be
//! registered (a release published) like any product.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use sonde_protocol::hasura::{self, MAX_HASURA_BODY};

use crate::extract::parse_product;
use crate::openapi::{BadRequest, NotFound, Timeout, TooLarge, Unavailable, UnsupportedMedia, TAG_EVENTS};
use crate::{ApiError, ApiQuery, AppState};

#[derive(Debug, Deserialize)]
pub(super) struct Params {
    pub(super) product: Option<String>,
}

/// `POST /v1/http`.
#[utoipa::path(
    post,
    path = "/v1/http",
    operation_id = "ingest_hasura",
    tag = TAG_EVENTS,
    params(("product" = Option<String>, Query, description = "A registered product; `hasura` when absent", example = "demo")),
    request_body(
        content(
            (Object = "application/json", example = json!({"topic": "cli", "data": {"command": "hasura version", "version": "v2.40.0", "is_error": false}})),
            (Object = "text/plain")
        ),
        description = "A Hasura envelope `{topic, data}` (server) or the CLI's, optionally gzip-encoded"
    ),
    responses(
        (status = 200, description = "Committed: `{stored, duplicates, dropped}`", body = Object),
        BadRequest, NotFound, Timeout, TooLarge, UnsupportedMedia, Unavailable
    )
)]
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
        .submit_events_from("hasura", &product, event.into_iter().collect(), dropped)
        .await?;
    Ok(crate::routes::json(StatusCode::OK, &summary))
}
