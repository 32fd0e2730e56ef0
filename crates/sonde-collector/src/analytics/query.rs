//! The analytics query of the admin API (`GET /api/v1/query`): one metric of
//! one product over a range of days, grouped by an interval, answered from
//! the store's roll-ups with every figure under the minimum group size
//! ([`super::kanon`]), as JSON or CSV.
//!
//! Parameters: `product`, `metric` (`active`, `unique`, `rolling`, `breakdown`,
//! `cohorts`, `versions`, `alerts`, `errors`; `commands`, `console`, `heartbeats`, see [`super::events`]; `upgrades`, see [`super::upgrades`]), `from` and `to` (`YYYY-MM-DD`, both included), `interval`
//! (`day`, `week`, `month`; default `day`), `dimension` (for `breakdown`:
//! `version`, `os`, `arch`, `runtime`, `ci_name`; for `console`: `action`
//! (default) or `route`), `include_ci` (`true` or
//! `false`, default `false`), `format` (`json` or `csv`, default `json`),
//! `filter` (for `active`: `dimension:value`, e.g. `version:1.2.0`, counts
//! only the signatures with that value), `window` (for `rolling`: 7, 28 or
//! 30 days, default 28; `rolling` is per day).
//!
//! A filter that selects fewer than `k` signatures gets no numbers
//! ([`KAnon::narrow`]). The population it selects is taken as its largest
//! period: a lower bound of the signatures it selects over the whole range,
//! so the check may refuse a filter whose signatures are spread thin, never
//! let through one that selects too few.

use serde::{Deserialize, Serialize};
use sonde_store::{Day, DayRange, Dimension, EventGroup, Interval, Store, StoreError};

use super::events::{self, ConsoleBy, EventRow, HeartbeatRow};
use super::kanon::{Figure, KAnon, PeriodGroup};
use super::upgrades::{self, UpgradeRow};

/// Longest range a query may cover, in days (ten years).
pub const MAX_DAYS: i64 = 3660;

/// A query parameter that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A required parameter is absent.
    #[error("missing parameter {0}")]
    Missing(&'static str),
    /// `metric` is none of the metrics.
    #[error("unknown metric {0:?}: use active, unique, rolling, breakdown, cohorts, versions, alerts, errors, commands, console, heartbeats or upgrades")]
    Metric(String),
    /// `from` or `to` is not a day.
    #[error("{0}")]
    Day(#[from] sonde_store::DayParseError),
    /// `interval` is not `day`, `week` or `month`.
    #[error("unknown interval {0:?}: use day, week or month")]
    Interval(String),
    /// `dimension` is not one.
    #[error("{0}")]
    Dimension(#[from] sonde_store::DimensionParseError),
    /// `include_ci` is not `true` or `false`.
    #[error("include_ci must be true or false, not {0:?}")]
    IncludeCi(String),
    /// `format` is not `json` or `csv`.
    #[error("unknown format {0:?}: use json or csv")]
    Format(String),
    /// `to` is before `from`, or the range is over [`MAX_DAYS`].
    #[error("the range must run forwards and cover at most {MAX_DAYS} days")]
    Range,
    /// `filter` is not `dimension:value`.
    #[error("filter must be dimension:value, e.g. version:1.2.0, not {0:?}")]
    Filter(String),
    /// `dimension` of `console` is not `action` or `route`.
    #[error("{0}")]
    ConsoleBy(#[from] events::ConsoleByError),
    /// `filter` was given with a metric other than `active`.
    #[error("filter is only for metric active")]
    FilterMetric,
    /// `window` is not one of [`WINDOWS`].
    #[error("window must be 7, 28 or 30 (days), not {0:?}")]
    Window(String),
    /// `window` was given with a metric other than `rolling`.
    #[error("window is only for metric rolling")]
    WindowMetric,
    /// `rolling` was asked with an interval other than `day`.
    #[error("metric rolling is per day: interval must be day")]
    RollingInterval,
}

/// The windows `rolling` counts over, in days.
pub const WINDOWS: [u32; 3] = [7, 28, 30];

/// The window `rolling` counts over when none is given.
pub const DEFAULT_WINDOW: u32 = 28;

/// Why a checked query got no answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryFailure {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The filter selects fewer signatures than the minimum group size.
    #[error(transparent)]
    Narrowed(#[from] super::kanon::Narrowed),
}

/// Only the signatures with `value` as their `dimension`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filter {
    /// The dimension.
    pub dimension: Dimension,
    /// Its value.
    pub value: String,
}

/// The query string as received; [`QueryParams::parse`] checks it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueryParams {
    /// The product (checked by the route).
    pub product: Option<String>,
    /// `active`, `unique`, `breakdown` or `cohorts`.
    pub metric: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    /// `day`, `week` or `month`.
    pub interval: Option<String>,
    /// For `breakdown`.
    pub dimension: Option<String>,
    /// `true` or `false`.
    pub include_ci: Option<String>,
    /// `json` or `csv`.
    pub format: Option<String>,
    /// `dimension:value`, for `active`.
    pub filter: Option<String>,
    /// Days of the window, for `rolling`.
    pub window: Option<String>,
}

/// What is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "metric")]
pub enum Metric {
    /// Active signatures per period.
    Active,
    /// Distinct active signatures over the whole range.
    Unique,
    /// For every day of the range, the distinct active signatures of the
    /// `window` days ending on it.
    Rolling {
        /// Days of the window (one of [`WINDOWS`]).
        window: u32,
    },
    /// Active signatures per period and value of a dimension.
    Breakdown {
        /// The dimension.
        dimension: Dimension,
    },
    /// Retention of the first-seen months of the range.
    Cohorts,
    /// Per period: the newest stable release and how many active signatures
    /// run it.
    Versions,
    /// Per alert in force and period: its reach, the active signatures on a
    /// version it affects.
    Alerts,
    /// Error-report groups seen in the range, folded under the minimum group
    /// size by distinct signatures.
    Errors,
    /// Command events per period and command path.
    Commands,
    /// Console events per period and action or route.
    Console {
        /// What they are grouped by.
        dimension: ConsoleBy,
    },
    /// Server instances per period and their metrics' distributions.
    Heartbeats,
    /// Upgrades after a notice, per notice cohort, and their total.
    Upgrades,
}

/// How the answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `text/csv`, a header line then one line per row.
    Csv,
}

