//! The dashboard's data, one function per panel, each returning a plain
//! struct with every figure already under the minimum group size.
//!
//! [`dashboard`] gathers every panel of one product over one range of days
//! in one blocking call (one read per panel, no read per row). Adding a
//! panel: a struct, a function here that fills it from the store, a field of
//! [`Dashboard`] set in [`dashboard`], and its rendering in
//! `crate::dashboard::page`.
//!
//! Active signatures, version adoption, platforms and retention go through
//! the query layer ([`super::query::run`]), so they read only roll-ups and
//! are folded exactly as the admin API folds them. Commands, alert reach and
//! error groups are folded here with [`KAnon::fold`] / [`KAnon::figure`].

use std::collections::BTreeMap;

use serde::Serialize;
use sonde_store::{Day, DayRange, Dimension, Interval, Store, StoreError};

use super::kanon::{Figure, Group, KAnon};
use super::query::{self, Format, Metric, Query, QueryFailure, Row};
use super::upgrades::UpgradeRow;
use sonde_versions::{compare, parse_lenient};

/// Why the dashboard's data could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The query layer refused or failed.
    #[error(transparent)]
    Query(#[from] QueryFailure),
}

/// Every panel of the dashboard for one product and range.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// The product.
    pub product: String,
    /// First day shown.
    pub from: String,
    /// Last day shown.
    pub to: String,
    /// The minimum group size the figures are under.
    pub k: u64,
    /// Active signatures per day.
    pub active: ActivePanel,
    /// Version adoption per day.
    pub versions: VersionsPanel,
    /// OS and architecture in the range's last month.
    pub platforms: PlatformsPanel,
    /// Commands and their error rates.
    pub commands: CommandsPanel,
    /// Alerts in force and their reach.
    pub alerts: AlertsPanel,
    /// Error-report groups.
    pub errors: ErrorsPanel,
    /// Retention by first-seen month.
    pub retention: RetentionPanel,
    /// Upgrades after a notice, per week of the notices.
    pub upgrades: UpgradesPanel,
}

/// Gathers every panel of `product` over `range`, every figure under `kanon`.
pub fn dashboard(store: &dyn Store, product: &str, range: DayRange, kanon: KAnon) -> Result<Dashboard, ViewError> {
    Ok(Dashboard {
        product: product.to_owned(),
        from: range.from.to_string(),
        to: range.to.to_string(),
        k: kanon.k(),
        active: active(store, product, range, kanon)?,
        versions: versions(store, product, range, kanon)?,
        platforms: platforms(store, product, range, kanon)?,
        commands: commands(store, product, range, kanon)?,
        alerts: alerts(store, product, range, kanon)?,
        errors: errors(store, product, range, kanon)?,
        retention: retention(store, product, range, kanon)?,
        upgrades: upgrades(store, product, range, kanon)?,
    })
}

/// A query of the query layer (JSON format, no filter).
fn ask(
    store: &dyn Store,
    product: &str,
    metric: Metric,
    range: DayRange,
    interval: Interval,
    include_ci: bool,
    kanon: KAnon,
) -> Result<Vec<Row>, ViewError> {
    let q = Query {
        metric,
        range,
        interval,
        include_ci,
        format: Format::Json,
        filter: None,
    };
    Ok(query::run(store, product, &q, kanon)?.rows)
}

/// The month of the range's last day, as whole days (periods are whole).
fn last_month(range: DayRange) -> DayRange {
    let first = Day::first_of(range.to.month());
    DayRange::new(first.max(range.from), range.to)
}

/// Active signatures per day, humans and CI apart.
#[derive(Debug, Clone, Serialize)]
pub struct ActivePanel {
    /// Each day of the range, `YYYY-MM-DD`.
    pub days: Vec<String>,
    /// Humans: signatures whose first ping of the day was not from CI.
    pub humans: Vec<Figure>,
    /// CI: signatures whose first ping of the day was from CI. `None` when
    /// it cannot be given without telling a figure below `k` (the day's
    /// humans or whole total is hidden).
    pub ci: Vec<Option<Figure>>,
    /// Humans active in the [`ROLLING_DAYS`] days ending on each day.
    pub rolling: Vec<Figure>,
}

/// The window of the active panel's rolling line, in days.
pub const ROLLING_DAYS: u32 = 28;

