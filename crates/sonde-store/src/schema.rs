//! The SQLite schema, created on open (idempotent), and its migrations.
//!
//! `monthly_signatures` is the first-seen set of each month: one row the
//! first time a signature shows up in a month, clustered on `(month, seq)` so
//! inserts append to the end of the month's range, not random pages; the
//! writer keeps the current month's set in memory to decide what is new, and
//! reloads it from this table after a restart. `monthly_counts` holds the
//! exact count.
//!
//! Version 2 changed `monthly_signatures` from a rowid table with an index on
//! `month` to that clustered shape, and event ids from UUID text to their 16
//! bytes; [`migrate`] moves a version-1 file over.
//!
//! Version 3 added `route_templates` (console route templates per product)
//! and `event_rollups` (counts of events deleted by retention until
//! version 11, of every event since; see [`crate::rollup`]) to the versioned schema. A version-2 file may already
//! hold them (same shape, created beside the schema): they are kept as they
//! are.
//!
//! Version 4 added error reports ([`ERROR_REPORTS_V4`], one table and its
//! indexes), created by its own step, [`error_reports_v4`].
//!
//! Version 5 added `vocabulary` (the command paths, flag names, metrics
//! keys, console event types, experimental features and database kinds a
//! product registered), in its own step: [`VOCABULARY_V5`], applied by
//! [`vocabulary_v5`].
//!
//! Version 6 added the analytics roll-ups ([`ANALYTICS_V6`], applied by
//! [`analytics_v6`]): the daily first-seen sets of signatures with the
//! attributes they are counted under, exact active counts per day and per
//! month (in total and per dimension value), each signature's first-seen
//! month, and the activity of each first-seen cohort per month. They are
//! maintained by the writer in the transaction of the pings they count (see
//! [`crate::activity`]); on a file from an older version the step fills them
//! from the raw pings first ([`crate::sqlite::backfill`]).
//!
//! Version 7 added the command, console and heartbeat roll-ups
//! ([`EVENT_STATS_V7`], applied by [`event_stats_v7`]; see
//! [`crate::event_stats`]): events, errors and distinct installations per
//! group value and day or month, the first-seen installations they are
//! counted from, and each heartbeat instance's latest metrics per day. On a
//! file from an older version the step fills them from the raw events kept.
//!
//! Version 8 added `active_gaps` ([`ACTIVE_GAPS_V8`], applied by
//! [`active_gaps_v8`]): daily rows counted by the days since the
//! signature's previous active day, from which the distinct signatures of
//! any range of up to a month are summed (see
//! [`crate::sqlite::last_seen`]). On a file from an older version the step
//! fills it from `daily_signatures`.
//!
//! Version 9 added upgrades after a notice ([`UPGRADES_V9`]): the
//! signatures a check told `outdated`, and their first later ping on a newer
//! version. Nothing is filled from older files (raw pings do not keep what
//! their check answered).
//!
//! Version 10 added the error-group roll-ups ([`ERROR_GROUPS_V10`], applied
//! by [`error_groups_v10`]): per group the report count, distinct
//! signatures, first and last received and the latest report's `seq`; the
//! signatures of each group; reports per version and OS. The writer keeps
//! them with each report, retention rebuilds the groups it touches
//! (`crate::sqlite::error_groups`); on a file from an older version the step
//! fills them from the stored reports.
//!
//! Version 11 made `event_rollups` count every event stored, kept by the
//! writer at ingest, instead of only the events retention deleted; on a
//! file from an older version the step adds the raw events kept
//! ([`crate::sqlite::backfill::event_totals_from_raw`]). Event counts are
//! then a lookup, and retention only deletes.
//!
//! Every step is idempotent and runs on every open, after [`SCHEMA`] (which
//! creates the tables of version 3); then `meta` is raised to
//! [`SCHEMA_VERSION`]. New files take the same path.
//!
//! Raw pings never hold an IP address, a raw query string or a user-agent
//! string: only the validated fields of [`sonde_protocol::UsagePing`].

/// The schema version written to `meta`.
pub const SCHEMA_VERSION: i64 = 11;

/// Statements creating every table; safe to run on every open.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', 3), ('catalog_generation', 0);

