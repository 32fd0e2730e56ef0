//! The OpenAPI 3.1 document of every route, generated from the handlers'
//! `#[utoipa::path]` annotations and served at `GET /openapi.json`.
//!
//! [`crate::app`] builds the router with `utoipa_axum`: each route is added
//! by `routes!(handler)`, which takes its path and methods from the
//! handler's annotation and adds the operation to the document in the same
//! step, so a route cannot be served without being documented.
//!
//! The error answers are the types below ([`ErrorBody`] and one response type
//! per status), the same [`ErrorBody`] that [`crate::ApiError`] serializes.

use std::sync::LazyLock;

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

/// The name of the admin token's security scheme in the document.
pub const ADMIN_TOKEN: &str = "admin_token";

/// The tag of the admin routes.
pub(crate) const TAG_ADMIN: &str = "admin";
/// The tag of the checkpoint routes.
pub(crate) const TAG_CHECKPOINT: &str = "checkpoint";
/// The tag of the event and error-report front doors.
pub(crate) const TAG_EVENTS: &str = "events";
/// The tag of the operational routes (health, metrics, this document).
pub(crate) const TAG_OPS: &str = "ops";

/// Every error answer: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code (docs/collector.md lists them).
    #[schema(example = "invalid_product")]
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
}

/// 400: the request is malformed (see the code).
#[derive(Debug, IntoResponses)]
#[response(status = 400, description = "Malformed request; the code says what is wrong")]
pub struct BadRequest(pub ErrorBody);

/// 401: no admin token, or the wrong one.
#[derive(Debug, IntoResponses)]
#[response(status = 401, description = "Missing or wrong admin token (`unauthorized`)")]
pub struct Unauthorized(pub ErrorBody);

/// 403: refused by policy (see the code).
#[derive(Debug, IntoResponses)]
#[response(status = 403, description = "Refused by policy (`forbidden_origin`, `too_narrow`)")]
pub struct Forbidden(pub ErrorBody);

/// 404: an unknown product, alert or group.
#[derive(Debug, IntoResponses)]
#[response(
    status = 404,
    description = "Unknown product, alert or error group (`unknown_product`, `unknown_alert`, `unknown_group`)"
)]
pub struct NotFound(pub ErrorBody);

/// 408: the body did not arrive in time.
#[derive(Debug, IntoResponses)]
#[response(
    status = 408,
    description = "The body did not arrive within the body timeout (`body_timeout`)"
)]
pub struct Timeout(pub ErrorBody);

/// 413: the body is over its limit.
#[derive(Debug, IntoResponses)]
#[response(
    status = 413,
    description = "The body (once decoded) or the batch is over its limit (`payload_too_large`)"
)]
pub struct TooLarge(pub ErrorBody);

/// 415: the body's type or encoding is not taken.
#[derive(Debug, IntoResponses)]
#[response(
    status = 415,
    description = "Content-Type or Content-Encoding not taken (`unsupported_media_type`)"
)]
pub struct UnsupportedMedia(pub ErrorBody);

/// 503: the store cannot take the write now; retry after `Retry-After`.
#[derive(Debug, IntoResponses)]
#[response(
    status = 503,
    description = "The store cannot answer now, or too many WebSockets are open (`unavailable`); retry after `Retry-After` seconds",
    headers(("Retry-After" = u32, description = "Seconds to wait"))
)]
pub struct Unavailable(pub ErrorBody);

/// Adds the admin token's bearer scheme.
struct AdminToken;

impl Modify for AdminToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some("The admin token, from the data directory's `admin-token` file".to_owned());
        components.add_security_scheme(ADMIN_TOKEN, SecurityScheme::Http(http));
    }
}

/// The document's frame: title, version, tags, the security scheme and the
/// shared schemas. The paths come from the router ([`crate::app`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sonde collector",
        description = "Privacy-first telemetry for developer tools: version checks, events, error reports and the admin API."
    ),
    modifiers(&AdminToken),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "checkpoint", description = "Version checks and usage pings, as go-checkpoint and Prisma's checkpoint-client send them"),
        (name = "events", description = "Event and error-report front doors (Hasura, native, the console snippet)"),
        (name = "admin", description = "The admin API, behind the admin token"),
        (name = "ops", description = "Health, metrics and this document")
    )
)]
struct Frame;

/// The document's frame, before the router adds its paths.
pub(crate) fn frame() -> utoipa::openapi::OpenApi {
    let mut doc = Frame::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The whole document: every route of [`crate::app`].
pub fn document() -> utoipa::openapi::OpenApi {
    crate::api_router().into_openapi()
}

/// The document as served: [`document`] as JSON, with each response link's
/// fields under their OpenAPI names (`operationId`, `operationRef`,
/// `requestBody`; utoipa 5 writes them in snake case).
pub fn document_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(document()).expect("an OpenAPI document serializes");
    if let Some(paths) = doc.get_mut("paths").and_then(serde_json::Value::as_object_mut) {
        let responses = paths
            .values_mut()
            .filter_map(serde_json::Value::as_object_mut)
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("responses").and_then(serde_json::Value::as_object_mut))
            .flat_map(|r| r.values_mut());
        for response in responses {
            let Some(links) = response.get_mut("links").and_then(serde_json::Value::as_object_mut) else {
                continue;
            };
            for link in links.values_mut().filter_map(serde_json::Value::as_object_mut) {
                for (from, to) in [
                    ("operation_id", "operationId"),
                    ("operation_ref", "operationRef"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(v) = link.remove(from) {
                        link.insert(to.to_owned(), v);
                    }
                }
            }
        }
    }
    doc
}

/// The document as served, serialized once.
static JSON: LazyLock<Vec<u8>> =
    LazyLock::new(|| serde_json::to_vec(&document_json()).expect("an OpenAPI document serializes"));

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = TAG_OPS,
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json", body = Object))
)]
pub(crate) async fn openapi_json() -> Response {
    crate::routes::json_bytes(StatusCode::OK, JSON.clone())
}
