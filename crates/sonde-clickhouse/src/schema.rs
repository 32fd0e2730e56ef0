//! The schema and its migrations, applied on startup like SQLite's: each
//! migration has a version, the versions applied are rows of
//! `schema_migrations`, and every statement is `IF NOT EXISTS`, so a
//! migration interrupted half-way is simply run again.
//!
//! Every table holding ingested rows is partitioned by month and ordered by
//! product first, then by what the analytics reads filter on (day, then
//! signature). Rows carry deterministic ids and reads dedupe on them (see
//! the crate docs), so no table relies on a background merge to be right.
//!
//! On a cluster (`?cluster=NAME&shards=…`, see [`crate::Endpoint`]) each
//! table `t` is created on every shard as `t_local` with the engine below,
//! plus `t`, a `Distributed` table over the `t_local` of every shard,
//! sharded by the table's key: pings by signature, so a signature's pings
//! are all on one shard and per-shard distinct counts add up. The store
//! reads and writes `t` either way; the materialized view feeds each
//! shard's `monthly_signatures_local` from its own `pings_local`.

use crate::client::Client;
use crate::ClickHouseError;

/// One table: its columns, engine, partitioning and order, and the key a
/// cluster shards it by.
#[derive(Debug)]
pub struct Table {
    /// Its name (`t`; `t_local` on a cluster's shards).
    pub name: &'static str,
    /// The column list.
    pub columns: &'static str,
    /// `ENGINE = …` and what follows (`PARTITION BY`, `ORDER BY`).
    pub engine: &'static str,
    /// The `Distributed` sharding key.
    pub shard_key: &'static str,
}

/// A materialized view from one table into another.
#[derive(Debug)]
pub struct View {
    /// Its name.
    pub name: &'static str,
    /// The table it writes to.
    pub to: &'static str,
    /// The table it reads inserts of.
    pub from: &'static str,
    /// Its `SELECT`, with `{from}` for the table read.
    pub select: &'static str,
}

