//! The baseline that `bench/check/run.sh` measures the collector against: `check-baseline`, a minimal axum handler answering
//! `GET /v1/check/{product}` with a fixed JSON body per product (real answers
//! captured from `sonde serve` in the same run), with no query parsing, no
//! storage and no logging. The ratio of the collector's throughput to this
//! baseline is the figure `BENCHMARKS.md` records.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// A baseline with `extra` more routes (`GET`/`POST /extra/{i}/{id}` answering
/// 204), for the diagnostic in `bench/check/README.md`: axum's `serve` rebuilds
/// the router for every new connection, so its route count costs time on
/// every `Connection: close` request.
pub fn baseline_app_with_routes(bodies: HashMap<String, Vec<u8>>, extra: usize) -> Router {
    let mut app = baseline_app(bodies);
    for i in 0..extra {
        app = app.route(
            &format!("/extra/{i}/{{id}}"),
            get(|| async { StatusCode::NO_CONTENT }).post(|| async { StatusCode::NO_CONTENT }),
        );
    }
    app
}

/// Static answers by product name.
type Bodies = Arc<HashMap<String, Bytes>>;

/// The baseline service: `GET /v1/check/{product}` gets that product's body
/// as `application/json` with status 200, whatever the query; an unknown
/// product gets 404.
///
/// ```
/// let mut bodies = std::collections::HashMap::new();
/// bodies.insert("terraform".to_owned(), br#"{"outdated":false}"#.to_vec());
/// let app = sonde_bench::baseline::baseline_app(bodies);
/// # let _ = app;
/// ```
pub fn baseline_app(bodies: HashMap<String, Vec<u8>>) -> Router {
    let bodies: Bodies = Arc::new(
        bodies
            .into_iter()
            .map(|(product, body)| (product, Bytes::from(body)))
            .collect(),
    );
    Router::new()
        .route("/v1/check/{product}", get(check))
        .with_state(bodies)
}

async fn check(State(bodies): State<Bodies>, Path(product): Path<String>) -> Response {
    match bodies.get(&product) {
        Some(body) => ([(CONTENT_TYPE, "application/json")], body.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
