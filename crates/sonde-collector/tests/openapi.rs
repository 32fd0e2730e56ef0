//! The OpenAPI document served at `/openapi.json` against the router and the
//! source: every route the collector serves is documented, every documented
//! operation is served, admin operations carry the bearer scheme, and the
//! error body in the document is the one the collector sends.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use sonde_testkit::collector::Collector;
use sonde_testkit::http::exchange;

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every `(METHOD, path)` of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(*m).is_some() {
                ops.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

fn document(c: &Collector) -> Value {
    let reply = sonde_testkit::http::get(c.addr(), "/openapi.json");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

/// The path with each `{param}` filled in.
fn concrete(path: &str) -> String {
    path.replace("{product}", "demo")
        .replace("{service}", "demo-server")
        .replace("{id}", "1")
        .replace("{group}", "0123456789abcdef")
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("source file");
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn every_documented_operation_is_served_with_a_documented_status() {
    let c = Collector::start();
    c.publish("demo", "1.0.0");
    let doc = document(&c);
    let ops = operations(&doc);
    assert!(ops.len() >= 29, "{ops:?}");
    let token = c.inner.admin_token().to_owned();
    for (method, path) in &ops {
        let target = concrete(path);
        let op = &doc["paths"][path][method.to_lowercase()];
        let secured = op.get("security").is_some();
        let auth = if secured {
            format!("Authorization: Bearer {token}\r\n")
        } else {
            String::new()
        };
        let body = if matches!(method.as_str(), "POST" | "PUT") {
            "{}"
        } else {
            ""
        };
        let request = format!(
            "{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let reply = exchange(c.addr(), request.as_bytes());
        let documented: BTreeSet<String> = op["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect();
        assert!(
            documented.contains(&reply.status.to_string()),
            "{method} {path}: status {} is not in the document ({documented:?}): {}",
            reply.status,
            reply.text()
        );
        // The API's errors are JSON; the dashboard's pages answer in HTML
        // (an unserved route would be the JSON `no_route`).
        if reply.status >= 400 && reply.text().starts_with('{') {
            let code = reply.error_code();
            assert!(
                code != "no_route" && code != "method_not_allowed",
                "{method} {path} is documented but not served: {code}"
            );
        }
        if secured {
            let bare =
                format!("{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            let reply = exchange(c.addr(), bare.as_bytes());
            assert_eq!(reply.status, 401, "{method} {path} without the token");
            assert!(
                op["responses"].get("401").is_some(),
                "{method} {path} documents its 401"
            );
        }
    }
}

#[test]
fn every_route_is_added_with_its_documentation() {
    // The router is built only by `routes!(handler)` (utoipa-axum), which
    // documents each route as it adds it: a plain axum `.route(` in the
    // collector's service would add an undocumented route. The one
    // exception is the separate metrics listener (`Config::metrics_listen`),
    // a different service on a different address.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut annotated = 0;
    for (file, text) in &files {
        annotated += text.matches("#[utoipa::path(").count();
        if file.ends_with("metrics.rs") {
            assert_eq!(
                text.matches(".route(").count(),
                1,
                "{file}: only the metrics listener's route"
            );
            continue;
        }
        let text = text.replace("OpenApiRouter::new()", "");
        for plain in [
            ".route(",
            ".route_service(",
            ".nest(",
            ".nest_service(",
            "Router::new()",
        ] {
            assert!(
                !text.contains(plain),
                "{file} builds routes with `{plain}`: use `routes!(handler)` with a `#[utoipa::path]` annotation"
            );
        }
    }
    // Each annotation is one operation, and each is mounted: the document
    // has exactly as many operations as the source has annotations.
    let doc = sonde_collector::openapi::document_json();
    assert_eq!(
        operations(&doc).len(),
        annotated,
        "annotated handlers vs documented operations"
    );
}

#[test]
fn operation_ids_are_unique_and_links_name_existing_operations() {
    let doc = sonde_collector::openapi::document_json();
    let mut ids = BTreeSet::new();
    let mut links = Vec::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let id = op["operationId"].as_str().expect("an operationId").to_owned();
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        for response in op["responses"].as_object().expect("responses").values() {
            if let Some(l) = response.get("links").and_then(Value::as_object) {
                links.extend(
                    l.values()
                        .map(|l| l["operationId"].as_str().expect("a link's operationId").to_owned()),
                );
            }
        }
    }
    assert!(!links.is_empty(), "the document has links for stateful testing");
    for target in links {
        assert!(ids.contains(&target), "a link names {target}, which is no operation");
    }
}

#[test]
fn admin_operations_use_the_bearer_scheme_and_errors_have_one_shape() {
    let c = Collector::start();
    let doc = document(&c);
    let scheme = &doc["components"]["securitySchemes"]["admin_token"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_lowercase()];
        let admin = path.starts_with("/api/v1/")
            && !matches!(
                path.as_str(),
                "/api/v1/events" | "/api/v1/error-reports" | "/api/v1/schema"
            );
        if admin || path == "/metrics" {
            assert_eq!(
                op["security"][0]["admin_token"],
                serde_json::json!([]),
                "{method} {path}"
            );
        } else {
            assert!(op.get("security").is_none(), "{method} {path} is public");
        }
    }
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error"]));
    let detail = &doc["components"]["schemas"]["ErrorDetail"];
    assert_eq!(detail["required"], serde_json::json!(["code", "message"]));
    // What the collector sends has exactly that shape.
    let reply = sonde_testkit::http::get(c.addr(), "/v1/check/nobody");
    assert_eq!(reply.status, 404);
    let body: Value = reply.json();
    let keys: Vec<&String> = body["error"].as_object().expect("error object").keys().collect();
    assert_eq!(keys, ["code", "message"]);
    let documented = &doc["paths"]["/v1/check/{product}"]["get"]["responses"]["404"]["content"]["application/json"]
        ["schema"]["$ref"];
    assert_eq!(documented, "#/components/schemas/ErrorBody");
}

/// The analytics query documents every parameter it reads, `window` of the
/// `rolling` metric among them, and names the metric.
#[test]
fn the_analytics_query_documents_its_parameters() {
    let c = Collector::start();
    let doc = document(&c);
    let op = &doc["paths"]["/api/v1/query"]["get"];
    let names: BTreeSet<&str> = op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    let read = [
        "product",
        "metric",
        "from",
        "to",
        "interval",
        "dimension",
        "include_ci",
        "format",
        "filter",
        "window",
    ];
    assert_eq!(names, read.into_iter().collect());
    let metric = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "metric")
        .unwrap();
    assert!(metric["description"].as_str().unwrap().contains("`rolling`"));
}
