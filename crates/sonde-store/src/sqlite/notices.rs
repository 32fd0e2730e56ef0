//! Upgrades after a notice, kept by the writer thread (see
//! [`crate::upgrades`] for what is counted).
//!
//! Two append-only tables, clustered on `(day, seq)` like
//! `daily_signatures`, so a new row lands at the end of the current day's
//! range and a read of a range of days is one range scan:
//!
//! - `outdated_notices`: a signature's first ping told `outdated`, with its
//!   version and CI flag, appended once per (product, signature);
//! - `notice_upgrades`: the first later ping of a noticed signature on a
//!   newer version, under that ping's day, with the notice's day, the days
//!   between and the notice's CI flag, appended once per (product,
//!   signature).
//!
//! Beside them, `notice_counts` (told per product, day and CI flag) and
//! `upgrade_counts` (upgrades per product, notice day, days to the upgrade
//! and CI flag) are bumped in the same transaction, so reading a range is
//! a lookup of its counters, not a scan of its rows.
//!
//! Whether a signature was told already, and the version it was told about,
//! is kept here in memory ([`Notices`]): loaded from both tables in one scan
//! the first time a ping with a signature arrives after a start or a
//! rolled-back batch, then maintained as rows are appended. A ping whose
//! signature was never told costs one hash lookup; only a ping told
//! `outdated`, or one of a told signature that has not upgraded yet, costs
//! a version comparison, and only a new notice or an upgrade writes a row.
//! Memory: one entry per signature ever told `outdated` (its text, and the
//! parsed version while it has not upgraded).

use std::collections::HashMap;

use rusqlite::{params, Connection};
use semver::Version;

use crate::{Day, DayRange, Interval, UpgradePeriod};
use sonde_versions::parse_lenient;

/// Where a told signature stands.
enum Notice {
    /// Told on `day` that `version` (`None`: unreadable, never upgraded
    /// from) is outdated, with the CI flag of that ping.
    Waiting {
        day: Day,
        version: Option<Version>,
        ci: bool,
    },
    /// Seen on a newer version since.
    Upgraded,
}

/// One ping, as far as notices are concerned.
pub(crate) struct Seen<'a> {
    /// The product.
    pub(crate) product: &'a str,
    /// The ping's signature.
    pub(crate) signature: &'a str,
    /// Its version, if it carried one.
    pub(crate) version: Option<&'a str>,
    /// Its CI flag.
    pub(crate) ci: bool,
    /// Whether its check was answered `outdated: true`.
    pub(crate) told_outdated: bool,
    /// The UTC day it was received on, and that day's name.
    pub(crate) day: Day,
    /// `day` as `YYYY-MM-DD`.
    pub(crate) day_name: &'a str,
}

/// Every told signature of every product, loaded on first use.
#[derive(Default)]
pub(crate) struct Notices {
    loaded: bool,
    products: HashMap<String, HashMap<String, Notice>>,
    /// The `seq` the next row of each table is appended under.
    next_notice: i64,
    next_upgrade: i64,
}