/// Active signatures per day: humans, and CI apart. Both come from the
/// query layer (without and with CI); the two groups are disjoint, so CI is
/// their difference, itself under the minimum group size. Only humans and
/// CI are shown, not the total, so a small CI figure cannot be had by
/// subtraction on the page. Beside them, the humans of the
/// [`ROLLING_DAYS`] days ending on each day (metric `rolling`).
pub fn active(store: &dyn Store, product: &str, range: DayRange, kanon: KAnon) -> Result<ActivePanel, ViewError> {
    let series = |include_ci| -> Result<Vec<(String, Figure)>, ViewError> {
        Ok(
            ask(store, product, Metric::Active, range, Interval::Day, include_ci, kanon)?
                .into_iter()
                .filter_map(|r| match r {
                    Row::Period { period, count, .. } => Some((period, count)),
                    _ => None,
                })
                .collect(),
        )
    };
    let humans = series(false)?;
    let all = series(true)?;
    let ci = humans
        .iter()
        .zip(&all)
        .map(|((_, h), (_, a))| match (h, a) {
            (Figure::Exact(h), Figure::Exact(a)) => Some(kanon.figure(a.saturating_sub(*h))),
            _ => None,
        })
        .collect();
    let window = Metric::Rolling { window: ROLLING_DAYS };
    let rolling = ask(store, product, window, range, Interval::Day, false, kanon)?
        .into_iter()
        .filter_map(|r| match r {
            Row::Period { count, .. } => Some(count),
            _ => None,
        })
        .collect();
    Ok(ActivePanel {
        days: humans.iter().map(|(d, _)| d.clone()).collect(),
        humans: humans.into_iter().map(|(_, f)| f).collect(),
        ci,
        rolling,
    })
}

/// One version's signatures per day.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSeries {
    /// The version; `None` for "other", the versions folded together.
    pub version: Option<String>,
    /// Its signatures on each day of [`VersionsPanel::days`] (zero when absent).
    pub counts: Vec<Figure>,
}

/// Version adoption: humans per version per day, newest version first,
/// "other" last.
#[derive(Debug, Clone, Serialize)]
pub struct VersionsPanel {
    /// Each day of the range.
    pub days: Vec<String>,
    /// One series per version shown.
    pub series: Vec<VersionSeries>,
}

impl VersionsPanel {
    /// The share (0 to 1) of each series on `day` (an index of `days`):
    /// `None` on a day without signatures, or one whose figures are hidden.
    pub fn shares(&self, day: usize) -> Vec<Option<f64>> {
        let mut total = 0u64;
        for s in &self.series {
            match s.counts[day] {
                Figure::Exact(n) => total += n,
                Figure::FewerThan { .. } => return vec![None; self.series.len()],
            }
        }
        self.series
            .iter()
            .map(|s| match s.counts[day] {
                Figure::Exact(n) if total > 0 => Some(n as f64 / total as f64),
                _ => None,
            })
            .collect()
    }
}

/// Version adoption per day (humans).
pub fn versions(store: &dyn Store, product: &str, range: DayRange, kanon: KAnon) -> Result<VersionsPanel, ViewError> {
    let metric = Metric::Breakdown {
        dimension: Dimension::Version,
    };
    let rows = ask(store, product, metric, range, Interval::Day, false, kanon)?;
    let days: Vec<String> = range.days().map(|d| d.to_string()).collect();
    let index: BTreeMap<&str, usize> = days.iter().enumerate().map(|(i, d)| (d.as_str(), i)).collect();
    let mut by_version: BTreeMap<Option<String>, Vec<Figure>> = BTreeMap::new();
    for row in rows {
        let Row::Group(g) = row else { continue };
        let Some(&i) = index.get(g.period.as_str()) else {
            continue;
        };
        by_version
            .entry(g.value)
            .or_insert_with(|| vec![Figure::Exact(0); days.len()])[i] = g.count;
    }
    let mut series: Vec<VersionSeries> = by_version
        .into_iter()
        .map(|(version, counts)| VersionSeries { version, counts })
        .collect();
    // A total order: semantic versions newest first, then other strings
    // (descending), then "other".
    let rank = |s: &VersionSeries| match &s.version {
        None => 2,
        Some(v) if parse_lenient(v).is_some() => 0,
        Some(_) => 1,
    };
    series.sort_by(|a, b| {
        rank(a).cmp(&rank(b)).then_with(|| match (&a.version, &b.version) {
            (Some(x), Some(y)) => match (parse_lenient(x), parse_lenient(y)) {
                (Some(vx), Some(vy)) => compare(&vy, &vx).then_with(|| y.cmp(x)),
                _ => y.cmp(x),
            },
            _ => std::cmp::Ordering::Equal,
        })
    });
    Ok(VersionsPanel { days, series })
}

