//! Upgrades after a notice: of the signatures a check told `outdated`, how
//! many were later seen on a newer version, and after how many days.
//!
//! A signature's **notice** is the first ping of it (per product) whose
//! check answer said `outdated: true`: its UTC day, the version it ran and
//! its CI flag. Being told again later changes nothing. Its **upgrade** is
//! the first ping after the notice whose version is newer than the noticed
//! one by semver precedence ([`is_newer`]; versions read leniently as
//! checks read them, by [`sonde_versions::parse_lenient`], an unreadable
//! version is never newer): the days from
//! the notice's day to that ping's day (0 for the same day). A later ping
//! on the same or an older version is not an upgrade.
//!
//! Answers are grouped by the period of the notice ([`UpgradePeriod`]); a
//! signature counts once, in its notice's period, so periods add up.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use sonde_versions::parse_lenient;

use crate::{Day, DayRange, Interval};

/// The signatures first told `outdated` in one period, and their upgrades.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradePeriod {
    /// The period's name (see [`crate::Period`]), of the notices' days.
    pub period: String,
    /// Distinct signatures first told `outdated` in the period.
    pub told: u64,
    /// Of them, those seen on a newer version since: `(days after the
    /// notice, signatures)`, ascending by days, without zero counts.
    pub upgraded_after: Vec<(u32, u64)>,
}

impl UpgradePeriod {
    /// How many of the told signatures upgraded.
    pub fn upgraded(&self) -> u64 {
        self.upgraded_after.iter().map(|(_, n)| n).sum()
    }

    /// The median days to upgrade over those that did (nearest rank: the
    /// smallest number of days with at least half of them at or below it);
    /// `None` if none did.
    pub fn median_days(&self) -> Option<u32> {
        let n = self.upgraded();
        let rank = n.div_ceil(2);
        let mut seen = 0;
        for &(days, count) in &self.upgraded_after {
            seen += count;
            if seen >= rank && n > 0 {
                return Some(days);
            }
        }
        None
    }

    /// Adds `other`'s signatures to this period's (for a whole-range total;
    /// notices are disjoint, so counts add up).
    pub fn absorb(&mut self, other: &UpgradePeriod) {
        self.told += other.told;
        for &(days, n) in &other.upgraded_after {
            add(&mut self.upgraded_after, days, n);
        }
    }
}

fn add(hist: &mut Vec<(u32, u64)>, days: u32, n: u64) {
    if n == 0 {
        return;
    }
    match hist.binary_search_by_key(&days, |(d, _)| *d) {
        Ok(i) => hist[i].1 += n,
        Err(i) => hist.insert(i, (days, n)),
    }
}

/// Folds per-day figures into the periods of `interval` overlapping `range`
/// (every period included, zero if none): `told` gives `(notice day,
/// signatures)`, `upgraded` gives `(notice day, days to upgrade,
/// signatures)`. Days outside those periods are ignored.
pub fn fold(
    range: DayRange,
    interval: Interval,
    told: impl IntoIterator<Item = (Day, u64)>,
    upgraded: impl IntoIterator<Item = (Day, u32, u64)>,
) -> Vec<UpgradePeriod> {
    let periods = interval.periods(range);
    let mut out: Vec<UpgradePeriod> = periods
        .iter()
        .map(|p| UpgradePeriod {
            period: p.name.clone(),
            ..Default::default()
        })
        .collect();
    let index = |day: Day| periods.iter().position(|p| p.days.contains(day));
    for (day, n) in told {
        if let Some(i) = index(day) {
            out[i].told += n;
        }
    }
    for (day, days, n) in upgraded {
        if let Some(i) = index(day) {
            add(&mut out[i].upgraded_after, days, n);
        }
    }
    out
}

/// Whether version `candidate` is newer than `than` by semver precedence
/// (build metadata ignored); an unreadable version is never newer, and
/// nothing is newer than an unreadable version.
///
/// ```
/// use sonde_store::upgrades::is_newer;
/// assert!(is_newer("1.10.0", "1.9.3"));
/// assert!(is_newer("2.0.0", "2.0.0-rc.1"));
/// assert!(!is_newer("1.9.3", "1.9.3+b2"));
/// assert!(!is_newer("1.0.0", "1.2.0"));
/// ```
pub fn is_newer(candidate: &str, than: &str) -> bool {
    match (parse_lenient(candidate), parse_lenient(than)) {
        (Some(c), Some(t)) => c.cmp_precedence(&t) == Ordering::Greater,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::UpgradePeriod;

    #[test]
    fn median_is_nearest_rank() {
        let p = UpgradePeriod {
            period: String::new(),
            told: 10,
            upgraded_after: vec![(0, 1), (2, 1), (5, 1), (9, 1)],
        };
        assert_eq!(p.median_days(), Some(2));
        assert_eq!(UpgradePeriod::default().median_days(), None);
    }
}
