//! Graceful shutdown drains the queue: a burst of native event batches from
//! several clients, SIGTERM in the middle of it, exit 0, a restart over the
//! same data directory, and every event that was acknowledged is stored
//! exactly once (a retry of an acknowledged batch after the restart is
//! answered as duplicates, not stored again).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{ok_in as ok, serve};
use serde_json::{json, Value};

const EVENTS_PER_BATCH: u64 = 10;

fn uuid(n: u64) -> String {
    format!("0b3f4c4e-1d2a-4c3b-8f00-{n:012x}")
}

fn batch(ids: &[String]) -> Value {
    let events: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "kind": "command", "command": "demo build"}))
        .collect();
    json!({"product": "demo", "events": events})
}

/// `POST /api/v1/events`: (status, answer), or `None` once nobody listens.
fn post(addr: SocketAddr, body: &Value) -> Option<(u16, Value)> {
    let mut r = sonde_testkit::http::agent()
        .post(&format!("http://{addr}/api/v1/events"))
        .send_json(body)
        .ok()?;
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().ok()?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// Client threads sending batches of fresh ids until `stop` or until the
/// collector is gone; returns the ids of every batch answered 200.
fn burst(
    addr: SocketAddr,
    threads: u64,
    stop: Arc<AtomicBool>,
) -> (Vec<std::thread::JoinHandle<()>>, Arc<Mutex<Vec<String>>>) {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let handles = (0..threads)
        .map(|t| {
            let (stop, acked) = (stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let ids: Vec<String> = (0..EVENTS_PER_BATCH)
                        .map(|i| uuid((t << 32) | (n * EVENTS_PER_BATCH + i)))
                        .collect();
                    n += 1;
                    match post(addr, &batch(&ids)) {
                        Some((200, answer)) => {
                            assert_eq!(answer["stored"], EVENTS_PER_BATCH, "{answer}");
                            acked.lock().unwrap().extend(ids);
                        }
                        Some((status, answer)) => assert_eq!(status, 503, "{answer}"),
                        None => break,
                    }
                }
            })
        })
        .collect();
    (handles, acked)
}

/// How many rows each stored event id has (as `hex(id)`, a UUID's 16 bytes).
fn stored_ids(dir: &std::path::Path) -> HashMap<String, i64> {
    let c = sonde_testkit::db::open(dir);
    let mut stmt = c
        .prepare("SELECT hex(id), count(*) FROM events WHERE product = 'demo' GROUP BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn sigterm_mid_burst_commits_every_acknowledged_event_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &["release", "publish", "--product", "demo", "--version", "1.0.0"],
    );
    let mut s = serve(dir.path(), &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let (handles, acked) = burst(s.addr(), 4, stop.clone());
    sonde_testkit::wait::for_value(
        "the collector to acknowledge 50 batches",
        Duration::from_secs(120),
        || (acked.lock().unwrap().len() >= 50 * EVENTS_PER_BATCH as usize).then_some(()),
    );
    s.terminate();
    let status = s.wait_exit();
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(status.code(), Some(0), "graceful shutdown exits 0:\n{}", s.drain_log());
    let acked = acked.lock().unwrap().clone();

    // Restart over the same directory: everything acknowledged is there, once.
    let again = serve(dir.path(), &[]);
    let stored = stored_ids(dir.path());
    let missing: Vec<&String> = acked
        .iter()
        .filter(|id| stored.get(&id.replace('-', "").to_uppercase()) != Some(&1))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events not stored exactly once: {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    // A client retrying an acknowledged batch after the restart stores nothing new.
    let first: Vec<String> = acked[..EVENTS_PER_BATCH as usize].to_vec();
    let (status, answer) = post(again.addr(), &batch(&first)).expect("the restarted collector answers");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["stored"].as_u64(), answer["duplicates"].as_u64()),
        (Some(0), Some(EVENTS_PER_BATCH))
    );
    assert!(again.stop(), "the restarted collector exits 0 on SIGTERM");
    assert_eq!(stored_ids(dir.path()).len(), stored.len());
}