/// A checked query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// What is asked.
    pub metric: Metric,
    /// The days covered.
    pub range: DayRange,
    /// How periods are grouped.
    pub interval: Interval,
    /// Whether CI signatures count.
    pub include_ci: bool,
    /// How the answer is written.
    pub format: Format,
    /// Only the signatures with this value.
    pub filter: Option<Filter>,
}

impl QueryParams {
    /// The checked query (the product is checked by the caller).
    pub fn parse(&self) -> Result<Query, QueryError> {
        let day = |v: &Option<String>, name| -> Result<Day, QueryError> {
            Ok(v.as_deref().ok_or(QueryError::Missing(name))?.parse()?)
        };
        let range = DayRange::new(day(&self.from, "from")?, day(&self.to, "to")?);
        let days = range.days().count() as i64;
        if days == 0 || days > MAX_DAYS {
            return Err(QueryError::Range);
        }
        let interval = match self.interval.as_deref() {
            None => Interval::Day,
            Some(s) => s.parse().map_err(|_| QueryError::Interval(s.to_owned()))?,
        };
        let metric = match self.metric.as_deref().ok_or(QueryError::Missing("metric"))? {
            "active" => Metric::Active,
            "unique" => Metric::Unique,
            "rolling" => Metric::Rolling {
                window: match self.window.as_deref() {
                    None => DEFAULT_WINDOW,
                    Some(w) => w
                        .parse()
                        .ok()
                        .filter(|w| WINDOWS.contains(w))
                        .ok_or_else(|| QueryError::Window(w.to_owned()))?,
                },
            },
            "cohorts" => Metric::Cohorts,
            "versions" => Metric::Versions,
            "alerts" => Metric::Alerts,
            "errors" => Metric::Errors,
            "commands" => Metric::Commands,
            "heartbeats" => Metric::Heartbeats,
            "upgrades" => Metric::Upgrades,
            "console" => Metric::Console {
                dimension: self.dimension.as_deref().unwrap_or("action").parse()?,
            },
            "breakdown" => Metric::Breakdown {
                dimension: self
                    .dimension
                    .as_deref()
                    .ok_or(QueryError::Missing("dimension"))?
                    .parse()?,
            },
            other => return Err(QueryError::Metric(other.to_owned())),
        };
        let include_ci = match self.include_ci.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(QueryError::IncludeCi(other.to_owned())),
        };
        let format = match self.format.as_deref() {
            None | Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some(other) => return Err(QueryError::Format(other.to_owned())),
        };
        let filter = match self.filter.as_deref() {
            None => None,
            Some(f) => {
                let (dimension, value) = f.split_once(':').ok_or_else(|| QueryError::Filter(f.to_owned()))?;
                Some(Filter {
                    dimension: dimension.parse()?,
                    value: value.to_owned(),
                })
            }
        };
        if filter.is_some() && metric != Metric::Active {
            return Err(QueryError::FilterMetric);
        }
        let rolling = matches!(metric, Metric::Rolling { .. });
        if self.window.is_some() && !rolling {
            return Err(QueryError::WindowMetric);
        }
        if rolling && interval != Interval::Day {
            return Err(QueryError::RollingInterval);
        }
        Ok(Query {
            metric,
            range,
            interval,
            include_ci,
            format,
            filter,
        })
    }
}

