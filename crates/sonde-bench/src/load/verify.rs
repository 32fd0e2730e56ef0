//! The checker: a [`Ledger`] against what the collector stored: its SQLite
//! file, opened read-only beside (or after) the collector, or its
//! ClickHouse database, read over HTTP.
//!
//! For items with an id: every acknowledged id must be stored exactly once,
//! and nothing may be stored that was never sent or was refused. For pings
//! and heartbeats, counted per signature or instance: stored must lie
//! between the acknowledged count and that plus the unanswered requests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::ledger::{Count, Ids, Ledger};
use super::wire::HASURA;

/// Why the store could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The database file could not be opened.
    #[error("cannot open {path} read-only")]
    Open {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// A query failed.
    #[error("cannot read the store")]
    Query(#[from] rusqlite::Error),
    /// A ClickHouse query failed (or its URL is not one).
    #[error("cannot read the ClickHouse store")]
    ClickHouse(#[from] sonde_clickhouse::ClickHouseError),
}

/// The result for one kind of item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// Acknowledged items.
    pub acked: u64,
    /// Items stored.
    pub stored: u64,
    /// Acknowledged and not stored: examples (at most 5) and how many.
    pub lost: (u64, Vec<String>),
    /// Stored more often than sent: examples and how many.
    pub duplicated: (u64, Vec<String>),
    /// Stored but never acknowledged nor left unanswered (sent and refused,
    /// or never sent): examples and how many.
    pub unexpected: (u64, Vec<String>),
}

impl Check {
    /// Whether nothing was lost, duplicated or unexpected.
    pub fn clean(&self) -> bool {
        self.lost.0 == 0 && self.duplicated.0 == 0 && self.unexpected.0 == 0
    }
}

fn note(slot: &mut (u64, Vec<String>), what: String) {
    slot.0 += 1;
    if slot.1.len() < 5 {
        slot.1.push(what);
    }
}

/// The verdict over every kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// By kind: pings, events, cli, heartbeats, console, reports.
    pub checks: BTreeMap<&'static str, Check>,
}

impl Verdict {
    /// Whether every kind is clean.
    pub fn clean(&self) -> bool {
        self.checks.values().all(Check::clean)
    }

    /// Acknowledged items, all kinds.
    pub fn acked(&self) -> u64 {
        self.checks.values().map(|c| c.acked).sum()
    }

    /// One line per kind.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for (name, c) in &self.checks {
            out += &format!(
                "{name:<11} acked {:>8}  stored {:>8}  lost {}  duplicated {}  unexpected {}",
                c.acked, c.stored, c.lost.0, c.duplicated.0, c.unexpected.0
            );
            for (label, (_, ex)) in [
                ("lost", &c.lost),
                ("duplicated", &c.duplicated),
                ("unexpected", &c.unexpected),
            ] {
                if !ex.is_empty() {
                    out += &format!("  {label}: {}", ex.join(" "));
                }
            }
            out.push('\n');
        }
        out += if self.clean() {
            "every acknowledged item is stored exactly once\n"
        } else {
            "FAILED: acknowledged items lost or stored twice\n"
        };
        out
    }
}

/// What a store holds of one run, counted per key the ledger keeps: per id
/// for items with one, per signature or instance for pings and heartbeats.
/// Keys are 32 lower-case hex digits where they are UUIDs (dashes dropped).
#[derive(Debug, Default)]
struct Stored {
    pings: BTreeMap<String, u64>,
    events: BTreeMap<String, u64>,
    reports: BTreeMap<String, u64>,
    cli: BTreeMap<String, u64>,
    console: BTreeMap<String, u64>,
    heartbeats: BTreeMap<String, u64>,
}

/// A key as the ledger writes it.
fn key(k: &str) -> String {
    k.replace('-', "").to_lowercase()
}

