//! Route templates: how a console's page address is stored without the names
//! in it.
//!
//! A web console's address holds the user's own names
//! (`/data/schema/public/tables/customers/modify`). Only its *template* may be
//! stored (`/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify`). Each product
//! registers the templates of its console; a route that arrives is reduced to
//! the registered template it matches, and a route that matches none is
//! dropped ([`DropReason::UnknownRoute`](crate::DropReason::UnknownRoute)), so
//! a real table or schema name never reaches storage.
//!
//! A template is a path of `/`-separated segments. A segment is a
//! *placeholder* when it is written in capitals (`SCHEMA_NAME`, `TABLE_NAME`,
//! as Hasura's console does) or starts with `:` (`:id`, as most routers do);
//! every other segment is a literal that must match exactly.
//!
//! ```
//! use sonde_protocol::routes::RouteTemplates;
//! let t = RouteTemplates::parse_all(["/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify", "/users/:id"]).unwrap();
//! assert_eq!(t.reduce("/data/schema/public/tables/customers/modify").as_deref(),
//!            Some("/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify"));
//! assert_eq!(t.reduce("/users/42?tab=keys").as_deref(), Some("/users/:id"));
//! assert_eq!(t.reduce("/somewhere/else"), None);
//! ```

use serde::Serialize;

/// Longest accepted route template or incoming route, in bytes.
pub const MAX_ROUTE_LEN: usize = 512;
/// Most segments in a route template.
pub const MAX_ROUTE_SEGMENTS: usize = 16;
/// Most templates a product may register.
pub const MAX_ROUTES_PER_PRODUCT: usize = 1000;

/// Why a route template was refused at registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteTemplateError {
    /// It did not start with `/`.
    #[error("a route template starts with '/'")]
    NotAbsolute,
    /// It was longer than [`MAX_ROUTE_LEN`] or had more than
    /// [`MAX_ROUTE_SEGMENTS`] segments.
    #[error("a route template has at most {MAX_ROUTE_SEGMENTS} segments and {MAX_ROUTE_LEN} bytes")]
    TooLong,
    /// A segment held a character outside `[A-Za-z0-9._~-]` (or `:` at its
    /// start), or was empty in the middle (`//`).
    #[error("route template segment {0:?} may only hold A-Z, a-z, 0-9, '.', '_', '~', '-' (a leading ':' marks a parameter)")]
    InvalidSegment(String),
    /// It held something that could identify a person.
    #[error("a route template must not hold identifying values")]
    Identifying,
}

/// One segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Placeholder,
}

/// One registered route template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTemplate {
    text: String,
    segments: Vec<Segment>,
}

impl RouteTemplate {
    /// Checks and parses a template such as `/data/schema/SCHEMA_NAME/tables`.
    pub fn parse(text: &str) -> Result<Self, RouteTemplateError> {
        if !text.starts_with('/') {
            return Err(RouteTemplateError::NotAbsolute);
        }
        if text.len() > MAX_ROUTE_LEN {
            return Err(RouteTemplateError::TooLong);
        }
        let body = text.trim_end_matches('/');
        let mut segments = Vec::new();
        if !body.is_empty() {
            for seg in body[1..].split('/') {
                // Per segment: `/users/` as a whole looks like a home path.
                if crate::privacy::find_identifying(seg).is_some() {
                    return Err(RouteTemplateError::Identifying);
                }
                let name = seg.strip_prefix(':').unwrap_or(seg);
                let ok = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'));
                if !ok {
                    return Err(RouteTemplateError::InvalidSegment(seg.to_owned()));
                }
                segments.push(if is_placeholder(seg) {
                    Segment::Placeholder
                } else {
                    Segment::Literal(seg.to_owned())
                });
            }
        }
        if segments.len() > MAX_ROUTE_SEGMENTS {
            return Err(RouteTemplateError::TooLong);
        }
        let text = if body.is_empty() {
            "/".to_owned()
        } else {
            body.to_owned()
        };
        Ok(Self { text, segments })
    }