/// One row of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Row {
    /// `active`, `rolling`: one period (for `rolling`, the window ending
    /// on that day).
    Period {
        /// The period's name.
        period: String,
        /// Its active signatures.
        count: Figure,
        /// Of them, seen for the first time ever in the period. Withheld
        /// (absent) with a filter, and when either side of the split is
        /// below the minimum group size (one could be had from the other).
        #[serde(skip_serializing_if = "Option::is_none")]
        new: Option<Figure>,
        /// Of them, seen before the period; withheld like `new`.
        #[serde(skip_serializing_if = "Option::is_none")]
        returning: Option<Figure>,
    },
    /// `versions`: one period.
    Latest {
        /// The period's name.
        period: String,
        /// The newest stable release (empty if none is published).
        latest: String,
        /// Active signatures on it.
        on_latest: Figure,
        /// Active signatures.
        active: Figure,
    },
    /// `alerts`: one alert in one period.
    Reach {
        /// The alert's id.
        alert: i64,
        /// Its level.
        level: String,
        /// The affected versions (`*` for every version).
        affects: String,
        /// The period's name.
        period: String,
        /// Active signatures on an affected version.
        reach: Figure,
        /// Active signatures.
        active: Figure,
    },
    /// `errors`: one group, or "other" (`group` null) for the groups with
    /// fewer distinct signatures than the minimum group size.
    ErrorGroup {
        /// The group's id; `None` for "other".
        group: Option<String>,
        /// Its error kind (empty for "other").
        kind: String,
        /// The message of its latest report, scrubbed (empty for "other";
        /// JSON only).
        message: String,
        /// When its latest report arrived, Unix milliseconds (`None` for
        /// "other"; JSON only).
        last_seen_ms: Option<i64>,
        /// Reports.
        reports: u64,
        /// Distinct signatures (for "other": the sum over its groups, an
        /// upper bound, given as a figure).
        signatures: Figure,
        /// Tool versions with reports, most first (empty for "other").
        versions: Vec<String>,
    },
    /// `breakdown`: one group of one period (`value` null for "other").
    Group(PeriodGroup),
    /// `cohorts`: one cell.
    Cohort {
        /// First-seen month.
        cohort: String,
        /// Active month.
        month: String,
        /// Signatures of the cohort active that month.
        count: Figure,
    },
    /// `unique`: the whole range.
    Total {
        /// Distinct active signatures.
        count: Figure,
    },
    /// `commands`, `console`: one group of one period.
    Event(EventRow),
    /// `heartbeats`: one period.
    Heartbeat(HeartbeatRow),
    /// `upgrades`: one notice cohort, or the total (`period` null).
    Upgrade(UpgradeRow),
}

/// An answer, as the JSON body gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The product.
    pub product: String,
    /// What was asked (`metric`, and `dimension` for a breakdown).
    #[serde(flatten)]
    pub metric: Metric,
    /// The interval.
    pub interval: Interval,
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// Whether CI signatures count.
    pub include_ci: bool,
    /// The filter, if any.
    pub filter: Option<Filter>,
    /// The minimum group size the figures are under.
    pub min_group_size: u64,
    /// The rows.
    pub rows: Vec<Row>,
}