/// Checks `ledger` against `<data_dir>/sonde.db`, the SQLite store: every
/// stored row counts, so a row stored twice is a duplicate.
pub fn verify(ledger: &Ledger, data_dir: &Path) -> Result<Verdict, VerifyError> {
    let path = data_dir.join("sonde.db");
    let db = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|source| VerifyError::Open { path, source })?;
    db.busy_timeout(std::time::Duration::from_secs(10))?;
    let grouped = |sql: &str, product: &str| -> Result<BTreeMap<String, u64>, VerifyError> {
        let mut stmt = db.prepare(sql)?;
        let rows = stmt.query_map([product], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (k, n) = row?;
            *out.entry(key(&k.unwrap_or_default())).or_default() += n as u64;
        }
        Ok(out)
    };
    let by_field = |kind: &str, field: &str| {
        grouped(
            &format!(
                "SELECT json_extract(fields, '$.{field}'), count(*) FROM events \
                 WHERE product = ?1 AND kind = '{kind}' GROUP BY 1"
            ),
            HASURA,
        )
    };
    let p = ledger.product.as_str();
    let stored = Stored {
        pings: grouped(
            "SELECT signature, count(*) FROM pings WHERE product = ?1 GROUP BY signature",
            p,
        )?,
        events: grouped(
            "SELECT lower(hex(id)), count(*) FROM events WHERE product = ?1 GROUP BY id",
            p,
        )?,
        reports: grouped(
            "SELECT lower(hex(id)), count(*) FROM error_reports WHERE product = ?1 GROUP BY id",
            p,
        )?,
        cli: by_field("command", "execution_id")?,
        console: by_field("console", "cli_uuid")?,
        heartbeats: by_field("heartbeat", "instance_uid")?,
    };
    Ok(verdict(ledger, &stored))
}

/// Checks `ledger` against the ClickHouse store at `url`
/// (`clickhouse://host:port/database`), as its reads count: ids, never
/// rows. A row ClickHouse holds twice with the same id (a spill body
/// re-sent after a crash between its insert and its removal from the
/// spill) is one item, as every answer of the store counts it; a write
/// stored twice under two ids (a ping or an event counted twice) is a
/// duplicate.
pub fn verify_clickhouse(ledger: &Ledger, url: &str) -> Result<Verdict, VerifyError> {
    use sonde_clickhouse::{lit, Client, Endpoint};

    #[derive(serde::Deserialize)]
    struct Row {
        k: String,
        n: u64,
    }
    let client = Client::new(Endpoint::parse(url)?, std::time::Duration::from_secs(60));
    let db = client.endpoint().database.clone();
    let grouped = |sql: String| -> Result<BTreeMap<String, u64>, VerifyError> {
        let mut out = BTreeMap::new();
        for row in client.rows::<Row>(&sql)? {
            *out.entry(key(&row.k)).or_default() += row.n;
        }
        Ok(out)
    };
    // Events and reports: one item per id (a query's own count).
    let ids = |table: &str, id: &str, product: &str| {
        grouped(format!(
            "SELECT toString({id}) AS k, toUInt64(1) AS n FROM {db}.{table} WHERE product = {} GROUP BY {id}",
            lit(product)
        ))
    };
    // Hasura events by a field of theirs: distinct event ids per value.
    let by_field = |kind: &str, field: &str| {
        grouped(format!(
            "SELECT visitParamExtractString(fields, {}) AS k, uniqExact(id) AS n FROM {db}.events \
             WHERE product = {} AND kind = {} GROUP BY k",
            lit(field),
            lit(HASURA),
            lit(kind)
        ))
    };
    let p = ledger.product.as_str();
    let stored = Stored {
        // A ping's id is given when its write is queued: distinct ids per
        // signature are the writes stored.
        pings: grouped(format!(
            "SELECT signature AS k, uniqExact(id) AS n FROM {db}.pings WHERE product = {} GROUP BY signature",
            lit(p)
        ))?,
        events: ids("events", "id", p)?,
        reports: ids("error_reports", "report_id", p)?,
        cli: by_field("command", "execution_id")?,
        console: by_field("console", "cli_uuid")?,
        heartbeats: by_field("heartbeat", "instance_uid")?,
    };
    Ok(verdict(ledger, &stored))
}

