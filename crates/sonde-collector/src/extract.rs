//! Extractors whose rejections are [`ApiError`]s, so that every refusal has
//! the JSON error shape: [`ApiJson`], [`ApiQuery`], [`ApiPath`], and
//! [`Product`], the `{product}` path segment parsed by [`parse_product`], the
//! one place a product name from a request is checked.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use sonde_protocol::ProductName;

use crate::ApiError;

/// Parses a product name taken from a request: 400 `invalid_product` if malformed.
pub fn parse_product(name: &str) -> Result<ProductName, ApiError> {
    ProductName::parse(name).map_err(|source| ApiError::InvalidProduct {
        name: name.to_owned(),
        source,
    })
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

/// `axum::extract::Query`, but rejections come back as [`ApiError`] JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

/// `axum::extract::Path`, but rejections come back as [`ApiError`] JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}

/// The route's one path parameter, a product name checked by [`parse_product`].
#[derive(Debug, Clone)]
pub struct Product(pub ProductName);

impl<S: Send + Sync> FromRequestParts<S> for Product {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ApiPath(name) = ApiPath::<String>::from_request_parts(parts, state).await?;
        parse_product(&name).map(Product)
    }
}
