//! `metrics` objects: nested objects whose leaves are numbers or booleans.
//! A string (or array) leaf is dropped as `not_a_number`; depth, leaf count
//! and key length are bounded. Keys are checked as dotted paths
//! (`relationships.manual.object`) against the product's registered metrics
//! keys, or the lower-case identifier shape when it registered none
//! ([`shapes::metrics_key`]).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::dropped::{DropReason, Dropped};
use crate::json::Json;
use crate::limits::{MAX_METRICS_DEPTH, MAX_METRICS_LEAVES};
use crate::shapes;
use crate::vocabulary::Vocabulary;

/// Keeps the number and boolean leaves of a metrics-shaped object (an
/// event's `metrics`, an error report's `project`) whose keys fit `vocab`;
/// everything else is appended to `dropped` under the field's name.
pub(crate) fn keep(
    obj: &[(Cow<'_, str>, Json<'_>)],
    field: &'static str,
    vocab: &Vocabulary,
    dropped: &mut Vec<Dropped>,
) -> Map<String, Value> {
    let mut leaves = 0;
    let mut path = String::new();
    walk(obj, field, 1, &mut path, vocab, &mut leaves, dropped)
}

/// One level of [`keep`]: `depth` is this object's nesting (the top is 1),
/// `path` its dotted path (empty at the top), `leaves` counts the leaves
/// kept so far.
fn walk(
    obj: &[(Cow<'_, str>, Json<'_>)],
    field: &'static str,
    depth: usize,
    path: &mut String,
    vocab: &Vocabulary,
    leaves: &mut usize,
    dropped: &mut Vec<Dropped>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let drop = |dropped: &mut Vec<Dropped>, reason| dropped.push(Dropped { field, reason });
    let base = path.len();
    for (key, value) in obj {
        path.truncate(base);
        if base > 0 {
            path.push('.');
        }
        path.push_str(key);
        if let Err(reason) = shapes::metrics_key(key, path, vocab) {
            drop(dropped, reason);
            continue;
        }
        match value {
            Json::Null => {}
            Json::Bool(_) | Json::Number(_) => {
                if *leaves >= MAX_METRICS_LEAVES {
                    drop(dropped, DropReason::TooLong);
                } else {
                    *leaves += 1;
                    out.insert(key.to_string(), value.to_value());
                }
            }
            Json::Object(inner) if depth < MAX_METRICS_DEPTH => {
                let kept = walk(inner, field, depth + 1, path, vocab, leaves, dropped);
                out.insert(key.to_string(), Value::Object(kept));
            }
            Json::Object(_) => drop(dropped, DropReason::TooLong),
            Json::Str(_) | Json::Array(_) => drop(dropped, DropReason::NotANumber),
        }
    }
    path.truncate(base);
    out
}