impl Notices {
    /// Records what `ping` changes: a first notice, or a told signature's
    /// first ping on a newer version. Rows are written in `tx`.
    pub(crate) fn observe(&mut self, tx: &Connection, ping: &Seen<'_>) -> rusqlite::Result<()> {
        if !self.loaded {
            self.load(tx)?;
        }
        let known = self
            .products
            .get_mut(ping.product)
            .and_then(|p| p.get_mut(ping.signature));
        match known {
            None if ping.told_outdated => {
                let Some(version) = ping.version else {
                    return Ok(());
                };
                tx.prepare_cached(
                    "INSERT INTO outdated_notices(day, seq, product, signature, ci, version)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    ping.day_name,
                    self.next_notice,
                    ping.product,
                    ping.signature,
                    ping.ci,
                    version
                ])?;
                self.next_notice += 1;
                tx.prepare_cached(
                    "INSERT INTO notice_counts(product, day, ci, told) VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT(product, day, ci) DO UPDATE SET told = told + 1",
                )?
                .execute(params![ping.product, ping.day_name, ping.ci])?;
                self.products.entry(ping.product.to_owned()).or_default().insert(
                    ping.signature.to_owned(),
                    Notice::Waiting {
                        day: ping.day,
                        version: parse_lenient(version),
                        ci: ping.ci,
                    },
                );
            }
            Some(entry) => {
                let Notice::Waiting { day, version, ci } = &*entry else {
                    return Ok(());
                };
                let (day, ci) = (*day, *ci);
                let newer = match (version, ping.version.and_then(parse_lenient)) {
                    (Some(told), Some(now)) => now.cmp_precedence(told).is_gt(),
                    _ => false,
                };
                if !newer {
                    return Ok(());
                }
                tx.prepare_cached(
                    "INSERT INTO notice_upgrades(day, seq, product, signature, notice_day, days, ci, version)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    ping.day_name,
                    self.next_upgrade,
                    ping.product,
                    ping.signature,
                    day.to_string(),
                    ping.day.days_since(day),
                    ci,
                    ping.version
                ])?;
                self.next_upgrade += 1;
                tx.prepare_cached(
                    "INSERT INTO upgrade_counts(product, notice_day, days, ci, n) VALUES (?1, ?2, ?3, ?4, 1)
                     ON CONFLICT(product, notice_day, days, ci) DO UPDATE SET n = n + 1",
                )?
                .execute(params![ping.product, day.to_string(), ping.day.days_since(day), ci])?;
                *entry = Notice::Upgraded;
            }
            None => {}
        }
        Ok(())
    }

    /// Forgets everything after a batch rolled back; reloaded from what
    /// committed on the next ping.
    pub(crate) fn rollback(&mut self) {
        *self = Notices::default();
    }

    fn load(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut stmt = conn.prepare("SELECT day, seq, product, signature, ci, version FROM outdated_notices")?;
        let mut rows = stmt.query([])?;
        self.next_notice = 1;
        while let Some(r) = rows.next()? {
            let day: String = r.get(0)?;
            let seq: i64 = r.get(1)?;
            let version: String = r.get(5)?;
            self.next_notice = self.next_notice.max(seq + 1);
            let notice = Notice::Waiting {
                day: day.parse().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
                })?,
                version: parse_lenient(&version),
                ci: r.get(4)?,
            };
            self.products.entry(r.get(2)?).or_default().insert(r.get(3)?, notice);
        }
        let mut stmt = conn.prepare("SELECT seq, product, signature FROM notice_upgrades")?;
        let mut rows = stmt.query([])?;
        self.next_upgrade = 1;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            self.next_upgrade = self.next_upgrade.max(seq + 1);
            let product: String = r.get(1)?;
            self.products
                .entry(product)
                .or_default()
                .insert(r.get(2)?, Notice::Upgraded);
        }
        self.loaded = true;
        Ok(())
    }
}

/// Upgrades after a notice of `product`, per period of `interval`
/// overlapping `range` (see [`crate::Store::upgrades`]): two grouped range
/// scans over the days the periods cover.
pub(crate) fn read(
    c: &Connection,
    product: &str,
    range: DayRange,
    interval: Interval,
    include_ci: bool,
) -> rusqlite::Result<Vec<UpgradePeriod>> {
    let periods = interval.periods(range);
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return Ok(Vec::new());
    };
    let (from, to) = (first.days.from.to_string(), last.days.to.to_string());
    let day = |s: String| {
        s.parse::<Day>()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
    };
    let mut told = Vec::new();
    let mut stmt = c.prepare_cached(
        "SELECT day, SUM(told) FROM notice_counts
         WHERE product = ?3 AND day >= ?1 AND day <= ?2 AND (?4 OR ci = 0) GROUP BY day",
    )?;
    let mut rows = stmt.query(params![from, to, product, include_ci])?;
    while let Some(r) = rows.next()? {
        told.push((day(r.get(0)?)?, r.get::<_, i64>(1)? as u64));
    }
    let mut upgraded = Vec::new();
    let mut stmt = c.prepare_cached(
        "SELECT notice_day, days, SUM(n) FROM upgrade_counts
         WHERE product = ?3 AND notice_day >= ?1 AND notice_day <= ?2 AND (?4 OR ci = 0)
         GROUP BY notice_day, days",
    )?;
    let mut rows = stmt.query(params![from, to, product, include_ci])?;
    while let Some(r) = rows.next()? {
        upgraded.push((day(r.get(0)?)?, r.get::<_, i64>(1)? as u32, r.get::<_, i64>(2)? as u64));
    }
    Ok(crate::upgrades::fold(range, interval, told, upgraded))
}
