//! Upgrades after a notice as shown: per notice cohort (the period of the
//! day a signature was first told `outdated`), the signatures told, how
//! many were later seen on a newer version, that share and the median days
//! it took; then the total over the cohorts shown. See
//! [`sonde_store::upgrades`] for what is counted.
//!
//! Under the minimum group size `k`:
//!
//! - a cohort of fewer than `k` signatures is withheld: its `told` is
//!   "fewer than k" and nothing else of it is given, and it is left out of
//!   the total (which therefore cannot be used to recover it);
//! - `upgraded` (and the share) is given only when both sides, those who
//!   upgraded and those who did not, are zero or at least `k` (either
//!   could be had from the other and `told`), as for new and returning;
//! - the median days is given only over at least `k` upgraded signatures.

use serde::Serialize;
use serde_json::Number;
use sonde_store::{DayRange, Interval, Store, StoreError, UpgradePeriod};

use super::kanon::{Figure, KAnon};

/// One notice cohort, or the total over the cohorts shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpgradeRow {
    /// The period of the notices; `None` for the total.
    pub period: Option<String>,
    /// Signatures first told `outdated` in the period.
    pub told: Figure,
    /// Of them, seen on a newer version since; `None` when withheld.
    pub upgraded: Option<Figure>,
    /// `upgraded / told`, rounded to four places; `None` when withheld or
    /// nobody was told.
    pub share: Option<Number>,
    /// Median days from the notice to the first newer version (nearest
    /// rank); `None` under `k` upgraded signatures.
    pub median_days: Option<u32>,
}

/// The header of the CSV rows ([`upgrade_csv`]).
pub const UPGRADES_CSV_HEADER: &str = "period,told,upgraded,share,median_days";

/// The rows of `upgrades`: every period of `interval` overlapping `range`,
/// then the total (`period` `None`).
pub fn upgrade_rows(
    store: &dyn Store,
    product: &str,
    range: DayRange,
    interval: Interval,
    include_ci: bool,
    kanon: KAnon,
) -> Result<Vec<UpgradeRow>, StoreError> {
    let periods = store.upgrades(product, range, interval, include_ci)?;
    let mut total = UpgradePeriod::default();
    let mut rows: Vec<UpgradeRow> = periods
        .iter()
        .map(|p| {
            let row = row(Some(p.period.clone()), p, kanon);
            if p.told == 0 || p.told >= kanon.k() {
                total.absorb(p);
            }
            row
        })
        .collect();
    rows.push(row(None, &total, kanon));
    Ok(rows)
}

fn row(period: Option<String>, p: &UpgradePeriod, kanon: KAnon) -> UpgradeRow {
    let k = kanon.k();
    if p.told > 0 && p.told < k {
        return UpgradeRow {
            period,
            told: kanon.figure(p.told),
            upgraded: None,
            share: None,
            median_days: None,
        };
    }
    let upgraded = p.upgraded();
    let smaller = upgraded.min(p.told - upgraded);
    let shown = smaller == 0 || smaller >= k;
    UpgradeRow {
        period,
        told: Figure::Exact(p.told),
        upgraded: shown.then_some(Figure::Exact(upgraded)),
        share: (shown && p.told > 0)
            .then(|| Number::from_f64((upgraded as f64 / p.told as f64 * 10_000.0).round() / 10_000.0))
            .flatten(),
        median_days: if shown && upgraded >= k { p.median_days() } else { None },
    }
}

fn figure(f: Figure) -> String {
    match f {
        Figure::Exact(n) => n.to_string(),
        Figure::FewerThan { fewer_than } => format!("<{fewer_than}"),
    }
}

