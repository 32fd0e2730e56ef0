//! Every read the store answers from ingested data: counts, analytics
//! (active signatures, breakdowns, cohorts), rejections, event counts and
//! error groups. One function per [`sonde_store::Store`] read, each one
//! query (or two) whose answer is deduplicated on the rows' ids, so a row
//! inserted twice (a retried batch, a replayed spill, two collectors given
//! the same event) counts once.
//!
//! A signature counts in a period under the attributes of its first ping
//! there: `argMin(…, (day, seq))`, the same order as SQLite's `(day, seq)`
//! and the in-memory reference's order of receipt, day by day.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use sonde_store::rollup::Totals;
use sonde_store::{
    Aggregate, BreakdownRow, CohortCell, Day, DayRange, Dimension, ErrorGroupDetail, EventCount, Interval, Month,
    PeriodCount, RejectionCount, ReportRow, StoredErrorReport,
};

use crate::client::{lit, Client};
use crate::ClickHouseError;

type R<T> = Result<T, ClickHouseError>;

fn db(c: &Client) -> &str {
    &c.endpoint().database
}

fn ci_filter(include_ci: bool) -> &'static str {
    if include_ci {
        "1"
    } else {
        "ci = 0"
    }
}

/// The SQL naming a day's period under `interval`.
fn period_expr(interval: Interval) -> &'static str {
    period_of(interval, "day")
}

/// The SQL naming the period, under `interval`, of the day in `column`.
fn period_of(interval: Interval, column: &str) -> &'static str {
    match (interval, column) {
        (Interval::Day, "day") => "toString(day)",
        (Interval::Week, "day") => "toString(toMonday(day))",
        (Interval::Month, "day") => "substring(toString(day), 1, 7)",
        (Interval::Day, _) => "toString(a_day)",
        (Interval::Week, _) => "toString(toMonday(a_day))",
        (Interval::Month, _) => "substring(toString(a_day), 1, 7)",
    }
}

fn column(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Version => "version",
        Dimension::Os => "os",
        Dimension::Arch => "arch",
        Dimension::Runtime => "runtime",
        Dimension::CiName => "ci_name",
    }
}

/// Each signature of `product` active in `days`, per period, with the CI
/// flag and `value` of its first ping in the period.
fn first_pings(c: &Client, product: &str, days: DayRange, period: &str, value: &str) -> String {
    format!(
        "SELECT {period} AS period, signature, argMin(ci, (day, seq)) AS ci, argMin({value}, (day, seq)) AS value
         FROM {}.pings
         WHERE product = {} AND signature != '' AND day >= toDate({}) AND day <= toDate({})
         GROUP BY period, signature",
        db(c),
        lit(product),
        lit(&days.from.to_string()),
        lit(&days.to.to_string()),
    )
}

/// The days the periods of `interval` overlapping `range` cover, whole.
fn covered(range: DayRange, interval: Interval) -> Option<(Vec<sonde_store::Period>, DayRange)> {
    let periods = interval.periods(range);
    let days = DayRange::new(periods.first()?.days.from, periods.last()?.days.to);
    Some((periods, days))
}

#[derive(Deserialize)]
struct Counted {
    period: String,
    #[serde(default)]
    value: String,
    n: u64,
}

/// Distinct active signatures per period.
pub(crate) fn active(c: &Client, product: &str, range: DayRange, interval: Interval, ci: bool) -> R<Vec<PeriodCount>> {
    let Some((periods, days)) = covered(range, interval) else {
        return Ok(Vec::new());
    };
    let rows: Vec<Counted> = c.rows(&format!(
        "SELECT period, count() AS n FROM ({}) WHERE {} GROUP BY period",
        first_pings(c, product, days, period_expr(interval), "''"),
        ci_filter(ci)
    ))?;
    let by: HashMap<String, u64> = rows.into_iter().map(|r| (r.period, r.n)).collect();
    let new: Vec<Counted> = c.rows(&format!(
        "SELECT {} AS period, count() AS n FROM (
           SELECT signature, min(day) AS a_day, argMin(ci, (day, seq)) AS a_ci
           FROM {}.pings WHERE product = {} AND signature != '' GROUP BY signature)
         WHERE a_day >= toDate({}) AND a_day <= toDate({}) AND {} GROUP BY period",
        period_of(interval, "a_day"),
        db(c),
        lit(product),
        lit(&days.from.to_string()),
        lit(&days.to.to_string()),
        if ci { "1" } else { "a_ci = 0" },
    ))?;
    let new: HashMap<String, u64> = new.into_iter().map(|r| (r.period, r.n)).collect();
    Ok(periods
        .into_iter()
        .map(|p| PeriodCount {
            count: by.get(&p.name).copied().unwrap_or(0),
            new: new.get(&p.name).copied().unwrap_or(0),
            period: p.name,
        })
        .collect())
}

