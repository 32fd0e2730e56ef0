//! Sonde's native, versioned batch API: `POST /api/v1/events`.
//!
//! ```json
//! {"product": "my-tool",
//!  "events": [{"id": "0b3f4c4e-1d2a-4c3b-8f00-0123456789ab", "kind": "command",
//!              "occurred_at": "2026-01-02T03:04:05Z", "test": false,
//!              "command": "my-tool deploy", "flags": ["--force"], "is_error": false}]}
//! ```
//!
//! - at most [`MAX_BATCH_EVENTS`] events and [`MAX_BATCH_BYTES`] bytes (after
//!   gzip decoding) per request; the collector answers 413 and stores nothing
//!   beyond either;
//! - every event carries a client-generated `id` (UUID layout): the collector
//!   stores `(product, id)` once, so a retried batch is not counted twice;
//! - `kind` is `heartbeat`, `command` or `console`; the other fields are the
//!   kind's allowlist ([`crate::field_spec`]);
//! - `occurred_at` is optional: RFC 3339 or Unix milliseconds;
//! - an event without a valid `id` or `kind` is rejected on its own (listed in
//!   the answer, counted as dropped); the rest of the batch is stored.
//!
//! A body with `Content-Type: text/plain` is read the same way: browsers send
//! `navigator.sendBeacon` payloads cross-origin only with a "simple" content
//! type, so the console snippet uses it.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::allowlist;
use crate::dropped::{DropReason, Dropped};
use crate::event::{Event, EventKind};
use crate::json::Json;
use crate::product::{ProductName, ProductNameError};
use crate::routes::RouteTemplates;
use crate::shapes;
use crate::timefmt::parse_rfc3339_ms;
use crate::vocabulary::Vocabulary;

/// Most events in one request.
pub const MAX_BATCH_EVENTS: usize = 1000;
/// Largest request body, after gzip decoding, in bytes.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Earliest accepted `occurred_at`: 2000-01-01, Unix milliseconds.
pub const MIN_OCCURRED_AT_MS: i64 = 946_684_800_000;
/// How far ahead of the collector's clock `occurred_at` may be.
pub const MAX_CLOCK_SKEW_MS: i64 = 24 * 3600 * 1000;

/// Why a batch was refused as a whole (nothing is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Not JSON.
    #[error("body is not JSON: {0}")]
    NotJson(String),
    /// Not `{"product": string, "events": [...]}`.
    #[error("body must be an object {{\"product\": string, \"events\": [object, ...]}}")]
    BadEnvelope,
    /// The product name is not valid.
    #[error("invalid product: {0}")]
    BadProduct(#[from] ProductNameError),
    /// More than [`MAX_BATCH_EVENTS`] events.
    #[error("a batch holds at most {MAX_BATCH_EVENTS} events, this one has {0}")]
    TooManyEvents(usize),
}

/// One event of a batch that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Its index in `events`.
    pub index: usize,
    /// Why (`invalid_id`, `invalid_kind`, `not_an_object`).
    pub reason: &'static str,
}

/// A decoded batch: the events to store, what was dropped from them, and the
/// events refused whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The product named in the batch.
    pub product: ProductName,
    /// Validated events.
    pub events: Vec<Event>,
    /// Values dropped (including one entry per rejected event).
    pub dropped: Vec<Dropped>,
    /// Events not stored at all.
    pub rejected: Vec<Rejected>,
}

/// Only the product of a batch, read before validation, so the collector can
/// fetch that product's route templates and vocabulary first.
pub fn peek_product(value: &Json<'_>) -> Result<ProductName, BatchError> {
    let Json::Object(pairs) = value else {
        return Err(BatchError::BadEnvelope);
    };
    match pairs.iter().find(|(k, _)| k == "product") {
        Some((_, Json::Str(p))) => Ok(ProductName::parse(p)?),
        _ => Err(BatchError::BadEnvelope),
    }
}

/// Parses a body (a size check is the caller's, before). Strings are
/// borrowed from `body` ([`Json`]).
pub fn parse(body: &[u8]) -> Result<Json<'_>, BatchError> {
    Json::parse(body).map_err(|e| BatchError::NotJson(e.to_string()))
}