/// `active` with a filter: each period's signatures with the value,
/// refused if even the largest period has fewer than `k`.
fn filtered(
    store: &dyn Store,
    product: &str,
    query: &Query,
    filter: &Filter,
    kanon: KAnon,
) -> Result<Vec<Row>, QueryFailure> {
    let rows = store.breakdown(product, filter.dimension, query.range, query.interval, query.include_ci)?;
    let count = |period: &str| {
        rows.iter()
            .find(|r| r.period == period && r.value == filter.value)
            .map_or(0, |r| r.count)
    };
    let periods = query.interval.periods(query.range);
    let largest = periods.iter().map(|p| count(&p.name)).max().unwrap_or(0);
    kanon.narrow(largest)?;
    Ok(periods
        .into_iter()
        .map(|p| Row::Period {
            count: kanon.figure(count(&p.name)),
            period: p.name,
            new: None,
            returning: None,
        })
        .collect())
}

/// Answers `query` about `product` from `store`, every figure under `kanon`.
pub fn run(store: &dyn Store, product: &str, query: &Query, kanon: KAnon) -> Result<Answer, QueryFailure> {
    let Query {
        metric,
        range,
        interval,
        include_ci,
        ..
    } = *query;
    let rows = match metric {
        Metric::Active if query.filter.is_some() => {
            filtered(store, product, query, query.filter.as_ref().expect("checked"), kanon)?
        }
        Metric::Active => store
            .active(product, range, interval, include_ci)?
            .into_iter()
            .map(|p| {
                let returning = p.count.saturating_sub(p.new);
                let split = p.new.min(returning) == 0 || p.new.min(returning) >= kanon.k();
                Row::Period {
                    period: p.period,
                    count: kanon.figure(p.count),
                    new: split.then(|| kanon.figure(p.new)),
                    returning: split.then(|| kanon.figure(returning)),
                }
            })
            .collect(),
        Metric::Versions => super::adoption::latest_share(store, product, query, kanon)?,
        Metric::Alerts => super::adoption::alert_reach(store, product, query, kanon)?,
        Metric::Errors => super::adoption::error_groups(store, product, query, kanon)?,
        Metric::Unique => vec![Row::Total {
            count: kanon.figure(store.active_in(product, range, include_ci)?),
        }],
        Metric::Rolling { window } => store
            .rolling(product, range, window, include_ci)?
            .into_iter()
            .map(|p| Row::Period {
                period: p.period,
                count: kanon.figure(p.count),
                new: None,
                returning: None,
            })
            .collect(),
        Metric::Breakdown { dimension } => kanon
            .fold_breakdown(&store.breakdown(product, dimension, range, interval, include_ci)?)
            .into_iter()
            .map(Row::Group)
            .collect(),
        Metric::Cohorts => store
            .cohorts(product, range.from.month(), range.to.month(), include_ci)?
            .into_iter()
            .map(|c| Row::Cohort {
                cohort: c.cohort,
                month: c.month,
                count: kanon.figure(c.active),
            })
            .collect(),
        Metric::Commands => events::event_rows(store, product, EventGroup::Command, range, interval, kanon)?
            .into_iter()
            .map(Row::Event)
            .collect(),
        Metric::Console { dimension } => events::event_rows(store, product, dimension.group(), range, interval, kanon)?
            .into_iter()
            .map(Row::Event)
            .collect(),
        Metric::Heartbeats => events::heartbeat_rows(store, product, range, interval, kanon)?
            .into_iter()
            .map(Row::Heartbeat)
            .collect(),
        Metric::Upgrades => upgrades::upgrade_rows(store, product, range, interval, include_ci, kanon)?
            .into_iter()
            .map(Row::Upgrade)
            .collect(),
    };
    Ok(Answer {
        product: product.to_owned(),
        metric,
        interval,
        from: range.from.to_string(),
        to: range.to.to_string(),
        include_ci,
        filter: query.filter.clone(),
        min_group_size: kanon.k(),
        rows,
    })
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A figure in CSV: the number, or `<k`.
fn figure(f: Figure) -> String {
    match f {
        Figure::Exact(n) => n.to_string(),
        Figure::FewerThan { fewer_than } => format!("<{fewer_than}"),
    }
}

impl Answer {
    /// The answer as CSV: a header line, then one line per row. "Other" is
    /// written `(other)`, a figure below the minimum group size `<k`.
    pub fn csv(&self) -> String {
        let header = match self.metric {
            Metric::Active => "period,count,new,returning",
            Metric::Versions => "period,latest,on_latest,active",
            Metric::Alerts => "alert,level,affects,period,reach,active",
            Metric::Errors => "group,kind,reports,signatures,versions",
            Metric::Unique => "count",
            Metric::Rolling { .. } => "period,count",
            Metric::Breakdown { .. } => "period,value,count",
            Metric::Cohorts => "cohort,month,count",
            Metric::Commands | Metric::Console { .. } => events::EVENTS_CSV_HEADER,
            Metric::Heartbeats => events::HEARTBEATS_CSV_HEADER,
            Metric::Upgrades => upgrades::UPGRADES_CSV_HEADER,
        };
        let mut out = format!("{header}\n");
        for row in &self.rows {
            let line = match row {
                Row::Period { period, count, .. } if matches!(self.metric, Metric::Rolling { .. }) => {
                    format!("{},{}", field(period), figure(*count))
                }
                Row::Period {
                    period,
                    count,
                    new,
                    returning,
                } => {
                    let part = |f: &Option<Figure>| f.map(figure).unwrap_or_default();
                    format!("{},{},{},{}", field(period), figure(*count), part(new), part(returning))
                }
                Row::Latest {
                    period,
                    latest,
                    on_latest,
                    active,
                } => format!(
                    "{},{},{},{}",
                    field(period),
                    field(latest),
                    figure(*on_latest),
                    figure(*active)
                ),
                Row::Reach {
                    alert,
                    level,
                    affects,
                    period,
                    reach,
                    active,
                } => format!(
                    "{alert},{},{},{},{},{}",
                    field(level),
                    field(affects),
                    field(period),
                    figure(*reach),
                    figure(*active)
                ),
                Row::ErrorGroup {
                    group,
                    kind,
                    reports,
                    signatures,
                    versions,
                    ..
                } => format!(
                    "{},{},{reports},{},{}",
                    field(group.as_deref().unwrap_or("(other)")),
                    field(kind),
                    figure(*signatures),
                    field(&versions.join(" "))
                ),
                Row::Group(g) => format!(
                    "{},{},{}",
                    field(&g.period),
                    field(g.value.as_deref().unwrap_or("(other)")),
                    figure(g.count)
                ),
                Row::Cohort { cohort, month, count } => {
                    format!("{},{},{}", field(cohort), field(month), figure(*count))
                }
                Row::Total { count } => figure(*count),
                Row::Event(r) => events::event_csv(r, field),
                Row::Heartbeat(r) => events::heartbeat_csv(r, field),
                Row::Upgrade(r) => upgrades::upgrade_csv(r, field),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonde_protocol::{ClientFamily, ProductName, UsagePing};
    use sonde_store::{MemoryStore, NewPing};

    /// 2026-11-02 and 2026-11-03 at noon: 14 signatures on the 2nd (two in
    /// CI), 3 of them again on the 3rd; 10 on 1.0.0, 4 on 0.9.0.
    fn ping(i: u32, at: i64) -> NewPing {
        NewPing {
            ping: UsagePing {
                product: ProductName::parse("demo").unwrap(),
                version: Some(if i < 10 { "1.0.0" } else { "0.9.0" }.into()),
                os: Some("linux".into()),
                arch: None,
                runtime_version: None,
                signature: Some(format!("{i:08x}-0000-4000-8000-000000000000")),
                ci: Some(i >= 12),
                ci_name: None,
                client_family: ClientFamily::GoCheckpoint,
                project_hash: None,
                cli_path_hash: None,
                received_at_ms: at,
            },
            source: "check",
            dropped: Vec::new(),
            told_outdated: false,
        }
    }

    fn store() -> MemoryStore {
        let store = MemoryStore::new();
        let noon = |d: &str| d.parse::<Day>().unwrap().start_ms() + 43_200_000;
        for i in 0..14 {
            store.record_ping(ping(i, noon("2026-11-02"))).unwrap();
        }
        for i in 0..3 {
            store.record_ping(ping(i, noon("2026-11-03"))).unwrap();
        }
        store
    }

    fn params(pairs: &[(&str, &str)]) -> QueryParams {
        let v: serde_json::Map<String, serde_json::Value> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())).collect();
        serde_json::from_value(v.into()).unwrap()
    }

    fn answer(pairs: &[(&str, &str)]) -> Answer {
        let query = params(pairs).parse().unwrap();
        run(&store(), "demo", &query, KAnon::default()).unwrap()
    }

    #[test]
    fn active_per_day_hides_small_days() {
        let a = answer(&[("metric", "active"), ("from", "2026-11-01"), ("to", "2026-11-03")]);
        // The 12 humans of the 2nd are all new; the 3 of the 3rd return.
        assert_eq!(
            a.csv(),
            "period,count,new,returning\n2026-11-01,0,0,0\n2026-11-02,12,12,0\n2026-11-03,<5,0,<5\n"
        );
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["metric"], "active");
        assert_eq!(json["min_group_size"], 5);
        assert_eq!(
            json["rows"][1],
            serde_json::json!({"period": "2026-11-02", "count": 12, "new": 12, "returning": 0})
        );
        assert_eq!(
            json["rows"][2],
            serde_json::json!({"period": "2026-11-03", "count": {"fewer_than": 5}, "new": 0,
                "returning": {"fewer_than": 5}})
        );
    }

    #[test]
    fn breakdowns_fold_small_versions_into_other() {
        // Humans: 10 on 1.0.0, 2 on 0.9.0; "other" would be 2, so 1.0.0 is
        // folded in with it.
        let a = answer(&[
            ("metric", "breakdown"),
            ("dimension", "version"),
            ("interval", "month"),
            ("from", "2026-11-01"),
            ("to", "2026-11-30"),
        ]);
        assert_eq!(a.csv(), "period,value,count\n2026-11,(other),12\n");
        // With CI: 4 on 0.9.0, below 5, and "other" is then 4 — still
        // below 5, so 1.0.0 goes too.
        let a = answer(&[
            ("metric", "breakdown"),
            ("dimension", "version"),
            ("interval", "month"),
            ("from", "2026-11-01"),
            ("to", "2026-11-30"),
            ("include_ci", "true"),
        ]);
        assert_eq!(a.csv(), "period,value,count\n2026-11,(other),14\n");
        assert_eq!(serde_json::to_value(&a).unwrap()["dimension"], "version");
    }

    #[test]
    fn rolling_counts_each_window_per_day_under_k() {
        // Humans: 12 on the 2nd, 3 of them again on the 3rd; a 7-day window
        // holds the 12 from the 2nd to the 8th, then none.
        let a = answer(&[
            ("metric", "rolling"),
            ("window", "7"),
            ("from", "2026-11-01"),
            ("to", "2026-11-09"),
        ]);
        assert_eq!(
            a.csv(),
            "period,count\n2026-11-01,0\n2026-11-02,12\n2026-11-03,12\n2026-11-04,12\n2026-11-05,12\n\
             2026-11-06,12\n2026-11-07,12\n2026-11-08,12\n2026-11-09,<5\n"
        );
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            (json["metric"].as_str(), json["window"].as_u64()),
            (Some("rolling"), Some(7))
        );
        assert_eq!(
            json["rows"][1],
            serde_json::json!({"period": "2026-11-02", "count": 12})
        );
        // The 28-day default, with CI: 14 until 27 days after the 3rd.
        let a = answer(&[
            ("metric", "rolling"),
            ("from", "2026-11-29"),
            ("to", "2026-11-30"),
            ("include_ci", "true"),
        ]);
        assert_eq!(a.csv(), "period,count\n2026-11-29,14\n2026-11-30,<5\n");
        let err = |pairs: &[(&str, &str)]| params(pairs).parse().unwrap_err();
        let range = [("from", "2026-11-01"), ("to", "2026-11-30")];
        assert_eq!(
            err(&[("metric", "rolling"), ("window", "14"), range[0], range[1]]),
            QueryError::Window("14".into())
        );
        assert_eq!(
            err(&[("metric", "rolling"), ("interval", "week"), range[0], range[1]]),
            QueryError::RollingInterval
        );
        assert_eq!(
            err(&[("metric", "active"), ("window", "7"), range[0], range[1]]),
            QueryError::WindowMetric
        );
    }

    #[test]
    fn unique_and_cohorts() {
        let a = answer(&[("metric", "unique"), ("from", "2026-11-01"), ("to", "2026-11-30")]);
        assert_eq!(a.csv(), "count\n12\n");
        let a = answer(&[
            ("metric", "cohorts"),
            ("from", "2026-11-01"),
            ("to", "2026-12-31"),
            ("include_ci", "true"),
        ]);
        assert_eq!(a.csv(), "cohort,month,count\n2026-11,2026-11,14\n");
    }

    #[test]
    fn a_filter_counts_its_value_and_is_refused_below_k() {
        let a = answer(&[
            ("metric", "active"),
            ("filter", "version:1.0.0"),
            ("from", "2026-11-02"),
            ("to", "2026-11-03"),
        ]);
        // 1.0.0 humans: 10 on the 2nd, 3 of them again on the 3rd.
        assert_eq!(
            a.csv(),
            "period,count,new,returning\n2026-11-02,10,,\n2026-11-03,<5,,\n"
        );
        assert_eq!(
            serde_json::to_value(&a).unwrap()["filter"],
            serde_json::json!({"dimension": "version", "value": "1.0.0"})
        );
        // 0.9.0: 2 humans at most in a day, below 5: no numbers at all.
        let query = params(&[
            ("metric", "active"),
            ("filter", "version:0.9.0"),
            ("from", "2026-11-02"),
            ("to", "2026-11-03"),
        ])
        .parse()
        .unwrap();
        let refused = run(&store(), "demo", &query, KAnon::default()).unwrap_err();
        assert!(matches!(&refused, QueryFailure::Narrowed(n) if n.k == 5), "{refused}");
        // A value nobody has is refused too, not answered with zeros.
        let query = params(&[
            ("metric", "active"),
            ("filter", "os:plan9"),
            ("from", "2026-11-02"),
            ("to", "2026-11-02"),
        ])
        .parse()
        .unwrap();
        assert!(matches!(
            run(&store(), "demo", &query, KAnon::default()),
            Err(QueryFailure::Narrowed(_))
        ));
    }

    #[test]
    fn a_split_of_new_and_returning_with_a_small_side_is_withheld() {
        // 14 active on the 2nd with CI; add 3 new ones on the 3rd beside the
        // 3 returning: with k = 5 neither side may be shown.
        let store = store();
        let noon = "2026-11-03".parse::<Day>().unwrap().start_ms() + 43_200_000;
        for i in 20..23 {
            let mut op = ping(i, noon);
            op.ping.ci = Some(false);
            store.record_ping(op).unwrap();
        }
        let query = params(&[("metric", "active"), ("from", "2026-11-03"), ("to", "2026-11-03")])
            .parse()
            .unwrap();
        let a = run(&store, "demo", &query, KAnon::default()).unwrap();
        assert_eq!(a.csv(), "period,count,new,returning\n2026-11-03,6,,\n");
    }

    #[test]
    fn latest_release_share_and_alert_reach() {
        use sonde_store::{NewAlert, NewRelease};
        let store = store();
        let day_s = |d: &str| d.parse::<Day>().unwrap().start_ms() / 1000;
        for (version, date) in [("0.9.0", day_s("2026-10-01")), ("1.0.0", day_s("2026-11-02") + 3600)] {
            let release = NewRelease {
                product: "demo".into(),
                version: version.into(),
                date,
                ..Default::default()
            };
            store.publish_release(release, 0).unwrap();
        }
        store
            .add_alert(NewAlert {
                product: "demo".into(),
                level: "critical".into(),
                message: "upgrade".into(),
                url: None,
                affects: Some("<1.0.0".into()),
                date: 0,
            })
            .unwrap();
        let k2 = KAnon::new(2).unwrap();
        let q = |metric| {
            params(&[
                ("metric", metric),
                ("from", "2026-11-01"),
                ("to", "2026-11-02"),
                ("include_ci", "true"),
            ])
            .parse()
            .unwrap()
        };
        // Before 1.0.0 was published, 0.9.0 was the newest; on the 2nd, 10 of
        // the 14 run 1.0.0.
        let a = run(&store, "demo", &q("versions"), k2).unwrap();
        assert_eq!(
            a.csv(),
            "period,latest,on_latest,active\n2026-11-01,0.9.0,0,0\n2026-11-02,1.0.0,10,14\n"
        );
        // The alert reaches the 4 on 0.9.0.
        let a = run(&store, "demo", &q("alerts"), k2).unwrap();
        assert_eq!(
            a.csv(),
            "alert,level,affects,period,reach,active\n1,critical,<1.0.0,2026-11-01,0,0\n\
             1,critical,<1.0.0,2026-11-02,4,14\n"
        );
        // Under k = 5 the reach of 4 is not a number.
        let a = run(&store, "demo", &q("alerts"), KAnon::default()).unwrap();
        assert!(a.csv().ends_with("2026-11-02,<5,14\n"), "{}", a.csv());
    }

    /// A report of group `function` from signature `signature`.
    fn report(n: u32, signature: u32, function: &str, at: i64) -> sonde_store::NewErrorReport {
        use sonde_protocol::error_report::{ErrorReport, Frame};
        let report = ErrorReport {
            schema: 1,
            report_id: format!("{n:08x}-0000-4000-8000-000000000001"),
            product: "demo".into(),
            version: Some("1.0.0".into()),
            signature: Some(format!("{signature:08x}-0000-4000-8000-000000000000")),
            os: Some("linux".into()),
            arch: None,
            runtime: None,
            ci: None,
            command: None,
            flags: Vec::new(),
            kind: "std::io::Error".into(),
            message: "failed".into(),
            chain: Vec::new(),
            panic: false,
            frames: vec![Frame {
                function: function.into(),
                file: Some("src/main.rs".into()),
                line: Some(1),
                in_app: true,
            }],
            project: serde_json::Map::new(),
            occurred_at: None,
        };
        sonde_store::NewErrorReport::new(ProductName::parse("demo").unwrap(), report, at, Vec::new())
    }

    #[test]
    fn error_groups_below_k_signatures_are_folded() {
        let store = store();
        let at = "2026-11-02".parse::<Day>().unwrap().start_ms();
        // Group a: 6 signatures, 8 reports; e: 5 signatures, 5 reports; b:
        // 2 signatures, 5 reports; c: 1 signature, 1 report; d: before the
        // range.
        let mut n = 0;
        let mut add = |sig: u32, function: &str, at: i64| {
            n += 1;
            store.store_error_report(report(n, sig, function, at)).unwrap();
        };
        for sig in 0..6 {
            add(sig, "a", at);
        }
        add(0, "a", at);
        add(1, "a", at);
        for sig in 10..15 {
            add(sig, "e", at);
        }
        for _ in 0..4 {
            add(7, "b", at);
        }
        add(8, "b", at);
        add(9, "c", at);
        add(9, "d", at - 30 * 86_400_000);
        let query = params(&[("metric", "errors"), ("from", "2026-11-01"), ("to", "2026-11-30")])
            .parse()
            .unwrap();
        let a = run(&store, "demo", &query, KAnon::default()).unwrap();
        let csv = a.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "group,kind,reports,signatures,versions");
        assert!(lines[1].ends_with(",std::io::Error,8,6,1.0.0"), "{csv}");
        // b and c fold (3 signatures); "other" would be below 5, so the
        // smallest group kept, e, joins it: 11 reports from 8 signatures.
        assert_eq!(lines[2], "(other),,11,8,");
        assert_eq!(lines.len(), 3, "{csv}");
    }

    #[test]
    fn malformed_parameters_are_refused_with_their_reason() {
        let err = |pairs: &[(&str, &str)]| params(pairs).parse().unwrap_err();
        let range = [("from", "2026-11-01"), ("to", "2026-11-02")];
        assert_eq!(err(&range), QueryError::Missing("metric"));
        assert_eq!(
            err(&[("metric", "mau"), range[0], range[1]]),
            QueryError::Metric("mau".into())
        );
        assert_eq!(
            err(&[("metric", "breakdown"), range[0], range[1]]),
            QueryError::Missing("dimension")
        );
        assert!(matches!(
            err(&[("metric", "breakdown"), ("dimension", "colour"), range[0], range[1]]),
            QueryError::Dimension(_)
        ));
        assert_eq!(
            err(&[("metric", "active"), ("from", "2026-11-03"), ("to", "2026-11-02")]),
            QueryError::Range
        );
        assert!(matches!(
            err(&[("metric", "active"), ("from", "2026-11-31"), range[1]]),
            QueryError::Day(_)
        ));
        assert_eq!(
            err(&[("metric", "active"), ("format", "xml"), range[0], range[1]]),
            QueryError::Format("xml".into())
        );
        assert_eq!(
            err(&[("metric", "active"), ("include_ci", "yes"), range[0], range[1]]),
            QueryError::IncludeCi("yes".into())
        );
        assert_eq!(
            err(&[("metric", "active"), ("interval", "year"), range[0], range[1]]),
            QueryError::Interval("year".into())
        );
        assert_eq!(
            err(&[("metric", "active"), ("filter", "version"), range[0], range[1]]),
            QueryError::Filter("version".into())
        );
        assert_eq!(
            err(&[("metric", "unique"), ("filter", "os:linux"), range[0], range[1]]),
            QueryError::FilterMetric
        );
    }
}
