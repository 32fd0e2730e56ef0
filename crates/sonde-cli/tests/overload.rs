//! Overload: with the write queue bounded, excess load is answered 503 with
//! `Retry-After`, the collector's memory stays bounded, and nothing
//! acknowledged is dropped; the per-client-address rate limit answers 429
//! with `Retry-After`, stores nothing it refused, and writes the address
//! nowhere.

mod common;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::{ok_in, Serve, SONDE};
use sonde_bench::load::{self, wire, Ledger, Mix, Options, Stats};
use sonde_testkit::{db, http, process, serve::admin_token};

/// Peak resident memory allowed to the collector under this load: generous
/// (a debug build, 64 connections); what it guards against is growth with
/// the offered load (an unbounded queue, buffered bodies).
const PEAK_RSS_LIMIT_KIB: u64 = 256 * 1024;

#[test]
fn a_full_queue_answers_503_with_retry_after_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A queue of two writes, and no rate limit: only the queue refuses.
    let serve = Serve::start(
        SONDE,
        &data,
        &["--queue-capacity", "2", "--workers", "2", "--rate-limit", "0"],
    );
    load::setup(serve.addr(), &admin_token(&data), "loadtool").unwrap();
    let mut opts = Options::new(serve.addr());
    opts.concurrency = 64;
    opts.keep_alive_share = 1.0;
    opts.duration = Some(Duration::from_secs(2));
    opts.mix = "check-go=2,check-prisma=2,native=3,error-report=1,hasura-cli=1"
        .parse::<Mix>()
        .unwrap();
    opts.batch = 200;
    let mut ledger = Ledger::new(&opts.product);
    let mut stats = Stats::default();
    // Rounds until the queue has overflowed (the first one nearly always does).
    for round in 0..10 {
        opts.seed = round + 1;
        let outcome = load::run(&opts, &AtomicBool::new(false));
        ledger.merge(outcome.ledger);
        stats.merge(outcome.stats);
        if stats.status(503) > 0 {
            break;
        }
    }
    let peak = process::peak_rss_kib(serve.pid()).expect("read the collector's VmHWM");
    println!("{}peak RSS {peak} KiB", stats.table());
    assert!(stats.status(503) > 0, "the queue never overflowed:\n{}", stats.table());
    // Every 503 said when to come back, and nothing else did.
    assert_eq!(stats.retry_after(), stats.status(503), "{}", stats.table());
    assert_eq!(stats.status(500), 0, "{}", stats.table());
    assert!(stats.status(200) > 0, "{}", stats.table());
    assert!(
        peak < PEAK_RSS_LIMIT_KIB,
        "peak RSS {peak} KiB over {PEAK_RSS_LIMIT_KIB} KiB"
    );
    assert!(serve.stop());
    let verdict = load::verify(&ledger, &data).unwrap();
    print!("{}", verdict.table());
    assert!(verdict.clean(), "{}", verdict.table());
    assert!(verdict.acked() > 0);
}

#[test]
fn an_address_over_its_rate_limit_gets_429_with_retry_after_and_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok_in(
        &data,
        &["release", "publish", "--product", "loadtool", "--version", "1.0.0"],
    );
    let mut cmd = common::sonde();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(["--rate-limit", "5", "--rate-limit-burst", "10"])
        .env("RUST_LOG", "trace");
    let mut serve = Serve::spawn(cmd);
    let mut conn = http::Conn::open(serve.addr());
    let port = conn.local_port();
    let host = serve.addr().to_string();
    let signature = "0f6a3b57-88a2-4e21-9c3d-2b6f1e0a4c77";
    let (mut ok, mut limited) = (0u64, 0u64);
    for _ in 0..60 {
        let request = wire::check_go(&host, "loadtool", signature, "1.0.0", true);
        let answer = conn
            .request(&request.bytes)
            .expect("an answer on the kept-alive connection");
        match answer.status {
            200 => ok += 1,
            429 => {
                limited += 1;
                assert_eq!(answer.error_code(), "rate_limited");
                let retry: u64 = answer
                    .header("retry-after")
                    .expect("Retry-After on a 429")
                    .parse()
                    .expect("Retry-After in seconds");
                assert!(retry >= 1);
            }
            s => panic!("unexpected status {s}: {}", answer.text()),
        }
    }
    // The burst passes, then the address is limited (60 requests arrive far
    // faster than 5 a second; each 200 beyond the burst is a token earned).
    assert!(ok >= 10, "{ok} answered 200");
    assert!(limited > 0, "nothing was limited ({ok} answered 200)");
    // Only the requests answered 200 were stored.
    assert_eq!(db::ping_count(&data, "loadtool"), ok);
    // Another route is limited the same way: the limit is per address.
    let health = conn.request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(matches!(health.status, 200 | 429), "{}", health.status);
    drop(conn);
    serve.terminate();
    let log = serve.output_until_exit();
    assert!(serve.wait_exit().success());
    assert!(!log.is_empty());
    // The address is in memory only: not in the log (even at trace level,
    // where the client's port would name it), not in the database.
    assert!(!log.contains(&format!(":{port}")), "the log names the client");
    assert!(!db::contains(&db::raw_bytes(&data), "127.0.0.1"));
}