/// Validates a parsed batch against the allowlists, with the product's
/// route templates and vocabulary.
///
/// ```
/// use serde_json::json;
/// use sonde_protocol::{native, routes::RouteTemplates, vocabulary::Vocabulary};
/// let body = json!({"product": "tool", "events": [
///     {"id": "0b3f4c4e-1d2a-4c3b-8f00-0123456789ab", "kind": "command", "command": "tool build --release"},
///     {"id": "nope", "kind": "command"}]}).to_string();
/// let parsed = native::parse(body.as_bytes()).unwrap();
/// let batch = native::decode(parsed, &RouteTemplates::new(), &Vocabulary::new(), 1_000).unwrap();
/// assert_eq!(batch.events.len(), 1);
/// assert_eq!(batch.events[0].fields["flags"][0], "--release");
/// assert_eq!(batch.rejected[0].index, 1);
/// ```
pub fn decode(
    value: Json<'_>,
    routes: &RouteTemplates,
    vocab: &Vocabulary,
    received_at_ms: i64,
) -> Result<Batch, BatchError> {
    let product = peek_product(&value)?;
    let mut dropped = Vec::new();
    let items = events_of(value, &mut dropped)?;
    let mut events = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match decode_event(item, &product, routes, vocab, received_at_ms, &mut dropped) {
            Ok(event) => events.push(event),
            Err(reason) => rejected.push(Rejected { index, reason }),
        }
    }
    Ok(Batch {
        product,
        events,
        dropped,
        rejected,
    })
}

/// The `events` list of a batch envelope, at most [`MAX_BATCH_EVENTS`] long.
/// Every envelope key besides `product` and `events` is counted as an unknown
/// field.
fn events_of<'a>(value: Json<'a>, dropped: &mut Vec<Dropped>) -> Result<Vec<Json<'a>>, BatchError> {
    let Json::Object(body) = value else {
        return Err(BatchError::BadEnvelope);
    };
    let mut items = None;
    for (key, v) in body {
        match (key.as_ref(), v) {
            ("product", _) => {}
            ("events", Json::Array(list)) if items.is_none() => items = Some(list),
            ("events", _) => return Err(BatchError::BadEnvelope),
            _ => dropped.push(Dropped {
                field: "*",
                reason: DropReason::UnknownField,
            }),
        }
    }
    let Some(items) = items else {
        return Err(BatchError::BadEnvelope);
    };
    if items.len() > MAX_BATCH_EVENTS {
        return Err(BatchError::TooManyEvents(items.len()));
    }
    Ok(items)
}

/// Validates one event of a batch. `Err` is the [`Rejected::reason`] of an
/// event refused whole; its drop is already counted in `dropped`.
fn decode_event(
    item: Json<'_>,
    product: &ProductName,
    routes: &RouteTemplates,
    vocab: &Vocabulary,
    received_at_ms: i64,
    dropped: &mut Vec<Dropped>,
) -> Result<Event, &'static str> {
    let mut refuse = |field: &'static str, reason: DropReason, rejected: &'static str| {
        dropped.push(Dropped { field, reason });
        rejected
    };
    let Json::Object(pairs) = item else {
        return Err(refuse("event", DropReason::InvalidFormat, "not_an_object"));
    };
    let mut id = None;
    let mut kind = None;
    let mut occurred = None;
    let mut test = None;
    let mut rest = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        match k.as_ref() {
            "id" => id = Some(v),
            "kind" => kind = Some(v),
            "occurred_at" => occurred = Some(v),
            "test" => test = Some(v),
            _ => rest.push((k, v)),
        }
    }
    let Some(id) = id
        .as_ref()
        .and_then(Json::as_str)
        .and_then(|s| shapes::signature(s).ok())
    else {
        return Err(refuse("id", DropReason::InvalidSignature, "invalid_id"));
    };
    let Some(kind) = kind.as_ref().and_then(Json::as_str).and_then(EventKind::parse) else {
        return Err(refuse("kind", DropReason::InvalidFormat, "invalid_kind"));
    };
    let occurred_at_ms = occurred_at(occurred, received_at_ms, dropped);
    let test = test_flag(test, dropped);
    let fields = allowlist::validate_json(kind, &rest, routes, vocab, dropped);
    Ok(Event {
        id,
        kind,
        product: product.clone(),
        test,
        occurred_at_ms,
        received_at_ms,
        fields,
    })
}

/// An event's `test` flag: absent or `null` is `false`; anything but a
/// boolean is counted as malformed and read as `false`.
fn test_flag(v: Option<Json<'_>>, dropped: &mut Vec<Dropped>) -> bool {
    match v {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => b,
        Some(_) => {
            dropped.push(Dropped {
                field: "test",
                reason: DropReason::InvalidFormat,
            });
            false
        }
    }
}