/// One row as a CSV line: the total's period is `(total)`, withheld
/// figures are empty, a figure under `k` is `<k`; fields quoted by `field`.
pub fn upgrade_csv(r: &UpgradeRow, field: fn(&str) -> String) -> String {
    format!(
        "{},{},{},{},{}",
        field(r.period.as_deref().unwrap_or("(total)")),
        figure(r.told),
        r.upgraded.map(figure).unwrap_or_default(),
        r.share.as_ref().map(ToString::to_string).unwrap_or_default(),
        r.median_days.map(|d| d.to_string()).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonde_protocol::{ClientFamily, ProductName, UsagePing};
    use sonde_store::{Day, MemoryStore, NewPing};

    fn period(told: u64, upgraded_after: &[(u32, u64)]) -> UpgradePeriod {
        UpgradePeriod {
            period: "2026-11-02".into(),
            told,
            upgraded_after: upgraded_after.to_vec(),
        }
    }

    #[test]
    fn small_cohorts_and_small_sides_are_withheld() {
        let k = KAnon::default();
        let shown = row(None, &period(40, &[(0, 3), (2, 10), (4, 5), (9, 7)]), k);
        assert_eq!(
            (shown.told, shown.upgraded, shown.median_days),
            (Figure::Exact(40), Some(Figure::Exact(25)), Some(2))
        );
        assert_eq!(shown.share.as_ref().and_then(Number::as_f64), Some(0.625));
        let small = row(None, &period(3, &[(1, 3)]), k);
        assert_eq!(
            (small.told, small.upgraded, small.share.clone(), small.median_days),
            (Figure::FewerThan { fewer_than: 5 }, None, None, None)
        );
        // 4 upgraded and 3 did not: either side would tell a group under k.
        let split = row(None, &period(7, &[(1, 4)]), k);
        assert_eq!(
            (split.told, split.upgraded, split.median_days),
            (Figure::Exact(7), None, None)
        );
        let few_upgraded = row(None, &period(12, &[(1, 3)]), k);
        assert_eq!((few_upgraded.upgraded, few_upgraded.share), (None, None));
        // Everyone upgraded, or nobody: nothing small to hide.
        let all = row(None, &period(6, &[(0, 6)]), k);
        assert_eq!((all.upgraded, all.median_days), (Some(Figure::Exact(6)), Some(0)));
        let none = row(None, &period(6, &[]), k);
        assert_eq!((none.upgraded, none.median_days), (Some(Figure::Exact(0)), None));
        assert_eq!(none.share.as_ref().and_then(Number::as_f64), Some(0.0));
        let nobody = row(None, &period(0, &[]), k);
        assert_eq!((nobody.told, nobody.share.clone()), (Figure::Exact(0), None));
        assert_eq!(
            upgrade_csv(&shown, |s| s.to_owned()),
            "(total),40,25,0.625,2",
            "the total's line"
        );
        assert_eq!(upgrade_csv(&small, |s| s.to_owned()), "(total),<5,,,");
    }

    fn ping(i: u32, day: &str, version: &str, told_outdated: bool) -> NewPing {
        NewPing {
            ping: UsagePing {
                product: ProductName::parse("demo").unwrap(),
                version: Some(version.into()),
                os: None,
                arch: None,
                runtime_version: None,
                signature: Some(format!("{i:08x}-0000-4000-8000-000000000000")),
                ci: Some(false),
                ci_name: None,
                client_family: ClientFamily::GoCheckpoint,
                project_hash: None,
                cli_path_hash: None,
                received_at_ms: day.parse::<Day>().unwrap().start_ms() + 43_200_000,
            },
            source: "check",
            dropped: Vec::new(),
            told_outdated,
        }
    }

    #[test]
    fn the_total_leaves_withheld_cohorts_out() {
        let store = MemoryStore::new();
        let send = |p: NewPing| store.record_ping(p).unwrap().wait_blocking().unwrap();
        // Week of 2 November: 6 told, all upgrade 3 days later; week of 9
        // November: 2 told, one upgrades.
        for i in 0..6 {
            send(ping(i, "2026-11-02", "1.0.0", true));
            send(ping(i, "2026-11-05", "1.1.0", false));
        }
        for i in 10..12 {
            send(ping(i, "2026-11-09", "1.0.0", true));
        }
        send(ping(10, "2026-11-10", "1.1.0", false));
        let range = DayRange::new("2026-11-02".parse().unwrap(), "2026-11-15".parse().unwrap());
        let rows = upgrade_rows(&store, "demo", range, Interval::Week, false, KAnon::default()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].told, Figure::FewerThan { fewer_than: 5 });
        assert_eq!(rows[1].upgraded, None);
        assert_eq!(
            (
                rows[2].period.as_deref(),
                rows[2].told,
                rows[2].upgraded,
                rows[2].median_days
            ),
            (None, Figure::Exact(6), Some(Figure::Exact(6)), Some(3))
        );
    }
}