    /// The template as registered (without a trailing `/`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How many literal segments it has: the more, the more specific.
    fn literals(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    fn matches(&self, path: &[&str]) -> bool {
        path.len() == self.segments.len()
            && self.segments.iter().zip(path).all(|(seg, p)| match seg {
                Segment::Placeholder => !p.is_empty(),
                Segment::Literal(l) => l == p,
            })
    }
}

/// A segment in capitals (`TABLE_NAME`) or starting with `:` (`:id`).
fn is_placeholder(seg: &str) -> bool {
    if let Some(rest) = seg.strip_prefix(':') {
        return !rest.is_empty();
    }
    seg.bytes().any(|b| b.is_ascii_uppercase())
        && seg
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && seg.as_bytes()[0].is_ascii_uppercase()
}

/// The registered templates of one product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTemplates {
    templates: Vec<RouteTemplate>,
}

impl RouteTemplates {
    /// No templates: every route is dropped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses every template; the first bad one is the error.
    pub fn parse_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Self, RouteTemplateError> {
        let mut t = Self::new();
        for text in texts {
            t.push(RouteTemplate::parse(text)?);
        }
        Ok(t)
    }

    /// Adds one template (a duplicate is ignored).
    pub fn push(&mut self, template: RouteTemplate) {
        if !self.templates.contains(&template) {
            self.templates.push(template);
        }
    }

    /// How many templates there are.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The templates, as registered.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().map(RouteTemplate::as_str)
    }

    /// The template that `route` matches, if any. A query string or fragment
    /// is cut off first (never stored); a template itself matches itself. When
    /// several templates match, the one with the most literal segments wins
    /// (`/tables/add` before `/tables/TABLE_NAME`).
    pub fn reduce(&self, route: &str) -> Option<String> {
        if route.len() > MAX_ROUTE_LEN || !route.starts_with('/') {
            return None;
        }
        let path = route.split(['?', '#']).next().unwrap_or("");
        let body = path.trim_end_matches('/');
        let parts: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body[1..].split('/').collect()
        };
        self.templates
            .iter()
            .filter(|t| t.matches(&parts))
            .max_by_key(|t| t.literals())
            .map(|t| t.as_str().to_owned())
    }
}

