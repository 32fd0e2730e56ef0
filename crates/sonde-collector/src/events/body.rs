//! Reading a request body: its size limit, checked against the declared
//! `Content-Length` before anything is read and against what arrives; then,
//! for event bodies, content type and gzip.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::conn::BodyError;
use crate::ApiError;

/// Reads `body`, at most `limit` bytes as sent. A `Content-Length` over the
/// limit is refused before the body is read (so a client that sent
/// `Expect: 100-continue` gets the 413 instead of `100 Continue`). 413 over
/// the limit, 408 when the body timeout ran out, 400 `malformed_body` when
/// the body could not be read (malformed chunked encoding, ...).
pub(crate) async fn read_raw(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = ApiError::BodyTooLarge { limit };
    if let Some(declared) = headers.get(header::CONTENT_LENGTH) {
        // A length hyper accepted is digits; anything over the limit, however long, is refused.
        let declared = declared.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_none_or(|n| n > limit as u64) {
            return Err(too_large);
        }
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if cause::<LengthLimitError>(&*e).is_some() => Err(too_large),
        Err(e) if cause::<BodyError>(&*e).is_some_and(|b| matches!(b, BodyError::TimedOut)) => {
            Err(ApiError::BodyTimeout)
        }
        Err(e) => Err(ApiError::MalformedBody(e)),
    }
}

/// `e` or the first of its sources that is an `E`.
fn cause<'a, E: std::error::Error + 'static>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a E> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        cur = err.source();
    }
    None
}

/// Reads an event body (at most `limit` bytes, as sent and once decoded; see
/// [`read_raw`]). Accepts no content type, `application/json` and
/// `text/plain` (what `navigator.sendBeacon` can send cross-origin without a
/// preflight), and `Content-Encoding: gzip`. Over the limit → 413 (nothing is
/// stored); another type → 415.
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
    let raw = read_raw(headers, body, limit).await?;
    if !gzip {
        return Ok(raw.to_vec());
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    flate2::read::GzDecoder::new(&raw[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(ApiError::InvalidGzip)?;
    if out.len() > limit {
        return Err(ApiError::BodyTooLarge { limit });
    }
    Ok(out)
}