/// OS and architecture of the humans active in one month.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformsPanel {
    /// The month, `YYYY-MM` (the month of the range's last day, whole).
    pub month: String,
    /// Signatures per OS, "other" last.
    pub os: Vec<Group>,
    /// Signatures per architecture, "other" last.
    pub arch: Vec<Group>,
}

/// Groups most signatures first, "other" last.
fn by_count(mut groups: Vec<Group>) -> Vec<Group> {
    let key = |g: &Group| match (g.value.is_none(), g.count) {
        (false, Figure::Exact(n)) => (0, std::cmp::Reverse(n)),
        (false, Figure::FewerThan { .. }) => (0, std::cmp::Reverse(0)),
        (true, _) => (1, std::cmp::Reverse(0)),
    };
    groups.sort_by_key(key);
    groups
}

/// OS and architecture in the month of the range's last day.
pub fn platforms(store: &dyn Store, product: &str, range: DayRange, kanon: KAnon) -> Result<PlatformsPanel, ViewError> {
    let month = last_month(range);
    let groups = |dimension| -> Result<Vec<Group>, ViewError> {
        let rows = ask(
            store,
            product,
            Metric::Breakdown { dimension },
            month,
            Interval::Month,
            false,
            kanon,
        )?;
        Ok(by_count(
            rows.into_iter()
                .filter_map(|r| match r {
                    Row::Group(g) => Some(Group {
                        value: g.value,
                        count: g.count,
                    }),
                    _ => None,
                })
                .collect(),
        ))
    };
    Ok(PlatformsPanel {
        month: range.to.month().to_string(),
        os: groups(Dimension::Os)?,
        arch: groups(Dimension::Arch)?,
    })
}

/// One command (or "other") and its errors.
#[derive(Debug, Clone, Serialize)]
pub struct CommandRow {
    /// The command path; `None` for "other".
    pub command: Option<String>,
    /// Executions.
    pub uses: Figure,
    /// Executions that ended in an error; `None` when `uses` is hidden.
    pub errors: Option<u64>,
}

impl CommandRow {
    /// Errors per execution (0 to 1), when both are shown.
    pub fn error_rate(&self) -> Option<f64> {
        match (self.uses, self.errors) {
            (Figure::Exact(n), Some(e)) if n > 0 => Some(e as f64 / n as f64),
            _ => None,
        }
    }
}

/// Command runs in the month of the range's last day, most used first,
/// from the command roll-ups kept at ingest (the query's `commands`
/// metric): a command run by fewer than `k` distinct installations is in
/// "other".
#[derive(Debug, Clone, Serialize)]
pub struct CommandsPanel {
    /// First month counted, `YYYY-MM`.
    pub from_month: String,
    /// Last month counted.
    pub to_month: String,
    /// One row per command shown, "other" last.
    pub rows: Vec<CommandRow>,
}

/// Commands and their error rates in the range's last month (test events
/// left out).
pub fn commands(store: &dyn Store, product: &str, range: DayRange, kanon: KAnon) -> Result<CommandsPanel, ViewError> {
    let month = range.to.month().to_string();
    let rows = super::events::event_rows(
        store,
        product,
        sonde_store::EventGroup::Command,
        last_month(range),
        Interval::Month,
        kanon,
    )?;
    let (mut kept, other): (Vec<CommandRow>, Vec<CommandRow>) = rows
        .into_iter()
        .map(|r| CommandRow {
            uses: r.events.map_or(r.installations, Figure::Exact),
            errors: r.errors,
            command: r.value,
        })
        .partition(|r| r.command.is_some());
    kept.sort_by(|a, b| match (a.uses, b.uses) {
        (Figure::Exact(x), Figure::Exact(y)) => y.cmp(&x).then_with(|| a.command.cmp(&b.command)),
        _ => a.command.cmp(&b.command),
    });
    kept.extend(other);
    Ok(CommandsPanel {
        from_month: month.clone(),
        to_month: month,
        rows: kept,
    })
}

/// One alert in force.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRow {
    /// Its id.
    pub id: i64,
    /// `info`, `warn` or `critical`.
    pub level: String,
    /// The message users see.
    pub message: String,
    /// Where to read more.
    pub url: Option<String>,
    /// The affected versions; `None` for every version.
    pub affects: Option<String>,
    /// Humans active in [`AlertsPanel::month`] on an affected version.
    pub reach: Figure,
}

