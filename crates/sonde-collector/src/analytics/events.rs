//! Command, console and heartbeat figures as they are shown: the metrics
//! `commands`, `console` and `heartbeats` of the analytics query
//! ([`super::query`]), under the minimum group size ([`super::kanon`]),
//! which here counts distinct installations (CLI installations, consoles'
//! CLIs or servers) and server instances.
//!
//! - `commands` and `console` (by `action` or `route`): per period, each
//!   command path (action, route) used by at least `k` distinct
//!   installations, with its events, errors and error rate; the others are
//!   folded into one "other" ([`KAnon::fold`]) whose events and errors are
//!   their sums. An installation may use several commands, so "other"'s
//!   installation figure is the sum over the groups it holds (installation
//!   and group pairs), not a distinct count. An "other" under `k` is "fewer
//!   than k" and its events, errors and rate are not given.
//! - `heartbeats`: per period, the distinct instances and, per numeric
//!   metric, its p50, p90 and max over the instances' latest values; a
//!   period or a metric with fewer than `k` instances gives no
//!   distribution.

use serde::Serialize;
use serde_json::Number;
use sonde_store::{DayRange, EventGroup, EventStatRow, HeartbeatPeriod, Interval, Store, StoreError};

use super::kanon::{Figure, KAnon};

/// What console events are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsoleBy {
    /// The action name (`event_type`).
    Action,
    /// The route template (`url`).
    Route,
}

/// A console grouping that is neither `action` nor `route`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("console is grouped by action or route, not {0:?}")]
pub struct ConsoleByError(pub String);

impl std::str::FromStr for ConsoleBy {
    type Err = ConsoleByError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "action" => Ok(ConsoleBy::Action),
            "route" => Ok(ConsoleBy::Route),
            other => Err(ConsoleByError(other.to_owned())),
        }
    }
}

impl ConsoleBy {
    /// The store's group.
    pub fn group(self) -> EventGroup {
        match self {
            ConsoleBy::Action => EventGroup::ConsoleAction,
            ConsoleBy::Route => EventGroup::ConsoleRoute,
        }
    }
}

/// One group of one period of `commands` or `console`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRow {
    /// The period's name.
    pub period: String,
    /// The command path, action or route; `None` for "other".
    pub value: Option<String>,
    /// Distinct installations (for "other": installation and group pairs).
    pub installations: Figure,
    /// Events; `None` when the installations are hidden.
    pub events: Option<u64>,
    /// Events that were errors; `None` when hidden.
    pub errors: Option<u64>,
    /// `errors / events`; `None` when hidden.
    pub error_rate: Option<Number>,
}

/// One metric of one period of `heartbeats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricRow {
    /// The metric's dotted path.
    pub path: String,
    /// Instances that reported it.
    pub instances: Figure,
    /// Median of their latest values; `None` under `k` instances.
    pub p50: Option<Number>,
    /// 90th percentile (nearest rank); `None` under `k` instances.
    pub p90: Option<Number>,
    /// Largest; `None` under `k` instances.
    pub max: Option<Number>,
}

/// One period of `heartbeats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeartbeatRow {
    /// The period's name.
    pub period: String,
    /// Distinct instances.
    pub instances: Figure,
    /// Each metric, by path; none when the period has fewer than `k`
    /// instances.
    pub metrics: Vec<MetricRow>,
}

fn number(v: f64) -> Option<Number> {
    Number::from_f64(v)
}

/// `rows` (ordered by period, as the store gives them) folded per period.
/// A group no installation was named for (every event without one) is
/// left out.
pub fn fold_events(rows: &[EventStatRow], kanon: KAnon) -> Vec<EventRow> {
    let mut out = Vec::new();
    for period in rows.chunk_by(|a, b| a.period == b.period) {
        let folded = kanon.fold(period.iter().map(|r| (r.key.clone(), r.installations)));
        let kept: Vec<&str> = folded.iter().filter_map(|g| g.value.as_deref()).collect();
        for g in &folded {
            let (events, errors) = period
                .iter()
                .filter(|r| match &g.value {
                    Some(v) => &r.key == v,
                    None => r.installations > 0 && !kept.contains(&r.key.as_str()),
                })
                .fold((0, 0), |(e, x), r| (e + r.count, x + r.errors));
            let shown = matches!(g.count, Figure::Exact(_));
            out.push(EventRow {
                period: period[0].period.clone(),
                value: g.value.clone(),
                installations: g.count,
                events: shown.then_some(events),
                errors: shown.then_some(errors),
                error_rate: if shown && events > 0 {
                    number(errors as f64 / events as f64)
                } else {
                    None
                },
            });
        }
    }
    out
}

/// `commands` or `console` of `product`.
pub fn event_rows(
    store: &dyn Store,
    product: &str,
    group: EventGroup,
    range: DayRange,
    interval: Interval,
    kanon: KAnon,
) -> Result<Vec<EventRow>, StoreError> {
    Ok(fold_events(&store.event_stats(product, group, range, interval)?, kanon))
}

