//! The dashboard served at `/`: sign in with the admin token, then one
//! product's analytics over a range of days, drawn in the browser with uPlot.
//!
//! - [`session`]: sessions in memory, the cookie, the sign-in limit.
//! - [`page`]: the HTML, rendered on the server.
//! - [`assets`]: uPlot and the dashboard's script and stylesheet, embedded.
//! - The data comes from [`crate::analytics::views`], one function per panel.
//!
//! Routes: `GET /` (the sign-in page without a valid session, the dashboard
//! with one; `?product=P&from=YYYY-MM-DD&to=YYYY-MM-DD` or `&days=N`),
//! `POST /session` (the form's `token`), `POST /session/logout`,
//! `GET /dashboard/assets/{name}`. Every HTML answer carries a strict
//! Content-Security-Policy (no inline script, nothing from elsewhere),
//! `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and
//! `Cache-Control: no-store`.

pub mod assets;
pub mod page;
pub mod session;

use std::time::Instant;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::Markup;
use serde::Deserialize;
use sonde_protocol::ProductName;
use sonde_store::{Day, DayRange};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::analytics::query::MAX_DAYS;
use crate::token::token_matches;
use crate::AppState;

/// The Content-Security-Policy of every dashboard page.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The message of a sign-in with a wrong token.
pub const WRONG_TOKEN: &str = "That token is not the admin token.";

/// The message of a sign-in over the attempt limit.
pub const TOO_MANY: &str = "Too many sign-in attempts; wait a minute and try again.";

/// Days shown when the query string names no range.
pub const DEFAULT_DAYS: i64 = 30;

/// The tag of the dashboard's pages in the API document.
const TAG_DASHBOARD: &str = "dashboard";

/// The dashboard's routes (HTML pages and their files), documented like the
/// API's.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index))
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
        .routes(routes!(assets::serve))
}

/// An HTML answer with the dashboard's security headers.
fn html(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, markup.into_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A 303 to `/`, setting `cookie`.
fn back_home(cookie: String) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/"));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        h.insert(header::SET_COOKIE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The session id the request's cookie carries, if any.
fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session::from_cookie_header)
}

fn signed_in(state: &AppState, headers: &HeaderMap) -> bool {
    session_id(headers).is_some_and(|id| state.sessions().is_valid(id, Instant::now()))
}

/// The sign-in form.
#[derive(Debug, Deserialize, ToSchema)]
struct SignIn {
    /// The admin token.
    token: String,
}

/// `POST /session`: the right token starts a session (303 to `/` with the
/// cookie); a wrong one is the sign-in page again, 401.
#[utoipa::path(
    post,
    path = "/session",
    tag = TAG_DASHBOARD,
    request_body(content = SignIn, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: a session cookie (HttpOnly, SameSite=Strict) and a redirect to `/`"),
        (status = 400, description = "No token in the form: the sign-in page", content_type = "text/html; charset=utf-8", body = String),
        (status = 401, description = "Wrong token: the sign-in page with a message", content_type = "text/html; charset=utf-8", body = String),
        (status = 429, description = "Too many sign-in attempts this minute", content_type = "text/html; charset=utf-8", body = String),
    )
)]
async fn sign_in(State(state): State<AppState>, form: Result<Form<SignIn>, FormRejection>) -> Response {
    if !state.sessions().attempt(Instant::now()) {
        return html(StatusCode::TOO_MANY_REQUESTS, page::sign_in(Some(TOO_MANY)));
    }
    let Ok(Form(SignIn { token })) = form else {
        return html(
            StatusCode::BAD_REQUEST,
            page::sign_in(Some("Send the token from the form.")),
        );
    };
    if !token_matches(token.trim(), state.admin_token()) {
        return html(StatusCode::UNAUTHORIZED, page::sign_in(Some(WRONG_TOKEN)));
    }
    match state.sessions().create(Instant::now()) {
        Ok(id) => back_home(session::set_cookie(&id, state.sessions().ttl(), state.tls())),
        Err(e) => {
            tracing::error!(error = %e, "dashboard sign-in failed");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                page::sign_in(Some("The collector could not start a session; see its log.")),
            )
        }
    }
}

/// `POST /session/logout`: ends the session, clears the cookie, 303 to `/`.
#[utoipa::path(
    post,
    path = "/session/logout",
    tag = TAG_DASHBOARD,
    responses((status = 303, description = "Signed out: the cookie cleared and a redirect to `/`"))
)]
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        state.sessions().remove(id);
    }
    back_home(session::clear_cookie(state.tls()))
}

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
struct PageParams {
    product: Option<String>,
    from: Option<String>,
    to: Option<String>,
    days: Option<String>,
}

