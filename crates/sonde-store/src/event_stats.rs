//! Command, console and heartbeat analytics: what an event is counted
//! under, and the answers the store gives about them.
//!
//! - Command events are grouped by their command path ([`EventGroup::Command`]);
//!   console events by their action name (`event_type`,
//!   [`EventGroup::ConsoleAction`]) and, separately, by their route template
//!   (`url`, [`EventGroup::ConsoleRoute`]). Each group of each period has its
//!   number of events, of errors (`is_error`) and of distinct
//!   *installations*: the CLI installation (`uuid`) of a command event, the
//!   CLI serving a console (`cli_uuid`) or else the server it is connected
//!   to (`server_uuid`). An event without an installation counts in the
//!   events but adds no installation.
//! - Server heartbeats are kept as the latest numeric metrics of each
//!   instance (`instance_uid`) per UTC day; a period's figures are the
//!   distinct instances and, per metric (a dotted path into `metrics`, e.g.
//!   `relationships.manual.object`), the distribution over instances of
//!   each instance's latest value in the period ([`MetricStat`]).
//!
//! Test events (`*_test` topics) are left out of these figures. Only events
//! received since these roll-ups exist, and the raw events kept when a file
//! was upgraded to them, are counted: events retention deleted before the
//! upgrade are only in [`crate::Store::event_counts`].
//!
//! Both backends derive what they count with [`EventFacts::of`], so their
//! answers agree; SQLite keeps them at ingest (`sqlite::event_stats`), the
//! memory store folds them when read.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What command and console events are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventGroup {
    /// Command events, by command path.
    Command,
    /// Console events, by action name (`event_type`).
    ConsoleAction,
    /// Console events, by route template (`url`).
    ConsoleRoute,
}

impl EventGroup {
    /// Every group, in a stable order.
    pub const ALL: [EventGroup; 3] = [EventGroup::Command, EventGroup::ConsoleAction, EventGroup::ConsoleRoute];

    /// Its stored name: `command`, `console_action`, `console_route`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventGroup::Command => "command",
            EventGroup::ConsoleAction => "console_action",
            EventGroup::ConsoleRoute => "console_route",
        }
    }

    /// The group named `s`, the inverse of [`EventGroup::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// Events of one group value in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventStatRow {
    /// The period's name (see [`crate::Period`]).
    pub period: String,
    /// The command path, action name or route template (empty: not sent).
    pub key: String,
    /// How many events.
    pub count: u64,
    /// How many of them were errors.
    pub errors: u64,
    /// Exact number of distinct installations that sent them.
    pub installations: u64,
}

/// The distribution of one heartbeat metric over the instances that
/// reported it in a period, each by its latest value there. Percentiles are
/// nearest-rank: the smallest value with at least that share of the
/// instances at or below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricStat {
    /// The metric's dotted path into `metrics`.
    pub path: String,
    /// How many instances reported it.
    pub instances: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Largest.
    pub max: f64,
}

/// Server heartbeats in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatPeriod {
    /// The period's name (see [`crate::Period`]).
    pub period: String,
    /// Exact number of distinct instances that sent a heartbeat.
    pub instances: u64,
    /// Each numeric metric, by path.
    pub metrics: Vec<MetricStat>,
}

/// What one event adds to these analytics.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct EventFacts {
    /// The groups it counts in, with its value in each.
    pub(crate) groups: Vec<(EventGroup, String)>,
    /// Its installation (a UUID's 128 bits), if it named one.
    pub(crate) installation: Option<u128>,
    /// Whether it was an error.
    pub(crate) error: bool,
    /// A heartbeat's instance and numeric metrics, as a JSON object of
    /// dotted paths to numbers.
    pub(crate) heartbeat: Option<(u128, String)>,
}

fn uuid(v: Option<&Value>) -> Option<u128> {
    sonde_protocol::uuid::parse(v?.as_str()?).map(u128::from_be_bytes)
}

