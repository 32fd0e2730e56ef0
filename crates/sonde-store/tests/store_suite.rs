//! The store suite (see `suite/mod.rs`) on SQLite, on a temporary file,
//! and on the in-memory reference. ClickHouse runs the same suite from
//! `crates/sonde-clickhouse/tests/store_suite.rs`.

mod common;
#[macro_use]
mod suite;

store_suite!(sqlite, dir => crate::suite::sqlite(dir.path()));
store_suite!(memory, _dir => crate::suite::memory());
