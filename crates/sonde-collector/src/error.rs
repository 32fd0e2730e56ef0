//! Errors: [`ApiError`], the one type every handler returns, mapped to a
//! status and the JSON shape `{"error": {"code": "...", "message": "..."}}`;
//! [`ApiJson`], a JSON extractor whose rejections use that same shape; and
//! [`CollectorError`], what starting or stopping the collector can fail with.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::pipeline::PipelineError;

/// Every error a request can end with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request itself is unusable.
    #[error("{1}")]
    BadRequest(&'static str, String),
    /// 401: missing or wrong admin token.
    #[error("missing or wrong admin token: send `Authorization: Bearer <token>` with the token from the data directory's admin-token file")]
    Unauthorized,
    /// 404: no such product, alert or route.
    #[error("{1}")]
    NotFound(&'static str, String),
    /// 413: the body is over the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: a content type that is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503: the store cannot take the write now; retry later.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or a broken store; the detail is logged, not sent.
    #[error("internal error")]
    Internal(String),
    /// Another status from an axum rejection.
    #[error("{message}")]
    Other {
        /// The status.
        status: StatusCode,
        /// The message.
        message: String,
    },
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(..) => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Other { status, .. } => *status,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(code, _) | ApiError::NotFound(code, _) => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
            ApiError::Other { .. } => "bad_request",
        }
    }

    /// 404 for a product nobody registered.
    pub fn unknown_product(product: &str) -> Self {
        ApiError::NotFound(
            "unknown_product",
            format!("unknown product {product:?}: publish a release for it first (`sonde release publish --product {product} --version ...`)"),
        )
    }

    fn from_rejection(status: StatusCode, message: String) -> Self {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(message),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(message),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => ApiError::BadRequest("invalid_body", message),
            status => ApiError::Other { status, message },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = serde_json::json!({"error": {"code": self.code(), "message": self.to_string()}});
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError::from_rejection(r.status(), r.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        ApiError::from_rejection(r.status(), r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest("invalid_path", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest("invalid_query", r.body_text())
    }
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::UnknownProduct(p) => ApiError::unknown_product(&p),
            PipelineError::ProductMismatch { .. } => ApiError::BadRequest("product_mismatch", e.to_string()),
            PipelineError::Unavailable(_) => ApiError::Unavailable(e.to_string()),
            PipelineError::Store(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::admin::ValidationError> for ApiError {
    fn from(e: crate::admin::ValidationError) -> Self {
        ApiError::BadRequest("invalid_field", e.to_string())
    }
}

impl From<sonde_store::StoreError> for ApiError {
    fn from(e: sonde_store::StoreError) -> Self {
        match e {
            sonde_store::StoreError::UnknownProduct(p) => ApiError::unknown_product(&p),
            e if e.is_unavailable() => ApiError::Unavailable(format!("the store is unavailable, retry later: {e}")),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

/// `axum::Json`, but rejections come back as [`ApiError`] JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
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
    Store(#[from] sonde_store::StoreError),
    /// The admin token file could not be read or created.
    #[error("admin token file {path}: {message}")]
    Token {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Another collector already serves this data directory.
    #[error(
        "another collector is already serving the data directory {0}: stop it, or give this one another --data-dir"
    )]
    DataDirInUse(std::path::PathBuf),
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// Any other I/O failure while serving.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// `axum::extract::Query`, but rejections come back as [`ApiError`] JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}