CREATE TABLE IF NOT EXISTS pings (
    id              INTEGER PRIMARY KEY,
    product         TEXT NOT NULL,
    version         TEXT,
    os              TEXT,
    arch            TEXT,
    runtime_version TEXT,
    signature       TEXT,
    ci              INTEGER,
    ci_name         TEXT,
    client_family   TEXT NOT NULL,
    project_hash    TEXT,
    cli_path_hash   TEXT,
    received_at_ms  INTEGER NOT NULL
);

-- Rows are appended in arrival order (integer key); the unique index on the
-- client's id is what makes a retried batch a no-op. Ids are UUIDs, kept as
-- their 16 bytes (`hex(id)` reads them), so the index is small and compares
-- fixed-size keys. Keeping the wide row
-- out of the id-ordered B-tree means a random id touches one small index
-- page, not a page of whole events.
CREATE TABLE IF NOT EXISTS events (
    seq            INTEGER PRIMARY KEY,
    product        TEXT NOT NULL,
    id             BLOB NOT NULL,
    kind           TEXT NOT NULL,
    test           INTEGER NOT NULL,
    occurred_at_ms INTEGER,
    received_at_ms INTEGER NOT NULL,
    fields         TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events(product, id);

CREATE TABLE IF NOT EXISTS rejections (
    product TEXT NOT NULL,
    source  TEXT NOT NULL,
    field   TEXT NOT NULL,
    reason  TEXT NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (product, source, field, reason)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS monthly_signatures (
    month     TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    product   TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (month, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS monthly_counts (
    product TEXT NOT NULL,
    month   TEXT NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (product, month)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS products (
    name          TEXT PRIMARY KEY,
    created_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS releases (
    product         TEXT NOT NULL,
    version         TEXT NOT NULL,
    date            INTEGER NOT NULL,
    download_url    TEXT,
    changelog_url   TEXT,
    website         TEXT,
    package         TEXT,
    release_tag     TEXT,
    install_command TEXT,
    PRIMARY KEY (product, version)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS alerts (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    product TEXT NOT NULL,
    level   TEXT NOT NULL,
    message TEXT NOT NULL,
    url     TEXT,
    affects TEXT,
    date    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS version_constraints (
    product   TEXT NOT NULL,
    service   TEXT NOT NULL,
    minimum   TEXT NOT NULL,
    maximum   TEXT NOT NULL,
    excluding TEXT NOT NULL,
    PRIMARY KEY (product, service)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS route_templates (
    product       TEXT NOT NULL,
    template      TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (product, template)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS event_rollups (
    product TEXT NOT NULL,
    kind    TEXT NOT NULL,
    test    INTEGER NOT NULL,
    month   TEXT NOT NULL,
    key     TEXT NOT NULL,
    n       INTEGER NOT NULL,
    errors  INTEGER NOT NULL,
    PRIMARY KEY (product, kind, test, month, key)
) WITHOUT ROWID;
"#;

/// Version 4: error reports. One row per report, unique on
/// `(product, id)` (the report id's 16 bytes), so a report sent twice is
/// stored once; `group_id` is its fingerprint; `version`, `os` and
/// `signature` are copies of the report's fields for the group figures,
/// `report` the whole validated, scrubbed report as JSON. Group figures are
/// kept beside them from version 10 ([`ERROR_GROUPS_V10`]).
pub const ERROR_REPORTS_V4: &str = r#"
CREATE TABLE IF NOT EXISTS error_reports (
    seq            INTEGER PRIMARY KEY,
    product        TEXT NOT NULL,
    id             BLOB NOT NULL,
    group_id       TEXT NOT NULL,
    version        TEXT,
    os             TEXT,
    signature      TEXT,
    received_at_ms INTEGER NOT NULL,
    report         TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS error_reports_by_id ON error_reports(product, id);
CREATE INDEX IF NOT EXISTS error_reports_by_group ON error_reports(product, group_id);
CREATE INDEX IF NOT EXISTS error_reports_by_received ON error_reports(received_at_ms);
"#;

/// The version-4 step: creates the error report table and its indexes
/// (idempotent, so it runs on every open like [`SCHEMA`]).
fn error_reports_v4(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(ERROR_REPORTS_V4)
}

/// Version 5: one table of the words each product registered, by kind
/// (`commands`, `flags`, `metric_keys`, `event_types`,
/// `experimental_features`, `db_kinds`).
pub const VOCABULARY_V5: &str = r#"
CREATE TABLE IF NOT EXISTS vocabulary (
    product       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    word          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (product, kind, word)
) WITHOUT ROWID;
"#;

/// The version-5 step: creates the vocabulary table (idempotent).
fn vocabulary_v5(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(VOCABULARY_V5)
}

/// Version 6: the analytics roll-ups.
///
/// - `daily_signatures`: one row the first time a signature shows up in a
///   UTC day (`YYYY-MM-DD`), with the attributes of that ping (absent values
///   empty); clustered on `(day, seq)` like `monthly_signatures`, so new rows
///   append and a day loads as one range.
/// - `active_counts`: exact distinct signatures per product, `interval`
///   (`day` or `month`), period, CI flag, and dimension value; the period
///   total is the row whose `dimension` and `value` are empty.
/// - `signature_cohorts`: the month each signature of a product was first
///   seen in.
/// - `cohort_activity`: distinct signatures of a first-seen cohort active in
///   a month, per CI flag.
pub const ANALYTICS_V6: &str = r#"
CREATE TABLE IF NOT EXISTS daily_signatures (
    day       TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    product   TEXT NOT NULL,
    signature TEXT NOT NULL,
    ci        INTEGER NOT NULL,
    version   TEXT NOT NULL,
    os        TEXT NOT NULL,
    arch      TEXT NOT NULL,
    runtime   TEXT NOT NULL,
    ci_name   TEXT NOT NULL,
    PRIMARY KEY (day, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS active_counts (
    product   TEXT NOT NULL,
    interval  TEXT NOT NULL,
    dimension TEXT NOT NULL,
    period    TEXT NOT NULL,
    ci        INTEGER NOT NULL,
    value     TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (product, interval, dimension, period, ci, value)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS signature_cohorts (
    month     TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    product   TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (month, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS cohort_activity (
    product TEXT NOT NULL,
    cohort  TEXT NOT NULL,
    month   TEXT NOT NULL,
    ci      INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (product, cohort, month, ci)
) WITHOUT ROWID;
"#;

/// The version-6 step: creates the analytics roll-up tables (idempotent)
/// and, for a file at an older `version`, fills them from its raw pings
/// ([`crate::sqlite::backfill`]).
fn analytics_v6(tx: &rusqlite::Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    tx.execute_batch(ANALYTICS_V6)?;
    if version < 6 {
        crate::sqlite::backfill::analytics_from_pings(tx)?;
    }
    Ok(())
}

/// Version 7: the command, console and heartbeat roll-ups.
///
/// - `event_stats`: per product, group (`command`, `console_action`,
///   `console_route`), `interval` (`day` or `month`), period and key (the
///   command path, action or route), the events, errors and distinct
///   installations.
/// - `event_installations`: one row the first time an installation (16
///   bytes) shows up under a group and key in a period (a day
///   `YYYY-MM-DD` or a month `YYYY-MM`); clustered on `(period, seq)` so
///   rows append and a period loads as one range.
/// - `heartbeat_latest`: per product, UTC day and instance (16 bytes), the
///   latest heartbeat's receive time and numeric metrics (a JSON object of
///   dotted paths to numbers).
pub const EVENT_STATS_V7: &str = r#"
CREATE TABLE IF NOT EXISTS event_stats (
    product       TEXT NOT NULL,
    grp           TEXT NOT NULL,
    interval      TEXT NOT NULL,
    period        TEXT NOT NULL,
    key           TEXT NOT NULL,
    n             INTEGER NOT NULL,
    errors        INTEGER NOT NULL,
    installations INTEGER NOT NULL,
    PRIMARY KEY (product, grp, interval, period, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS event_installations (
    period       TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    product      TEXT NOT NULL,
    grp          TEXT NOT NULL,
    key          TEXT NOT NULL,
    installation BLOB NOT NULL,
    PRIMARY KEY (period, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS heartbeat_latest (
    product        TEXT NOT NULL,
    day            TEXT NOT NULL,
    instance       BLOB NOT NULL,
    received_at_ms INTEGER NOT NULL,
    metrics        TEXT NOT NULL,
    PRIMARY KEY (product, day, instance)
) WITHOUT ROWID;
"#;

/// The version-7 step: creates the event roll-up tables (idempotent) and,
/// for a file at an older `version`, fills them from its raw events
/// ([`crate::sqlite::event_stats`]).
fn event_stats_v7(tx: &rusqlite::Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    tx.execute_batch(EVENT_STATS_V7)?;
    if version < 7 {
        crate::sqlite::event_stats::backfill(tx)?;
    }
    Ok(())
}

/// Version 8: `active_gaps`, per product, UTC day, gap and CI flag of the
/// day's first ping, how many signatures were first seen that day `gap`
/// days after their previous active day (`0`: not within the horizon, or
/// never; `-1`: the day came before the signature's latest active day). See
/// [`crate::sqlite::last_seen`].
pub const ACTIVE_GAPS_V8: &str = r#"
CREATE TABLE IF NOT EXISTS active_gaps (
    product TEXT NOT NULL,
    day     TEXT NOT NULL,
    gap     INTEGER NOT NULL,
    ci      INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (product, day, gap, ci)
) WITHOUT ROWID;
"#;

/// The version-8 step: creates `active_gaps` (idempotent) and, for a file
/// at an older `version`, fills it from `daily_signatures`
/// ([`crate::sqlite::backfill::gaps_from_daily`]).
fn active_gaps_v8(tx: &rusqlite::Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    tx.execute_batch(ACTIVE_GAPS_V8)?;
    if version < 8 {
        crate::sqlite::backfill::gaps_from_daily(tx)?;
    }
    Ok(())
}

/// Version 9: upgrades after a notice ([`crate::upgrades`]), kept by the
/// writer (`sqlite/notices.rs`).
///
/// - `outdated_notices`: a signature's first ping whose check answered
///   `outdated: true`, with its version and CI flag; one row per (product,
///   signature), clustered on `(day, seq)` so rows append.
/// - `notice_upgrades`: a noticed signature's first later ping on a newer
///   version, under that ping's `day`, with the notice's day, the days
///   between and the notice's CI flag; one row per (product, signature),
///   clustered on `(day, seq)`.
/// - `notice_counts` and `upgrade_counts`: the same, counted per day of
///   the notice (and days to the upgrade) and CI flag, kept beside the rows
///   so the answer is a lookup of a few hundred counters.
///
/// Nothing is filled from older data: the raw pings do not keep whether
/// their check said `outdated`, so these figures start at the upgrade.
pub const UPGRADES_V9: &str = r#"
CREATE TABLE IF NOT EXISTS outdated_notices (
    day       TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    product   TEXT NOT NULL,
    signature TEXT NOT NULL,
    ci        INTEGER NOT NULL,
    version   TEXT NOT NULL,
    PRIMARY KEY (day, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS notice_counts (
    product TEXT NOT NULL,
    day     TEXT NOT NULL,
    ci      INTEGER NOT NULL,
    told    INTEGER NOT NULL,
    PRIMARY KEY (product, day, ci)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS upgrade_counts (
    product    TEXT NOT NULL,
    notice_day TEXT NOT NULL,
    days       INTEGER NOT NULL,
    ci         INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (product, notice_day, days, ci)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS notice_upgrades (
    day        TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    product    TEXT NOT NULL,
    signature  TEXT NOT NULL,
    notice_day TEXT NOT NULL,
    days       INTEGER NOT NULL,
    ci         INTEGER NOT NULL,
    version    TEXT NOT NULL,
    PRIMARY KEY (day, seq)
) WITHOUT ROWID;
"#;

/// Version 10: the error-group roll-ups, per `(product, group_id)`:
///
/// - `error_groups`: reports, distinct signatures, first and last
///   `received_at_ms`, and `latest_seq` (the `seq` of the latest report,
///   the group's sample);
/// - `error_group_signatures`: each distinct signature of the group and
///   how many of its reports carry it;
/// - `error_group_values`: reports per `version` and per `os`
///   (`dimension`), reports without one left out.
///
/// They cover the reports kept in `error_reports`
/// (`crate::sqlite::error_groups`).
pub const ERROR_GROUPS_V10: &str = r#"
CREATE TABLE IF NOT EXISTS error_groups (
    product    TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    reports    INTEGER NOT NULL,
    signatures INTEGER NOT NULL,
    first_ms   INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL,
    latest_seq INTEGER NOT NULL,
    PRIMARY KEY (product, group_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS error_group_signatures (
    product   TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    signature TEXT NOT NULL,
    reports   INTEGER NOT NULL,
    PRIMARY KEY (product, group_id, signature)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS error_group_values (
    product   TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value     TEXT NOT NULL,
    reports   INTEGER NOT NULL,
    PRIMARY KEY (product, group_id, dimension, value)
) WITHOUT ROWID;
"#;

/// The version-10 step: creates the error-group roll-ups (idempotent) and,
/// for a file at an older `version`, fills them from its stored reports
/// ([`crate::sqlite::error_groups::rebuild_all`]).
fn error_groups_v10(tx: &rusqlite::Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    tx.execute_batch(ERROR_GROUPS_V10)?;
    if version < 10 {
        crate::sqlite::error_groups::rebuild_all(tx)?;
    }
    Ok(())
}

/// Sets a version-1 `monthly_signatures` (rowid table plus an index on
/// `month`) aside, so that [`SCHEMA`] creates the clustered version-2 table
/// in its place; [`MIGRATE_V1_MONTHLY_SIGNATURES_COPY`] then moves every row
/// over, in order.
const MIGRATE_V1_MONTHLY_SIGNATURES: &str = r#"
ALTER TABLE monthly_signatures RENAME TO monthly_signatures_v1;
DROP INDEX IF EXISTS monthly_signatures_by_month;
"#;

/// Fills the version-2 `monthly_signatures` from the set-aside table.
const MIGRATE_V1_MONTHLY_SIGNATURES_COPY: &str = r#"
INSERT INTO monthly_signatures(month, seq, product, signature)
    SELECT month, rowid, product, signature FROM monthly_signatures_v1;
DROP TABLE monthly_signatures_v1;
"#;

/// Turns version-1 event ids (UUID text, validated on the way in) into their
/// 16 bytes; the unique index is rebuilt over the new values.
const MIGRATE_V1_EVENT_IDS: &str = r#"
DROP INDEX IF EXISTS events_by_id;
UPDATE events SET id = unhex(replace(id, '-', '')) WHERE typeof(id) = 'text' AND length(id) = 36;
"#;

/// Brings an existing file up to [`SCHEMA_VERSION`] (a new file needs
/// nothing), in one transaction, then creates whatever is missing.
pub fn migrate(conn: &mut rusqlite::Connection) -> Result<(), crate::StoreError> {
    let failed = |e: rusqlite::Error| crate::StoreError::Migrate {
        source: std::sync::Arc::new(e),
    };
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(failed)?;
    let version = match version(&tx).map_err(failed)? {
        Some(v) if v > SCHEMA_VERSION => {
            return Err(crate::StoreError::SchemaTooNew {
                found: v,
                supported: SCHEMA_VERSION,
            })
        }
        Some(v) => v,
        None => SCHEMA_VERSION,
    };
    upgrade(&tx, version).map_err(failed)?;
    tx.commit().map_err(failed)
}

/// Whether the file has a table `name`.
fn has_table(tx: &rusqlite::Transaction<'_>, name: &str) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )
}

/// The file's schema version; `None` for a new file.
fn version(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<Option<i64>> {
    if !has_table(tx, "meta")? {
        return Ok(None);
    }
    tx.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
        .map(Some)
}

/// Moves a file at `version` to [`SCHEMA_VERSION`].
fn upgrade(tx: &rusqlite::Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    let old_signatures = version == 1 && has_table(tx, "monthly_signatures")?;
    if old_signatures {
        tx.execute_batch(MIGRATE_V1_MONTHLY_SIGNATURES)?;
    }
    if version == 1 && has_table(tx, "events")? {
        tx.execute_batch(MIGRATE_V1_EVENT_IDS)?;
    }
    // Creates what is missing: every table of a new file, the version-2
    // tables of a version-1 file, the version-3 tables of a version-2 file.
    tx.execute_batch(SCHEMA)?;
    if old_signatures {
        tx.execute_batch(MIGRATE_V1_MONTHLY_SIGNATURES_COPY)?;
    }
    error_reports_v4(tx)?;
    vocabulary_v5(tx)?;
    analytics_v6(tx, version)?;
    event_stats_v7(tx, version)?;
    active_gaps_v8(tx, version)?;
    tx.execute_batch(UPGRADES_V9)?;
    error_groups_v10(tx, version)?;
    if version < 11 {
        crate::sqlite::backfill::event_totals_from_raw(tx)?;
    }
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version' AND value < ?1",
        [SCHEMA_VERSION],
    )?;
    Ok(())
}
