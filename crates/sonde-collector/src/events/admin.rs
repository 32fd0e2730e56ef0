//! Admin routes of the event side (behind the admin token):
//!
//! - `POST /api/v1/routes` `{product, templates: ["/data/schema/SCHEMA_NAME", "/users/:id"]}`
//!   → 201 `{product, added, registered: [...]}`: registers console route templates;
//!   a bad template → 400 and nothing registered.
//! - `GET /api/v1/routes?product=P` → `{product, builtin: [...], registered: [...]}`.
//! - `GET /api/v1/stats/events?product=P&kind=command[&include_test=true]` →
//!   `{product, kind, include_test, rows: [{month, key, count, errors}]}`: counts per
//!   month and key (command path, console action, heartbeat instance), from
//!   roll-ups of expired events plus the raw events still kept. Test events
//!   (`_test` topics, native `test: true`) are left out unless asked for.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sonde_protocol::routes::{self, RouteTemplate, MAX_ROUTES_PER_PRODUCT};
use sonde_protocol::{EventKind, ProductName};
use sonde_store::EventCount;

use crate::extract::parse_product;
use crate::{ApiError, ApiJson, ApiQuery, AppState};

#[derive(Debug, Deserialize)]
pub(super) struct RoutesInput {
    product: String,
    templates: Vec<String>,
}

#[derive(Debug, Serialize)]
struct RoutesAnswer {
    product: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    builtin: Option<Vec<String>>,
    registered: Vec<String>,
}

/// A registered product named in the request.
fn product(name: &str, state: &AppState) -> Result<ProductName, ApiError> {
    let p = parse_product(name)?;
    if !state.catalog().has_product(p.as_str()) {
        return Err(ApiError::UnknownProduct(p.to_string()));
    }
    Ok(p)
}

pub(super) async fn add_routes(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RoutesInput>,
) -> Result<Response, ApiError> {
    let p = product(&input.product, &state)?;
    if input.templates.is_empty() || input.templates.len() > MAX_ROUTES_PER_PRODUCT {
        return Err(ApiError::TemplateCount);
    }
    let mut texts = Vec::with_capacity(input.templates.len());
    for t in &input.templates {
        let parsed = RouteTemplate::parse(t).map_err(|source| ApiError::InvalidRoute {
            template: t.clone(),
            source,
        })?;
        texts.push(parsed.as_str().to_owned());
    }
    let name = p.to_string();
    let added = state
        .store()
        .add_routes(&name, texts, crate::clock::now_ms())?
        .wait()
        .await?;
    let registered = state.read(move |s| s.routes(&name)).await?;
    state.routes().invalidate(p.as_str());
    Ok(crate::routes::json(
        StatusCode::CREATED,
        &RoutesAnswer {
            product: p.to_string(),
            added: Some(added),
            builtin: None,
            registered,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct ProductParam {
    product: String,
}

pub(super) async fn list_routes(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProductParam>,
) -> Result<Response, ApiError> {
    let p = product(&q.product, &state)?;
    let name = p.to_string();
    let registered = state.read(move |s| s.routes(&name)).await?;
    let builtin = routes::builtin(p.as_str()).iter().map(str::to_owned).collect();
    Ok(crate::routes::json(
        StatusCode::OK,
        &RoutesAnswer {
            product: p.to_string(),
            added: None,
            builtin: Some(builtin),
            registered,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct CountsParam {
    product: String,
    kind: String,
    #[serde(default)]
    include_test: bool,
}

#[derive(Debug, Serialize)]
struct CountsAnswer {
    product: String,
    kind: &'static str,
    include_test: bool,
    rows: Vec<EventCount>,
}

pub(super) async fn event_counts(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CountsParam>,
) -> Result<Response, ApiError> {
    let p = product(&q.product, &state)?;
    let kind = EventKind::parse(&q.kind).ok_or_else(|| ApiError::InvalidKind(q.kind.clone()))?;
    let name = p.to_string();
    let include_test = q.include_test;
    let rows = state
        .read(move |s| s.event_counts(&name, kind.as_str(), include_test))
        .await?;
    Ok(crate::routes::json(
        StatusCode::OK,
        &CountsAnswer {
            product: p.to_string(),
            kind: kind.as_str(),
            include_test,
            rows,
        },
    ))
}
