//! Extractors whose rejections are [`ApiError`]s, so that every refusal has
//! the JSON error shape: [`ApiJson`], [`ApiQuery`], [`ApiPath`], and
//! [`Product`], the `{product}` path segment parsed by [`parse_product`], the
//! one place a product name from a request is checked.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
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
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query`, but rejections come back as [`ApiError`] JSON.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path`, but rejections come back as [`ApiError`] JSON.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

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
