//! Reading an event body: content type, size limit, gzip.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap};

use crate::ApiError;

/// Reads `body` (at most `limit` bytes once decoded). Accepts no content
/// type, `application/json` and `text/plain` (what `navigator.sendBeacon`
/// can send cross-origin without a preflight), and `Content-Encoding: gzip`.
/// Over the limit → 413 (nothing is stored); another type → 415.
pub(crate) async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !matches!(essence, "application/json" | "text/plain" | "") {
            return Err(ApiError::UnsupportedContentType(essence.to_owned()));
        }
    }
    let gzip = match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("").trim().to_ascii_lowercase())
    {
        None => false,
        Some(e) if e.is_empty() || e == "identity" => false,
        Some(e) if e == "gzip" || e == "x-gzip" => true,
        Some(e) => return Err(ApiError::UnsupportedEncoding(e)),
    };
    let too_large = || ApiError::BodyTooLarge { limit };
    let raw = axum::body::to_bytes(body, limit).await.map_err(|e| {
        // A length-limit error is the only one a client can cause this way.
        tracing::debug!(error = %e, "body read failed");
        too_large()
    })?;
    if !gzip {
        return Ok(raw.to_vec());
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    flate2::read::GzDecoder::new(&raw[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(ApiError::InvalidGzip)?;
    if out.len() > limit {
        return Err(too_large());
    }
    Ok(out)
}