/// One heartbeat period under `kanon`.
pub fn heartbeat_row(p: HeartbeatPeriod, kanon: KAnon) -> HeartbeatRow {
    let enough = p.instances >= kanon.k();
    HeartbeatRow {
        period: p.period,
        instances: kanon.figure(p.instances),
        metrics: if enough {
            p.metrics
                .into_iter()
                .map(|m| {
                    let shown = m.instances >= kanon.k();
                    MetricRow {
                        path: m.path,
                        instances: kanon.figure(m.instances),
                        p50: if shown { number(m.p50) } else { None },
                        p90: if shown { number(m.p90) } else { None },
                        max: if shown { number(m.max) } else { None },
                    }
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// `heartbeats` of `product`.
pub fn heartbeat_rows(
    store: &dyn Store,
    product: &str,
    range: DayRange,
    interval: Interval,
    kanon: KAnon,
) -> Result<Vec<HeartbeatRow>, StoreError> {
    Ok(store
        .heartbeat_stats(product, range, interval)?
        .into_iter()
        .map(|p| heartbeat_row(p, kanon))
        .collect())
}

/// The CSV header of `commands` and `console`.
pub const EVENTS_CSV_HEADER: &str = "period,value,installations,events,errors,error_rate";

/// The CSV header of `heartbeats`: one line per period and metric (a
/// period without metrics has one line with the metric columns empty).
pub const HEARTBEATS_CSV_HEADER: &str = "period,instances,metric,metric_instances,p50,p90,max";

/// A figure in CSV: the number, or `<k`.
fn figure(f: Figure) -> String {
    match f {
        Figure::Exact(n) => n.to_string(),
        Figure::FewerThan { fewer_than } => format!("<{fewer_than}"),
    }
}

fn opt<T: ToString>(v: Option<&T>) -> String {
    v.map(ToString::to_string).unwrap_or_default()
}

/// One `commands` or `console` row as a CSV line ("other" is `(other)`,
/// hidden figures empty), fields quoted by `field`.
pub fn event_csv(r: &EventRow, field: fn(&str) -> String) -> String {
    format!(
        "{},{},{},{},{},{}",
        field(&r.period),
        field(r.value.as_deref().unwrap_or("(other)")),
        figure(r.installations),
        opt(r.events.as_ref()),
        opt(r.errors.as_ref()),
        opt(r.error_rate.as_ref())
    )
}

/// One `heartbeats` period as CSV lines.
pub fn heartbeat_csv(r: &HeartbeatRow, field: fn(&str) -> String) -> String {
    let head = format!("{},{}", field(&r.period), figure(r.instances));
    if r.metrics.is_empty() {
        return format!("{head},,,,,");
    }
    r.metrics
        .iter()
        .map(|m| {
            format!(
                "{head},{},{},{},{},{}",
                field(&m.path),
                figure(m.instances),
                opt(m.p50.as_ref()),
                opt(m.p90.as_ref()),
                opt(m.max.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(period: &str, key: &str, count: u64, errors: u64, installations: u64) -> EventStatRow {
        EventStatRow {
            period: period.into(),
            key: key.into(),
            count,
            errors,
            installations,
        }
    }

    #[test]
    fn small_groups_are_folded_with_their_runs_and_errors() {
        let rows = [
            row("2026-11", "", 4, 0, 0),
            row("2026-11", "build", 40, 4, 9),
            row("2026-11", "deploy", 5, 5, 3),
            row("2026-11", "init", 2, 0, 2),
            row("2026-12", "init", 2, 1, 2),
        ];
        let folded = fold_events(&rows, KAnon::default());
        let shown: Vec<_> = folded
            .iter()
            .map(|r| {
                (
                    r.period.as_str(),
                    r.value.as_deref(),
                    r.installations,
                    r.events,
                    r.errors,
                )
            })
            .collect();
        // The runs without an installation (key "", no installation) are
        // in no group; December's only group is under 5 and hidden.
        assert_eq!(
            shown,
            [
                ("2026-11", Some("build"), Figure::Exact(9), Some(40), Some(4)),
                ("2026-11", None, Figure::Exact(5), Some(7), Some(5)),
                ("2026-12", None, Figure::FewerThan { fewer_than: 5 }, None, None),
            ]
        );
        assert_eq!(folded[0].error_rate, Number::from_f64(0.1));
        assert_eq!(folded[2].error_rate, None);
    }

    #[test]
    fn heartbeat_metrics_under_k_instances_have_no_distribution() {
        let p = HeartbeatPeriod {
            period: "2026-11".into(),
            instances: 6,
            metrics: vec![
                sonde_store::MetricStat {
                    path: "tables".into(),
                    instances: 6,
                    p50: 3.0,
                    p90: 6.0,
                    max: 6.0,
                },
                sonde_store::MetricStat {
                    path: "rare".into(),
                    instances: 2,
                    p50: 1.0,
                    p90: 1.0,
                    max: 1.0,
                },
            ],
        };
        let r = heartbeat_row(p.clone(), KAnon::default());
        assert_eq!(r.metrics[0].p90, Number::from_f64(6.0));
        assert_eq!(r.metrics[1].instances, Figure::FewerThan { fewer_than: 5 });
        assert_eq!(r.metrics[1].p50, None);
        let r = heartbeat_row(p, KAnon::new(7).unwrap());
        assert_eq!(r.instances, Figure::FewerThan { fewer_than: 7 });
        assert!(r.metrics.is_empty());
    }
}
