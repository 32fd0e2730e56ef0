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
