//! Admin routes of the event side (behind the admin token):
//!
//! - `POST /api/v1/routes` `{product, templates: ["/data/schema/SCHEMA_NAME", "/users/:id"]}`
//!   → 201 `{product, added, registered: [...]}`: registers console route templates;
//!   a bad template → 400 and nothing registered.
//! - `GET /api/v1/routes?product=P` → `{product, builtin: [...], registered: [...]}`.
//! - `POST /api/v1/vocabulary` `{product, commands: ["tool deploy"], flags: ["--force"],
//!   metric_keys: ["builds.cached"], event_types: ["Settings/SAVE"], experimental_features: [...],
//!   db_kinds: [...]}` (any of the lists) → 201 `{product, added, registered: {kind: [...]}}`:
//!   registers vocabulary words; a word that does not fit its kind's shape or holds
//!   anything identifying → 400 and nothing registered.
//! - `GET /api/v1/vocabulary?product=P` → `{product, builtin: {kind: [...]}, registered: {kind: [...]}}`.
//! - `GET /api/v1/stats/events?product=P&kind=command[&include_test=true]` →
//!   `{product, kind, include_test, rows: [{month, key, count, errors}]}`: counts per
//!   month and key (command path, console action, heartbeat instance), from
//!   roll-ups of expired events plus the raw events still kept. Test events
//!   (`_test` topics, native `test: true`) are left out unless asked for.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use sonde_protocol::routes::{self, RouteTemplate, MAX_ROUTES_PER_PRODUCT};
use sonde_protocol::vocabulary::{self, Vocabulary, WordKind, MAX_WORDS_PER_PRODUCT};
use sonde_protocol::{EventKind, ProductName};
use sonde_store::EventCount;

use crate::extract::parse_product;
use crate::openapi::{BadRequest, NotFound, TooLarge, Unauthorized, Unavailable, UnsupportedMedia, TAG_ADMIN};
use crate::{ApiError, ApiJson, ApiQuery, AppState};

/// `POST /api/v1/routes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
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

/// `POST /api/v1/routes`.
#[utoipa::path(
    post,
    path = "/api/v1/routes",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    request_body = RoutesInput,
    responses(
        (status = 201, description = "`{product, added, registered}`", body = Object),
        BadRequest, Unauthorized, NotFound, TooLarge, UnsupportedMedia, Unavailable
    )
)]
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

/// `GET /api/v1/routes`.
#[utoipa::path(
    get,
    path = "/api/v1/routes",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(("product" = String, Query, description = "A registered product", example = "demo")),
    responses(
        (status = 200, description = "`{product, builtin, registered}`", body = Object),
        BadRequest, Unauthorized, NotFound, Unavailable
    )
)]
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

/// `POST /api/v1/vocabulary`: any of the lists.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct VocabularyInput {
    product: String,
    #[serde(default)]
    commands: Vec<String>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    metric_keys: Vec<String>,
    #[serde(default)]
    event_types: Vec<String>,
    #[serde(default)]
    experimental_features: Vec<String>,
    #[serde(default)]
    db_kinds: Vec<String>,
}

impl VocabularyInput {
    /// Every word, by kind, checked: `(kind, word)` pairs to store.
    fn checked(&self) -> Result<Vec<(String, String)>, ApiError> {
        let lists = [
            (WordKind::Command, &self.commands),
            (WordKind::Flag, &self.flags),
            (WordKind::MetricKey, &self.metric_keys),
            (WordKind::EventType, &self.event_types),
            (WordKind::ExperimentalFeature, &self.experimental_features),
            (WordKind::DbKind, &self.db_kinds),
        ];
        let total: usize = lists.iter().map(|(_, l)| l.len()).sum();
        if total == 0 || total > MAX_WORDS_PER_PRODUCT {
            return Err(ApiError::WordCount);
        }
        let mut out = Vec::with_capacity(total);
        for (kind, words) in lists {
            for w in words {
                Vocabulary::check(kind, w)?;
                out.push((kind.as_str().to_owned(), w.clone()));
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Serialize)]
struct VocabularyAnswer {
    product: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    builtin: Option<BTreeMap<&'static str, Vec<String>>>,
    registered: BTreeMap<&'static str, Vec<String>>,
}

/// Stored `(kind, word)` pairs as lists by kind (every kind present).
fn by_kind(words: Vec<(String, String)>) -> BTreeMap<&'static str, Vec<String>> {
    let mut out: BTreeMap<&'static str, Vec<String>> = WordKind::ALL.iter().map(|k| (k.as_str(), Vec::new())).collect();
    for (kind, word) in words {
        if let Some(k) = WordKind::parse(&kind) {
            out.entry(k.as_str()).or_default().push(word);
        }
    }
    out
}

/// `POST /api/v1/vocabulary`.
#[utoipa::path(
    post,
    path = "/api/v1/vocabulary",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    request_body = VocabularyInput,
    responses(
        (status = 201, description = "`{product, added, registered}`", body = Object),
        BadRequest, Unauthorized, NotFound, TooLarge, UnsupportedMedia, Unavailable
    )
)]
pub(super) async fn add_vocabulary(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<VocabularyInput>,
) -> Result<Response, ApiError> {
    let p = product(&input.product, &state)?;
    let words = input.checked()?;
    let name = p.to_string();
    let added = state
        .store()
        .add_words(&name, words, crate::clock::now_ms())?
        .wait()
        .await?;
    let registered = state.read(move |s| s.words(&name)).await?;
    state.vocabulary().invalidate(p.as_str());
    Ok(crate::routes::json(
        StatusCode::CREATED,
        &VocabularyAnswer {
            product: p.to_string(),
            added: Some(added),
            builtin: None,
            registered: by_kind(registered),
        },
    ))
}

/// `GET /api/v1/vocabulary`.
#[utoipa::path(
    get,
    path = "/api/v1/vocabulary",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(("product" = String, Query, description = "A registered product", example = "demo")),
    responses(
        (status = 200, description = "`{product, builtin, registered}`", body = Object),
        BadRequest, Unauthorized, NotFound, Unavailable
    )
)]
pub(super) async fn list_vocabulary(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProductParam>,
) -> Result<Response, ApiError> {
    let p = product(&q.product, &state)?;
    let name = p.to_string();
    let registered = state.read(move |s| s.words(&name)).await?;
    let builtin = vocabulary::builtin(p.as_str());
    let builtin = WordKind::ALL.iter().map(|k| (k.as_str(), builtin.words(*k))).collect();
    Ok(crate::routes::json(
        StatusCode::OK,
        &VocabularyAnswer {
            product: p.to_string(),
            added: None,
            builtin: Some(builtin),
            registered: by_kind(registered),
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

/// `GET /api/v1/stats/events`.
#[utoipa::path(
    get,
    path = "/api/v1/stats/events",
    tag = TAG_ADMIN,
    security(("admin_token" = [])),
    params(
        ("product" = String, Query, description = "A registered product", example = "demo"),
        ("kind" = String, Query, description = "`heartbeat`, `command` or `console`"),
        ("include_test" = Option<bool>, Query, description = "Count test events too"),
    ),
    responses(
        (status = 200, description = "`{product, kind, include_test, rows: [{month, key, count, errors}]}`", body = Object),
        BadRequest, Unauthorized, NotFound, Unavailable
    )
)]
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
