//! The admin API under `/api/v1`, behind `Authorization: Bearer <admin token>`:
//! releases, alerts, service version constraints and stats. Writes go through
//! the store's writer like everything else, then the catalog is reloaded at
//! once so the next check sees the change.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sonde_store::{Month, Pending};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{AlertInput, MauAnswer, ReleaseInput, VersionsInput};
use crate::analytics::query::{Format, QueryParams};
use crate::extract::{parse_product, ApiPath};
use crate::openapi::{
    BadRequest, Forbidden, NotFound, TooLarge, Unauthorized, Unavailable, UnsupportedMedia, TAG_ADMIN,
};
use crate::token::token_matches;
use crate::{ApiError, ApiJson, ApiQuery, AppState};

/// The admin routes; [`crate::app`] puts them behind [`require_token`].
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(publish_release, list_releases))
        .routes(routes!(add_alert, list_alerts))
        .routes(routes!(remove_alert))
        .routes(routes!(set_versions))
        .routes(routes!(mau))
        .routes(routes!(rejected))
        .routes(routes!(query))
        .routes(routes!(crate::metrics::metrics))
}

/// `router` behind [`require_token`], which checks against `state`'s admin token.
pub(crate) fn guarded(router: OpenApiRouter<AppState>, state: AppState) -> OpenApiRouter<AppState> {
    router.route_layer(middleware::from_fn_with_state(state, require_token))
}

/// Middleware: 401 unless the request carries `Authorization: Bearer <token>`
/// with the admin token (compared in constant time).
pub(crate) async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match presented {
        Some(t) if token_matches(t, state.admin_token()) => next.run(req).await,
        _ => ApiError::Unauthorized.into_response(),
    }
}

fn now_secs() -> i64 {
    crate::clock::now_ms() / 1000
}

/// Waits for a catalog write to commit, then reloads the catalog.
async fn write<T>(state: &AppState, pending: Pending<T>) -> Result<T, ApiError> {
    let outcome = pending.wait().await?;
    if let Err(e) = state.catalog_handle().refresh(state.store()).await {
        tracing::warn!(error = %e, "catalog refresh after an admin change failed; the poller will retry");
    }
    Ok(outcome)
}

/// `POST /api/v1/releases`.
#[utoipa::path(
    post,
    path = "/api/v1/releases",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    request_body = ReleaseInput,
    responses(
        (status = 201, description = "The stored release", body = Object,
            links(("ListReleases" = (operation_id = "list_releases", parameters(("product" = "$request.body#/product")))))),
        BadRequest, Unauthorized, TooLarge, UnsupportedMedia, Unavailable
    )
)]
async fn publish_release(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ReleaseInput>,
) -> Result<Response, ApiError> {
    let release = input.validate(now_secs())?;
    let stored = state.store().publish_release(release, crate::clock::now_ms())?;
    let r = write(&state, stored).await?;
    Ok(super::json(StatusCode::CREATED, &r))
}

#[derive(Debug, Deserialize)]
struct ProductParam {
    product: Option<String>,
}

/// `GET /api/v1/releases`.
#[utoipa::path(
    get,
    path = "/api/v1/releases",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(("product" = String, Query, description = "A registered product", example = "demo")),
    responses((status = 200, description = "The product's releases", body = Vec<Object>), BadRequest, Unauthorized, NotFound, Unavailable)
)]
async fn list_releases(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ProductParam>,
) -> Result<Response, ApiError> {
    let product = parse_product(&p.product.ok_or(ApiError::MissingProduct)?)?;
    if !state.catalog().has_product(product.as_str()) {
        // The catalog may lag a direct CLI change by one poll: ask the store.
        state.catalog_handle().refresh(state.store()).await?;
        if !state.catalog().has_product(product.as_str()) {
            return Err(ApiError::UnknownProduct(product.to_string()));
        }
    }
    let name = product.to_string();
    let releases = state.read(move |s| s.releases(&name)).await?;
    Ok(super::json(StatusCode::OK, &releases))
}

/// `POST /api/v1/alerts`.
#[utoipa::path(
    post,
    path = "/api/v1/alerts",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    request_body = AlertInput,
    responses(
        (status = 201, description = "The stored alert", body = Object,
            links(("RemoveAlert" = (operation_id = "remove_alert", parameters(("id" = "$response.body#/id")))))),
        BadRequest, Unauthorized, NotFound, TooLarge, UnsupportedMedia, Unavailable
    )
)]
async fn add_alert(State(state): State<AppState>, ApiJson(input): ApiJson<AlertInput>) -> Result<Response, ApiError> {
    let alert = input.validate(now_secs())?;
    let a = write(&state, state.store().add_alert(alert)?).await?;
    Ok(super::json(StatusCode::CREATED, &a))
}

/// `GET /api/v1/alerts`.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(("product" = Option<String>, Query, description = "Only this product's alerts", example = "demo")),
    responses((status = 200, description = "The alerts", body = Vec<Object>), BadRequest, Unauthorized, Unavailable)
)]
async fn list_alerts(State(state): State<AppState>, ApiQuery(p): ApiQuery<ProductParam>) -> Result<Response, ApiError> {
    let product = p
        .product
        .as_deref()
        .map(parse_product)
        .transpose()?
        .map(|p| p.to_string());
    let alerts = state.read(move |s| s.alerts(product.as_deref())).await?;
    Ok(super::json(StatusCode::OK, &alerts))
}

