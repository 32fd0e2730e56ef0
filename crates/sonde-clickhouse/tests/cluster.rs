//! The two-shard cluster gives the same answers as SQLite on the same
//! generated data, with the pings really spread over both shards.

#[path = "../../sonde-store/tests/common/mod.rs"]
mod common;

use sonde_clickhouse::{ClickHouseOptions, ClickHouseStore};
use sonde_store::{Day, DayRange, Dimension, Interval, NewPing, SqliteStore, Store};
use sonde_testkit::clickhouse::Cluster;

/// A deterministic stream of pseudo-random numbers (a linear congruential
/// generator), so the data set is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// 4,000 pings of two products from 600 signatures over October to
/// December 2026, with varied versions, OS, arch, runtimes and CI.
fn data() -> Vec<NewPing> {
    let mut rng = Lcg(7);
    let start = "2026-10-01".parse::<Day>().unwrap().start_ms();
    let mut out = Vec::new();
    for _ in 0..4000 {
        let product = ["demo", "tool"][rng.next(2) as usize];
        let sig = common::sig(rng.next(600) as u32);
        let at = start + (rng.next(92 * 86_400) as i64) * 1000;
        let mut op = common::ping_op(product, Some(sig), at);
        op.ping.version = Some(["1.0.0", "1.1.0", "2.0.0"][rng.next(3) as usize].into());
        op.ping.os = Some(["linux", "darwin", "windows"][rng.next(3) as usize].into());
        op.ping.arch = Some(["amd64", "arm64"][rng.next(2) as usize].into());
        op.ping.runtime_version = (rng.next(2) == 0).then(|| "node 20".into());
        let ci = rng.next(5) == 0;
        op.ping.ci = Some(ci);
        op.ping.ci_name = ci.then(|| "github_actions".into());
        out.push(op);
    }
    out.sort_by_key(|p| p.ping.received_at_ms);
    out
}

#[test]
fn a_two_shard_cluster_answers_as_sqlite_does() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("sqlite")).unwrap();
    let ch = ClickHouseStore::open(
        &cluster.url("compare"),
        &dir.path().join("ch"),
        ClickHouseOptions::default(),
    )
    .unwrap();
    let stores: [&dyn Store; 2] = [&sqlite, &ch];
    for store in stores {
        let pending: Vec<_> = data().into_iter().map(|p| store.record_ping(p).unwrap()).collect();
        for p in pending {
            p.wait_blocking().unwrap();
        }
    }
    // The rows are spread over both shards, every one on exactly one.
    let per_shard: Vec<u64> = cluster
        .shards
        .iter()
        .map(|s| {
            s.query("SELECT count() FROM compare.pings_local")
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(per_shard.iter().all(|&n| n > 0), "{per_shard:?}");
    assert_eq!(per_shard.iter().sum::<u64>(), 4000);

    let range = DayRange::new("2026-10-01".parse().unwrap(), "2026-12-31".parse().unwrap());
    let rolling = DayRange::new("2026-11-10".parse().unwrap(), "2026-12-07".parse().unwrap());
    for product in ["demo", "tool", "nobody"] {
        let same = |what: &str, f: &dyn Fn(&dyn Store) -> String| {
            assert_eq!(f(&sqlite), f(&ch), "{what} of {product}");
        };
        same("ping count", &|s| format!("{:?}", s.ping_count(product).unwrap()));
        for month in ["2026-10", "2026-11", "2026-12"] {
            same("monthly active", &|s| {
                format!("{:?}", s.monthly_active(product, month.parse().unwrap()).unwrap())
            });
        }
        for ci in [true, false] {
            same("active in", &|s| {
                format!("{:?}", s.active_in(product, rolling, ci).unwrap())
            });
            same("cohorts", &|s| {
                format!(
                    "{:?}",
                    s.cohorts(product, "2026-10".parse().unwrap(), "2026-12".parse().unwrap(), ci)
                        .unwrap()
                )
            });
            for interval in [Interval::Day, Interval::Week, Interval::Month] {
                same("active", &|s| {
                    format!("{:?}", s.active(product, range, interval, ci).unwrap())
                });
                for dimension in Dimension::ALL {
                    same("breakdown", &|s| {
                        format!("{:?}", s.breakdown(product, dimension, range, interval, ci).unwrap())
                    });
                }
            }
        }
    }
    // Not vacuous: the answers hold signatures.
    assert!(ch.monthly_active("demo", "2026-11".parse().unwrap()).unwrap() > 100);
}
