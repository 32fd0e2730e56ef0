//! The real `sonde serve` under hostile traffic: with a 1,024 open-file
//! limit, 1,100 idle sockets do not keep a new client out; memory pinned by
//! 48 stalled 1 MiB uploads is given back once their body timeout closes
//! them; 30,000 requests naming unregistered products leave memory where it
//! was (nothing is cached for a product nobody registered).

mod common;

use std::time::Duration;

use common::{Serve, SONDE};
use sonde_testkit::http::{exchange, Conn};
use sonde_testkit::process::rss_kib;
use sonde_testkit::wait;

const GET_HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/// `sonde serve` started by `sh` after `ulimit -n 1024` (soft and hard).
fn serve_with_1024_files(data_dir: &std::path::Path) -> Serve {
    let mut cmd = sonde_testkit::command::clean("sh");
    cmd.arg("-c")
        .arg("ulimit -n 1024 && exec \"$0\" serve --listen 127.0.0.1:0 --data-dir \"$1\"")
        .arg(SONDE)
        .arg(data_dir)
        .env("RUST_LOG", "info");
    Serve::spawn(cmd)
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

fn rss(s: &Serve) -> u64 {
    rss_kib(s.pid()).expect("the collector's RSS")
}

#[test]
fn a_new_client_is_served_while_1100_idle_sockets_are_open_under_a_1024_file_limit() {
    // This process holds the 1,100 sockets: raise its own limit where allowed.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let dir = tempfile::tempdir().unwrap();
    let s = serve_with_1024_files(dir.path());
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", s.pid())).unwrap();
    let files = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    assert_eq!(files.split_whitespace().nth(3), Some("1024"), "{files}");

    let mut idle: Vec<Conn> = (0..1100).map(|_| Conn::open(s.addr())).collect();
    let r = exchange(s.addr(), GET_HEALTH);
    assert_eq!(r.status, 200, "{}", r.text());
    // The cap (1,024 less 128 kept in reserve) leaves descriptors to spare.
    let open = open_files(s.pid());
    assert!(open <= 1024 - 64, "{open} descriptors open under a limit of 1,024");
    // Idle connections were closed to make room: at least those beyond the cap.
    let mut closed = vec![false; idle.len()];
    wait::until("the idle connections beyond the cap to be closed", || {
        for (c, done) in idle.iter_mut().zip(closed.iter_mut()) {
            if !*done {
                *done = c.closed_within(Duration::from_millis(1));
            }
        }
        closed.iter().filter(|&&c| c).count() >= 1100 - (1024 - 128)
    });
    // New clients keep being served, the idle sockets still open.
    for _ in 0..20 {
        assert_eq!(exchange(s.addr(), GET_HEALTH).status, 200);
    }
    drop(idle);
    assert!(s.stop(), "sonde serve did not exit 0");
}

#[test]
fn memory_pinned_by_stalled_uploads_is_given_back_when_they_time_out() {
    const UPLOADS: usize = 48;
    const MIB: usize = 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let s = common::serve(dir.path(), &["--body-timeout-secs", "5"]);
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {MIB}\r\n\r\n"
    );
    let almost = vec![b' '; MIB - 1];
    // Warm up: whole uploads, answered.
    for _ in 0..4 {
        let mut c = Conn::open(s.addr());
        assert!(c.send(head.as_bytes()) && c.send(&almost) && c.send(b" "));
        assert_eq!(c.read_response(wait::PATIENCE).expect("an answer").status, 400);
    }
    let before = rss(&s);
    let mut stalled: Vec<Conn> = (0..UPLOADS)
        .map(|_| {
            let mut c = Conn::open(s.addr());
            assert!(c.send(head.as_bytes()) && c.send(&almost));
            c
        })
        .collect();
    let peak = wait::for_value("the stalled uploads to be held in memory", wait::PATIENCE, || {
        let now = rss(&s);
        (now > before + 32 * 1024).then_some(now)
    });
    for c in &mut stalled {
        let r = c.read_response(wait::PATIENCE).expect("an answer at the body timeout");
        assert_eq!((r.status, r.error_code()), (408, "body_timeout".to_owned()));
        assert!(c.closed_within(wait::PATIENCE));
    }
    // The allocator (mimalloc) hands freed pages back to the system during
    // later allocations, not while the process sleeps: keep light traffic
    // going while waiting.
    let mut after = 0;
    wait::until("memory to come back", || {
        assert_eq!(exchange(s.addr(), GET_HEALTH).status, 200);
        after = rss(&s);
        after < before + 8 * 1024
    });
    eprintln!("RSS: {before} KiB before, {peak} KiB stalled, {after} KiB after");
    assert_eq!(exchange(s.addr(), GET_HEALTH).status, 200);
    assert!(s.stop());
}

/// A request naming `product` at each door that takes a product name.
fn unknown_product_requests(product: &str) -> [Vec<u8>; 4] {
    let post = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    [
        format!("GET /v1/check/{product}?version=1.0.0 HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes(),
        post(
            "/api/v1/events",
            &format!("{{\"product\":\"{product}\",\"events\":[]}}"),
        ),
        post(
            &format!("/v1/http?product={product}"),
            "{\"topic\":\"cli\",\"data\":{}}",
        ),
        post(&format!("/v1/telemetry/{product}"), "{}"),
    ]
}

fn name_products(conns: &mut [Conn], from: usize, count: usize) {
    for n in from..from + count {
        let requests = unknown_product_requests(&format!("ghost-{n}"));
        let (conn, request) = (&mut conns[n % 4], &requests[n % 4]);
        let r = conn.request(request).expect("an answer");
        assert_eq!((r.status, r.error_code()), (404, "unknown_product".to_owned()), "{n}");
    }
}

#[test]
fn naming_30000_unregistered_products_leaves_memory_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let s = common::serve(dir.path(), &[]);
    let mut conns: Vec<Conn> = (0..4).map(|_| Conn::open(s.addr())).collect();
    name_products(&mut conns, 0, 2_000);
    let before = rss(&s);
    name_products(&mut conns, 2_000, 30_000);
    let after = rss(&s);
    eprintln!("RSS: {before} KiB before, {after} KiB after 30,000 unregistered products");
    assert!(after < before + 2 * 1024, "RSS grew from {before} KiB to {after} KiB");
    drop(conns);
    assert!(s.stop());
}
