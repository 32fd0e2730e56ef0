//! Answers that join the activity roll-ups with the catalog or the error
//! reports: the share of active signatures on the newest release, the reach
//! of each alert, and the error-report groups under the minimum group size.
//!
//! Versions are compared by semver precedence after lenient parsing
//! ([`sonde_versions`]), as checks are answered: `1.2` is `1.2.0`, and a
//! version that does not parse is on no release and in no alert's range.

use sonde_store::{BreakdownRow, Dimension, Release, Store};

use super::kanon::{Figure, KAnon};
use super::query::{Query, QueryFailure, Row};
use sonde_versions::{compare, parse_lenient, AffectsRange};

/// Each period's name and active signatures.
type Totals = Vec<(String, u64)>;

/// The version breakdown and the total of each period of `query`.
fn versions_and_totals(
    store: &dyn Store,
    product: &str,
    query: &Query,
) -> Result<(Vec<BreakdownRow>, Totals), QueryFailure> {
    let rows = store.breakdown(
        product,
        Dimension::Version,
        query.range,
        query.interval,
        query.include_ci,
    )?;
    let totals = store
        .active(product, query.range, query.interval, query.include_ci)?
        .into_iter()
        .map(|p| (p.period, p.count))
        .collect();
    Ok((rows, totals))
}

/// The newest stable release published by the end of `day_end_s` (Unix
/// seconds), or the newest of any kind if none is stable.
fn newest_at(releases: &[Release], day_end_s: i64) -> Option<&Release> {
    let published = || {
        releases
            .iter()
            .filter(move |r| r.date < day_end_s)
            .filter_map(|r| parse_lenient(&r.version).map(|v| (v, r)))
    };
    let newest = |stable: bool| {
        published()
            .filter(|(v, _)| !stable || v.pre.is_empty())
            .max_by(|a, b| compare(&a.0, &b.0))
            .map(|(_, r)| r)
    };
    newest(true).or_else(|| newest(false))
}

/// `versions`: per period, the newest release published by the period's
/// end and the active signatures on it.
pub(crate) fn latest_share(
    store: &dyn Store,
    product: &str,
    query: &Query,
    kanon: KAnon,
) -> Result<Vec<Row>, QueryFailure> {
    let releases = store.releases(product)?;
    let (rows, totals) = versions_and_totals(store, product, query)?;
    let periods = query.interval.periods(query.range);
    Ok(periods
        .into_iter()
        .zip(totals)
        .map(|(p, (_, active))| {
            let end_s = p.days.to.next().start_ms() / 1000;
            let latest = newest_at(&releases, end_s);
            let target = latest.and_then(|r| parse_lenient(&r.version));
            let on_latest: u64 = rows
                .iter()
                .filter(|r| r.period == p.name)
                .filter(|r| match (&target, parse_lenient(&r.value)) {
                    (Some(t), Some(v)) => compare(t, &v).is_eq(),
                    _ => false,
                })
                .map(|r| r.count)
                .sum();
            Row::Latest {
                period: p.name,
                latest: latest.map(|r| r.version.clone()).unwrap_or_default(),
                on_latest: kanon.figure(on_latest),
                active: kanon.figure(active),
            }
        })
        .collect())
}

/// `alerts`: per alert of the product and period, the active signatures on
/// a version the alert affects (every version if it names no range).
pub(crate) fn alert_reach(
    store: &dyn Store,
    product: &str,
    query: &Query,
    kanon: KAnon,
) -> Result<Vec<Row>, QueryFailure> {
    let alerts = store.alerts(Some(product))?;
    let (rows, totals) = versions_and_totals(store, product, query)?;
    let mut out = Vec::new();
    for alert in alerts {
        let range = match alert.affects.as_deref() {
            None => None,
            Some(text) => match AffectsRange::parse(text) {
                Ok(r) => Some(r),
                // Ranges are checked when an alert is added; one that no
                // longer parses reaches no one rather than everyone.
                Err(_) => continue,
            },
        };
        for (period, active) in &totals {
            let reach: u64 = rows
                .iter()
                .filter(|r| &r.period == period)
                .filter(|r| match &range {
                    None => true,
                    Some(range) => parse_lenient(&r.value).is_some_and(|v| range.matches(&v)),
                })
                .map(|r| r.count)
                .sum();
            out.push(Row::Reach {
                alert: alert.id,
                level: alert.level.clone(),
                affects: alert.affects.clone().unwrap_or_else(|| "*".to_owned()),
                period: period.clone(),
                reach: kanon.figure(reach),
                active: kanon.figure(*active),
            });
        }
    }
    Ok(out)
}

/// `errors`: the groups with a report in the range (their figures cover all
/// their reports), most reports first; groups with fewer distinct
/// signatures than `k` are folded into one "other", last.
pub(crate) fn error_groups(
    store: &dyn Store,
    product: &str,
    query: &Query,
    kanon: KAnon,
) -> Result<Vec<Row>, QueryFailure> {
    let from_ms = query.range.from.start_ms();
    let to_ms = query.range.to.next().start_ms();
    let mut groups: Vec<_> = store
        .error_groups(product)?
        .into_iter()
        .filter(|g| g.last_seen_ms >= from_ms && g.first_seen_ms < to_ms)
        .collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.group.cmp(&b.group)));
    let kept: Vec<String> = kanon
        .fold(groups.iter().map(|g| (g.group.clone(), g.signatures)))
        .into_iter()
        .filter_map(|g| g.value)
        .collect();
    let mut out = Vec::new();
    let (mut other_reports, mut other_signatures) = (0, 0);
    for g in groups {
        if kept.contains(&g.group) {
            out.push(Row::ErrorGroup {
                group: Some(g.group),
                kind: g.kind,
                message: g.message,
                last_seen_ms: Some(g.last_seen_ms),
                reports: g.count,
                signatures: Figure::Exact(g.signatures),
                versions: g.versions.into_iter().map(|v| v.value).collect(),
            });
        } else {
            other_reports += g.count;
            other_signatures += g.signatures;
        }
    }
    if other_reports > 0 {
        out.push(Row::ErrorGroup {
            group: None,
            kind: String::new(),
            message: String::new(),
            last_seen_ms: None,
            reports: other_reports,
            signatures: kanon.figure(other_signatures),
            versions: Vec::new(),
        });
    }
    Ok(out)
}