#[derive(Deserialize)]
struct Noticed {
    signature: String,
    n_day: String,
    version: String,
}

#[derive(Deserialize)]
struct Later {
    signature: String,
    version: String,
    first_day: String,
}

/// The first notice of each signature of `product` (by `(day, seq)`, the
/// order of receipt), as a subquery: `signature, n_day, n_seq, version, ci`.
fn first_notices(c: &Client, product: &str, days: DayRange) -> String {
    format!(
        "SELECT signature, min(day) AS n_day, argMin(seq, (day, seq)) AS n_seq,
                argMin(version, (day, seq)) AS version, argMin(ci, (day, seq)) AS ci
         FROM {}.notices WHERE product = {} GROUP BY signature
         HAVING n_day >= toDate({}) AND n_day <= toDate({})",
        db(c),
        lit(product),
        lit(&days.from.to_string()),
        lit(&days.to.to_string()),
    )
}

/// Upgrades after a notice: the signatures whose first notice is in the
/// periods, and for each the versions it was seen on after its notice
/// (with the first day of each), from which the first newer one is picked
/// by semver precedence here (ClickHouse has no semver order).
pub(crate) fn upgrades(
    c: &Client,
    product: &str,
    range: DayRange,
    interval: Interval,
    ci: bool,
) -> R<Vec<sonde_store::UpgradePeriod>> {
    let Some((_, days)) = covered(range, interval) else {
        return Ok(Vec::new());
    };
    let noticed: Vec<Noticed> = c.rows(&format!(
        "SELECT signature, toString(n_day) AS n_day, version FROM ({}) WHERE {}",
        first_notices(c, product, days),
        ci_filter(ci)
    ))?;
    // `GLOBAL`: on a cluster the notices are read once and sent to every
    // shard, whose pings then join them locally.
    let later: Vec<Later> = c.rows(&format!(
        "SELECT signature, version, toString(min(day)) AS first_day FROM (
           SELECT signature, version, day, seq, n_day, n_seq FROM {db}.pings
           GLOBAL ALL INNER JOIN (SELECT signature, n_day, n_seq FROM ({notices})) USING signature
           WHERE product = {product} AND day >= toDate({from}) AND version != '')
         WHERE day > n_day OR (day = n_day AND seq > n_seq)
         GROUP BY signature, version",
        db = db(c),
        notices = first_notices(c, product, days),
        product = lit(product),
        from = lit(&days.from.to_string()),
    ))?;
    let parse = |s: &str| s.parse::<Day>().map_err(ClickHouseError::Day);
    let mut first_newer: HashMap<&str, Day> = HashMap::new();
    let told: HashMap<&str, &Noticed> = noticed.iter().map(|n| (n.signature.as_str(), n)).collect();
    for l in &later {
        let Some(n) = told.get(l.signature.as_str()) else {
            continue;
        };
        if !sonde_store::upgrades::is_newer(&l.version, &n.version) {
            continue;
        }
        let day = parse(&l.first_day)?;
        let e = first_newer.entry(n.signature.as_str()).or_insert(day);
        *e = (*e).min(day);
    }
    let mut told_days = Vec::with_capacity(noticed.len());
    let mut upgraded = Vec::new();
    for n in &noticed {
        let day = parse(&n.n_day)?;
        told_days.push((day, 1));
        if let Some(up) = first_newer.get(n.signature.as_str()) {
            upgraded.push((day, up.days_since(day) as u32, 1));
        }
    }
    Ok(sonde_store::upgrades::fold(range, interval, told_days, upgraded))
}