/// The routes of Hasura's console, both generations, registered for the
/// product `hasura` out of the box so that its console events are accepted
/// without setup. More can be registered like for any product.
///
/// Read from the console's routers (`console/src/routes.js`,
/// `frontend/libs/console/legacy-ce/src/lib/components/Services/Data/DataRouter.js`,
/// `.../Common/utils/routesUtils.ts` and the event, action, remote-schema,
/// API and settings routers). Every page tab is a literal
/// (`.../tables/TABLE_NAME/modify`), so the stored template says which tab;
/// every name a user chose — database source, schema, table, view, function,
/// trigger, action, remote schema, REST endpoint, native query, logical
/// model — is a placeholder. The console's own anonymiser leaves the source
/// name in `/data/<source>/schema/...` and does not touch
/// `/data/manage/source/<source>/...` or `/data/native-queries/...`: those
/// arrive concrete and are reduced here.
pub const HASURA_CONSOLE_ROUTES: &[&str] = &[
    "/",
    "/login",
    "/console",
    "/api",
    "/api-explorer",
    "/api/api-explorer",
    "/api/rest",
    "/api/rest/list",
    "/api/rest/create",
    "/api/rest/details/ENDPOINT_NAME",
    "/api/rest/edit/ENDPOINT_NAME",
    "/api/allow-list",
    "/api/security",
    "/api/security/api_limits",
    "/api/security/introspection",
    "/data",
    "/data/sql",
    "/data/migrations",
    "/data/manage",
    "/data/manage/connect",
    "/data/manage/create",
    "/data/manage/database/add",
    "/data/manage/database/edit",
    "/data/manage/edit/DATABASE_NAME",
    "/data/schema",
    "/data/schema/manage",
    "/data/schema/manage/connect",
    "/data/v2/edit",
    "/data/v2/manage/connect",
    "/data/v2/manage/database",
    "/data/v2/manage/database/add",
    "/data/v2/manage/database/edit",
    "/data/v2/manage/table",
    "/data/v2/manage/function",
    "/data/v2/manage/table/browse",
    "/data/v2/manage/table/insert",
    "/data/v2/manage/table/edit",
    "/data/v2/manage/table/modify",
    "/data/v2/manage/table/relationships",
    "/data/v2/manage/table/permissions",
    "/data/v2/manage/function/modify",
    "/data/v2/manage/function/permissions",
    "/data/manage/source/DATABASE_NAME",
    "/data/manage/source/DATABASE_NAME/permission-summary",
    "/data/manage/source/DATABASE_NAME/table",
    "/data/manage/source/DATABASE_NAME/table/add",
    "/data/manage/source/DATABASE_NAME/function",
    "/data/manage/source/DATABASE_NAME/table/browse",
    "/data/manage/source/DATABASE_NAME/table/insert",
    "/data/manage/source/DATABASE_NAME/table/edit",
    "/data/manage/source/DATABASE_NAME/table/modify",
    "/data/manage/source/DATABASE_NAME/table/relationships",
    "/data/manage/source/DATABASE_NAME/table/permissions",
    "/data/manage/source/DATABASE_NAME/function/modify",
    "/data/manage/source/DATABASE_NAME/function/permissions",
    "/data/native-queries",
    "/data/native-queries/create",
    "/data/native-queries/native-query/DATABASE_NAME/NATIVE_QUERY_NAME",
    "/data/native-queries/logical-models",
    "/data/native-queries/logical-models/DATABASE_NAME",
    "/data/native-queries/logical-models/DATABASE_NAME/LOGICAL_MODEL_NAME",
    "/data/native-queries/logical-models/DATABASE_NAME/LOGICAL_MODEL_NAME/permissions",
    "/data/native-queries/stored-procedures",
    "/data/native-queries/stored-procedures/track",
    "/data/DATABASE_NAME",
    "/data/DATABASE_NAME/schema",
    "/data/schema/SCHEMA_NAME",
    "/data/schema/SCHEMA_NAME/tables",
    "/data/schema/SCHEMA_NAME/views",
    "/data/schema/SCHEMA_NAME/permissions",
    "/data/schema/SCHEMA_NAME/table/add",
    "/data/schema/SCHEMA_NAME/existing-table-view/add",
    "/data/schema/SCHEMA_NAME/tables/TABLE_NAME",
    "/data/schema/SCHEMA_NAME/views/VIEW_NAME",
    "/data/schema/SCHEMA_NAME/functions/FUNCTION_NAME",
    "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/browse",
    "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/insert",
    "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/edit",
    "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify",
    "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/relationships",
    "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/permissions",
    "/data/schema/SCHEMA_NAME/views/VIEW_NAME/browse",
    "/data/schema/SCHEMA_NAME/views/VIEW_NAME/modify",
    "/data/schema/SCHEMA_NAME/views/VIEW_NAME/relationships",
    "/data/schema/SCHEMA_NAME/views/VIEW_NAME/permissions",
    "/data/schema/SCHEMA_NAME/functions/FUNCTION_NAME/modify",
    "/data/schema/SCHEMA_NAME/functions/FUNCTION_NAME/permissions",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/views",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/permissions",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/table/add",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/existing-table-view/add",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/views/VIEW_NAME",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/functions/FUNCTION_NAME",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME/browse",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME/insert",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME/edit",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME/modify",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME/relationships",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME/permissions",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/views/VIEW_NAME/browse",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/views/VIEW_NAME/modify",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/views/VIEW_NAME/relationships",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/views/VIEW_NAME/permissions",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/functions/FUNCTION_NAME/modify",
    "/data/DATABASE_NAME/schema/SCHEMA_NAME/functions/FUNCTION_NAME/permissions",
    "/events",
    "/events/data",
    "/events/data/manage",
    "/events/data/add",
    "/events/data/pending",
    "/events/data/processed",
    "/events/data/logs",
    "/events/data/TRIGGER_NAME/modify",
    "/events/data/TRIGGER_NAME/pending",
    "/events/data/TRIGGER_NAME/processed",
    "/events/data/TRIGGER_NAME/running",
    "/events/data/TRIGGER_NAME/logs",
    "/events/cron",
    "/events/cron/manage",
    "/events/cron/add",
    "/events/cron/TRIGGER_NAME/modify",
    "/events/cron/TRIGGER_NAME/pending",
    "/events/cron/TRIGGER_NAME/processed",
    "/events/cron/TRIGGER_NAME/running",
    "/events/cron/TRIGGER_NAME/logs",
    "/events/one-off-scheduled-events",
    "/events/one-off-scheduled-events/add",
    "/events/one-off-scheduled-events/logs",
    "/events/one-off-scheduled-events/pending",
    "/events/one-off-scheduled-events/processed",
    "/events/one-off-scheduled-events/info",
    "/events/manage",
    "/events/manage/add",
    "/events/manage/events",
    "/events/manage/triggers/TRIGGER_NAME/modify",
    "/events/manage/triggers/TRIGGER_NAME/pending",
    "/events/manage/triggers/TRIGGER_NAME/processed",
    "/events/manage/triggers/TRIGGER_NAME/running",
    "/events/manage/triggers/TRIGGER_NAME/logs",
    "/remote-schemas",
    "/remote-schemas/manage",
    "/remote-schemas/manage/schemas",
    "/remote-schemas/manage/add",
    "/remote-schemas/manage/REMOTE_SCHEMA_NAME",
    "/remote-schemas/manage/REMOTE_SCHEMA_NAME/details",
    "/remote-schemas/manage/REMOTE_SCHEMA_NAME/modify",
    "/remote-schemas/manage/REMOTE_SCHEMA_NAME/permissions",
    "/remote-schemas/manage/REMOTE_SCHEMA_NAME/relationships",
    "/actions",
    "/actions/manage",
    "/actions/manage/actions",
    "/actions/manage/add",
    "/actions/manage/ACTION_NAME",
    "/actions/types",
    "/actions/types/manage",
    "/actions/manage/ACTION_NAME/modify",
    "/actions/manage/ACTION_NAME/relationships",
    "/actions/manage/ACTION_NAME/permissions",
    "/actions/manage/ACTION_NAME/codegen",
    "/settings",
    "/settings/metadata-actions",
    "/settings/metadata-status",
    "/settings/allow-list",
    "/settings/inherited-roles",
    "/settings/about",
    "/settings/feature-flags",
    "/settings/insecure-domain",
    "/settings/prometheus-settings",
    "/settings/opentelemetry",
    "/metadata",
    "/metadata/actions",
    "/metadata/status",
    "/metadata/allowed-queries",
    "/metadata/inherited-roles",
];