/// One schema change: its version, tables and views.
#[derive(Debug)]
pub struct Migration {
    /// Strictly increasing from 1.
    pub version: u32,
    /// What it does, for the log.
    pub name: &'static str,
    /// Tables it creates.
    pub tables: &'static [Table],
    /// Views it creates, after the tables.
    pub views: &'static [View],
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        tables: &[
            // Usage pings: one row per ping; `id` is given by the collector and
            // is the same in every retry of the insert holding it.
            Table {
                name: "pings",
                columns: "product String, id String, seq UInt64, at_ms Int64, day Date,
                signature String, version String, os String, arch String, runtime String,
                ci UInt8, ci_name String",
                engine: "MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (product, day, signature, id)",
                shard_key: "cityHash64(signature)",
            },
            // Exact distinct signatures per month, kept at ingest.
            Table {
                name: "monthly_signatures",
                columns: "product String, month Date, signatures AggregateFunction(uniqExact, String)",
                engine: "AggregatingMergeTree() PARTITION BY toYYYYMM(month) ORDER BY (product, month)",
                shard_key: "rand()",
            },
            Table {
                name: "events",
                columns: "product String, id String, seq UInt64, kind String, test UInt8, at_ms Int64, day Date,
                fields String",
                engine: "MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (product, kind, id)",
                shard_key: "cityHash64(id)",
            },
            // Counts of events deleted by retention; `pass` is the retention pass.
            Table {
                name: "event_rollups",
                columns: "product String, kind String, test UInt8, month String, key String,
                count UInt64, errors UInt64, pass String",
                engine: "MergeTree() ORDER BY (product, kind, month, key, pass)",
                shard_key: "cityHash64(pass, key)",
            },
            // Rejection counters: one row per write that dropped fields; `op` is
            // the write's id, so a retried insert is counted once.
            Table {
                name: "rejections",
                columns: "product String, source String, field String, reason String, op String, count UInt64",
                engine: "MergeTree() ORDER BY (product, source, field, reason, op)",
                shard_key: "cityHash64(op)",
            },
            Table {
                name: "error_reports",
                columns: "product String, report_id String, seq UInt64, grp String, at_ms Int64, day Date,
                version Nullable(String), os Nullable(String), signature Nullable(String), report String",
                engine: "MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (product, report_id, seq)",
                shard_key: "cityHash64(report_id)",
            },
            Table {
                name: "products",
                columns: "name String, created_ms Int64",
                engine: "ReplacingMergeTree() ORDER BY name",
                shard_key: "cityHash64(name)",
            },
            Table {
                name: "releases",
                columns: "product String, version String, date Int64,
                download_url Nullable(String), changelog_url Nullable(String), website Nullable(String),
                package Nullable(String), release_tag Nullable(String), install_command Nullable(String),
                seq UInt64",
                engine: "ReplacingMergeTree(seq) ORDER BY (product, version)",
                shard_key: "cityHash64(product, version)",
            },
            Table {
                name: "alerts",
                columns: "id Int64, product String, level String, message String, url Nullable(String),
                affects Nullable(String), date Int64, removed UInt8, seq UInt64",
                engine: "ReplacingMergeTree(seq) ORDER BY id",
                shard_key: "cityHash64(id)",
            },
            Table {
                name: "versions",
                columns: "product String, service String, minimum String, maximum String, excluding Array(String),
                seq UInt64",
                engine: "ReplacingMergeTree(seq) ORDER BY (product, service)",
                shard_key: "cityHash64(product, service)",
            },
            // One row per catalog change: the generation is their count.
            Table {
                name: "catalog_changes",
                columns: "id String, at_ms Int64",
                engine: "MergeTree() ORDER BY id",
                shard_key: "cityHash64(id)",
            },
            Table {
                name: "routes",
                columns: "product String, template String, at_ms Int64",
                engine: "ReplacingMergeTree() ORDER BY (product, template)",
                shard_key: "cityHash64(product, template)",
            },
            Table {
                name: "words",
                columns: "product String, kind String, word String, at_ms Int64",
                engine: "ReplacingMergeTree() ORDER BY (product, kind, word)",
                shard_key: "cityHash64(product, kind, word)",
            },
        ],
        views: &[View {
            name: "monthly_signatures_mv",
            to: "monthly_signatures",
            from: "pings",
            select: "SELECT product, toStartOfMonth(day) AS month, uniqExactState(signature) AS signatures
            FROM {from} WHERE signature != '' GROUP BY product, month",
        }],
    },
    Migration {
        version: 2,
        name: "outdated notices",
        tables: &[
            // One row per ping (with a signature and a version) whose check
            // was answered `outdated: true`, under the ping's id and seq:
            // upgrades after a notice are read from these and the pings.
            // Sharded by signature like the pings, so a signature's notices
            // and pings are on one shard.
            Table {
                name: "notices",
                columns: "product String, id String, seq UInt64, at_ms Int64, day Date,
                    signature String, version String, ci UInt8",
                engine: "MergeTree() PARTITION BY toYYYYMM(day) ORDER BY (product, day, signature, id)",
                shard_key: "cityHash64(signature)",
            },
        ],
        views: &[],
    },
];

/// The newest schema version this build knows.
pub fn current_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The statements creating `m` in database `db`: on one server, or on
/// each shard of `cluster`.
pub fn statements(m: &Migration, db: &str, cluster: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let local = |name: &str| match cluster {
        Some(_) => format!("{db}.{name}_local"),
        None => format!("{db}.{name}"),
    };
    for t in m.tables {
        out.push(format!(
            "CREATE TABLE IF NOT EXISTS {} ({}) ENGINE = {}",
            local(t.name),
            t.columns,
            t.engine
        ));
        if let Some(cluster) = cluster {
            out.push(format!(
                "CREATE TABLE IF NOT EXISTS {db}.{name} AS {db}.{name}_local
                 ENGINE = Distributed({cluster}, {db}, {name}_local, {key})",
                name = t.name,
                key = t.shard_key
            ));
        }
    }
    for v in m.views {
        out.push(format!(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.{} TO {} AS {}",
            v.name,
            local(v.to),
            v.select.replace("{from}", &local(v.from))
        ));
    }
    out
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
/// applied, in order, on `client`'s server (one shard of a cluster: run it
/// on each). Idempotent.
pub fn migrate(client: &Client) -> Result<u32, MigrateError> {
    let db = client.endpoint().database.clone();
    let cluster = client.endpoint().cluster.clone();
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
        for statement in statements(m, &db, cluster.as_deref()) {
            client.execute(&statement).map_err(|source| MigrateError::Statement {
                version: m.version,
                name: m.name,
                source,
            })?;
        }
        let row = serde_json::json!({"version": m.version, "applied_ms": crate::seq::now_ms()});
        client
            .insert_local("schema_migrations", &crate::client::json_lines(&[row]))
            .map_err(MigrateError::Bookkeeping)?;
        tracing::info!(version = m.version, name = m.name, "ClickHouse schema migrated");
    }
    Ok(current_version())
}