impl EventFacts {
    /// The facts of an event of `kind` whose field `name` is `get(name)`;
    /// `None` for test events and kinds not counted here.
    pub(crate) fn of<'a>(kind: &str, test: bool, get: impl Fn(&str) -> Option<&'a Value>) -> Option<Self> {
        if test {
            return None;
        }
        let s = |name: &str| get(name).and_then(Value::as_str).unwrap_or("").to_owned();
        let error = get("is_error").and_then(Value::as_bool).unwrap_or(false);
        match kind {
            "command" => Some(EventFacts {
                groups: vec![(EventGroup::Command, s("command"))],
                installation: uuid(get("uuid")),
                error,
                heartbeat: None,
            }),
            "console" => Some(EventFacts {
                groups: vec![
                    (EventGroup::ConsoleAction, s("event_type")),
                    (EventGroup::ConsoleRoute, s("url")),
                ],
                installation: uuid(get("cli_uuid")).or_else(|| uuid(get("server_uuid"))),
                error,
                heartbeat: None,
            }),
            "heartbeat" => {
                let instance = uuid(get("instance_uid"))?;
                let mut metrics = serde_json::Map::new();
                if let Some(m) = get("metrics") {
                    flatten("", m, &mut metrics);
                }
                Some(EventFacts {
                    heartbeat: Some((instance, Value::Object(metrics).to_string())),
                    ..EventFacts::default()
                })
            }
            _ => None,
        }
    }
}

/// The numeric leaves of `v` under `prefix`, as dotted paths.
fn flatten(prefix: &str, v: &Value, out: &mut serde_json::Map<String, Value>) {
    match v {
        Value::Number(_) => {
            out.insert(prefix.to_owned(), v.clone());
        }
        Value::Object(o) => {
            for (k, child) in o {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, child, out);
            }
        }
        _ => {}
    }
}

/// Parses the stored metrics of one heartbeat row.
pub(crate) fn parse_metrics(json: &str) -> Vec<(String, f64)> {
    match serde_json::from_str::<serde_json::Map<String, Value>>(json) {
        Ok(m) => m.into_iter().filter_map(|(k, v)| Some((k, v.as_f64()?))).collect(),
        Err(_) => Vec::new(),
    }
}

/// Heartbeat figures of one period from each instance's latest metrics there.
pub(crate) fn heartbeat_period<'a>(
    period: String,
    latest: impl IntoIterator<Item = &'a [(String, f64)]>,
) -> HeartbeatPeriod {
    let mut by_path: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let mut instances = 0;
    for metrics in latest {
        instances += 1;
        for (path, v) in metrics {
            by_path.entry(path).or_default().push(*v);
        }
    }
    HeartbeatPeriod {
        period,
        instances,
        metrics: by_path
            .into_iter()
            .map(|(path, mut values)| {
                values.sort_by(f64::total_cmp);
                MetricStat {
                    path: path.to_owned(),
                    instances: values.len() as u64,
                    p50: nearest_rank(&values, 50),
                    p90: nearest_rank(&values, 90),
                    max: values[values.len() - 1],
                }
            })
            .collect(),
    }
}

/// [`crate::Store::event_stats`] folded from events as they were received:
/// `(received_at_ms, facts)` of one product, in the order received.
pub(crate) fn fold_event_stats<'a>(
    events: impl Iterator<Item = (i64, &'a EventFacts)> + Clone,
    group: EventGroup,
    periods: Vec<crate::Period>,
) -> Vec<EventStatRow> {
    use std::collections::{BTreeMap, HashSet};
    let mut out = Vec::new();
    for p in periods {
        let mut keys: BTreeMap<&str, (u64, u64, HashSet<u128>)> = BTreeMap::new();
        for (at, facts) in events.clone() {
            if !p.days.contains(crate::Day::from_unix_ms(at)) {
                continue;
            }
            for (g, key) in &facts.groups {
                if *g == group {
                    let e = keys.entry(key).or_default();
                    e.0 += 1;
                    e.1 += u64::from(facts.error);
                    e.2.extend(facts.installation);
                }
            }
        }
        out.extend(keys.into_iter().map(|(key, (count, errors, inst))| EventStatRow {
            period: p.name.clone(),
            key: key.to_owned(),
            count,
            errors,
            installations: inst.len() as u64,
        }));
    }
    out
}