/// Distinct active signatures over the whole of `range`.
pub(crate) fn active_in(c: &Client, product: &str, range: DayRange, ci: bool) -> R<u64> {
    c.count(&format!(
        "SELECT count() AS n FROM ({}) WHERE {}",
        first_pings(c, product, range, "''", "''"),
        ci_filter(ci)
    ))
}

/// Distinct active signatures of the `window` days ending on each day of
/// `range`, from one read: each signature's active days in the range and
/// the `window - 1` days before it, with the CI flag of each day's first
/// ping and the days since the signature's previous active day (0: none
/// read), counted per (day, gap, CI). A window starting on `s` holds a
/// signature once, on its first active day `t` there: the day whose gap is
/// 0 or larger than `t - s`. CI as in [`active_in`] (the first ping in the
/// window), the same sums SQLite makes from its day-gap counts.
pub(crate) fn rolling(c: &Client, product: &str, range: DayRange, window: u32, ci: bool) -> R<Vec<PeriodCount>> {
    #[derive(Deserialize)]
    struct Row {
        day: String,
        gap: u32,
        ci: u8,
        n: u64,
    }
    if window == 0 {
        return Ok(range
            .days()
            .map(|d| PeriodCount {
                period: d.to_string(),
                count: 0,
                new: 0,
            })
            .collect());
    }
    let reach = 1 - i64::from(window);
    let rows: Vec<Row> = c.rows(&format!(
        "SELECT toString(a_day) AS day, a_gap AS gap, a_ci AS ci, count() AS n FROM (
           SELECT arraySort(groupArray((day, first_ci))) AS days
           FROM (SELECT signature, day, argMin(ci, seq) AS first_ci FROM {}.pings
                 WHERE product = {} AND signature != '' AND day >= toDate({}) AND day <= toDate({})
                 GROUP BY signature, day)
           GROUP BY signature)
         ARRAY JOIN
           arrayMap(x -> tupleElement(x, 1), days) AS a_day,
           arrayMap(x -> tupleElement(x, 2), days) AS a_ci,
           arrayMap((x, i) -> if(i = 1, toUInt32(0), toUInt32(tupleElement(x, 1) - tupleElement(days[if(i = 1, 1, i - 1)], 1))),
                    days, arrayEnumerate(days)) AS a_gap
         GROUP BY day, gap, ci",
        db(c),
        lit(product),
        lit(&range.from.add_days(reach).to_string()),
        lit(&range.to.to_string()),
    ))?;
    let mut counted: Vec<(Day, i64, u64)> = Vec::with_capacity(rows.len());
    for r in rows {
        if ci || r.ci == 0 {
            counted.push((r.day.parse().map_err(ClickHouseError::Day)?, i64::from(r.gap), r.n));
        }
    }
    Ok(range
        .days()
        .map(|d| {
            let start = d.add_days(reach);
            let count = counted
                .iter()
                .filter(|(t, gap, _)| *t >= start && *t <= d && (*gap == 0 || *gap > t.days_since(start)))
                .map(|(_, _, n)| n)
                .sum();
            PeriodCount {
                period: d.to_string(),
                count,
                new: 0,
            }
        })
        .collect())
}

/// Active signatures per period and value of `dimension`.
pub(crate) fn breakdown(
    c: &Client,
    product: &str,
    dimension: Dimension,
    range: DayRange,
    interval: Interval,
    ci: bool,
) -> R<Vec<BreakdownRow>> {
    let Some((_, days)) = covered(range, interval) else {
        return Ok(Vec::new());
    };
    let rows: Vec<Counted> = c.rows(&format!(
        "SELECT period, value, count() AS n FROM ({}) WHERE {} GROUP BY period, value ORDER BY period, value",
        first_pings(c, product, days, period_expr(interval), column(dimension)),
        ci_filter(ci)
    ))?;
    Ok(rows
        .into_iter()
        .map(|r| BreakdownRow {
            period: r.period,
            value: r.value,
            count: r.n,
        })
        .collect())
}

