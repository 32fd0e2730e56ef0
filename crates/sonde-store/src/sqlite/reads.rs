//! Read queries, run on read-only connections. They return SQLite's errors;
//! [`super::SqliteStore`] reports them as [`crate::StoreError::Read`].

use std::collections::HashMap;

use rusqlite::types::Type;
use rusqlite::{params, Connection, Row};

use super::first_seen::uuid_bits;
use super::last_seen;
use super::writer::NEW;
use crate::error_reports::GroupTotals;
use crate::rollup::Totals;
use crate::{
    AlertRecord, BreakdownRow, CatalogData, CohortCell, Day, DayRange, Dimension, ErrorGroupDetail, EventCount,
    Interval, Month, Period, PeriodCount, RejectionCount, Release, StoredErrorReport, VersionConstraint,
};

pub(crate) fn catalog_generation(c: &Connection) -> rusqlite::Result<u64> {
    generation(c)
}

fn generation(c: &Connection) -> rusqlite::Result<u64> {
    let g: i64 = c
        .prepare_cached("SELECT value FROM meta WHERE key = 'catalog_generation'")?
        .query_row([], |r| r.get(0))?;
    Ok(g as u64)
}

/// Reads the catalog inside one read transaction, so it is consistent with
/// the generation it reports.
pub(crate) fn load_catalog(c: &mut Connection) -> rusqlite::Result<CatalogData> {
    let tx = c.transaction()?;
    let generation = generation(&tx)?;
    let products = tx
        .prepare("SELECT name FROM products ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let releases = releases(&tx, None)?;
    let alerts = alerts(&tx, None)?;
    let versions = tx
        .prepare("SELECT product, service, minimum, maximum, excluding FROM version_constraints")?
        .query_map([], |r| {
            Ok((
                VersionConstraint {
                    product: r.get(0)?,
                    service: r.get(1)?,
                    minimum: r.get(2)?,
                    maximum: r.get(3)?,
                    excluding: Vec::new(),
                },
                r.get::<_, String>(4)?,
            ))
        })?
        .map(|row| {
            let (mut v, excluding) = row?;
            v.excluding = serde_json::from_str(&excluding)
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, Type::Text, Box::new(e)))?;
            Ok(v)
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.finish()?;
    Ok(CatalogData {
        generation,
        products,
        releases,
        alerts,
        versions,
    })
}

fn release_row(r: &Row<'_>) -> rusqlite::Result<Release> {
    Ok(Release {
        product: r.get(0)?,
        version: r.get(1)?,
        date: r.get(2)?,
        download_url: r.get(3)?,
        changelog_url: r.get(4)?,
        website: r.get(5)?,
        package: r.get(6)?,
        release_tag: r.get(7)?,
        install_command: r.get(8)?,
    })
}

pub(crate) fn releases(c: &Connection, product: Option<&str>) -> rusqlite::Result<Vec<Release>> {
    let mut stmt = c.prepare_cached(
        "SELECT product, version, date, download_url, changelog_url, website, package, release_tag, install_command
         FROM releases WHERE ?1 IS NULL OR product = ?1 ORDER BY product, date, version",
    )?;
    let rows = stmt.query_map(params![product], release_row)?.collect();
    rows
}

pub(crate) fn alerts(c: &Connection, product: Option<&str>) -> rusqlite::Result<Vec<AlertRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, product, level, message, url, affects, date FROM alerts
         WHERE ?1 IS NULL OR product = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map(params![product], |r| {
            Ok(AlertRecord {
                id: r.get(0)?,
                product: r.get(1)?,
                level: r.get(2)?,
                message: r.get(3)?,
                url: r.get(4)?,
                affects: r.get(5)?,
                date: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(crate) fn monthly_active(c: &Connection, product: &str, month: Month) -> rusqlite::Result<u64> {
    let n: Option<i64> = c
        .prepare_cached("SELECT n FROM monthly_counts WHERE product = ?1 AND month = ?2")?
        .query_map(params![product, month.to_string()], |r| r.get(0))?
        .next()
        .transpose()?;
    Ok(n.unwrap_or(0) as u64)
}

pub(crate) fn rejections(c: &Connection, product: Option<&str>) -> rusqlite::Result<Vec<RejectionCount>> {
    let mut stmt = c.prepare_cached(
        "SELECT product, source, field, reason, count FROM rejections
         WHERE ?1 IS NULL OR product = ?1 ORDER BY product, source, field, reason",
    )?;
    let rows = stmt
        .query_map(params![product], |r| {
            Ok(RejectionCount {
                product: r.get(0)?,
                source: r.get(1)?,
                field: r.get(2)?,
                reason: r.get(3)?,
                count: r.get::<_, i64>(4)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub(crate) fn count(c: &Connection, sql: &str, product: &str) -> rusqlite::Result<u64> {
    let n: i64 = c.prepare_cached(sql)?.query_row(params![product], |r| r.get(0))?;
    Ok(n as u64)
}

pub(crate) fn routes(c: &Connection, product: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT template FROM route_templates WHERE product = ?1 ORDER BY template")?;
    let rows = stmt.query_map(params![product], |r| r.get(0))?.collect();
    rows
}

pub(crate) fn words(c: &Connection, product: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = c.prepare_cached("SELECT kind, word FROM vocabulary WHERE product = ?1 ORDER BY kind, word")?;
    let rows = stmt
        .query_map(params![product], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect();
    rows
}

/// The counts of every event stored, per month and key: kept at ingest in
/// `event_rollups` (retention deletes rows, not counts).
pub(crate) fn event_counts(
    c: &Connection,
    product: &str,
    kind: &str,
    include_test: bool,
) -> rusqlite::Result<Vec<EventCount>> {
    let mut totals = Totals::default();
    let mut stmt = c.prepare_cached(
        "SELECT month, key, SUM(n), SUM(errors) FROM event_rollups
         WHERE product = ?1 AND kind = ?2 AND (?3 OR test = 0) GROUP BY month, key",
    )?;
    let mut rows = stmt.query(params![product, kind, include_test])?;
    while let Some(r) = rows.next()? {
        totals.add(
            r.get(0)?,
            r.get(1)?,
            r.get::<_, i64>(2)? as u64,
            r.get::<_, i64>(3)? as u64,
        );
    }
    Ok(totals.into_counts())
}

/// The error groups of `product` (only `group`, if given) with their latest
/// reports, read from the group roll-ups ([`super::error_groups`]) in one
/// transaction.
pub(crate) fn error_groups(
    c: &mut Connection,
    product: &str,
    group: Option<&str>,
) -> rusqlite::Result<Vec<ErrorGroupDetail>> {
    let tx = c.transaction()?;
    let totals = super::error_groups::read(&tx, product, group)?;
    let groups = {
        let mut sample = tx.prepare_cached("SELECT received_at_ms, report FROM error_reports WHERE seq = ?1")?;
        GroupTotals::assemble(totals, |seq| {
            sample.query_row([seq], |r| {
                let text: String = r.get(1)?;
                let report = serde_json::from_str(&text)
                    .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, Type::Text, Box::new(e)))?;
                Ok(StoredErrorReport {
                    received_at_ms: r.get(0)?,
                    report,
                })
            })
        })?
    };
    tx.finish()?;
    Ok(groups)
}

/// Distinct signatures of `product` active in `range`, CI left out unless
/// `include_ci`: summed from the day-gap counts when the range is short
/// enough and no row near it arrived out of order ([`gaps`]), otherwise
/// the union of the range's daily sets ([`union`]).
pub(crate) fn active_in(c: &Connection, product: &str, range: DayRange, include_ci: bool) -> rusqlite::Result<u64> {
    match gaps(c, product, range, include_ci)? {
        Some(n) => Ok(n),
        None => union(c, product, range, include_ci),
    }
}

/// For every day `d` of `range`, the distinct signatures of the `window`
/// days ending on `d`, CI left out unless `include_ci`: summed from the
/// day-gap rows of all the windows, read in one query, as [`gaps`] sums one
/// window; a day whose window is longer than the horizon plus one day, or
/// has an out-of-order row in it or in the horizon before it, is read by
/// [`active_in`] instead.
pub(crate) fn rolling(
    c: &mut Connection,
    product: &str,
    range: DayRange,
    window: u32,
    include_ci: bool,
) -> rusqlite::Result<Vec<PeriodCount>> {
    let tx = c.transaction()?;
    let span = i64::from(window) - 1;
    let lookback = range.from.add_days(-span - last_seen::HORIZON);
    // (day number, gap, n) of the rows counted, and the days of rows out of order.
    let mut rows: Vec<(i64, i64, u64)> = Vec::new();
    let mut disorder: Vec<i64> = Vec::new();
    let mut unreadable = false;
    if window > 0 && span <= last_seen::HORIZON {
        let mut stmt =
            tx.prepare_cached("SELECT day, gap, ci, n FROM active_gaps WHERE product = ?1 AND day BETWEEN ?2 AND ?3")?;
        let mut found = stmt.query(params![product, lookback.to_string(), range.to.to_string()])?;
        while let Some(r) = found.next()? {
            let Ok(day) = r.get_ref(0)?.as_str()?.parse::<Day>() else {
                // Not a day: every window is read from the daily sets.
                unreadable = true;
                continue;
            };
            let day = last_seen::number(day);
            let gap: i64 = r.get(1)?;
            if gap == last_seen::OUT_OF_ORDER {
                disorder.push(day);
            } else if include_ci || !r.get::<_, bool>(2)? {
                rows.push((day, gap, r.get::<_, i64>(3)? as u64));
            }
        }
    }
    let mut out = Vec::new();
    for d in range.days() {
        let to = last_seen::number(d);
        let from = to - span;
        let count = if window == 0 {
            0
        } else if unreadable
            || span > last_seen::HORIZON
            || disorder.iter().any(|&x| x >= from - last_seen::HORIZON && x <= to)
        {
            active_in(&tx, product, DayRange::new(d.add_days(-span), d), include_ci)?
        } else {
            rows.iter()
                .filter(|&&(e, gap, _)| e >= from && e <= to && (gap == last_seen::NO_GAP || gap > e - from))
                .map(|&(_, _, n)| n)
                .sum()
        };
        out.push(PeriodCount {
            period: d.to_string(),
            count,
            new: 0,
        });
    }
    tx.finish()?;
    Ok(out)
}

/// The distinct signatures of `range` from `active_gaps`: each is counted
/// on its first active day of the range, the day whose previous active day
/// is before `range.from` (see [`super::last_seen`]). `None` when the range
/// is longer than the horizon plus one day, or a row out of order lies in
/// it or in the horizon before it.
pub(super) fn gaps(c: &Connection, product: &str, range: DayRange, include_ci: bool) -> rusqlite::Result<Option<u64>> {
    let from = last_seen::number(range.from);
    let to = last_seen::number(range.to);
    if to < from {
        return Ok(Some(0));
    }
    if to - from > last_seen::HORIZON {
        return Ok(None);
    }
    let mut stmt =
        c.prepare_cached("SELECT day, gap, ci, n FROM active_gaps WHERE product = ?1 AND day BETWEEN ?2 AND ?3")?;
    let lookback = range.from.add_days(-last_seen::HORIZON);
    let mut rows = stmt.query(params![product, lookback.to_string(), range.to.to_string()])?;
    let mut total = 0;
    while let Some(r) = rows.next()? {
        let gap: i64 = r.get(1)?;
        if gap == last_seen::OUT_OF_ORDER {
            return Ok(None);
        }
        let Ok(day) = r.get_ref(0)?.as_str()?.parse::<Day>() else {
            return Ok(None);
        };
        let d = last_seen::number(day);
        let ci: bool = r.get(2)?;
        if d >= from && (include_ci || !ci) && (gap == last_seen::NO_GAP || gap > d - from) {
            total += r.get::<_, i64>(3)? as u64;
        }
    }
    Ok(Some(total))
}

/// The distinct signatures of `range` as the union of its daily sets, each
/// under the CI flag of its first day there.
fn union(c: &Connection, product: &str, range: DayRange, include_ci: bool) -> rusqlite::Result<u64> {
    let mut stmt = c.prepare_cached(
        "SELECT signature, ci FROM daily_signatures WHERE day BETWEEN ?1 AND ?2 AND product = ?3 ORDER BY day, seq",
    )?;
    let mut rows = stmt.query(params![range.from.to_string(), range.to.to_string(), product])?;
    let mut uuids: HashMap<u128, bool> = HashMap::new();
    let mut other: HashMap<String, bool> = HashMap::new();
    while let Some(r) = rows.next()? {
        let signature = r.get_ref(0)?.as_str()?;
        let ci: bool = r.get(1)?;
        match uuid_bits(signature) {
            Some(bits) => {
                uuids.entry(bits).or_insert(ci);
            }
            None => {
                if !other.contains_key(signature) {
                    other.insert(signature.to_owned(), ci);
                }
            }
        }
    }
    let counted = |ci: &bool| include_ci || !*ci;
    Ok((uuids.values().filter(|ci| counted(ci)).count() + other.values().filter(|ci| counted(ci)).count()) as u64)
}

/// The `interval` column of `active_counts` for `interval`.
fn counted(interval: Interval) -> &'static str {
    match interval {
        Interval::Day => "day",
        Interval::Week => "week",
        Interval::Month => "month",
    }
}

/// Rows `(period, value, n)` of `active_counts` for the periods given.
fn counts(
    c: &Connection,
    product: &str,
    interval: &str,
    dimension: &str,
    periods: &[Period],
    include_ci: bool,
) -> rusqlite::Result<Vec<(String, String, u64)>> {
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(Vec::new());
    };
    let mut stmt = c.prepare_cached(
        "SELECT period, value, SUM(n) FROM active_counts
         WHERE product = ?1 AND interval = ?2 AND dimension = ?3 AND period BETWEEN ?4 AND ?5 AND (?6 OR ci = 0)
         GROUP BY period, value ORDER BY period, value",
    )?;
    let rows = stmt
        .query_map(
            params![product, interval, dimension, first.name, last.name, include_ci],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)),
        )?
        .collect();
    rows
}

pub(crate) fn active(
    c: &Connection,
    product: &str,
    range: DayRange,
    interval: Interval,
    include_ci: bool,
) -> rusqlite::Result<Vec<PeriodCount>> {
    let periods = interval.periods(range);
    let found: std::collections::HashMap<String, u64> =
        counts(c, product, counted(interval), "", &periods, include_ci)?
            .into_iter()
            .map(|(period, _, n)| (period, n))
            .collect();
    let new = new_per_day(c, product, &periods, include_ci)?;
    Ok(periods
        .into_iter()
        .map(|p| PeriodCount {
            count: found.get(&p.name).copied().unwrap_or(0),
            new: p
                .days
                .days()
                .map(|d| new.get(&d.to_string()).copied().unwrap_or(0))
                .sum(),
            period: p.name,
        })
        .collect())
}

/// Signatures seen for the first time ever, per day of `periods`.
fn new_per_day(
    c: &Connection,
    product: &str,
    periods: &[Period],
    include_ci: bool,
) -> rusqlite::Result<std::collections::HashMap<String, u64>> {
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(Default::default());
    };
    let mut stmt = c.prepare_cached(
        "SELECT period, SUM(n) FROM active_counts
         WHERE product = ?1 AND interval = 'day' AND dimension = ?2 AND period BETWEEN ?3 AND ?4
           AND value = '' AND (?5 OR ci = 0)
         GROUP BY period",
    )?;
    let rows = stmt
        .query_map(
            params![
                product,
                NEW,
                first.days.from.to_string(),
                last.days.to.to_string(),
                include_ci
            ],
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)),
        )?
        .collect();
    rows
}

pub(crate) fn breakdown(
    c: &Connection,
    product: &str,
    dimension: Dimension,
    range: DayRange,
    interval: Interval,
    include_ci: bool,
) -> rusqlite::Result<Vec<BreakdownRow>> {
    let periods = interval.periods(range);
    Ok(
        counts(c, product, counted(interval), dimension.as_str(), &periods, include_ci)?
            .into_iter()
            .map(|(period, value, count)| BreakdownRow { period, value, count })
            .collect(),
    )
}

pub(crate) fn cohorts(
    c: &Connection,
    product: &str,
    from: Month,
    to: Month,
    include_ci: bool,
) -> rusqlite::Result<Vec<CohortCell>> {
    let mut stmt = c.prepare_cached(
        "SELECT cohort, month, SUM(n) FROM cohort_activity
         WHERE product = ?1 AND cohort BETWEEN ?2 AND ?3 AND month <= ?3 AND (?4 OR ci = 0)
         GROUP BY cohort, month ORDER BY cohort, month",
    )?;
    let rows = stmt
        .query_map(params![product, from.to_string(), to.to_string(), include_ci], |r| {
            Ok(CohortCell {
                cohort: r.get(0)?,
                month: r.get(1)?,
                active: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect();
    rows
}
