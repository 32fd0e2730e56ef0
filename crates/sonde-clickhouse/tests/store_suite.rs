//! The store suite (`crates/sonde-store/tests/suite`) on ClickHouse: on
//! one `clickhouse-server` of this test binary's own, and on a two-shard
//! cluster of two more; a fresh database per test.

#[path = "../../sonde-store/tests/common/mod.rs"]
mod common;
#[path = "../../sonde-store/tests/suite/mod.rs"]
#[macro_use]
mod suite;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use sonde_clickhouse::{ClickHouseOptions, ClickHouseStore};
use sonde_store::Store;
use sonde_testkit::clickhouse::{ClickHouse, Cluster};

fn server() -> &'static ClickHouse {
    static SERVER: OnceLock<ClickHouse> = OnceLock::new();
    SERVER.get_or_init(ClickHouse::start)
}

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

/// A fresh database name.
fn database() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("suite_{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Every call opens the store at `url`, with its spill in `dir`.
fn open(url: String, dir: &std::path::Path) -> impl Fn() -> Box<dyn Store> + '_ {
    move || Box::new(ClickHouseStore::open(&url, dir, ClickHouseOptions::default()).unwrap())
}

store_suite!(clickhouse, dir => crate::open(crate::server().url(&crate::database()), dir.path()));
store_suite!(cluster, dir => crate::open(crate::cluster().url(&crate::database()), dir.path()));
