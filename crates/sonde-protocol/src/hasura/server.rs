//! The server's heartbeat, both generations, read into the stored names
//! before validation.
//!
//! - v2 (`server_metrics_v2`): `metadata_db_uid` → `db_uid`, `hasura_version`
//!   → `version`. `source_metadata.backend_type` and `db_kind` are kept only
//!   when they are names Hasura itself uses ([`vocab::BACKEND_KINDS`],
//!   [`vocab::DB_KINDS`]): a data connector's `db_kind` is a name the user
//!   chose in their metadata.
//! - v1.x (`server`): the fields already have the stored names; the numeric
//!   `pg_version` (inside `metrics`, or beside it) is the same number v2
//!   sends as text in `source_metadata.db_version`, and is stored there.
//! - Both: `metrics.service_timings` (`{collectionTag, serviceTimingMetrics:
//!   [{dimensions, bucket, metrics}]}`) is stored as numbers keyed by its
//!   known dimension values: `service_timings.<query_type>_<locality>_<transport>.<bucket>`
//!   holds `{count, time_i_o, time_tot}`. An entry whose dimensions or bucket
//!   are not Hasura's own is dropped; `collectionTag` (the server's start
//!   time) is dropped.

use serde_json::{Map, Number, Value};

use super::vocab;
use crate::dropped::{DropReason, Dropped};

/// Most service-timing entries kept: 2 query types × 4 localities × 2
/// transports × 5 buckets = 80 exist; 64 × 3 leaves stay well inside the
/// metrics leaf limit beside the other counts.
const MAX_SERVICE_TIMINGS: usize = 64;

/// Rewrites a heartbeat's `data` into the stored names.
pub(super) fn normalize(data: &mut Map<String, Value>, dropped: &mut Vec<Dropped>) {
    rename(data, "metadata_db_uid", "db_uid");
    rename(data, "hasura_version", "version");
    let pg_version = data.remove("pg_version").or_else(|| {
        data.get_mut("metrics")
            .and_then(Value::as_object_mut)
            .and_then(|m| m.remove("pg_version"))
    });
    if let Some(v) = pg_version {
        set_db_version(data, v, dropped);
    }
    if let Some(Value::Object(sm)) = data.get_mut("source_metadata") {
        keep_known(sm, "backend_type", vocab::BACKEND_KINDS, dropped);
        keep_known(sm, "db_kind", vocab::DB_KINDS, dropped);
    }
    if let Some(Value::Object(metrics)) = data.get_mut("metrics") {
        if let Some(st) = metrics.remove("service_timings") {
            if let Some(kept) = service_timings(&st, dropped) {
                metrics.insert("service_timings".to_owned(), Value::Object(kept));
            }
        }
    }
}

/// Moves `from` to `to`; when both are sent, `to` wins.
pub(super) fn rename(data: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = data.remove(from) {
        data.entry(to.to_owned()).or_insert(v);
    }
}

/// v1.x's numeric `pg_version` as `source_metadata.db_version` text (what v2
/// sends for the same number), unless a `db_version` is there already.
fn set_db_version(data: &mut Map<String, Value>, v: Value, dropped: &mut Vec<Dropped>) {
    let text = match v {
        Value::Null => return,
        Value::Number(n) if n.as_u64().is_some() => n.to_string(),
        _ => {
            dropped.push(Dropped {
                field: "source_metadata",
                reason: DropReason::InvalidFormat,
            });
            return;
        }
    };
    let sm = data
        .entry("source_metadata".to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(sm) = sm {
        sm.entry("db_version".to_owned()).or_insert(Value::String(text));
    }
}

/// Removes `field` from `obj` unless it is a string in `known` (or null).
fn keep_known(obj: &mut Map<String, Value>, field: &str, known: &[&str], dropped: &mut Vec<Dropped>) {
    let ok = match obj.get(field) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => known.contains(&s.as_str()),
        Some(_) => false,
    };
    if !ok {
        obj.remove(field);
        dropped.push(Dropped {
            field: "source_metadata",
            reason: DropReason::InvalidFormat,
        });
    }
}

