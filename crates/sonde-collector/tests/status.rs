//! Every status of docs/collector.md's tables through `app()` alone, with no
//! socket (`tower::ServiceExt::oneshot`), and every error body, axum's own
//! rejections and 405 included, in the `{"error": {"code", "message"}}` shape.

use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sonde_collector::catalog::{Catalog, CatalogHandle};
use sonde_collector::{app, AppState};
use sonde_store::{SqliteStore, Store};
use tower::ServiceExt;

const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const SIGNATURE: &str = "0f6a3b57-88a2-5e21-9c3d-2b6f1e0a4c77";

/// The service over a fresh store in `dir`, with product `demo` published.
struct Service {
    app: Router,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

/// A status, its headers and the body parsed as JSON (`Null` if it is not JSON).
struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Answer {
    /// Asserts the status, the error shape and its code.
    fn expect_error(&self, status: StatusCode, code: &str, context: &str) {
        assert_eq!((self.status, self.error_code()), (status, code), "{context}");
    }

    /// Asserts the error shape and returns its code.
    fn error_code(&self) -> &str {
        assert_eq!(
            self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{}",
            self.body
        );
        let message = self.body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "no error message in {}", self.body);
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
    }
}

impl Service {
    async fn start() -> Service {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let (store, catalog) = tokio::task::spawn_blocking(move || {
            let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
            let catalog = Catalog::build(store.load_catalog().unwrap());
            (store, catalog)
        })
        .await
        .unwrap();
        let state = AppState::new(store.clone(), Arc::new(CatalogHandle::new(catalog)), TOKEN.to_owned());
        let service = Service {
            app: app(state),
            store,
            _dir: dir,
        };
        let r = service
            .admin(
                Method::POST,
                "/api/v1/releases",
                json!({"product": "demo", "version": "1.0.0"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        service
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, headers, body }
    }

    async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap()).await
    }