/// The days asked for, ending `today` unless said otherwise; the message
/// to show when the parameters are not a range.
fn range(p: &PageParams, today: Day) -> Result<DayRange, String> {
    let day = |s: &str| {
        s.parse::<Day>()
            .map_err(|_| format!("{s:?} is not a day; use YYYY-MM-DD."))
    };
    let days = match p.days.as_deref().filter(|s| !s.is_empty()) {
        None => DEFAULT_DAYS,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=MAX_DAYS).contains(&n) => n,
            _ => return Err(format!("days must be a number from 1 to {MAX_DAYS}.")),
        },
    };
    let to = match p.to.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => day(s)?,
        None => today,
    };
    let from = match p.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => day(s)?,
        None => to.add_days(1 - days),
    };
    let range = DayRange::new(from, to);
    let n = range.days().count() as i64;
    if from > to || n == 0 || n > MAX_DAYS {
        return Err(format!(
            "The range must run forwards and cover at most {MAX_DAYS} days."
        ));
    }
    Ok(range)
}

/// `GET /`: the sign-in page, or the dashboard.
#[utoipa::path(
    get,
    path = "/",
    tag = TAG_DASHBOARD,
    params(
        ("product" = Option<String>, Query, description = "The product shown (default: the first)"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (default: today)"),
        ("days" = Option<String>, Query, description = "Days ending at `to` (default 30)"),
    ),
    responses(
        (status = 200, description = "The dashboard, or the sign-in page without a session", content_type = "text/html; charset=utf-8", body = String),
        (status = 400, description = "A malformed product or range: the page with a message", content_type = "text/html; charset=utf-8", body = String),
        (status = 404, description = "An unknown product: the page with a message", content_type = "text/html; charset=utf-8", body = String),
    )
)]
async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Response {
    if !signed_in(&state, &headers) {
        return html(StatusCode::OK, page::sign_in(None));
    }
    let products = state.catalog().product_names();
    let today = Day::from_unix_ms(crate::clock::now_ms());
    let fallback_from = today.add_days(1 - DEFAULT_DAYS).to_string();
    let bad = |status, current: Option<&str>, msg: &str| {
        html(
            status,
            page::message(&products, current, &fallback_from, &today.to_string(), msg),
        )
    };
    let Ok(Query(params)) = params else {
        return bad(StatusCode::BAD_REQUEST, None, "The query string could not be read.");
    };
    let product = match params.product.as_deref().filter(|s| !s.is_empty()) {
        Some(name) => match ProductName::parse(name) {
            Ok(p) if products.iter().any(|x| x == p.as_str()) => p.to_string(),
            Ok(_) => {
                return bad(
                    StatusCode::NOT_FOUND,
                    None,
                    &format!("There is no product called {name:?}: pick one above."),
                )
            }
            Err(e) => {
                return bad(
                    StatusCode::BAD_REQUEST,
                    None,
                    &format!("{name:?} is not a product name: {e}."),
                )
            }
        },
        None => match products.first() {
            Some(p) => p.clone(),
            None => {
                return bad(
                    StatusCode::OK,
                    None,
                    "No product yet: publish a release (sonde release publish) to register one.",
                )
            }
        },
    };
    let range = match range(&params, today) {
        Ok(r) => r,
        Err(msg) => return bad(StatusCode::BAD_REQUEST, Some(&product), &msg),
    };
    let kanon = state.kanon();
    let name = product.clone();
    let data = state
        .read(move |s| Ok(crate::analytics::views::dashboard(s, &name, range, kanon)))
        .await;
    match data {
        Ok(Ok(d)) => html(StatusCode::OK, page::dashboard(&products, &d)),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "dashboard data");
            bad(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&product),
                "The store could not be read; see the collector's log.",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "dashboard data");
            bad(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&product),
                "The store could not be read; see the collector's log.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(from: Option<&str>, to: Option<&str>, days: Option<&str>) -> PageParams {
        PageParams {
            product: None,
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            days: days.map(str::to_owned),
        }
    }

    #[test]
    fn ranges_default_to_the_last_30_days() {
        let today: Day = "2026-12-07".parse().unwrap();
        let r = range(&params(None, None, None), today).unwrap();
        assert_eq!(
            (r.from.to_string(), r.to.to_string()),
            ("2026-11-08".into(), "2026-12-07".into())
        );
        let r = range(&params(None, None, Some("90")), today).unwrap();
        assert_eq!(r.days().count(), 90);
        let r = range(&params(Some("2026-11-01"), Some("2026-11-30"), None), today).unwrap();
        assert_eq!(r.days().count(), 30);
        assert!(range(&params(Some("2026-11-30"), Some("2026-11-01"), None), today).is_err());
        assert!(range(&params(Some("yesterday"), None, None), today).is_err());
        assert!(range(&params(None, None, Some("0")), today).is_err());
        assert!(range(&params(None, None, Some("99999")), today).is_err());
    }
}