/// `DELETE /api/v1/alerts/{id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/alerts/{id}",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(("id" = String, Path, description = "The alert's id (a number)")),
    responses((status = 204, description = "Removed"), BadRequest, Unauthorized, NotFound, Unavailable)
)]
async fn remove_alert(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Response, ApiError> {
    let id: i64 = id.parse().map_err(|source| ApiError::InvalidId { id, source })?;
    if write(&state, state.store().remove_alert(id)?).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::UnknownAlert(id))
    }
}

/// `PUT /api/v1/versions`.
#[utoipa::path(
    put,
    path = "/api/v1/versions",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    request_body = VersionsInput,
    responses(
        (status = 200, description = "The constraint as stored", body = Object),
        BadRequest, Unauthorized, NotFound, TooLarge, UnsupportedMedia, Unavailable
    )
)]
async fn set_versions(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<VersionsInput>,
) -> Result<Response, ApiError> {
    let constraint = input.validate()?;
    let answer = constraint.clone();
    write(&state, state.store().set_versions(constraint)?).await?;
    Ok(super::json(StatusCode::OK, &answer))
}

#[derive(Debug, Deserialize)]
struct MauParams {
    product: Option<String>,
    month: Option<String>,
}

/// `GET /api/v1/stats/mau`.
#[utoipa::path(
    get,
    path = "/api/v1/stats/mau",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(
        ("product" = String, Query, description = "The product", example = "demo"),
        ("month" = Option<String>, Query, description = "`YYYY-MM`; this month when absent"),
    ),
    responses((status = 200, description = "Monthly active signatures", body = MauAnswer), BadRequest, Unauthorized, NotFound, Unavailable)
)]
async fn mau(State(state): State<AppState>, ApiQuery(p): ApiQuery<MauParams>) -> Result<Response, ApiError> {
    let product = parse_product(&p.product.ok_or(ApiError::MissingProduct)?)?.to_string();
    let month = match p.month {
        None => crate::clock::this_month(),
        Some(m) => m.parse::<Month>().map_err(ApiError::InvalidMonth)?,
    };
    let name = product.clone();
    let n = state.read(move |s| s.monthly_active(&name, month)).await?;
    Ok(super::json(
        StatusCode::OK,
        &MauAnswer {
            product,
            month: month.to_string(),
            active_signatures: n,
        },
    ))
}

/// The analytics query ([`crate::analytics::query`]), as JSON or CSV.
/// `GET /api/v1/query`.
#[utoipa::path(
    get,
    path = "/api/v1/query",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(
        ("product" = String, Query, description = "The product", example = "demo"),
        ("metric" = Option<String>, Query, description = "`active`, `unique`, `rolling` (per day, the distinct signatures of the `window` days ending on it), `breakdown`, `cohorts`, `versions`, `alerts`, `errors`, `commands`, `console`, `heartbeats` or `upgrades` (per notice cohort: signatures told `outdated`, how many were later seen on a newer version, the share and the median days; then the total over the cohorts shown, `period` null)"),
        ("from" = Option<String>, Query, description = "First day, `YYYY-MM-DD`"),
        ("to" = Option<String>, Query, description = "Last day, included"),
        ("interval" = Option<String>, Query, description = "`day`, `week` or `month`"),
        ("dimension" = Option<String>, Query, description = "For `breakdown` (`version`, `os`, `arch`, `runtime`, `ci_name`) and `console` (`action`, `route`)"),
        ("include_ci" = Option<String>, Query, description = "`true` or `false`"),
        ("format" = Option<String>, Query, description = "`json` or `csv`"),
        ("filter" = Option<String>, Query, description = "`dimension:value`, for `active`"),
        ("window" = Option<String>, Query, description = "For `rolling`: `7`, `28` (default) or `30` days"),
    ),
    responses(
        (status = 200, description = "The series (docs/analytics.md), groups under the minimum group size suppressed",
            content((Object = "application/json"), (String = "text/csv"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable
    )
)]
async fn query(State(state): State<AppState>, ApiQuery(p): ApiQuery<QueryParams>) -> Result<Response, ApiError> {
    let product = parse_product(p.product.as_deref().ok_or(ApiError::MissingProduct)?)?.to_string();
    let query = p.parse()?;
    let kanon = state.kanon();
    let format = query.format;
    let answer = state
        .read(move |s| Ok(crate::analytics::query::run(s, &product, &query, kanon)))
        .await??;
    Ok(match format {
        Format::Json => super::json(StatusCode::OK, &answer),
        Format::Csv => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            answer.csv(),
        )
            .into_response(),
    })
}

/// `GET /api/v1/stats/rejected`.
#[utoipa::path(
    get,
    path = "/api/v1/stats/rejected",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(("product" = Option<String>, Query, description = "Only this product's counts", example = "demo")),
    responses((status = 200, description = "Rejection counts by source and reason", body = Vec<Object>), BadRequest, Unauthorized, Unavailable)
)]
async fn rejected(State(state): State<AppState>, ApiQuery(p): ApiQuery<ProductParam>) -> Result<Response, ApiError> {
    let product = p
        .product
        .as_deref()
        .map(parse_product)
        .transpose()?
        .map(|p| p.to_string());
    let rows = state.read(move |s| s.rejections(product.as_deref())).await?;
    Ok(super::json(StatusCode::OK, &rows))
}