/// Retention cohorts from `from` to `to`.
pub(crate) fn cohorts(c: &Client, product: &str, from: Month, to: Month, ci: bool) -> R<Vec<CohortCell>> {
    #[derive(Deserialize)]
    struct Cell {
        cohort: String,
        period: String,
        n: u64,
    }
    let days = DayRange::new(sonde_store::Day::first_of(from), DayRange::month(to).to);
    let rows: Vec<Cell> = c.rows(&format!(
        "SELECT cohort, period, count() AS n FROM ({}) ANY INNER JOIN (
             SELECT signature, substring(toString(min(day)), 1, 7) AS cohort
             FROM {}.pings WHERE product = {} AND signature != '' GROUP BY signature
         ) USING signature
         WHERE cohort >= {} AND {} GROUP BY cohort, period ORDER BY cohort, period",
        first_pings(c, product, days, period_expr(Interval::Month), "''"),
        db(c),
        lit(product),
        lit(&from.to_string()),
        ci_filter(ci)
    ))?;
    Ok(rows
        .into_iter()
        .map(|r| CohortCell {
            cohort: r.cohort,
            month: r.period,
            active: r.n,
        })
        .collect())
}

/// Exact distinct signatures of `product` in `month`, from the counts kept at ingest.
pub(crate) fn monthly_active(c: &Client, product: &str, month: Month) -> R<u64> {
    c.count(&format!(
        "SELECT uniqExactMerge(signatures) AS n FROM {}.monthly_signatures
         WHERE product = {} AND month = toDate({})",
        db(c),
        lit(product),
        lit(&format!("{month}-01"))
    ))
}

/// Stored pings of `product`.
pub(crate) fn ping_count(c: &Client, product: &str) -> R<u64> {
    c.count(&format!(
        "SELECT uniqExact(id) AS n FROM {}.pings WHERE product = {}",
        db(c),
        lit(product)
    ))
}

/// Stored raw events of `product`.
pub(crate) fn event_count(c: &Client, product: &str) -> R<u64> {
    c.count(&format!(
        "SELECT uniqExact(id) AS n FROM {}.events WHERE product = {}",
        db(c),
        lit(product)
    ))
}

/// Rejection counters, each write's rows counted once.
pub(crate) fn rejections(c: &Client, product: Option<&str>) -> R<Vec<RejectionCount>> {
    let filter = product.map_or_else(|| "1".to_owned(), |p| format!("product = {}", lit(p)));
    c.rows(&format!(
        "SELECT product, source, field, reason, sum(c) AS count FROM (
             SELECT product, source, field, reason, op, any(count) AS c FROM {}.rejections
             WHERE {filter} GROUP BY product, source, field, reason, op
         ) GROUP BY product, source, field, reason ORDER BY product, source, field, reason",
        db(c)
    ))
}

/// Event counts of `kind`: roll-ups plus the raw events still kept.
/// The events of `kinds` received in the periods of `interval` overlapping
/// `range` (whole), each id once, in the order received, read back for
/// [`sonde_store::event_stats::answer_from_events`]: command, console and
/// heartbeat figures are folded from the raw events ClickHouse keeps, with
/// the same code as the in-memory reference.
pub(crate) fn events_in(
    c: &Client,
    product: &str,
    kinds: &[&str],
    range: DayRange,
    interval: Interval,
) -> R<sonde_store::event_stats::EventsAnswer> {
    #[derive(Deserialize)]
    struct Raw {
        a_at_ms: i64,
        a_kind: String,
        a_test: u8,
        a_fields: String,
    }
    let Some((_, days)) = covered(range, interval) else {
        return Ok(sonde_store::event_stats::answer_from_events(std::iter::empty()));
    };
    let kinds: Vec<String> = kinds.iter().map(|k| lit(k)).collect();
    let raw: Vec<Raw> = c.rows(&format!(
        "SELECT any(at_ms) AS a_at_ms, any(seq) AS a_seq, any(kind) AS a_kind, any(test) AS a_test,
                any(fields) AS a_fields
         FROM {}.events
         WHERE product = {} AND kind IN ({}) AND day >= toDate({}) AND day <= toDate({})
         GROUP BY id ORDER BY a_at_ms, a_seq",
        db(c),
        lit(product),
        kinds.join(", "),
        lit(&days.from.to_string()),
        lit(&days.to.to_string()),
    ))?;
    Ok(sonde_store::event_stats::answer_from_events(raw.iter().map(|r| {
        (r.a_at_ms, r.a_kind.as_str(), r.a_test != 0, r.a_fields.as_str())
    })))
}