/// [`crate::Store::heartbeat_stats`] folded from events as they were
/// received (see [`fold_event_stats`]): each instance's latest heartbeat
/// per period (the later of equal times).
pub(crate) fn fold_heartbeats<'a>(
    events: impl Iterator<Item = (i64, &'a EventFacts)> + Clone,
    periods: Vec<crate::Period>,
) -> Vec<HeartbeatPeriod> {
    periods
        .into_iter()
        .map(|p| {
            let mut latest: std::collections::HashMap<u128, (i64, &str)> = Default::default();
            for (at, facts) in events.clone() {
                let Some((instance, metrics)) = &facts.heartbeat else {
                    continue;
                };
                if p.days.contains(crate::Day::from_unix_ms(at)) {
                    let e = latest.entry(*instance).or_insert((at, metrics));
                    if at >= e.0 {
                        *e = (at, metrics);
                    }
                }
            }
            let parsed: Vec<Vec<(String, f64)>> = latest.values().map(|(_, m)| parse_metrics(m)).collect();
            heartbeat_period(p.name, parsed.iter().map(Vec::as_slice))
        })
        .collect()
}

/// Events as a backend without these roll-ups reads them back, to be
/// answered like the in-memory reference: `(received_at_ms, kind, test,
/// fields as stored JSON)`, in the order received.
pub fn answer_from_events<'a>(events: impl IntoIterator<Item = (i64, &'a str, bool, &'a str)>) -> EventsAnswer {
    let facts = events
        .into_iter()
        .filter_map(|(at, kind, test, fields)| {
            let fields: serde_json::Map<String, Value> = serde_json::from_str(fields).ok()?;
            Some((at, EventFacts::of(kind, test, |n| fields.get(n))?))
        })
        .collect();
    EventsAnswer(facts)
}

/// What [`answer_from_events`] read, ready to answer either question.
#[derive(Debug)]
pub struct EventsAnswer(Vec<(i64, EventFacts)>);

impl EventsAnswer {
    /// The [`crate::Store::event_stats`] answer.
    pub fn event_stats(&self, group: EventGroup, periods: Vec<crate::Period>) -> Vec<EventStatRow> {
        fold_event_stats(self.0.iter().map(|(at, f)| (*at, f)), group, periods)
    }

    /// The [`crate::Store::heartbeat_stats`] answer.
    pub fn heartbeat_stats(&self, periods: Vec<crate::Period>) -> Vec<HeartbeatPeriod> {
        fold_heartbeats(self.0.iter().map(|(at, f)| (*at, f)), periods)
    }
}

/// The nearest-rank `p`th percentile of sorted, non-empty `values`.
fn nearest_rank(values: &[f64], p: usize) -> f64 {
    let rank = (p * values.len()).div_ceil(100).max(1);
    values[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 50), 5.0);
        assert_eq!(nearest_rank(&v, 90), 9.0);
        assert_eq!(nearest_rank(&[7.0], 90), 7.0);
        assert_eq!(nearest_rank(&[1.0, 2.0, 3.0], 50), 2.0);
    }

    #[test]
    fn facts_of_each_kind() {
        let fields =
            json!({"command": "tool deploy", "is_error": true, "uuid": "00000000-0000-4000-8000-00000000000a"});
        let f = EventFacts::of("command", false, |n| fields.get(n)).unwrap();
        assert_eq!(f.groups, [(EventGroup::Command, "tool deploy".to_owned())]);
        assert_eq!((f.installation, f.error), (Some(0x4000_8000_0000_0000_000a), true));
        assert!(EventFacts::of("command", true, |n| fields.get(n)).is_none());
        let console = json!({"event_type": "A", "url": "/x", "server_uuid": "00000000-0000-4000-8000-00000000000b"});
        let f = EventFacts::of("console", false, |n| console.get(n)).unwrap();
        assert_eq!(f.groups.len(), 2);
        assert_eq!(f.installation, Some(0x4000_8000_0000_0000_000b));
        let hb = json!({"instance_uid": "00000000-0000-4000-8000-00000000000c",
                        "metrics": {"tables": 3, "on": true, "relationships": {"manual": {"object": 2}}}});
        let f = EventFacts::of("heartbeat", false, |n| hb.get(n)).unwrap();
        let (_, metrics) = f.heartbeat.unwrap();
        let mut parsed = parse_metrics(&metrics);
        parsed.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            parsed,
            [
                ("relationships.manual.object".to_owned(), 2.0),
                ("tables".to_owned(), 3.0)
            ]
        );
        assert!(EventFacts::of("heartbeat", false, |_| None).is_none());
    }
}
