//! Error reports on the collector: the front door
//! `POST /api/v1/error-reports` and its admin reads.
//!
//! The door reads the body like the native event door (at most
//! [`MAX_REPORT_BYTES`] once gzip-decoded, else 413; JSON or `text/plain`;
//! any origin, with a preflight), decodes it with
//! [`sonde_protocol::error_report::decode`] — which validates every field
//! and scrubs the free text with [`Scrubber::new`] whatever the client did —
//! and hands it to [`crate::Pipeline::submit_error_report`]. The answer,
//! `200 {report_id, group, duplicate, dropped}`, comes after the commit; a
//! report id already stored is answered the same way with `duplicate: true`.
//!
//! Admin (behind the token):
//!
//! - `GET /api/v1/errors?product=P` → `{product, groups: [ErrorGroup]}`,
//!   latest seen first;
//! - `GET /api/v1/errors/{group}?product=P` → the group with `sample`, its
//!   latest report; 404 `unknown_group` when the product has no such group.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sonde_protocol::error_report::{self, MAX_REPORT_BYTES};
use sonde_protocol::scrub::Scrubber;
use sonde_protocol::vocabulary::Vocabulary;
use sonde_store::{ErrorGroup, NewErrorReport};

use super::native::allow_any_origin;
use crate::extract::{parse_product, ApiPath};
use crate::openapi::{
    BadRequest, NotFound, Timeout, TooLarge, Unauthorized, Unavailable, UnsupportedMedia, TAG_ADMIN, TAG_EVENTS,
};
use crate::{ApiError, ApiQuery, AppState};

/// The answer to a report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ReportAnswer)]
pub(super) struct Answer {
    report_id: String,
    group: String,
    duplicate: bool,
    dropped: u64,
}

/// `POST /api/v1/error-reports`.
#[utoipa::path(
    post,
    path = "/api/v1/error-reports",
    operation_id = "ingest_error_report",
    tag = TAG_EVENTS,
    request_body(
        content(
            (Object = "application/json", example = json!({
                "schema": 1, "report_id": "0190f5e2-7c4a-7d3e-9a1b-000000000001", "product": "demo", "version": "1.0.0",
                "kind": "std::io::Error", "message": "No such file or directory (os error 2)",
                "frames": [{"function": "demo::main", "file": "src/main.rs", "line": 3, "in_app": true}]
            })),
            (Object = "text/plain")
        ),
        description = "An error report (docs/error-reports.md), optionally gzip-encoded"
    ),
    responses(
        (status = 200, description = "Committed (or a duplicate of a stored report)", body = Answer,
            links(("ShowGroup" = (operation_id = "show_error_group", parameters(
                ("group" = "$response.body#/group"),
                ("product" = "$request.body#/product")
            ))))),
        BadRequest, NotFound, Timeout, TooLarge, UnsupportedMedia, Unavailable
    )
)]
pub(super) async fn ingest(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    allow_any_origin(match ingest_inner(state, headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    })
}

async fn ingest_inner(state: AppState, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let bytes = super::body::read(&headers, body, MAX_REPORT_BYTES).await?;
    let now = crate::clock::now_ms();
    let vocab = match error_report::product_of(&bytes) {
        Some(p) => {
            let registered = state.catalog().has_product(p.as_str());
            Some(state.vocabulary().get(p.as_str(), registered).await?)
        }
        None => None,
    };
    let empty = Vocabulary::new();
    let vocab = vocab.as_deref().unwrap_or(&empty);
    let decoded = error_report::decode(&bytes, &Scrubber::new(), vocab, now).map_err(ApiError::InvalidReport)?;
    let dropped = decoded.dropped.len() as u64;
    let new = NewErrorReport::new(decoded.product, decoded.report, now, decoded.dropped);
    let stored = state.pipeline().submit_error_report(new).await?;
    Ok(crate::routes::json(
        StatusCode::OK,
        &Answer {
            report_id: stored.report_id,
            group: stored.group,
            duplicate: stored.duplicate,
            dropped,
        },
    ))
}

/// `OPTIONS /api/v1/error-reports`: the CORS preflight.
#[utoipa::path(
    options,
    path = "/api/v1/error-reports",
    operation_id = "preflight_error_reports",
    tag = TAG_EVENTS,
    responses((status = 204, description = "CORS preflight: any origin may POST JSON"))
)]
pub(super) async fn preflight() -> Response {
    super::native::preflight().await
}

#[derive(Debug, Deserialize)]
pub(super) struct ProductParam {
    product: String,
}

#[derive(Debug, Serialize)]
struct GroupsAnswer {
    product: String,
    groups: Vec<ErrorGroup>,
}

/// A registered product named in the query.
fn product(name: &str, state: &AppState) -> Result<String, ApiError> {
    let p = parse_product(name)?;
    if !state.catalog().has_product(p.as_str()) {
        return Err(ApiError::UnknownProduct(p.to_string()));
    }
    Ok(p.to_string())
}

/// `GET /api/v1/errors`.
#[utoipa::path(
    get,
    path = "/api/v1/errors",
    operation_id = "list_error_groups",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(("product" = String, Query, description = "A registered product", example = "demo")),
    responses(
        (status = 200, description = "`{product, groups: [...]}`, latest seen first", body = Object),
        BadRequest, Unauthorized, NotFound, Unavailable
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProductParam>,
) -> Result<Response, ApiError> {
    let name = product(&q.product, &state)?;
    let read = name.clone();
    let groups = state.read(move |s| s.error_groups(&read)).await?;
    Ok(crate::routes::json(
        StatusCode::OK,
        &GroupsAnswer { product: name, groups },
    ))
}

/// `GET /api/v1/errors/{group}`.
#[utoipa::path(
    get,
    path = "/api/v1/errors/{group}",
    operation_id = "show_error_group",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(
        ("group" = String, Path, description = "The group id"),
        ("product" = String, Query, description = "A registered product", example = "demo"),
    ),
    responses(
        (status = 200, description = "The group with `sample`, its latest report", body = Object),
        BadRequest, Unauthorized, NotFound, Unavailable
    )
)]
pub(super) async fn show(
    State(state): State<AppState>,
    ApiPath(group): ApiPath<String>,
    ApiQuery(q): ApiQuery<ProductParam>,
) -> Result<Response, ApiError> {
    let name = product(&q.product, &state)?;
    let wanted = group.clone();
    let detail = state.read(move |s| s.error_group(&name, &wanted)).await?;
    match detail {
        Some(d) => Ok(crate::routes::json(StatusCode::OK, &d)),
        None => Err(ApiError::UnknownErrorGroup(group)),
    }
}
