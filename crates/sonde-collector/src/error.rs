//! Errors: [`ApiError`], the one type every handler returns, with a variant
//! per failure, mapped to a status and a stable code in one `match` each and
//! answered as `{"error": {"code": "...", "message": "..."}}`; and
//! [`CollectorError`], what starting or stopping the collector can fail with.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sonde_protocol::error_report::ReportError;
use sonde_protocol::hasura::HasuraError;
use sonde_protocol::limits::MAX_QUERY_LEN;
use sonde_protocol::native::{BatchError, MAX_BATCH_EVENTS};
use sonde_protocol::product::ProductNameError;
use sonde_protocol::routes::{RouteTemplateError, MAX_ROUTES_PER_PRODUCT};
use sonde_store::{MonthParseError, StoreError};

use crate::admin::ValidationError;
use crate::pipeline::PipelineError;

/// Every error a request can end with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid_product`: a product name in the path or query is malformed.
    #[error("invalid product name {name:?}: {source}")]
    InvalidProduct {
        /// The name as sent.
        name: String,
        /// Why it was refused.
        #[source]
        source: ProductNameError,
    },
    /// 400 `invalid_service`: the service name of `/v1/versions/{service}` is malformed.
    #[error("invalid service name {name:?}: {source}")]
    InvalidService {
        /// The name as sent.
        name: String,
        /// Why it was refused.
        #[source]
        source: ProductNameError,
    },
    /// 400 `missing_product`: the route needs `?product=`.
    #[error("add ?product=<name> to the query")]
    MissingProduct,
    /// 400 `query_too_long`: the query string is over [`MAX_QUERY_LEN`].
    #[error("the query string is over {MAX_QUERY_LEN} bytes")]
    QueryTooLong,
    /// 400 `invalid_json`: a telemetry body that is not a go-checkpoint report.
    #[error("the body is not a telemetry report: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// 400 `invalid_gzip`: a gzip body that does not decode.
    #[error("the gzip body cannot be decoded: {0}")]
    InvalidGzip(#[source] std::io::Error),
    /// A native batch refused whole: 400 `invalid_product` for its product
    /// name, 400 `invalid_body` otherwise.
    #[error(transparent)]
    InvalidBatch(BatchError),
    /// 413 `payload_too_large`: a native batch over [`MAX_BATCH_EVENTS`] events.
    #[error("a batch holds at most {MAX_BATCH_EVENTS} events, this one has {0}; split it")]
    TooManyEvents(usize),
    /// An error report refused whole: 400 `unsupported_schema` for a
    /// `schema` this collector does not read, `invalid_product` for its
    /// product name, `invalid_report` otherwise.
    #[error(transparent)]
    InvalidReport(ReportError),
    /// 404 `unknown_group`: no error group with this id for the product.
    #[error("no error group {0:?} for this product")]
    UnknownErrorGroup(String),
    /// 400 `invalid_envelope`: a Hasura envelope refused whole.
    #[error(transparent)]
    InvalidEnvelope(HasuraError),
    /// 400 `invalid_field`: an admin input field refused by validation.
    #[error(transparent)]
    InvalidField(#[from] ValidationError),
    /// 400 `invalid_field`: no route templates, or too many.
    #[error("templates: give 1 to {MAX_ROUTES_PER_PRODUCT} route templates")]
    TemplateCount,
    /// 400 `invalid_route`: a route template that does not parse.
    #[error("route template {template:?}: {source}")]
    InvalidRoute {
        /// The template as sent.
        template: String,
        /// Why it was refused.
        #[source]
        source: RouteTemplateError,
    },
    /// 400 `invalid_field`: no vocabulary words, or too many.
    #[error("give 1 to {} vocabulary words", sonde_protocol::vocabulary::MAX_WORDS_PER_PRODUCT)]
    WordCount,
    /// 400 `invalid_word`: a vocabulary word refused at registration.
    #[error(transparent)]
    InvalidWord(#[from] sonde_protocol::vocabulary::VocabularyError),
    /// 400 `invalid_id`: an alert id that is not a number.
    #[error("alert id {id:?} is not a number")]
    InvalidId {
        /// The id as sent.
        id: String,
        /// Why it does not parse.
        #[source]
        source: std::num::ParseIntError,
    },
    /// 400 `invalid_month`: a month that is not `YYYY-MM`.
    #[error(transparent)]
    InvalidMonth(MonthParseError),
    /// 400 `invalid_kind`: an event kind nobody sends.
    #[error("kind {0:?}: use heartbeat, command or console")]
    InvalidKind(String),
    /// 400 `invalid_analytics_query`: an analytics query parameter missing
    /// or malformed.
    #[error(transparent)]
    InvalidAnalyticsQuery(#[from] crate::analytics::query::QueryError),
    /// 403 `too_narrow`: an analytics filter selects fewer signatures than
    /// the minimum group size.
    #[error(transparent)]
    TooNarrow(#[from] crate::analytics::kanon::Narrowed),
    /// 400 `invalid_path`: a path segment axum cannot extract (not UTF-8, ...).
    #[error(transparent)]
    Path(#[from] PathRejection),
    /// 400 `invalid_query`: a query string that does not deserialize.
    #[error(transparent)]
    Query(#[from] QueryRejection),
    /// A JSON body axum refused: 400 `invalid_body` (its shape or syntax), 413
    /// `payload_too_large`, 415 `unsupported_media_type` (no JSON content type).
    #[error(transparent)]
    Json(#[from] JsonRejection),
    /// A body axum could not read: 413 `payload_too_large` when over the limit.
    #[error(transparent)]
    Body(#[from] BytesRejection),
    /// 401 `unauthorized`: missing or wrong admin token.
    #[error("missing or wrong admin token: send `Authorization: Bearer <token>` with the token from the data directory's admin-token file")]
    Unauthorized,
    /// 404 `unknown_product`: nobody registered the product.
    #[error(
        "unknown product {0:?}: publish a release for it first (`sonde release publish --product {0} --version ...`)"
    )]
    UnknownProduct(String),
    /// 404 `unknown_alert`: no alert with this id.
    #[error("no alert with id {0}")]
    UnknownAlert(i64),
    /// 404 `no_route`: no such endpoint.
    #[error("no such endpoint")]
    NoRoute,
    /// 405 `method_not_allowed`: the endpoint exists, the method does not.
    #[error("this endpoint does not take that method; the Allow header lists those it takes")]
    MethodNotAllowed,
    /// 413 `payload_too_large`: a body over its limit, as declared by its
    /// `Content-Length` (refused before it is read) or once decoded.
    #[error("the body is over {limit} bytes (after decoding); send smaller batches")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// 400 `malformed_body`: the body could not be read (malformed chunked
    /// encoding, or the connection ended mid-body).
    #[error("the body could not be read: {0}")]
    MalformedBody(#[source] axum::BoxError),
    /// 408 `body_timeout`: the body did not arrive within the body timeout.
    #[error("the body did not arrive within the collector's body timeout")]
    BodyTimeout,
    /// 415 `unsupported_media_type`: a checkpoint body whose type is not JSON.
    #[error("content type {0:?} is not JSON: send application/json or no Content-Type")]
    NotJson(String),
    /// 415 `unsupported_media_type`: an event body that is neither JSON nor text.
    #[error("send the body as application/json (or text/plain holding JSON), not {0:?}")]
    UnsupportedContentType(String),
    /// 415 `unsupported_media_type`: a `Content-Encoding` other than gzip.
    #[error("Content-Encoding {0:?} is not supported; use gzip or none")]
    UnsupportedEncoding(String),
    /// What the ingestion pipeline refused: 400 `product_mismatch`, 503
    /// `unavailable` when the store cannot take the write now, 500 otherwise.
    #[error(transparent)]
    Ingest(PipelineError),
    /// 400 `websocket_required`: `/v1/ws` asked for without a WebSocket upgrade.
    #[error("this endpoint speaks WebSocket only: {0}")]
    NotWebSocket(String),
    /// 403 `forbidden_origin`: a WebSocket upgrade whose `Origin` is not a
    /// web origin.
    #[error("the Origin header is not a web origin")]
    ForbiddenOrigin,
    /// 503 `unavailable`: as many WebSockets are open as the collector
    /// allows; retry later.
    #[error("too many WebSockets are open, retry later")]
    TooManySockets,
    /// 429 `rate_limited`: the client's address sent more requests than the
    /// per-address rate limit allows; retry after `retry_after` seconds.
    #[error("too many requests from this address, retry in {retry_after} s")]
    RateLimited {
        /// Whole seconds until the address may send again.
        retry_after: u64,
    },
    /// 503 `unavailable`: the store cannot answer now; retry later.
    #[error("the store is unavailable, retry later: {0}")]
    StoreUnavailable(#[source] StoreError),
    /// 500 `internal`: the store failed.
    #[error("store: {0}")]
    Store(#[source] StoreError),
    /// 500 `internal`: a blocking task panicked or was cancelled.
    #[error("a blocking task did not finish: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// 500 `internal`: an answer could not be serialized.
    #[error("cannot serialize the answer: {0}")]
    Serialize(#[source] serde_json::Error),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidProduct { .. }
            | ApiError::InvalidService { .. }
            | ApiError::MissingProduct
            | ApiError::QueryTooLong
            | ApiError::InvalidJson(_)
            | ApiError::InvalidGzip(_)
            | ApiError::InvalidBatch(_)
            | ApiError::InvalidEnvelope(_)
            | ApiError::InvalidReport(_)
            | ApiError::InvalidField(_)
            | ApiError::TemplateCount
            | ApiError::InvalidRoute { .. }
            | ApiError::WordCount
            | ApiError::InvalidWord(_)
            | ApiError::InvalidId { .. }
            | ApiError::InvalidMonth(_)
            | ApiError::InvalidAnalyticsQuery(_)
            | ApiError::InvalidKind(_)
            | ApiError::MalformedBody(_)
            | ApiError::Path(_)
            | ApiError::Query(_)
            | ApiError::NotWebSocket(_)
            | ApiError::Ingest(PipelineError::ProductMismatch { .. }) => StatusCode::BAD_REQUEST,
            ApiError::ForbiddenOrigin => StatusCode::FORBIDDEN,
            ApiError::Json(r) => rejection(r.status()).0,
            ApiError::Body(r) => rejection(r.status()).0,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::TooNarrow(_) => StatusCode::FORBIDDEN,
            ApiError::UnknownProduct(_)
            | ApiError::UnknownAlert(_)
            | ApiError::UnknownErrorGroup(_)
            | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyEvents(_) | ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotJson(_) | ApiError::UnsupportedContentType(_) | ApiError::UnsupportedEncoding(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ApiError::Ingest(PipelineError::Unavailable(_))
            | ApiError::StoreUnavailable(_)
            | ApiError::TooManySockets => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Ingest(_) | ApiError::Store(_) | ApiError::Task(_) | ApiError::Serialize(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The stable machine-readable code (docs/collector.md lists them all).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidProduct { .. }
            | ApiError::InvalidBatch(BatchError::BadProduct(_))
            | ApiError::InvalidReport(ReportError::BadProduct(_)) => "invalid_product",
            ApiError::InvalidReport(ReportError::UnsupportedSchema(_)) => "unsupported_schema",
            ApiError::InvalidReport(_) => "invalid_report",
            ApiError::UnknownErrorGroup(_) => "unknown_group",
            ApiError::InvalidService { .. } => "invalid_service",
            ApiError::MissingProduct => "missing_product",
            ApiError::QueryTooLong => "query_too_long",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::InvalidGzip(_) => "invalid_gzip",
            ApiError::InvalidBatch(_) => "invalid_body",
            ApiError::InvalidEnvelope(_) => "invalid_envelope",
            ApiError::InvalidField(_) | ApiError::TemplateCount | ApiError::WordCount => "invalid_field",
            ApiError::InvalidRoute { .. } => "invalid_route",
            ApiError::InvalidWord(_) => "invalid_word",
            ApiError::InvalidId { .. } => "invalid_id",
            ApiError::InvalidMonth(_) => "invalid_month",
            ApiError::InvalidAnalyticsQuery(_) => "invalid_analytics_query",
            ApiError::TooNarrow(_) => "too_narrow",
            ApiError::InvalidKind(_) => "invalid_kind",
            ApiError::Path(_) => "invalid_path",
            ApiError::Query(_) => "invalid_query",
            ApiError::NotWebSocket(_) => "websocket_required",
            ApiError::ForbiddenOrigin => "forbidden_origin",
            ApiError::Json(r) => rejection(r.status()).1,
            ApiError::Body(r) => rejection(r.status()).1,
            ApiError::Unauthorized => "unauthorized",
            ApiError::UnknownProduct(_) => "unknown_product",
            ApiError::UnknownAlert(_) => "unknown_alert",
            ApiError::NoRoute => "no_route",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::MalformedBody(_) => "malformed_body",
            ApiError::BodyTimeout => "body_timeout",
            ApiError::TooManyEvents(_) | ApiError::BodyTooLarge { .. } => "payload_too_large",
            ApiError::NotJson(_) | ApiError::UnsupportedContentType(_) | ApiError::UnsupportedEncoding(_) => {
                "unsupported_media_type"
            }
            ApiError::Ingest(PipelineError::ProductMismatch { .. }) => "product_mismatch",
            ApiError::Ingest(PipelineError::Unavailable(_))
            | ApiError::StoreUnavailable(_)
            | ApiError::TooManySockets => "unavailable",
            ApiError::Ingest(_) | ApiError::Store(_) | ApiError::Task(_) | ApiError::Serialize(_) => "internal",
        }
    }
}

/// The status and code of a body axum refused, by the status axum gave it:
/// JSON that does not fit the expected shape (axum's 422) is a 400 like any
/// other unusable body.
fn rejection(status: StatusCode) -> (StatusCode, &'static str) {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => (status, "payload_too_large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (status, "unsupported_media_type"),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => (StatusCode::BAD_REQUEST, "invalid_body"),
        status => (status, "bad_request"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The detail is logged, not sent.
            tracing::error!(error = &self as &dyn std::error::Error, "internal error");
            "internal error".to_owned()
        } else {
            self.to_string()
        };
        let retry_after = match &self {
            ApiError::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        };
        let body = crate::openapi::ErrorBody {
            error: crate::openapi::ErrorDetail {
                code: self.code(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::UnknownProduct(p) => ApiError::UnknownProduct(p),
            e => ApiError::Ingest(e),
        }
    }
}

impl From<crate::analytics::query::QueryFailure> for ApiError {
    fn from(e: crate::analytics::query::QueryFailure) -> Self {
        match e {
            crate::analytics::query::QueryFailure::Store(e) => e.into(),
            crate::analytics::query::QueryFailure::Narrowed(n) => ApiError::TooNarrow(n),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownProduct(p) => ApiError::UnknownProduct(p),
            e if e.is_unavailable() => ApiError::StoreUnavailable(e),
            e => ApiError::Store(e),
        }
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::TooManyEvents(n) => ApiError::TooManyEvents(n),
            e => ApiError::InvalidBatch(e),
        }
    }
}

/// Why the collector could not start or stop.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The store could not be opened or closed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The admin token file could not be read or created.
    #[error("admin token file {path}: {source}")]
    Token {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The admin token file holds something too short to be a token.
    #[error(
        "admin token file {0}: holds no usable token (expected at least 32 characters); delete it to create a new one"
    )]
    TokenTooShort(std::path::PathBuf),
    /// No randomness to make an admin token from.
    #[error("admin token file {path}: no randomness: {source}")]
    TokenRandomness {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: getrandom::Error,
    },
    /// Another collector already serves this data directory.
    #[error(
        "another collector is already serving the data directory {0}: stop it, or give this one another --data-dir"
    )]
    DataDirInUse(std::path::PathBuf),
    /// Only one of the TLS certificate and key was given.
    #[error("TLS: give both --tls-cert and --tls-key, or neither")]
    TlsHalfConfigured,
    /// The configured minimum group size is not one.
    #[error("min_group_size: {0}")]
    MinGroupSize(#[from] crate::analytics::kanon::KAnonError),
    /// The TLS certificate or key could not be loaded.
    #[error("TLS: cannot load {} / {}: {source}", cert.display(), key.display())]
    Tls {
        /// The certificate file.
        cert: std::path::PathBuf,
        /// The key file.
        key: std::path::PathBuf,
        /// Why.
        source: crate::tls::TlsError,
    },
    /// A task of the collector (opening the store, serving, closing) panicked.
    #[error("a collector task did not finish: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// The collector's own thread stopped before it listened.
    #[error("the collector thread stopped during start")]
    ThreadStopped,
    /// Any other I/O failure while serving.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