pub(crate) fn event_counts(c: &Client, product: &str, kind: &str, include_test: bool) -> R<Vec<EventCount>> {
    #[derive(Deserialize)]
    struct Rolled {
        month: String,
        key: String,
        count: u64,
        errors: u64,
    }
    #[derive(Deserialize)]
    struct Raw {
        #[serde(rename = "a_at_ms")]
        at_ms: i64,
        #[serde(rename = "a_fields")]
        fields: String,
    }
    let test = if include_test { "1" } else { "test = 0" };
    let mut totals = Totals::default();
    let rolled: Vec<Rolled> = c.rows(&format!(
        "SELECT month, key, sum(c) AS count, sum(e) AS errors FROM (
             SELECT month, key, any(count) AS c, any(errors) AS e FROM {}.event_rollups
             WHERE product = {} AND kind = {} AND {test} GROUP BY pass, test, month, key
         ) GROUP BY month, key",
        db(c),
        lit(product),
        lit(kind)
    ))?;
    for r in rolled {
        totals.add(r.month, r.key, r.count, r.errors);
    }
    let raw: Vec<Raw> = c.rows(&format!(
        "SELECT any(at_ms) AS a_at_ms, any(fields) AS a_fields FROM {}.events
         WHERE product = {} AND kind = {} AND {test} GROUP BY id",
        db(c),
        lit(product),
        lit(kind)
    ))?;
    for r in raw {
        totals.add_event(kind, r.at_ms, &r.fields);
    }
    Ok(totals.into_counts())
}

/// Error groups of `product` (only `group`, if given), each report counted once.
pub(crate) fn error_groups(c: &Client, product: &str, group: Option<&str>) -> R<Vec<ErrorGroupDetail>> {
    #[derive(Deserialize)]
    struct Row {
        #[serde(rename = "a_grp")]
        grp: String,
        #[serde(rename = "a_seq")]
        seq: i64,
        #[serde(rename = "a_at_ms")]
        at_ms: i64,
        #[serde(rename = "a_version")]
        version: Option<String>,
        #[serde(rename = "a_os")]
        os: Option<String>,
        #[serde(rename = "a_signature")]
        signature: Option<String>,
        #[serde(rename = "a_report")]
        report: String,
    }
    let filter = group.map_or_else(|| "1".to_owned(), |g| format!("grp = {}", lit(g)));
    let rows: Vec<Row> = c.rows(&format!(
        "SELECT argMin(grp, seq) AS a_grp, toInt64(min(seq)) AS a_seq, argMin(at_ms, seq) AS a_at_ms,
                argMin(version, seq) AS a_version, argMin(os, seq) AS a_os,
                argMin(signature, seq) AS a_signature, argMin(report, seq) AS a_report
         FROM {}.error_reports WHERE product = {} AND {filter} GROUP BY report_id",
        db(c),
        lit(product)
    ))?;
    let mut agg = Aggregate::default();
    let mut by_seq = BTreeMap::new();
    for r in &rows {
        agg.add(ReportRow {
            group: &r.grp,
            version: r.version.as_deref(),
            os: r.os.as_deref(),
            signature: r.signature.as_deref(),
            received_at_ms: r.at_ms,
            seq: r.seq,
        });
        by_seq.insert(r.seq, r);
    }
    agg.finish(|seq| {
        let r = by_seq[&seq];
        Ok(StoredErrorReport {
            received_at_ms: r.at_ms,
            report: serde_json::from_str(&r.report).map_err(ClickHouseError::Decode)?,
        })
    })
}

/// Stored error reports of `product`.
pub(crate) fn error_report_count(c: &Client, product: &str) -> R<u64> {
    c.count(&format!(
        "SELECT uniqExact(report_id) AS n FROM {}.error_reports WHERE product = {}",
        db(c),
        lit(product)
    ))
}