/// The templates a product has before any registration: Hasura's console
/// routes for `hasura`, none for any other product.
pub fn builtin(product: &str) -> RouteTemplates {
    if builtin_product(product) {
        RouteTemplates::parse_all(HASURA_CONSOLE_ROUTES.iter().copied()).expect("built-in templates are valid")
    } else {
        RouteTemplates::new()
    }
}

/// Whether `product` has built-in templates (Hasura's console routes).
///
/// ```
/// assert!(sonde_protocol::routes::builtin_product("hasura"));
/// assert!(!sonde_protocol::routes::builtin_product("prisma"));
/// ```
pub fn builtin_product(product: &str) -> bool {
    product == "hasura"
}

/// A template as published by `GET /api/v1/schema` and the admin API.
#[derive(Debug, Clone, Serialize)]
pub struct RouteTemplateInfo {
    /// The template text.
    pub template: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_route_matches_itself_and_concrete_paths_reduce() {
        let t = builtin("hasura");
        let seed = "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/modify";
        assert_eq!(t.reduce(seed).as_deref(), Some(seed));
        assert_eq!(
            t.reduce("/data/schema/public/tables/customers/modify").as_deref(),
            Some(seed)
        );
        assert_eq!(
            t.reduce("/data/schema/public/tables/customers/modify/").as_deref(),
            Some(seed)
        );
    }

