//! The admin API under `/api/v1`, behind `Authorization: Bearer <admin token>`:
//! releases, alerts, service version constraints and stats. Writes go through
//! the store's writer like everything else, then the catalog is reloaded at
//! once so the next check sees the change.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use serde::Deserialize;
use sonde_store::{Month, Pending};

use crate::admin::{AlertInput, MauAnswer, ReleaseInput, VersionsInput};
use crate::analytics::query::{Format, QueryParams};
use crate::extract::{parse_product, ApiPath};
use crate::token::token_matches;
use crate::{ApiError, ApiJson, ApiQuery, AppState};

/// The admin routes; [`crate::app`] puts them behind [`require_token`].
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/releases", post(publish_release).get(list_releases))
        .route("/api/v1/alerts", post(add_alert).get(list_alerts))
        .route("/api/v1/alerts/{id}", delete(remove_alert))
        .route("/api/v1/versions", put(set_versions))
        .route("/api/v1/stats/mau", get(mau))
        .route("/api/v1/stats/rejected", get(rejected))
        .route("/api/v1/query", get(query))
}

/// `router` behind [`require_token`], which checks against `state`'s admin token.
pub(crate) fn guarded(router: Router<AppState>, state: AppState) -> Router<AppState> {
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

async fn add_alert(State(state): State<AppState>, ApiJson(input): ApiJson<AlertInput>) -> Result<Response, ApiError> {
    let alert = input.validate(now_secs())?;
    let a = write(&state, state.store().add_alert(alert)?).await?;
    Ok(super::json(StatusCode::CREATED, &a))
}

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

async fn remove_alert(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Response, ApiError> {
    let id: i64 = id.parse().map_err(|source| ApiError::InvalidId { id, source })?;
    if write(&state, state.store().remove_alert(id)?).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::UnknownAlert(id))
    }
}

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
