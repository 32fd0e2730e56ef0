//! `metrics` objects: nested objects whose leaves are numbers or booleans.
//! A string (or array) leaf is dropped as `not_a_number`; depth, leaf count
//! and key length are bounded.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::dropped::{DropReason, Dropped};
use crate::json::Json;
use crate::limits::{MAX_METRICS_DEPTH, MAX_METRICS_LEAVES};
use crate::shapes;

/// Keeps the number and boolean leaves of a metrics-shaped object (an
/// event's `metrics`, an error report's `project`); everything else is
/// appended to `dropped` under the field's name.
pub(crate) fn keep(
    obj: &[(Cow<'_, str>, Json<'_>)],
    field: &'static str,
    dropped: &mut Vec<Dropped>,
) -> Map<String, Value> {
    let mut leaves = 0;
    walk(obj, field, 1, &mut leaves, dropped)
}

/// One level of [`keep`]: `depth` is this object's nesting (the top is 1),
/// `leaves` counts the leaves kept so far.
fn walk(
    obj: &[(Cow<'_, str>, Json<'_>)],
    field: &'static str,
    depth: usize,
    leaves: &mut usize,
    dropped: &mut Vec<Dropped>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let drop = |dropped: &mut Vec<Dropped>, reason| dropped.push(Dropped { field, reason });
    for (key, value) in obj {
        if let Err(reason) = shapes::metrics_key(key) {
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
                let kept = walk(inner, field, depth + 1, leaves, dropped);
                out.insert(key.to_string(), Value::Object(kept));
            }
            Json::Object(_) => drop(dropped, DropReason::TooLong),
            Json::Str(_) | Json::Array(_) => drop(dropped, DropReason::NotANumber),
        }
    }
    out
}
