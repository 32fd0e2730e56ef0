//! The schema and its migrations, applied on startup like SQLite's: each
//! migration has a version, the versions applied are rows of
//! `schema_migrations`, and every statement is `IF NOT EXISTS`, so a
//! migration interrupted half-way is simply run again.
//!
//! Every table holding ingested rows is partitioned by month and ordered by
//! product first, then by what the analytics reads filter on (day, then
//! signature). Rows carry deterministic ids and reads dedupe on them (see
//! the crate docs), so no table relies on a background merge to be right.

use crate::client::Client;
use crate::ClickHouseError;

/// One schema change: its version and its statements, in order.
#[derive(Debug)]
pub struct Migration {
    /// Strictly increasing from 1.
    pub version: u32,
    /// What it does, for the log.
    pub name: &'static str,
    /// The statements; `{db}` is replaced by the database name.
    pub statements: &'static [&'static str],
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "initial schema",
    statements: &[
        // Usage pings: one row per ping; `id` is given by the collector and
        // is the same in every retry of the insert holding it.
        "CREATE TABLE IF NOT EXISTS {db}.pings (
            product String, id String, seq UInt64, at_ms Int64, day Date,
            signature String, version String, os String, arch String, runtime String,
            ci UInt8, ci_name String
        ) ENGINE = MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (product, day, signature, id)",
        // Exact distinct signatures per month, kept at ingest.
        "CREATE TABLE IF NOT EXISTS {db}.monthly_signatures (
            product String, month Date, signatures AggregateFunction(uniqExact, String)
        ) ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(month) ORDER BY (product, month)",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.monthly_signatures_mv TO {db}.monthly_signatures AS
            SELECT product, toStartOfMonth(day) AS month, uniqExactState(signature) AS signatures
            FROM {db}.pings WHERE signature != '' GROUP BY product, month",
        "CREATE TABLE IF NOT EXISTS {db}.events (
            product String, id String, seq UInt64, kind String, test UInt8, at_ms Int64, day Date, fields String
        ) ENGINE = MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (product, kind, id)",
        // Counts of events deleted by retention; `pass` is the retention pass.
        "CREATE TABLE IF NOT EXISTS {db}.event_rollups (
            product String, kind String, test UInt8, month String, key String,
            count UInt64, errors UInt64, pass String
        ) ENGINE = MergeTree() ORDER BY (product, kind, month, key, pass)",
        // Rejection counters: one row per write that dropped fields; `op` is
        // the write's id, so a retried insert is counted once.
        "CREATE TABLE IF NOT EXISTS {db}.rejections (
            product String, source String, field String, reason String, op String, count UInt64
        ) ENGINE = MergeTree() ORDER BY (product, source, field, reason, op)",
        "CREATE TABLE IF NOT EXISTS {db}.error_reports (
            product String, report_id String, seq UInt64, grp String, at_ms Int64, day Date,
            version Nullable(String), os Nullable(String), signature Nullable(String), report String
        ) ENGINE = MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (product, report_id, seq)",
        "CREATE TABLE IF NOT EXISTS {db}.products (name String, created_ms Int64)
            ENGINE = ReplacingMergeTree() ORDER BY name",
        "CREATE TABLE IF NOT EXISTS {db}.releases (
            product String, version String, date Int64,
            download_url Nullable(String), changelog_url Nullable(String), website Nullable(String),
            package Nullable(String), release_tag Nullable(String), install_command Nullable(String),
            seq UInt64
        ) ENGINE = ReplacingMergeTree(seq) ORDER BY (product, version)",
        "CREATE TABLE IF NOT EXISTS {db}.alerts (
            id Int64, product String, level String, message String, url Nullable(String),
            affects Nullable(String), date Int64, removed UInt8, seq UInt64
        ) ENGINE = ReplacingMergeTree(seq) ORDER BY id",
        "CREATE TABLE IF NOT EXISTS {db}.versions (
            product String, service String, minimum String, maximum String, excluding Array(String), seq UInt64
        ) ENGINE = ReplacingMergeTree(seq) ORDER BY (product, service)",
        // One row per catalog change: the generation is their count.
        "CREATE TABLE IF NOT EXISTS {db}.catalog_changes (id String, at_ms Int64)
            ENGINE = MergeTree() ORDER BY id",
        "CREATE TABLE IF NOT EXISTS {db}.routes (product String, template String, at_ms Int64)
            ENGINE = ReplacingMergeTree() ORDER BY (product, template)",
        "CREATE TABLE IF NOT EXISTS {db}.words (product String, kind String, word String, at_ms Int64)
            ENGINE = ReplacingMergeTree() ORDER BY (product, kind, word)",
    ],
}];

/// The newest schema version this build knows.
pub fn current_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// What [`migrate`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// ClickHouse refused a statement.
    #[error("migration {version} ({name}) failed")]
    Statement {
        /// The migration.
        version: u32,
        /// Its name.
        name: &'static str,
        /// Why.
        #[source]
        source: ClickHouseError,
    },
    /// The bookkeeping table could not be read or written.
    #[error("cannot read or write schema_migrations")]
    Bookkeeping(#[source] ClickHouseError),
    /// The database was migrated by a newer Sonde.
    #[error("the database has schema version {found}, newer than the {supported} this sonde knows")]
    TooNew {
        /// The version found.
        found: u32,
        /// The newest known here.
        supported: u32,
    },
}

/// Creates the database if needed and applies every migration not yet
/// applied, in order. Idempotent.
pub fn migrate(client: &Client) -> Result<u32, MigrateError> {
    let db = client.endpoint().database.clone();
    client
        .execute_global(&format!("CREATE DATABASE IF NOT EXISTS {db}"))
        .map_err(MigrateError::Bookkeeping)?;
    client
        .execute(&format!(
            "CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, applied_ms Int64)
             ENGINE = MergeTree() ORDER BY version"
        ))
        .map_err(MigrateError::Bookkeeping)?;
    let applied = u32::try_from(
        client
            .count(&format!(
                "SELECT toUInt64(max(version)) AS n FROM {db}.schema_migrations"
            ))
            .map_err(MigrateError::Bookkeeping)?,
    )
    .unwrap_or(u32::MAX);
    if applied > current_version() {
        return Err(MigrateError::TooNew {
            found: applied,
            supported: current_version(),
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > applied) {
        for statement in m.statements {
            client
                .execute(&statement.replace("{db}", &db))
                .map_err(|source| MigrateError::Statement {
                    version: m.version,
                    name: m.name,
                    source,
                })?;
        }
        let row = serde_json::json!({"version": m.version, "applied_ms": crate::seq::now_ms()});
        client
            .insert("schema_migrations", &crate::client::json_lines(&[row]))
            .map_err(MigrateError::Bookkeeping)?;
        tracing::info!(version = m.version, name = m.name, "ClickHouse schema migrated");
    }
    Ok(current_version())
}
