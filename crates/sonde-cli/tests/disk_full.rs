//! A full disk under the data directory: `sonde serve` runs on a small
//! tmpfs in a private mount namespace (the test kit's `tmpfs`), the disk is
//! filled while it ingests, and then:
//!
//! - writes are answered 503 with `Retry-After` (never 500), checks too,
//!   and console WebSockets are closed with 1013;
//! - the log has one line about it, not one per failed batch;
//! - the database passes `PRAGMA integrity_check`;
//! - once space is freed, writes succeed again in the same process;
//! - everything acknowledged before, during and after is stored once.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use common::SONDE;
use rand::SeedableRng;
use sonde_bench::load::client::{Connection, Exchange};
use sonde_bench::load::population::Population;
use sonde_bench::load::{self, wire, Kind, Ledger, Options};
use sonde_testkit::{process, serve::admin_token, tmpfs, wait};

/// The line the store's writer logs when a batch fails on a full disk.
const DISK_FULL_LINE: &str = "disk holding the data directory is full";

/// `PRAGMA integrity_check` of a snapshot of the database on the tmpfs
/// (`inside`), taken into `copy`.
fn integrity(inside: &Path, copy: &Path) -> String {
    tmpfs::snapshot(inside, copy);
    let db = rusqlite::Connection::open(copy.join("sonde.db")).expect("open the snapshot");
    db.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

struct Client {
    conn: Connection,
    host: String,
    ledger: Ledger,
    population: Population,
    rng: rand::rngs::StdRng,
}

impl Client {
    /// Sends a native batch of 500 events; returns its status and
    /// `Retry-After`, recording what was acknowledged.
    fn batch(&mut self) -> (u16, Option<u64>) {
        let dev = self.population.pick(&mut self.rng).clone();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let mut requests = vec![wire::native_batch(
            &self.host,
            "loadtool",
            "1.2.0",
            500,
            now_ms,
            true,
            &mut self.rng,
        )];
        requests.push(wire::error_report(
            &self.host,
            "loadtool",
            &dev,
            "1.2.0",
            now_ms,
            true,
            &mut self.rng,
        ));
        let mut first = None;
        for request in requests {
            let answer = match self.conn.exchange(&request.bytes) {
                Exchange::Answered {
                    status, retry_after, ..
                } => {
                    for item in &request.items {
                        if status == 200 {
                            self.ledger.record(item, true);
                        }
                    }
                    (status, retry_after)
                }
                other => panic!("no answer from the collector: {other:?}"),
            };
            first.get_or_insert(answer);
        }
        first.unwrap()
    }

    fn check(&mut self) -> (u16, Option<u64>) {
        let sig = "0f6a3b57-88a2-4e21-9c3d-2b6f1e0a4c77";
        let request = wire::check_go(&self.host, "loadtool", sig, "1.2.0", true);
        match self.conn.exchange(&request.bytes) {
            Exchange::Answered {
                status, retry_after, ..
            } => {
                if status == 200 {
                    self.ledger.record(&request.items[0], true);
                }
                (status, retry_after)
            }
            other => panic!("no answer from the collector: {other:?}"),
        }
    }
}

#[test]
fn a_full_disk_answers_503_logs_once_keeps_the_database_whole_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = tmpfs::serve(SONDE, &data, "4m", &[]);
    let pid = serve.pid();
    // The data directory as the collector sees it (the tmpfs).
    let inside = tmpfs::seen_by(pid, &data);
    load::setup(serve.addr(), &admin_token(&inside), "loadtool").unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let population = Population::new(20, 10.0, &mut rng);
    let mut client = Client {
        conn: Connection::new(serve.addr(), true),
        host: serve.addr().to_string(),
        ledger: Ledger::new("loadtool"),
        population,
        rng,
    };
    for _ in 0..3 {
        assert_eq!(client.batch().0, 200);
    }

    let filled = tmpfs::fill(&inside);
    assert!(filled > 0);
    let _ = serve.drain_log();
    // Writes go on until one needs space that is not there (the WAL first
    // reuses the frames it already has).
    let mut refused = false;
    for _ in 0..500 {
        match client.batch() {
            (200, _) => {}
            (503, Some(1)) => {
                refused = true;
                break;
            }
            other => panic!("a write on a full disk got {other:?}"),
        }
    }
    assert!(refused, "the disk never filled up");
    // While it stays full, every write is refused the same way, checks too.
    for _ in 0..20 {
        assert_eq!(client.batch(), (503, Some(1)));
        assert_eq!(client.check(), (503, Some(1)));
    }
    // Console sessions over /v1/ws: each is closed with 1013 (try again
    // later), none acknowledged, and no socket adds a log line.
    let mut opts = Options::new(serve.addr());
    opts.mix = "console=1".parse().unwrap();
    opts.concurrency = 2;
    opts.duration = Some(std::time::Duration::from_secs(1));
    let consoles = load::run(&opts, &AtomicBool::new(false));
    let console = &consoles.stats.by_kind[&Kind::Console];
    assert!(console.requests > 0);
    assert_eq!(
        console.items_acked, 0,
        "a console frame was acknowledged on a full disk"
    );
    client.ledger.merge(consoles.ledger);
    let mut log = String::new();
    wait::until("the writer's log line", || {
        log += &serve.drain_log();
        log.contains(DISK_FULL_LINE)
    });
    log += &serve.drain_log();
    assert_eq!(
        log.matches(DISK_FULL_LINE).count(),
        1,
        "one line for the whole run of failures, got:\n{log}"
    );
    assert!(log.lines().count() <= 3, "the log was flooded:\n{log}");
    let copy = dir.path().join("snapshot");
    assert_eq!(integrity(&inside, &copy), "ok");

    // Space returns: the same process takes writes again.
    tmpfs::free(&inside);
    wait::until("writes to be accepted again", || client.batch().0 == 200);
    assert_eq!(client.check().0, 200);
    for _ in 0..3 {
        assert_eq!(client.batch().0, 200);
    }
    assert_eq!(serve.pid(), pid);
    assert!(!process::gone(pid), "the collector was restarted");
    wait::until("the recovery log line", || {
        serve.drain_log().contains("writes commit again")
    });
    assert_eq!(integrity(&inside, &copy), "ok");

    // Everything acknowledged, before, during and after, is stored once
    // (in a snapshot taken while the namespace, and so the tmpfs, exists).
    let verdict = load::verify(&client.ledger, &copy).unwrap();
    print!("{}", verdict.table());
    assert!(verdict.clean(), "{}", verdict.table());
    assert!(verdict.checks["events"].acked >= 3 * 500);
    assert!(serve.stop());
}