    #[test]
    fn every_generations_routes_keep_the_tab_and_lose_the_names() {
        let t = builtin("hasura");
        let cases = [
            (
                "/data/default/schema/SCHEMA_NAME/tables/TABLE_NAME/modify",
                "/data/DATABASE_NAME/schema/SCHEMA_NAME/tables/TABLE_NAME/modify",
            ),
            (
                "/data/billing_db/schema/SCHEMA_NAME/views/VIEW_NAME/permissions",
                "/data/DATABASE_NAME/schema/SCHEMA_NAME/views/VIEW_NAME/permissions",
            ),
            (
                "/data/billing_db/schema/public/functions/f/modify",
                "/data/DATABASE_NAME/schema/SCHEMA_NAME/functions/FUNCTION_NAME/modify",
            ),
            (
                "/data/manage/source/billing_db/table/browse?table=x",
                "/data/manage/source/DATABASE_NAME/table/browse",
            ),
            ("/data/manage/edit/billing_db", "/data/manage/edit/DATABASE_NAME"),
            (
                "/data/native-queries/native-query/billing_db/top_customers",
                "/data/native-queries/native-query/DATABASE_NAME/NATIVE_QUERY_NAME",
            ),
            ("/events/data/DATA_TRIGGER_NAME/logs", "/events/data/TRIGGER_NAME/logs"),
            (
                "/events/cron/nightly_report/pending",
                "/events/cron/TRIGGER_NAME/pending",
            ),
            (
                "/remote-schemas/manage/payments/permissions",
                "/remote-schemas/manage/REMOTE_SCHEMA_NAME/permissions",
            ),
            (
                "/actions/manage/ACTION_NAME/codegen",
                "/actions/manage/ACTION_NAME/codegen",
            ),
            ("/api/rest/details/getUser", "/api/rest/details/ENDPOINT_NAME"),
            (
                "/data/schema/public/tables/customers/browse",
                "/data/schema/SCHEMA_NAME/tables/TABLE_NAME/browse",
            ),
            ("/metadata/actions", "/metadata/actions"),
        ];
        for (route, template) in cases {
            assert_eq!(t.reduce(route).as_deref(), Some(template), "{route}");
        }
        assert_ne!(
            t.reduce("/data/default/schema/s/tables/t/modify"),
            t.reduce("/data/default/schema/s/tables/t/browse")
        );
    }

    #[test]
    fn most_specific_template_wins() {
        let t = builtin("hasura");
        assert_eq!(t.reduce("/events/manage/add").as_deref(), Some("/events/manage/add"));
        assert_eq!(
            t.reduce("/data/schema/public/table/add").as_deref(),
            Some("/data/schema/SCHEMA_NAME/table/add")
        );
    }

    #[test]
    fn unknown_and_relative_routes_are_refused() {
        let t = builtin("hasura");
        assert_eq!(t.reduce("/data/schema/public/tables/customers/unheard-of"), None);
        assert_eq!(t.reduce("data/schema"), None);
        assert_eq!(t.reduce(&format!("/{}", "a/".repeat(400))), None);
        assert!(builtin("other").reduce("/").is_none());
    }

    #[test]
    fn bad_templates_are_refused() {
        assert_eq!(RouteTemplate::parse("data"), Err(RouteTemplateError::NotAbsolute));
        assert!(matches!(
            RouteTemplate::parse("/a//b"),
            Err(RouteTemplateError::InvalidSegment(_))
        ));
        assert!(matches!(
            RouteTemplate::parse("/a b"),
            Err(RouteTemplateError::InvalidSegment(_))
        ));
        assert_eq!(
            RouteTemplate::parse("/users/alice@example.com"),
            Err(RouteTemplateError::Identifying)
        );
        assert_eq!(RouteTemplate::parse("/").unwrap().as_str(), "/");
    }

    #[test]
    fn colon_and_capital_placeholders() {
        assert!(is_placeholder(":id"));
        assert!(is_placeholder("TABLE_NAME"));
        assert!(!is_placeholder("tables"));
        assert!(!is_placeholder("Tables"));
        assert!(!is_placeholder("_X"));
    }
}