/// The verdict of `ledger` against what is `stored`.
fn verdict(ledger: &Ledger, stored: &Stored) -> Verdict {
    let mut v = Verdict::default();
    v.checks.insert("pings", counts(&ledger.pings, &stored.pings));
    v.checks.insert("events", ids(&ledger.events, &stored.events));
    v.checks.insert("reports", ids(&ledger.reports, &stored.reports));
    v.checks.insert("cli", ids(&ledger.cli_executions, &stored.cli));
    v.checks.insert("console", ids(&ledger.console_frames, &stored.console));
    let heartbeats_ledger: BTreeMap<String, Count> = ledger.heartbeats.iter().map(|(k, c)| (key(k), *c)).collect();
    v.checks
        .insert("heartbeats", counts(&heartbeats_ledger, &stored.heartbeats));
    v
}

fn ids(ledger: &Ids, stored: &BTreeMap<String, u64>) -> Check {
    let mut c = Check {
        acked: ledger.acked.len() as u64,
        stored: stored.values().sum(),
        ..Check::default()
    };
    for id in &ledger.acked {
        if !stored.contains_key(id) {
            note(&mut c.lost, id.clone());
        }
    }
    for (id, n) in stored {
        if *n > 1 {
            note(&mut c.duplicated, format!("{id}×{n}"));
        }
        if !ledger.acked.contains(id) && !ledger.unanswered.contains(id) {
            note(&mut c.unexpected, id.clone());
        }
    }
    c
}

fn counts(ledger: &BTreeMap<String, Count>, stored: &BTreeMap<String, u64>) -> Check {
    let ledger: BTreeMap<String, Count> = ledger
        .iter()
        .map(|(k, c)| (k.replace('-', "").to_lowercase(), *c))
        .collect();
    let mut c = Check {
        acked: ledger.values().map(|c| c.acked).sum(),
        stored: stored.values().sum(),
        ..Check::default()
    };
    let keys: BTreeSet<&String> = ledger.keys().chain(stored.keys()).collect();
    for key in keys {
        let sent = ledger.get(key).copied().unwrap_or_default();
        let n = stored.get(key).copied().unwrap_or_default();
        if n < sent.acked {
            note(&mut c.lost, format!("{key} ({n} of {})", sent.acked));
        } else if n > sent.acked + sent.unanswered {
            if sent.acked + sent.unanswered == 0 {
                note(&mut c.unexpected, key.clone());
            } else {
                note(
                    &mut c.duplicated,
                    format!("{key} ({n} stored, {} sent)", sent.acked + sent.unanswered),
                );
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    }

    #[test]
    fn ids_find_the_lost_the_doubled_and_the_never_sent() {
        let mut ledger = Ids::default();
        ledger.acked.extend(["a".to_owned(), "b".to_owned(), "c".to_owned()]);
        ledger.unanswered.insert("d".to_owned());
        // d was unanswered and stored: allowed. b lost, c twice, e unknown.
        let c = ids(&ledger, &stored(&[("a", 1), ("c", 2), ("d", 1), ("e", 1)]));
        assert_eq!(c.lost, (1, vec!["b".to_owned()]));
        assert_eq!(c.duplicated.0, 1);
        assert_eq!(c.unexpected, (1, vec!["e".to_owned()]));
        assert!(!c.clean());
        let fine = ids(&ledger, &stored(&[("a", 1), ("b", 1), ("c", 1)]));
        assert!(fine.clean(), "{fine:?}");
    }

    #[test]
    fn counts_allow_stored_between_acknowledged_and_sent() {
        let mut ledger = BTreeMap::new();
        ledger.insert(
            "s1".to_owned(),
            Count {
                acked: 3,
                unanswered: 2,
            },
        );
        for n in 3..=5 {
            assert!(counts(&ledger, &stored(&[("s1", n)])).clean(), "{n}");
        }
        assert_eq!(counts(&ledger, &stored(&[("s1", 2)])).lost.0, 1);
        assert_eq!(counts(&ledger, &stored(&[("s1", 6)])).duplicated.0, 1);
        assert_eq!(counts(&ledger, &stored(&[("s1", 3), ("s2", 1)])).unexpected.0, 1);
    }
}
