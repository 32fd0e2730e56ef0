//! Hostile traffic against the collector in this process: connections that
//! stall before, during or after a request are closed by their timeouts; at
//! the connection cap idle connections make room and busy ones are never
//! evicted (a new client gets 503 instead); bodies over the limit are refused
//! by their declared length before a byte is read; a malformed chunked body
//! is a 400 of its own; HTTP/2 is not spoken; the TLS listener has the same
//! timeouts; the data directory and its files are private. The real binary under a 1,024-descriptor limit, and
//! memory, are in the CLI's `hostile_serve` tests.

mod common;

use std::time::Duration;

use common::Harness;
use sonde_testkit::http::{exchange, Conn, RawResponse};

/// Long enough for any answer on a loaded machine: tests bound "answered at
/// all", never how fast.
const PATIENCE: Duration = Duration::from_secs(30);

fn with(configure: impl FnOnce(&mut sonde_collector::Config)) -> Harness {
    Harness::start_configured(configure)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn post_head(path: &str, extra: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}\r\n")
}

fn answer(conn: &mut Conn) -> RawResponse {
    conn.read_response(PATIENCE).expect("an answer")
}

#[test]
fn connections_that_stall_before_their_headers_are_closed() {
    let h = with(|c| c.header_timeout = secs(1));
    let mut silent = Conn::open(h.addr());
    let mut half_line = Conn::open(h.addr());
    assert!(half_line.send(b"GET /hea"));
    let mut trickle = Conn::open(h.addr());
    let addr = h.addr();
    let trickler = std::thread::spawn(move || {
        // One byte every 200 ms: the request line and headers would take
        // longer than a minute; the timeout is 1 s.
        let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        let mut sent = 0;
        for b in request {
            if !trickle.send(&[*b]) {
                break;
            }
            sent += 1;
            std::thread::sleep(Duration::from_millis(200));
        }
        let closed = trickle.closed_within(PATIENCE);
        (sent, request.len(), closed, trickle.received().to_vec())
    });
    assert!(silent.closed_within(PATIENCE), "a silent connection stays open");
    assert!(silent.received().is_empty());
    assert!(half_line.closed_within(PATIENCE), "half a request line stays open");
    assert!(half_line.received().is_empty());
    let (sent, total, closed, received) = trickler.join().unwrap();
    assert!(closed, "a trickling connection stays open");
    assert!(
        sent < total,
        "the trickled request was never cut: {sent} of {total} bytes went through"
    );
    assert!(received.is_empty(), "{}", String::from_utf8_lossy(&received));
    // The collector still serves.
    assert_eq!(
        exchange(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status,
        200
    );
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let h = with(|c| c.idle_timeout = secs(1));
    let mut conn = Conn::open(h.addr());
    let first = conn
        .request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("an answer");
    assert_eq!(first.status, 200);
    let second = conn
        .request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("kept alive");
    assert_eq!(second.status, 200);
    assert!(conn.closed_within(PATIENCE), "an idle connection stays open");
}

#[test]
fn a_stalled_body_is_answered_408_and_the_connection_closed() {
    let h = with(|c| c.body_timeout = secs(1));
    h.register("demo", "1.0.0");
    for path in ["/api/v1/events", "/v1/http", "/v1/telemetry/demo"] {
        let mut conn = Conn::open(h.addr());
        assert!(conn.send(post_head(path, "Content-Length: 1000\r\n").as_bytes()));
        assert!(conn.send(&[b' '; 10]));
        let r = answer(&mut conn);
        assert_eq!((r.status, r.error_code()), (408, "body_timeout".to_owned()), "{path}");
        assert!(conn.closed_within(PATIENCE), "{path}");
    }
}

#[test]
fn a_body_declared_over_the_limit_is_refused_before_it_is_read() {
    // The default body timeout (30 s) is longer than the wait for an answer:
    // a collector that waited for the body would not answer in time.
    let h = with(|c| c.body_timeout = secs(600));
    h.register("demo", "1.0.0");
    for path in ["/api/v1/events", "/v1/http", "/v1/telemetry/demo"] {
        let mut conn = Conn::open(h.addr());
        assert!(conn.send(post_head(path, "Content-Length: 1000000000000\r\n").as_bytes()));
        let r = conn
            .read_response(Duration::from_secs(20))
            .expect("413 without the body");
        assert_eq!(
            (r.status, r.error_code()),
            (413, "payload_too_large".to_owned()),
            "{path}"
        );

        // With `Expect: 100-continue`, the first answer is the 413, never `100 Continue`.
        let mut conn = Conn::open(h.addr());
        let head = post_head(path, "Content-Length: 5000000\r\nExpect: 100-continue\r\n");
        assert!(conn.send(head.as_bytes()));
        let r = conn
            .read_response(Duration::from_secs(20))
            .expect("413 without the body");
        assert_eq!(r.status, 413, "{path}: {}", r.text());
        assert!(conn.closed_within(PATIENCE), "{path}");
        assert!(
            !String::from_utf8_lossy(conn.received()).contains("100 Continue"),
            "{path}"
        );

        // A client that sends the whole over-limit body before reading still
        // gets the 413: the collector reads and discards the body before it
        // closes, instead of resetting the connection under the client.
        let mut conn = Conn::open(h.addr());
        let body = vec![b' '; 3 * 1024 * 1024];
        let head = post_head(path, &format!("Content-Length: {}\r\n", body.len()));
        assert!(
            conn.send(head.as_bytes()) && conn.send(&body),
            "{path}: reset while sending"
        );
        let r = conn.read_response(PATIENCE).expect("the 413");
        assert_eq!(r.status, 413, "{path}");
    }
}

#[test]
fn a_malformed_chunked_body_is_400_malformed_body() {
    let h = common::start();
    h.register("demo", "1.0.0");
    for path in ["/api/v1/events", "/v1/http", "/v1/telemetry/demo"] {
        let mut request = post_head(path, "Transfer-Encoding: chunked\r\nConnection: close\r\n").into_bytes();
        request.extend_from_slice(b"zz\r\n{\"a\":1}\r\n0\r\n\r\n");
        let r = exchange(h.addr(), &request);
        assert_eq!((r.status, r.error_code()), (400, "malformed_body".to_owned()), "{path}");
    }
    // A well-formed chunked body is read as usual.
    let mut request = post_head(
        "/v1/telemetry/demo",
        "Transfer-Encoding: chunked\r\nConnection: close\r\n",
    )
    .into_bytes();
    request.extend_from_slice(b"2\r\n{}\r\n0\r\n\r\n");
    assert_eq!(exchange(h.addr(), &request).status, 201);
}

#[test]
fn an_http2_prior_knowledge_preface_gets_no_http2_answer() {
    let h = common::start();
    let mut conn = Conn::open(h.addr());
    // The client preface, then an empty SETTINGS frame.
    assert!(conn.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"));
    assert!(conn.closed_within(PATIENCE));
    let got = conn.received();
    // An HTTP/2 server answers with its own SETTINGS frame (type 4).
    assert!(
        got.is_empty() || got.starts_with(b"HTTP/1.1 "),
        "an HTTP/2 answer: {got:?}"
    );
    assert!(!(got.len() >= 9 && got[3] == 4), "an HTTP/2 SETTINGS frame: {got:?}");
}

#[test]
fn at_the_cap_idle_connections_make_room_and_busy_ones_get_a_503() {
    // A budget of 12: a quarter for WebSockets, 9 for plain connections.
    const CAP: usize = 9;
    let h = with(|c| {
        c.max_connections = 12;
        c.body_timeout = secs(600);
    });
    let addr = h.addr();
    let get = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    // Twice as many idle connections as the cap: new clients are served.
    let mut idle: Vec<Conn> = (0..2 * CAP).map(|_| Conn::open(addr)).collect();
    for _ in 0..3 {
        assert_eq!(exchange(addr, get).status, 200);
    }
    let closed = idle
        .iter_mut()
        .map(|c| c.closed_within(PATIENCE / 30))
        .filter(|&c| c)
        .count();
    assert!(
        closed > CAP,
        "only {closed} of {} idle connections were closed",
        2 * CAP
    );
    drop(idle);

    // Every place taken by an upload in progress (`100 Continue` says the
    // collector is reading its body): nothing to evict, 503.
    let head = post_head("/api/v1/events", "Content-Length: 100\r\nExpect: 100-continue\r\n");
    let mut busy: Vec<Conn> = (0..CAP)
        .map(|_| {
            let mut c = Conn::open(addr);
            assert!(c.send(head.as_bytes()));
            assert_eq!(answer(&mut c).status, 100);
            assert!(c.send(b"{\"product\":"));
            c
        })
        .collect();
    let refused = sonde_testkit::wait::for_value("a 503 at the cap", PATIENCE, || {
        let r = exchange(addr, get);
        (r.status == 503).then_some(r)
    });
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.error_code(), "unavailable");
    // The uploads were not evicted: each completes and is answered.
    for c in &mut busy {
        let rest = format!("{:<89}", "\"ghost\",\"events\":[]}");
        assert!(c.send(rest.as_bytes()));
        let r = answer(c);
        assert_eq!((r.status, r.error_code()), (404, "unknown_product".to_owned()));
    }
    assert_eq!(exchange(addr, get).status, 200);
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

    // A data directory the collector creates.
    let h = with(|c| c.data_dir = c.data_dir.join("new"));
    h.register("demo", "1.0.0");
    let dir = h.data_dir();
    assert_eq!(mode(&dir), 0o700);
    for file in [
        "sonde.db",
        "sonde.db-wal",
        "sonde.db-shm",
        "admin-token",
        "collector.lock",
    ] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    drop(h);

    // One that exists, readable by everyone, is tightened.
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("open");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for file in ["sonde.db", "sonde.db-wal", "sonde.db-shm"] {
        std::fs::write(dir.join(file), b"").unwrap();
        std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let h = Harness::start_in(&dir);
    h.register("demo", "1.0.0");
    assert_eq!(mode(&dir), 0o700);
    for file in ["sonde.db", "sonde.db-wal", "sonde.db-shm"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
}

#[test]
fn the_tls_listener_has_the_same_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let ca = sonde_testkit::tls::TestCa::new("hostile test CA");
    let (_, chain, key) = ca.write_files(dir.path(), "localhost");
    let h = with(|c| {
        c.header_timeout = secs(1);
        c.tls_cert = Some(chain);
        c.tls_key = Some(key);
    });
    // A connection that never starts its handshake is closed.
    let mut silent = Conn::open(h.addr());
    assert!(silent.closed_within(PATIENCE), "a silent TLS connection stays open");
    assert!(silent.received().is_empty());
    // The listener still serves HTTPS.
    let root = ureq::tls::Certificate::from_der(&ca.der).to_owned();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[root]))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let url = format!("https://localhost:{}/healthz", h.addr().port());
    let response = agent.get(&url).call().expect("an HTTPS answer");
    assert_eq!(response.status().as_u16(), 200);
}
