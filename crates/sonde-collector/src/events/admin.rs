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

use super::EventsState;
use crate::{ApiError, ApiJson, ApiQuery};

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

fn product(name: &str, state: &EventsState) -> Result<ProductName, ApiError> {
    let p = ProductName::parse(name).map_err(|e| ApiError::BadRequest("invalid_product", e.to_string()))?;
    if !state.app.catalog().has_product(p.as_str()) {
        return Err(ApiError::unknown_product(p.as_str()));
    }
    Ok(p)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, sonde_store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::from)
}

pub(super) async fn add_routes(
    State(state): State<EventsState>,
    ApiJson(input): ApiJson<RoutesInput>,
) -> Result<Response, ApiError> {
    let p = product(&input.product, &state)?;
    if input.templates.is_empty() || input.templates.len() > MAX_ROUTES_PER_PRODUCT {
        return Err(ApiError::BadRequest(
            "invalid_field",
            format!("templates: give 1 to {MAX_ROUTES_PER_PRODUCT} route templates"),
        ));
    }
    let mut texts = Vec::with_capacity(input.templates.len());
    for t in &input.templates {
        let parsed = RouteTemplate::parse(t)
            .map_err(|e| ApiError::BadRequest("invalid_route", format!("route template {t:?}: {e}")))?;
        texts.push(parsed.as_str().to_owned());
    }
    let store = state.app.store().clone();
    let name = p.to_string();
    let added = store.add_routes(&name, texts, crate::clock::now_ms())?.wait().await?;
    let registered = blocking(move || store.routes(&name)).await?;
    state.routes.invalidate(p.as_str());
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
    State(state): State<EventsState>,
    ApiQuery(q): ApiQuery<ProductParam>,
) -> Result<Response, ApiError> {
    let p = product(&q.product, &state)?;
    let store = state.app.store().clone();
    let name = p.to_string();
    let registered = blocking(move || store.routes(&name)).await?;
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
    State(state): State<EventsState>,
    ApiQuery(q): ApiQuery<CountsParam>,
) -> Result<Response, ApiError> {
    let p = product(&q.product, &state)?;
    let kind = EventKind::parse(&q.kind).ok_or_else(|| {
        ApiError::BadRequest(
            "invalid_kind",
            format!("kind {:?}: use heartbeat, command or console", q.kind),
        )
    })?;
    let store = state.app.store().clone();
    let name = p.to_string();
    let include_test = q.include_test;
    let rows = blocking(move || store.event_counts(&name, kind.as_str(), include_test)).await?;
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
