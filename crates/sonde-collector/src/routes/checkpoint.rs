//! The checkpoint front door: `GET /v1/check/{product}`,
//! `GET /v1/versions/{service}` and `POST /v1/telemetry/{product}`, as
//! go-checkpoint and Prisma's checkpoint-client call them.
//!
//! A check is answered from the in-memory catalog, and the answer goes out
//! only after the ping's batch has committed.

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use sonde_protocol::checkpoint::TelemetryBody;
use sonde_protocol::limits::{MAX_CHECKPOINT_BODY, MAX_QUERY_LEN};
use sonde_protocol::{CheckQuery, ProductName, UsagePing};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{parse_product, ApiPath, ApiQuery, Product};
use crate::openapi::{BadRequest, NotFound, Timeout, TooLarge, Unavailable, UnsupportedMedia, TAG_CHECKPOINT};
use crate::{ApiError, AppState};

/// The checkpoint routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(versions))
        .routes(routes!(telemetry))
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

/// The `User-Agent` header alone (the `HeaderMap` extractor would copy every
/// header of every check).
struct UserAgent(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(UserAgent(parts.headers.get(header::USER_AGENT).cloned()))
    }
}

/// `GET /v1/check/{product}`: a version check and usage ping.
#[utoipa::path(
    get,
    path = "/v1/check/{product}",
    tag = TAG_CHECKPOINT,
    params(
        ("product" = String, Path, description = "A registered product", example = "demo"),
        ("version" = Option<String>, Query, description = "The caller's version"),
        ("arch" = Option<String>, Query, description = "CPU architecture"),
        ("os" = Option<String>, Query, description = "Operating system"),
        ("signature" = Option<String>, Query, description = "An anonymous installation id (hashed before it is stored)"),
        ("command" = Option<String>, Query, description = "The command run (Prisma)"),
    ),
    responses(
        (status = 200, description = "The version answer: current version, outdated, alerts (go-checkpoint's and Prisma's shape)", body = Object),
        BadRequest, NotFound, Unavailable
    )
)]
async fn check(
    State(state): State<AppState>,
    Product(product): Product,
    uri: Uri,
    UserAgent(agent): UserAgent,
) -> Result<Response, ApiError> {
    let catalog = state.catalog();
    let Some(entry) = catalog.product(product.as_str()) else {
        return Err(ApiError::UnknownProduct(product.to_string()));
    };
    let raw = uri.query().unwrap_or("");
    if raw.len() > MAX_QUERY_LEN {
        return Err(ApiError::QueryTooLong);
    }
    let q = CheckQuery::parse(raw);
    let agent = agent.as_ref().and_then(|v| v.to_str().ok());
    let (ping, dropped) = UsagePing::from_check(product, &q, agent, crate::clock::now_ms());
    let answer = entry.answer_json(&q, ping.version.as_deref());
    drop(catalog);
    state.pipeline().submit_check(ping, dropped, answer.outdated).await?;
    Ok(super::json_bytes(StatusCode::OK, answer.body))
}

#[derive(Debug, Deserialize)]
struct VersionsParams {
    product: Option<String>,
}

/// `GET /v1/versions/{service}`: the versions of a product a service accepts.
#[utoipa::path(
    get,
    path = "/v1/versions/{service}",
    tag = TAG_CHECKPOINT,
    params(
        ("service" = String, Path, description = "The service"),
        ("product" = String, Query, description = "A registered product", example = "demo"),
    ),
    responses(
        (status = 200, description = "The service's version constraint for the product", body = Object),
        BadRequest, NotFound, Unavailable
    )
)]
async fn versions(
    State(state): State<AppState>,
    ApiPath(service): ApiPath<String>,
    ApiQuery(params): ApiQuery<VersionsParams>,
) -> Result<Response, ApiError> {
    let service = ProductName::parse(&service).map_err(|source| ApiError::InvalidService { name: service, source })?;
    let product = parse_product(&params.product.ok_or(ApiError::MissingProduct)?)?;
    let catalog = state.catalog();
    let entry = catalog
        .product(product.as_str())
        .ok_or_else(|| ApiError::UnknownProduct(product.to_string()))?;
    Ok(super::json(StatusCode::OK, &entry.versions(service.as_str())))
}

/// Whether a `Content-Type` names JSON (`application/json`, `application/*+json`).
/// No content type at all is accepted: go-checkpoint sends none.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// `POST /v1/telemetry/{product}`: go-checkpoint's telemetry report.
#[utoipa::path(
    post,
    path = "/v1/telemetry/{product}",
    tag = TAG_CHECKPOINT,
    params(("product" = String, Path, description = "A registered product", example = "demo")),
    request_body(content = Object, description = "go-checkpoint's report (JSON, optionally gzip-encoded)", content_type = "application/json"),
    responses(
        (status = 201, description = "Stored", body = Object),
        BadRequest, NotFound, Timeout, TooLarge, UnsupportedMedia, Unavailable
    )
)]
async fn telemetry(
    State(state): State<AppState>,
    Product(product): Product,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !state.catalog().has_product(product.as_str()) {
        return Err(ApiError::UnknownProduct(product.to_string()));
    }
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("");
        if !is_json(ct) {
            return Err(ApiError::NotJson(ct.to_owned()));
        }
    }
    let body = crate::events::body::read_raw(&headers, body, MAX_CHECKPOINT_BODY).await?;
    // A report is a JSON object: serde would also read a struct from an
    // array (`[null, null]`), which no client sends.
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&body).map_err(ApiError::InvalidJson)?;
    let report = TelemetryBody::deserialize(serde_json::Value::Object(object)).map_err(ApiError::InvalidJson)?;
    let (ping, dropped) = UsagePing::from_telemetry(product, &report, user_agent(&headers), crate::clock::now_ms());
    state.pipeline().submit_ping_from("telemetry", ping, dropped).await?;
    Ok(super::json(StatusCode::CREATED, &serde_json::json!({})))
}