/// The alerts in force and how many humans they reach.
#[derive(Debug, Clone, Serialize)]
pub struct AlertsPanel {
    /// The month reach is counted in (the month of the range's last day).
    pub month: String,
    /// The alerts, by id.
    pub alerts: Vec<AlertRow>,
}

/// The alerts of `product`, each with the humans active in the range's last
/// month on a version it affects (the query's `alerts` metric).
pub fn alerts(store: &dyn Store, product: &str, range: DayRange, kanon: KAnon) -> Result<AlertsPanel, ViewError> {
    let records = store.alerts(Some(product))?;
    let reach = if records.is_empty() {
        Vec::new()
    } else {
        ask(
            store,
            product,
            Metric::Alerts,
            last_month(range),
            Interval::Month,
            false,
            kanon,
        )?
    };
    let alerts = records
        .into_iter()
        .map(|a| {
            let reach = reach
                .iter()
                .find_map(|r| match r {
                    Row::Reach { alert, reach, .. } if *alert == a.id => Some(*reach),
                    _ => None,
                })
                // An alert whose range no longer parses reaches no one.
                .unwrap_or(Figure::Exact(0));
            AlertRow {
                id: a.id,
                level: a.level,
                message: a.message,
                url: a.url,
                affects: a.affects,
                reach,
            }
        })
        .collect();
    Ok(AlertsPanel {
        month: range.to.month().to_string(),
        alerts,
    })
}

/// One error group (or "other").
#[derive(Debug, Clone, Serialize)]
pub struct ErrorRow {
    /// The group's id; `None` for "other".
    pub group: Option<String>,
    /// `kind: message` of its latest report; empty for "other".
    pub title: String,
    /// Reports; `None` when the signatures are hidden.
    pub reports: Option<u64>,
    /// Distinct signatures (for "other": the sum over the groups folded).
    pub signatures: Figure,
    /// When the last report arrived, Unix milliseconds; `None` for "other".
    pub last_seen_ms: Option<i64>,
}

/// Error-report groups over the reports kept, latest seen first, folded by
/// distinct signatures.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorsPanel {
    /// The groups shown, "other" last.
    pub groups: Vec<ErrorRow>,
}

/// The error groups of `product` with a report in `range`, a group with
/// fewer than `k` signatures folded into "other" (the query's `errors`
/// metric).
pub fn errors(store: &dyn Store, product: &str, range: DayRange, kanon: KAnon) -> Result<ErrorsPanel, ViewError> {
    let rows = ask(store, product, Metric::Errors, range, Interval::Day, false, kanon)?;
    let groups = rows
        .into_iter()
        .filter_map(|r| match r {
            Row::ErrorGroup {
                group,
                kind,
                message,
                last_seen_ms,
                reports,
                signatures,
                ..
            } => Some(ErrorRow {
                title: if group.is_some() {
                    format!("{kind}: {message}")
                } else {
                    String::new()
                },
                group,
                reports: matches!(signatures, Figure::Exact(_)).then_some(reports),
                signatures,
                last_seen_ms,
            }),
            _ => None,
        })
        .collect();
    Ok(ErrorsPanel { groups })
}

/// Retention: for each first-seen month of the range, its humans active in
/// each month since.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionPanel {
    /// The months of the range, `YYYY-MM`: the rows (cohorts) and the columns.
    pub months: Vec<String>,
    /// `cells[c][m]`: cohort `months[c]` active in `months[m]`; `None`
    /// before the cohort's month.
    pub cells: Vec<Vec<Option<Figure>>>,
}

/// Retention by first-seen month over the months of the range.
pub fn retention(store: &dyn Store, product: &str, range: DayRange, kanon: KAnon) -> Result<RetentionPanel, ViewError> {
    let rows = ask(store, product, Metric::Cohorts, range, Interval::Month, false, kanon)?;
    let months: Vec<String> = Interval::Month.periods(range).into_iter().map(|p| p.name).collect();
    let mut cells: Vec<Vec<Option<Figure>>> = (0..months.len())
        .map(|c| {
            (0..months.len())
                .map(|m| (m >= c).then_some(Figure::Exact(0)))
                .collect()
        })
        .collect();
    let at = |m: &str| months.iter().position(|x| x == m);
    for row in rows {
        if let Row::Cohort { cohort, month, count } = row {
            if let (Some(c), Some(m)) = (at(&cohort), at(&month)) {
                cells[c][m] = Some(count);
            }
        }
    }
    Ok(RetentionPanel { months, cells })
}