    async fn post(&self, uri: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Answer {
        let mut request = Request::post(uri);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.send(request.body(body.into()).unwrap()).await
    }

    async fn admin(&self, method: Method, uri: &str, body: Value) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    async fn admin_get(&self, uri: &str) -> Answer {
        let request = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn successes_are_200_201_204() {
    let s = Service::start().await;
    assert_eq!(s.get("/healthz").await.status, StatusCode::OK);
    let r = s
        .get(&format!("/v1/check/demo?version=1.0.0&signature={SIGNATURE}"))
        .await;
    assert_eq!(
        (r.status, r.body["current_version"].as_str()),
        (StatusCode::OK, Some("1.0.0"))
    );
    assert_eq!(s.get("/v1/versions/api?product=demo").await.status, StatusCode::OK);
    assert_eq!(s.get("/api/v1/schema").await.status, StatusCode::OK);
    assert_eq!(s.get("/sdk/console.js").await.status, StatusCode::OK);
    let r = s.post("/v1/telemetry/demo", &[], r#"{"version":"1.0.0"}"#).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let batch = json!({"product": "demo", "events": [{"id": SIGNATURE, "kind": "command", "command": "demo build"}]});
    let r = s.post("/api/v1/events", &[], batch.to_string()).await;
    assert_eq!(
        (r.status, r.body["stored"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{}",
        r.body
    );
    let r = s
        .send(Request::options("/api/v1/events").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    let r = s
        .admin(
            Method::POST,
            "/api/v1/alerts",
            json!({"product": "demo", "level": "info", "message": "hello"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    let r = s
        .admin(
            Method::PUT,
            "/api/v1/versions",
            json!({"product": "demo", "service": "api", "minimum": "1.0.0"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = s
        .admin(
            Method::POST,
            "/api/v1/routes",
            json!({"product": "demo", "templates": ["/users/:id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for uri in [
        "/api/v1/releases?product=demo",
        "/api/v1/alerts",
        "/api/v1/stats/mau?product=demo",
        "/api/v1/stats/rejected",
        "/api/v1/routes?product=demo",
        "/api/v1/stats/events?product=demo&kind=command",
    ] {
        assert_eq!(s.admin_get(uri).await.status, StatusCode::OK, "{uri}");
    }
    let r = s
        .admin(Method::DELETE, &format!("/api/v1/alerts/{id}"), Value::Null)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn bad_requests_are_400_with_their_code() {
    let s = Service::start().await;
    let long_query = format!("/v1/check/demo?version={}", "1".repeat(20_000));
    for (uri, code) in [
        ("/v1/check/UPPER", "invalid_product"),
        ("/v1/check/%FF", "invalid_path"),
        (long_query.as_str(), "query_too_long"),
        ("/v1/versions/Bad!?product=demo", "invalid_service"),
        ("/v1/versions/api", "missing_product"),
        ("/v1/versions/api?product=Nope!", "invalid_product"),
    ] {
        let r = s.get(uri).await;
        r.expect_error(StatusCode::BAD_REQUEST, code, uri);
    }
    for (uri, code) in [
        ("/api/v1/releases", "missing_product"),
        ("/api/v1/releases?product=Nope!", "invalid_product"),
        ("/api/v1/stats/mau?product=demo&month=May", "invalid_month"),
        ("/api/v1/stats/events?product=demo&kind=mouse", "invalid_kind"),
        (
            "/api/v1/stats/events?product=demo&kind=command&include_test=maybe",
            "invalid_query",
        ),
        ("/api/v1/routes?product=Nope!", "invalid_product"),
    ] {
        let r = s.admin_get(uri).await;
        r.expect_error(StatusCode::BAD_REQUEST, code, uri);
    }
    let r = s.post("/v1/telemetry/demo", &[], "{not json").await;
    r.expect_error(StatusCode::BAD_REQUEST, "invalid_json", "");
    let r = s
        .post("/api/v1/events", &[("Content-Encoding", "gzip")], "not gzip")
        .await;
    r.expect_error(StatusCode::BAD_REQUEST, "invalid_gzip", "");
    let r = s.post("/api/v1/events", &[], "{not json").await;
    r.expect_error(StatusCode::BAD_REQUEST, "invalid_body", "");
    let r = s
        .post(
            "/api/v1/events",
            &[],
            json!({"product": "Nope!", "events": []}).to_string(),
        )
        .await;
    r.expect_error(StatusCode::BAD_REQUEST, "invalid_product", "");
    let r = s.post("/v1/http?product=Nope!", &[], "{}").await;
    r.expect_error(StatusCode::BAD_REQUEST, "invalid_product", "");
    let r = s
        .post(
            "/v1/http?product=demo",
            &[],
            json!({"topic": "nope", "data": {}}).to_string(),
        )
        .await;
    r.expect_error(StatusCode::BAD_REQUEST, "invalid_envelope", "");
    let report = |schema: Value| {
        json!({"schema": schema, "report_id": SIGNATURE, "product": "demo", "kind": "std::io::Error"}).to_string()
    };
    let r = s.post("/api/v1/error-reports", &[], report(json!(99))).await;
    r.expect_error(StatusCode::BAD_REQUEST, "unsupported_schema", "");
    let r = s.post("/api/v1/error-reports", &[], report(json!("one"))).await;
    r.expect_error(StatusCode::BAD_REQUEST, "invalid_report", "");

    for (method, uri, body, code) in [
        (
            Method::POST,
            "/api/v1/releases",
            json!({"product": "demo", "version": "banana"}),
            "invalid_field",
        ),
        (
            Method::POST,
            "/api/v1/releases",
            json!({"product": "demo"}),
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/routes",
            json!({"product": "demo", "templates": []}),
            "invalid_field",
        ),
        (
            Method::POST,
            "/api/v1/routes",
            json!({"product": "demo", "templates": ["no-slash"]}),
            "invalid_route",
        ),
        (Method::DELETE, "/api/v1/alerts/one", Value::Null, "invalid_id"),
    ] {
        let r = s.admin(method, uri, body).await;
        r.expect_error(StatusCode::BAD_REQUEST, code, uri);
    }
}

#[tokio::test]
async fn the_websocket_door_refuses_a_plain_get_and_a_malformed_origin() {
    let s = Service::start().await;
    s.get("/v1/ws?product=demo")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "websocket_required", "plain GET");
    let request = Request::get("/v1/ws?product=demo")
        .header(header::ORIGIN, "javascript:alert(1)")
        .body(Body::empty())
        .unwrap();
    s.send(request)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden_origin", "bad origin");
}

#[tokio::test]
async fn no_token_is_401() {
    let s = Service::start().await;
    for uri in [
        "/api/v1/releases?product=demo",
        "/api/v1/routes?product=demo",
        "/api/v1/stats/events",
    ] {
        let r = s.get(uri).await;
        r.expect_error(StatusCode::UNAUTHORIZED, "unauthorized", uri);
    }
    let wrong = format!("Bearer {}", "f".repeat(64));
    let r = s.post("/api/v1/releases", &[("Authorization", &wrong)], "").await;
    r.expect_error(StatusCode::UNAUTHORIZED, "unauthorized", "");
}

#[tokio::test]
async fn unknown_things_are_404() {
    let s = Service::start().await;
    for uri in ["/v1/check/ghost", "/v1/versions/api?product=ghost"] {
        let r = s.get(uri).await;
        r.expect_error(StatusCode::NOT_FOUND, "unknown_product", uri);
    }
    let r = s.post("/v1/telemetry/ghost", &[], "{}").await;
    r.expect_error(StatusCode::NOT_FOUND, "unknown_product", "");
    let r = s.admin_get("/api/v1/releases?product=ghost").await;
    r.expect_error(StatusCode::NOT_FOUND, "unknown_product", "");
    let r = s.admin_get("/api/v1/routes?product=ghost").await;
    r.expect_error(StatusCode::NOT_FOUND, "unknown_product", "");
    let r = s.admin(Method::DELETE, "/api/v1/alerts/999", Value::Null).await;
    r.expect_error(StatusCode::NOT_FOUND, "unknown_alert", "");
    let r = s.admin_get("/api/v1/errors/v1:0000000000000000?product=demo").await;
    r.expect_error(StatusCode::NOT_FOUND, "unknown_group", "");
    let r = s.get("/no/such/route").await;
    r.expect_error(StatusCode::NOT_FOUND, "no_route", "");
}

#[tokio::test]
async fn a_method_a_route_does_not_take_is_405_in_the_error_shape() {
    let s = Service::start().await;
    for (method, uri, allow) in [
        (Method::POST, "/v1/check/demo", "GET,HEAD"),
        (Method::GET, "/v1/telemetry/demo", "POST"),
        (Method::GET, "/api/v1/events", "POST,OPTIONS"),
        (Method::DELETE, "/healthz", "GET,HEAD"),
    ] {
        let r = s
            .send(Request::builder().method(method).uri(uri).body(Body::empty()).unwrap())
            .await;
        r.expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", uri);
        assert_eq!(
            r.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()),
            Some(allow),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn bodies_over_their_limit_are_413() {
    let s = Service::start().await;
    let r = s.post("/v1/telemetry/demo", &[], vec![b' '; 70 * 1024]).await;
    r.expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "");
    let padding = "x".repeat(sonde_protocol::native::MAX_BATCH_BYTES);
    let big = json!({"product": "demo", "events": [{"id": SIGNATURE, "kind": "command", "padding": padding}]});
    let r = s.post("/api/v1/events", &[], gzip(big.to_string().as_bytes())).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "gzip without Content-Encoding is not JSON"
    );
    let r = s
        .post(
            "/api/v1/events",
            &[("Content-Encoding", "gzip")],
            gzip(big.to_string().as_bytes()),
        )
        .await;
    r.expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "");
    let events: Vec<Value> = (0..=sonde_protocol::native::MAX_BATCH_EVENTS)
        .map(|_| json!({"id": SIGNATURE, "kind": "command"}))
        .collect();
    let many = json!({"product": "demo", "events": events});
    let r = s.post("/api/v1/events", &[], many.to_string()).await;
    r.expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "");
    let report = vec![b' '; sonde_protocol::error_report::MAX_REPORT_BYTES + 1];
    let r = s.post("/api/v1/error-reports", &[], report).await;
    r.expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "");
}

#[tokio::test]
async fn bodies_that_are_not_json_are_415() {
    let s = Service::start().await;
    let r = s
        .post("/v1/telemetry/demo", &[("Content-Type", "text/html")], "<p>hi</p>")
        .await;
    r.expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "");
    let r = s
        .post("/api/v1/events", &[("Content-Type", "application/xml")], "<x/>")
        .await;
    r.expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "");
    let r = s.post("/api/v1/events", &[("Content-Encoding", "br")], "{}").await;
    r.expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "");
    // Admin JSON without a JSON content type (axum's own rejection).
    let token = format!("Bearer {TOKEN}");
    let release = r#"{"product":"demo","version":"1.0.1"}"#;
    let r = s.post("/api/v1/releases", &[("Authorization", &token)], release).await;
    r.expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "");
}

#[tokio::test]
async fn a_store_that_cannot_take_writes_is_503_with_retry_after() {
    let s = Service::start().await;
    let store = s.store.clone();
    tokio::task::spawn_blocking(move || store.close())
        .await
        .unwrap()
        .unwrap();
    let r = s
        .get(&format!("/v1/check/demo?version=1.0.0&signature={SIGNATURE}"))
        .await;
    r.expect_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "");
    assert_eq!(
        r.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let r = s.post("/v1/telemetry/demo", &[], "{}").await;
    r.expect_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "");
}
