//! The store suite (`crates/sonde-store/tests/suite`) on ClickHouse: one
//! `clickhouse-server` of this test binary's own, a fresh database per test.

#[path = "../../sonde-store/tests/common/mod.rs"]
mod common;
#[path = "../../sonde-store/tests/suite/mod.rs"]
#[macro_use]
mod suite;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use sonde_clickhouse::{ClickHouseOptions, ClickHouseStore};
use sonde_store::Store;
use sonde_testkit::clickhouse::ClickHouse;

fn server() -> &'static ClickHouse {
    static SERVER: OnceLock<ClickHouse> = OnceLock::new();
    SERVER.get_or_init(ClickHouse::start)
}

/// A fresh database; every call of the factory opens the same one, with
/// its spill in `dir`.
fn clickhouse(dir: &std::path::Path) -> impl Fn() -> Box<dyn Store> + '_ {
    static N: AtomicUsize = AtomicUsize::new(0);
    let url = server().url(&format!("suite_{}", N.fetch_add(1, Ordering::Relaxed)));
    move || Box::new(ClickHouseStore::open(&url, dir, ClickHouseOptions::default()).unwrap())
}

store_suite!(clickhouse, dir => crate::clickhouse(dir.path()));