/// Upgrades after a notice: humans first told `outdated` in each ISO week
/// of the range, how many were seen on a newer version since, and after
/// how many days (see [`super::upgrades`]).
#[derive(Debug, Clone, Serialize)]
pub struct UpgradesPanel {
    /// One row per week (named by its Monday), in order.
    pub weeks: Vec<UpgradeRow>,
    /// The total over the weeks shown (`period` `None`).
    pub total: UpgradeRow,
}

/// Upgrades after a notice per ISO week of the range, humans only.
pub fn upgrades(store: &dyn Store, product: &str, range: DayRange, kanon: KAnon) -> Result<UpgradesPanel, ViewError> {
    let mut weeks = super::upgrades::upgrade_rows(store, product, range, Interval::Week, false, kanon)?;
    let total = weeks.pop().expect("the total row is always there");
    Ok(UpgradesPanel { weeks, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonde_protocol::{ClientFamily, ProductName, UsagePing};
    use sonde_store::{MemoryStore, NewPing};

    fn ping(i: u32, day: &str, version: &str, os: &str, ci: bool) -> NewPing {
        NewPing {
            ping: UsagePing {
                product: ProductName::parse("demo").unwrap(),
                version: Some(version.into()),
                os: Some(os.into()),
                arch: Some("x86_64".into()),
                runtime_version: None,
                signature: Some(format!("{i:08x}-0000-4000-8000-000000000000")),
                ci: Some(ci),
                ci_name: None,
                client_family: ClientFamily::GoCheckpoint,
                project_hash: None,
                cli_path_hash: None,
                received_at_ms: day.parse::<Day>().unwrap().start_ms() + 43_200_000,
            },
            source: "check",
            dropped: Vec::new(),
            told_outdated: false,
        }
    }

    /// 2026-11-02: 6 on 1.2.0, 5 on 1.1.0, 3 on 0.9.0, 2 on 0.8.0 (16
    /// humans; 12 on linux, 4 on darwin), plus 4 CI signatures on 1.2.0.
    fn store() -> MemoryStore {
        let store = MemoryStore::new();
        let mut i = 0;
        for (version, n) in [("1.2.0", 6), ("1.1.0", 5), ("0.9.0", 3), ("0.8.0", 2)] {
            for _ in 0..n {
                let os = if i % 4 == 3 { "darwin" } else { "linux" };
                store.record_ping(ping(i, "2026-11-02", version, os, false)).unwrap();
                i += 1;
            }
        }
        for _ in 0..4 {
            store
                .record_ping(ping(i, "2026-11-02", "1.2.0", "linux", true))
                .unwrap();
            i += 1;
        }
        store
    }

    fn range() -> DayRange {
        DayRange::new("2026-11-01".parse().unwrap(), "2026-11-03".parse().unwrap())
    }

    #[test]
    fn active_and_versions_are_folded_per_day() {
        let d = dashboard(&store(), "demo", range(), KAnon::default()).unwrap();
        assert_eq!(d.active.days, ["2026-11-01", "2026-11-02", "2026-11-03"]);
        assert_eq!(d.active.humans, [Figure::Exact(0), Figure::Exact(16), Figure::Exact(0)]);
        // The 16 humans of the 2nd stay in the 28-day windows after it.
        assert_eq!(
            d.active.rolling,
            [Figure::Exact(0), Figure::Exact(16), Figure::Exact(16)]
        );
        // 4 in CI: fewer than 5.
        assert_eq!(
            d.active.ci,
            [
                Some(Figure::Exact(0)),
                Some(Figure::FewerThan { fewer_than: 5 }),
                Some(Figure::Exact(0))
            ]
        );
        let shown: Vec<_> = d
            .versions
            .series
            .iter()
            .map(|s| (s.version.as_deref(), s.counts[1]))
            .collect();
        assert_eq!(
            shown,
            [
                (Some("1.2.0"), Figure::Exact(6)),
                (Some("1.1.0"), Figure::Exact(5)),
                (None, Figure::Exact(5)),
            ]
        );
        assert_eq!(
            d.versions.shares(1),
            [Some(6.0 / 16.0), Some(5.0 / 16.0), Some(5.0 / 16.0)]
        );
        assert_eq!(d.versions.shares(0), [None, None, None]);
        // The month: 12 on linux, darwin's 4 folded into "other" (fewer than 5).
        assert_eq!(d.platforms.month, "2026-11");
        assert_eq!(
            d.platforms.os,
            [Group {
                value: None,
                count: Figure::Exact(16)
            }]
        );
        assert_eq!(d.retention.months, ["2026-11"]);
        assert_eq!(d.retention.cells, [[Some(Figure::Exact(16))]]);
    }

    #[test]
    fn versions_are_ordered_newest_first_then_other_strings() {
        let store = MemoryStore::new();
        for (i, v) in ["9.0.0", "5_x", "10.0.0", "banana", "1.2"].iter().enumerate() {
            store
                .record_ping(ping(i as u32, "2026-11-02", v, "linux", false))
                .unwrap();
        }
        let panel = versions(&store, "demo", range(), KAnon::new(1).unwrap()).unwrap();
        let order: Vec<_> = panel.series.iter().map(|s| s.version.as_deref().unwrap()).collect();
        assert_eq!(order, ["10.0.0", "9.0.0", "1.2", "banana", "5_x"]);
    }

    #[test]
    fn a_lone_small_group_is_fewer_than_k() {
        let store = MemoryStore::new();
        for i in 0..3 {
            store
                .record_ping(ping(i, "2026-11-02", "1.0.0", "linux", false))
                .unwrap();
        }
        let d = dashboard(&store, "demo", range(), KAnon::default()).unwrap();
        assert_eq!(d.active.humans[1], Figure::FewerThan { fewer_than: 5 });
        assert_eq!(d.versions.series.len(), 1);
        assert_eq!(d.versions.series[0].version, None);
        assert_eq!(d.versions.shares(1), [None]);
    }

    #[test]
    fn command_error_rates_keep_their_errors_through_the_fold() {
        let row = |command: &str, uses, errors| CommandRow {
            command: Some(command.into()),
            uses: Figure::Exact(uses),
            errors: Some(errors),
        };
        assert_eq!(row("build", 10, 3).error_rate(), Some(0.3));
        let hidden = CommandRow {
            command: None,
            uses: Figure::FewerThan { fewer_than: 5 },
            errors: None,
        };
        assert_eq!(hidden.error_rate(), None);
        // Folded by distinct installations: "test" (3) and "rare" (2) are
        // folded, "other" then holds 5 installations and 9 runs.
        let store = MemoryStore::new();
        let event = |i: u32, command: &str, is_error: bool, month_day: &str| {
            let installation = match command {
                "demo build" => i % 8,
                "demo test" => 100 + i % 3,
                _ => 200 + i,
            };
            let mut fields = sonde_protocol::Fields::new();
            fields.insert("command", command.into());
            fields.insert("uuid", format!("{installation:08x}-1c1c-4000-8000-000000000001").into());
            fields.insert("is_error", is_error.into());
            sonde_protocol::Event {
                id: format!("{i:08x}-0000-4000-8000-000000000001"),
                kind: sonde_protocol::EventKind::Command,
                product: ProductName::parse("demo").unwrap(),
                test: false,
                occurred_at_ms: None,
                received_at_ms: month_day.parse::<Day>().unwrap().start_ms(),
                fields,
            }
        };
        let mut events = Vec::new();
        for i in 0..20 {
            events.push(event(i, "demo build", i < 4, "2026-11-02"));
        }
        for i in 20..27 {
            events.push(event(i, "demo test", false, "2026-11-02"));
        }
        for i in 27..29 {
            events.push(event(i, "demo rare", true, "2026-11-02"));
        }
        // Another month, outside the range: not counted.
        events.push(event(29, "demo build", true, "2026-12-02"));
        store
            .store_events(sonde_store::NewEvents {
                product: ProductName::parse("demo").unwrap(),
                source: "native",
                events,
                dropped: Vec::new(),
            })
            .unwrap()
            .wait_blocking()
            .unwrap();
        let panel = commands(&store, "demo", range(), KAnon::default()).unwrap();
        let rows: Vec<_> = panel
            .rows
            .iter()
            .map(|r| (r.command.as_deref(), r.uses, r.errors))
            .collect();
        assert_eq!(
            rows,
            [
                (Some("demo build"), Figure::Exact(20), Some(4)),
                (None, Figure::Exact(9), Some(2)),
            ]
        );
        assert_eq!(panel.rows[0].error_rate(), Some(0.2));
    }
}
