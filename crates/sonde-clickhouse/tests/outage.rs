//! ClickHouse stopped while several senders are sending: native event
//! batches (every event with its own id) and version checks (every check
//! with its own signature) keep arriving while it is down. The collector
//! acknowledges into its spill until the spill is full, then answers 503
//! with `Retry-After`, and the senders retry those requests later, as
//! clients do. ClickHouse restarts on the same data, the spill drains, and
//! every acknowledged event and ping is counted exactly once: the distinct
//! ids (what every read of the store counts) equal the acknowledged set,
//! and nothing is stored that was never sent. A row may be stored twice
//! under its id when ClickHouse applied an insert but shut down before
//! answering it, and the spill sent it again (18.16 has no insert
//! deduplication for plain MergeTree); reads fold ids, so it counts once. `/healthz` says `degraded` while writes wait in the
//! spill and `ok` once they are in ClickHouse.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use sonde_collector::StoreChoice;
use sonde_testkit::clickhouse::ClickHouse;
use sonde_testkit::collector::Collector;
use sonde_testkit::{http, wait};

/// Senders running at once.
const SENDERS: u32 = 4;
/// Events per native batch.
const BATCH: u32 = 10;

/// Event `n` of sender `s`: ids never repeat across senders.
fn event_id(s: u32, n: u32) -> String {
    format!("0190f5e2-{s:04x}-7000-8000-{n:012x}")
}

/// The signature of check `n` of sender `s`.
fn signature(s: u32, n: u32) -> String {
    format!("{n:08x}-{s:04x}-4e21-9c3d-2b6f1e0a4c77")
}

/// What the senders learned.
#[derive(Default)]
struct Acked {
    events: Mutex<BTreeSet<String>>,
    pings: Mutex<BTreeSet<String>>,
    /// 503 answers with a `Retry-After` header.
    refused: AtomicU64,
}

/// An answer: status, `Retry-After`, body.
type Answer = (u16, Option<String>, String);

/// Sends `request` until it is acknowledged: a 503 with `Retry-After` waits
/// that long and sends it again, as clients do.
fn send_until_acked(request: impl Fn() -> Answer, acked: &Acked) {
    loop {
        let (status, retry_after, body) = request();
        if (200..300).contains(&status) {
            return;
        }
        assert_eq!(status, 503, "only a full spill may refuse a write: {body}");
        let secs: u64 = retry_after
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("a 503 without Retry-After: {body}"));
        acked.refused.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(Duration::from_secs(secs));
    }
}

/// Sender `s`: alternates a native batch and a check until `stop`.
fn sender(c: &Collector, s: u32, stop: &AtomicBool, acked: &Acked) {
    let agent = http::agent();
    let answer = |resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>| -> Answer {
        let mut resp = resp.expect("the collector answers");
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        (resp.status().as_u16(), retry_after, body)
    };
    let (mut next_event, mut next_check) = (0u32, 0u32);
    while !stop.load(Ordering::Relaxed) {
        let ids: Vec<String> = (next_event..next_event + BATCH).map(|n| event_id(s, n)).collect();
        next_event += BATCH;
        let events: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "kind": "command", "command": "tool build"}))
            .collect();
        let body = json!({"product": "tool", "events": events}).to_string();
        let url = c.url("/api/v1/events");
        send_until_acked(
            || {
                answer(
                    agent
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .send(body.as_str()),
                )
            },
            acked,
        );
        acked.events.lock().unwrap().extend(ids);

        let sig = signature(s, next_check);
        next_check += 1;
        let url = c.url(&format!("/v1/check/tool?version=1.0.0&signature={sig}"));
        send_until_acked(|| answer(agent.get(&url).call()), acked);
        acked.pings.lock().unwrap().insert(sig);
    }
}

fn health(c: &Collector) -> String {
    let body: Value = http::get(c.addr(), "/healthz").json();
    body["status"].as_str().unwrap_or_default().to_owned()
}

/// Rows of `sql`'s TSV answer, split into fields.
fn tsv(ch: &ClickHouse, sql: &str) -> Vec<Vec<String>> {
    ch.query(&format!("{sql} FORMAT TSV"))
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

#[test]
fn clickhouse_stopped_under_load_loses_and_doubles_nothing_acknowledged() {
    let mut ch = ClickHouse::start();
    let url = ch.url("outage_load");
    let c = Collector::start_configured(|cfg| {
        cfg.store = StoreChoice::ClickHouse(url);
        cfg.rate_limit = None;
        // Room for some tens of batches: the outage fills it.
        cfg.spill_max_bytes = 60_000;
    });
    c.publish("tool", "1.0.0");
    let acked = Acked::default();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for s in 0..SENDERS {
            let (c, stop, acked) = (&c, &stop, &acked);
            scope.spawn(move || sender(c, s, stop, acked));
        }
        let events = || acked.events.lock().unwrap().len();
        let before = events();
        wait::until("events to be acknowledged with ClickHouse up", || {
            events() >= before + 200
        });
        assert_eq!(health(&c), "ok");

        // Stopped while the senders send: writes go to the spill, then
        // the full spill refuses them until ClickHouse is back.
        ch.stop();
        wait::until("the collector to report degraded", || health(&c) == "degraded");
        wait::until("the spill to fill up (503 with Retry-After)", || {
            acked.refused.load(Ordering::Relaxed) > 0
        });
        assert_eq!(health(&c), "degraded");

        ch.restart();
        // The senders' retries and new writes get through again.
        let before = events();
        wait::until("events to be acknowledged after the restart", || {
            events() >= before + 200
        });
        stop.store(true, Ordering::Relaxed);
    });
    wait::until("the spill to drain and /healthz to say ok", || health(&c) == "ok");

    let events = acked.events.into_inner().unwrap();
    let pings = acked.pings.into_inner().unwrap();
    println!(
        "acknowledged {} events and {} checks; {} requests refused with 503 and retried",
        events.len(),
        pings.len(),
        acked.refused.load(Ordering::Relaxed)
    );
    assert!(acked.refused.load(Ordering::Relaxed) > 0);

    // Events: each acknowledged id counted once, and no other id.
    let rows = tsv(
        &ch,
        "SELECT uniqExact(id), count() FROM outage_load.events WHERE product = 'tool'",
    );
    assert_eq!(
        rows[0][0],
        events.len().to_string(),
        "each acknowledged event counted once"
    );
    assert!(rows[0][1].parse::<usize>().unwrap() >= events.len());
    let stored: BTreeSet<String> = tsv(&ch, "SELECT id FROM outage_load.events WHERE product = 'tool'")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(stored, events, "the stored ids are the acknowledged ones");

    // Pings: each acknowledged check counted once, each signature once.
    let rows = tsv(
        &ch,
        "SELECT uniqExact(id), count(), uniqExact(signature) FROM outage_load.pings WHERE product = 'tool'",
    );
    let n = pings.len().to_string();
    assert_eq!(
        (&rows[0][0], &rows[0][2]),
        (&n, &n),
        "each acknowledged check counted once"
    );
    assert!(rows[0][1].parse::<usize>().unwrap() >= pings.len());
    let stored: BTreeSet<String> = tsv(&ch, "SELECT signature FROM outage_load.pings WHERE product = 'tool'")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(stored, pings, "the stored signatures are the acknowledged ones");

    // The collector's own answers agree.
    let (status, count) = c.admin_get("/api/v1/stats/events?product=tool&kind=command&include_test=true");
    assert_eq!(status, 200, "{count}");
    let total: u64 = count["rows"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["count"].as_u64()).sum())
        .unwrap_or(0);
    assert_eq!(total, events.len() as u64, "{count}");
}