/// The service timings as numbers keyed by known dimension values, or `None`
/// when there is nothing to keep. Entries dropped are counted under `metrics`.
fn service_timings(st: &Value, dropped: &mut Vec<Dropped>) -> Option<Map<String, Value>> {
    let drop = |dropped: &mut Vec<Dropped>, reason| {
        dropped.push(Dropped {
            field: "metrics",
            reason,
        });
    };
    let entries = match st {
        Value::Null => return None,
        Value::Object(o) => match o.get("serviceTimingMetrics") {
            Some(Value::Array(a)) => a,
            None | Some(Value::Null) => return None,
            Some(_) => {
                drop(dropped, DropReason::InvalidFormat);
                return None;
            }
        },
        _ => {
            drop(dropped, DropReason::InvalidFormat);
            return None;
        }
    };
    let mut out = Map::new();
    let mut kept = 0;
    for entry in entries {
        let Some((dims, bucket, counters)) = timing_entry(entry) else {
            drop(dropped, DropReason::InvalidFormat);
            continue;
        };
        if kept >= MAX_SERVICE_TIMINGS {
            drop(dropped, DropReason::TooLong);
            continue;
        }
        let slot = out.entry(dims).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(by_bucket) = slot {
            if by_bucket.contains_key(bucket) {
                drop(dropped, DropReason::InvalidFormat);
                continue;
            }
            by_bucket.insert(bucket.to_owned(), Value::Object(counters));
            kept += 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// One `{dimensions, bucket, metrics}` entry: its key, its bucket's key and
/// its counters, if every part is one Hasura sends.
fn timing_entry(entry: &Value) -> Option<(String, &'static str, Map<String, Value>)> {
    let dims = entry.get("dimensions")?;
    let pick = |name: &str, known: &[&str]| {
        dims.get(name)
            .and_then(Value::as_str)
            .filter(|v| known.contains(v))
            .map(str::to_ascii_lowercase)
    };
    let key = format!(
        "{}_{}_{}",
        pick("query_type", vocab::SERVICE_TIMING_QUERY_TYPES)?,
        pick("locality", vocab::SERVICE_TIMING_LOCALITIES)?,
        pick("transport", vocab::SERVICE_TIMING_TRANSPORTS)?
    );
    let bucket = entry.get("bucket").and_then(Value::as_f64)?;
    let bucket = vocab::SERVICE_TIMING_BUCKETS
        .iter()
        .find(|(b, _)| (b - bucket).abs() < 1e-9)?
        .1;
    let Value::Object(metrics) = entry.get("metrics")? else {
        return None;
    };
    let mut counters = Map::new();
    for name in vocab::SERVICE_TIMING_COUNTERS {
        if let Some(n) = metrics.get(*name).and_then(Value::as_f64).filter(|n| *n >= 0.0) {
            let n = metrics
                .get(*name)
                .and_then(Value::as_u64)
                .map_or_else(|| Number::from_f64(n), |i| Some(Number::from(i)))?;
            counters.insert((*name).to_owned(), Value::Number(n));
        }
    }
    Some((key, bucket, counters))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(v: Value) -> (Value, Vec<Dropped>) {
        let mut data = v.as_object().unwrap().clone();
        let mut dropped = Vec::new();
        normalize(&mut data, &mut dropped);
        (Value::Object(data), dropped)
    }

    #[test]
    fn service_timings_become_numbers_keyed_by_dimensions() {
        let (data, dropped) = run(json!({"metrics": {"service_timings": {"collectionTag": 1_700_000_000,
            "serviceTimingMetrics": [
              {"dimensions": {"query_type": "Query", "locality": "Local", "transport": "HTTP"}, "bucket": 0.05,
               "metrics": {"time_i_o": 0.25, "time_tot": 0.5, "count": 7}},
              {"dimensions": {"query_type": "Query", "locality": "db.internal", "transport": "HTTP"}, "bucket": 1,
               "metrics": {"count": 1}},
              {"dimensions": {"query_type": "Mutation", "locality": "Remote", "transport": "WebSocket"}, "bucket": 2.5,
               "metrics": {"count": 1}}]}}}));
        assert_eq!(
            data["metrics"]["service_timings"],
            json!({"query_local_http": {"gt_0_05": {"count": 7, "time_i_o": 0.25, "time_tot": 0.5}}})
        );
        assert_eq!(dropped.len(), 2);
    }

    #[test]
    fn v1_pg_version_is_the_db_version() {
        let (data, dropped) = run(json!({"metrics": {"tables": 1, "pg_version": 120_004}}));
        assert!(dropped.is_empty());
        assert_eq!(data["source_metadata"]["db_version"], "120004");
        assert!(data["metrics"].get("pg_version").is_none());
    }

    #[test]
    fn a_connector_name_chosen_by_the_user_is_dropped() {
        let (data, dropped) =
            run(json!({"source_metadata": {"backend_type": "dataconnector", "db_kind": "acme_billing"}}));
        assert_eq!(data["source_metadata"], json!({"backend_type": "dataconnector"}));
        assert_eq!(dropped.len(), 1);
    }
}