/// An event's `occurred_at`, if it is RFC 3339 or Unix milliseconds between
/// [`MIN_OCCURRED_AT_MS`] and [`MAX_CLOCK_SKEW_MS`] ahead of the collector's
/// clock; anything else is counted as malformed.
pub(crate) fn occurred_at(v: Option<Json<'_>>, received_at_ms: i64, dropped: &mut Vec<Dropped>) -> Option<i64> {
    let ms = match v {
        None | Some(Json::Null) => return None,
        Some(Json::Str(s)) => parse_rfc3339_ms(&s),
        Some(n @ Json::Number(_)) => n.as_i64(),
        Some(_) => None,
    };
    match ms {
        Some(ms) if (MIN_OCCURRED_AT_MS..=received_at_ms.saturating_add(MAX_CLOCK_SKEW_MS)).contains(&ms) => Some(ms),
        _ => {
            dropped.push(Dropped {
                field: "occurred_at",
                reason: DropReason::InvalidFormat,
            });
            None
        }
    }
}

/// Builds the JSON of one outgoing event, as Sonde's client sends it: `id`,
/// `kind`, `occurred_at` (Unix ms) and the kind's fields.
pub fn event_json(id: &str, kind: EventKind, occurred_at_ms: i64, fields: Map<String, Value>) -> Value {
    let mut obj = fields;
    obj.insert("id".into(), Value::String(id.to_owned()));
    obj.insert("kind".into(), Value::String(kind.as_str().to_owned()));
    obj.insert("occurred_at".into(), Value::from(occurred_at_ms));
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    fn dec(v: Value, r: &RouteTemplates, now: i64) -> Result<Batch, BatchError> {
        let text = v.to_string();
        decode(parse(text.as_bytes())?, r, &Vocabulary::new(), now)
    }

    #[test]
    fn batch_is_validated_per_event() {
        let body = json!({"product": "tool", "extra": 1, "events": [
            {"id": "0B3F4C4E-1D2A-4C3B-8F00-0123456789AB", "kind": "heartbeat", "occurred_at": "2025-11-24T00:00:00Z",
             "metrics": {"tables": 3}, "password": "x"},
            {"id": "0b3f4c4e-1d2a-4c3b-8f00-0123456789ac", "kind": "nope"},
            7,
            {"id": "0b3f4c4e-1d2a-4c3b-8f00-0123456789ad", "kind": "console", "test": true, "occurred_at": NOW + 10 * MAX_CLOCK_SKEW_MS}]});
        let b = dec(body, &RouteTemplates::new(), NOW).unwrap();
        assert_eq!(b.events.len(), 2);
        assert_eq!(b.events[0].id, "0b3f4c4e-1d2a-4c3b-8f00-0123456789ab");
        assert_eq!(b.events[0].occurred_at_ms, Some(1_763_942_400_000));
        assert_eq!(
            b.events[0].fields,
            json!({"metrics": {"tables": 3}}).as_object().unwrap().clone().into()
        );
        assert!(b.events[1].test);
        assert_eq!(b.events[1].occurred_at_ms, None);
        assert_eq!(
            b.rejected,
            [
                Rejected {
                    index: 1,
                    reason: "invalid_kind"
                },
                Rejected {
                    index: 2,
                    reason: "not_an_object"
                }
            ]
        );
        let reasons: Vec<_> = b.dropped.iter().map(|d| (d.field, d.reason)).collect();
        assert_eq!(
            reasons,
            [
                ("*", DropReason::UnknownField),
                ("*", DropReason::UnknownField),
                ("kind", DropReason::InvalidFormat),
                ("event", DropReason::InvalidFormat),
                ("occurred_at", DropReason::InvalidFormat),
            ]
        );
    }

    #[test]
    fn whole_batch_errors() {
        let r = RouteTemplates::new();
        assert!(matches!(
            dec(json!({"events": []}), &r, NOW),
            Err(BatchError::BadEnvelope)
        ));
        assert!(matches!(
            dec(json!({"product": "Bad/Name", "events": []}), &r, NOW),
            Err(BatchError::BadProduct(_))
        ));
        assert!(matches!(
            dec(json!({"product": "p", "events": {}}), &r, NOW),
            Err(BatchError::BadEnvelope)
        ));
        let many: Vec<Value> = (0..=MAX_BATCH_EVENTS).map(|_| json!({})).collect();
        assert_eq!(
            dec(json!({"product": "p", "events": many}), &r, NOW),
            Err(BatchError::TooManyEvents(1001))
        );
        assert!(matches!(parse(b"{"), Err(BatchError::NotJson(_))));
    }
}
