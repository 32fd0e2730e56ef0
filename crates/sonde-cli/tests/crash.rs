//! Crash test: under sustained load from the load generator (every kind of
//! traffic, kept-alive and one-connection-per-request clients), `sonde
//! serve` is SIGKILLed at random moments several times and restarted on the
//! same data directory and port; afterwards every acknowledged ping, event,
//! console frame and error report is stored exactly once.
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
use sonde_testkit::{db, serve::admin_token, wait};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Rows of every kind the generator sends, so progress is seen whatever the
/// mix drew.
fn stored_rows(data_dir: &Path) -> i64 {
    db::count(
        data_dir,
        "SELECT (SELECT count(*) FROM pings) + (SELECT count(*) FROM events) + (SELECT count(*) FROM error_reports)",
    )
}

#[test]
fn every_acknowledged_item_survives_sigkill_exactly_once() {
    let seed = env_or("SONDE_CRASH_SEED", 20_261_207);
    let kills = env_or("SONDE_CRASH_KILLS", 4);
    let progress = env_or("SONDE_CRASH_PROGRESS", 300) as i64;
    println!("crash test: seed {seed}, {kills} kills, {progress} rows between kills");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut serve = Serve::start(SONDE, &data, &[]);
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
            let before = stored_rows(&data);
            wait::until("the store to grow under load", || {
                stored_rows(&data) >= before + progress
            });
            // A random moment after that: somewhere in a batch, a commit,
            // an answer on its way.
            std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
            serve.kill();
            serve.wait_exit();
            serve = Serve::start_at(SONDE, &data, &addr.to_string(), &[]);
        }
        let before = stored_rows(&data);
        wait::until("the store to grow after the last restart", || {
            stored_rows(&data) >= before + progress
        });
        stop.store(true, Ordering::Relaxed);
        generator.join().unwrap()
    });
    assert!(serve.stop(), "the last collector did not stop cleanly");
    print!("{}", outcome.stats.table());

    let verdict = load::verify(&outcome.ledger, &data).unwrap();
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
