//! Crash test: under sustained load from the load generator (every kind of
//! traffic, kept-alive and one-connection-per-request clients), `sonde
//! serve` is SIGKILLed at random moments several times and restarted on the
//! same data directory and port; afterwards every acknowledged ping, event,
//! console frame and error report is stored exactly once. The same test runs
//! on SQLite and on ClickHouse (`--store clickhouse://…`, a server of the
//! test's own), where a kill can also land while a batch's inserts are on
//! their way or while its spill drains; the check there counts what the
//! store's reads count (ids, see `sonde_bench::load::verify_clickhouse`).
//!
//! The moments are drawn from a seeded generator (`SONDE_CRASH_SEED`, and
//! `SONDE_CRASH_KILLS` for how many, change them; the seed is printed), and
//! each kill waits for the store to have grown since the last restart, so
//! every kill lands in the middle of traffic. The full-size run is
//! `bash bench/load/crash.sh`.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Serve, SONDE};
use rand::{Rng, SeedableRng};
use sonde_bench::load::{self, Kind, Options};
use sonde_testkit::clickhouse::ClickHouse;
use sonde_testkit::{db, serve::admin_token, wait};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Where the collector stores.
enum Backend<'a> {
    Sqlite,
    /// Database `db` on this server.
    ClickHouse(&'a ClickHouse, &'static str),
}

impl Backend<'_> {
    /// The collector's extra arguments.
    fn args(&self) -> Vec<String> {
        match self {
            Backend::Sqlite => Vec::new(),
            Backend::ClickHouse(ch, db) => vec!["--store".into(), ch.url(db)],
        }
    }

    /// Rows of every kind the generator sends, so progress is seen whatever
    /// the mix drew.
    fn stored_rows(&self, data_dir: &Path) -> i64 {
        match self {
            Backend::Sqlite => db::count(
                data_dir,
                "SELECT (SELECT count(*) FROM pings) + (SELECT count(*) FROM events) + (SELECT count(*) FROM error_reports)",
            ),
            Backend::ClickHouse(ch, db) => ["pings", "events", "error_reports"]
                .iter()
                .map(|t| {
                    ch.query(&format!("SELECT count() FROM {db}.{t} FORMAT TSV"))
                        .trim()
                        .parse::<i64>()
                        .expect("a count")
                })
                .sum(),
        }
    }

    fn verify(&self, ledger: &load::Ledger, data_dir: &Path) -> load::Verdict {
        match self {
            Backend::Sqlite => load::verify(ledger, data_dir).unwrap(),
            Backend::ClickHouse(ch, db) => load::verify_clickhouse(ledger, &ch.url(db)).unwrap(),
        }
    }
}

#[test]
fn every_acknowledged_item_survives_sigkill_exactly_once() {
    crash_under_load(&Backend::Sqlite);
}

#[test]
fn every_acknowledged_item_survives_sigkill_exactly_once_on_clickhouse() {
    let ch = ClickHouse::start();
    crash_under_load(&Backend::ClickHouse(&ch, "crash"));
}

fn crash_under_load(backend: &Backend<'_>) {
    let seed = env_or("SONDE_CRASH_SEED", 20_261_207);
    let kills = env_or("SONDE_CRASH_KILLS", 4);
    let progress = env_or("SONDE_CRASH_PROGRESS", 300) as i64;
    println!("crash test: seed {seed}, {kills} kills, {progress} rows between kills");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = backend.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut serve = Serve::start(SONDE, &data, &args);
    let addr = serve.addr();
    load::setup(addr, &admin_token(&data), "loadtool").unwrap();

    let mut opts = Options::new(addr);
    opts.duration = None;
    opts.concurrency = 8;
    opts.developers = 200;
    opts.batch = 20;
    opts.seed = seed;
    let stop = AtomicBool::new(false);
    let outcome = std::thread::scope(|s| {
        let generator = s.spawn(|| load::run(&opts, &stop));
        for _ in 0..kills {
            let before = backend.stored_rows(&data);
            wait::until("the store to grow under load", || {
                backend.stored_rows(&data) >= before + progress
            });
            // A random moment after that: somewhere in a batch, a commit,
            // an answer on its way.
            std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
            serve.kill();
            serve.wait_exit();
            serve = Serve::start_at(SONDE, &data, &addr.to_string(), &args);
        }
        let before = backend.stored_rows(&data);
        wait::until("the store to grow after the last restart", || {
            backend.stored_rows(&data) >= before + progress
        });
        stop.store(true, Ordering::Relaxed);
        generator.join().unwrap()
    });
    assert!(serve.stop(), "the last collector did not stop cleanly");
    print!("{}", outcome.stats.table());

    let verdict = backend.verify(&outcome.ledger, &data);
    print!("{}", verdict.table());
    assert!(verdict.clean(), "{}", verdict.table());
    // Every kind was acknowledged, so every kind was checked.
    for kind in ["pings", "events", "cli", "heartbeats", "console", "reports"] {
        assert!(
            verdict.checks[kind].acked > 0,
            "no {kind} acknowledged:\n{}",
            verdict.table()
        );
    }
    // The kills hit requests in flight (otherwise the test shows nothing).
    let unanswered: u64 = outcome.stats.by_kind.values().map(|k| k.no_answer).sum();
    assert!(
        unanswered > 0,
        "no request was cut by a kill:\n{}",
        outcome.stats.table()
    );
    assert!(outcome.stats.by_kind.contains_key(&Kind::Console));
}
