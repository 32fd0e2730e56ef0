//! Diagnostic: the store writer's CPU time per event, without HTTP, with
//! and without the command and console roll-ups.
//! `cargo run --release -p sonde-store --example event_writer_cost -- DIR
//! [EVENTS] [CONCURRENCY] [counted|test]` (DIR: an empty directory).
//!
//! Requests of 100 command and console events each (20 command paths, 10
//! actions and routes, 5,000 installations) are sent by `CONCURRENCY` tasks.
//! `counted` (the default) stores ordinary events, which the roll-ups
//! count; `test` stores the same events marked as test events, which they
//! leave out: the difference is what the roll-ups cost the writer.
use serde_json::json;
use sonde_protocol::{Event, EventKind, ProductName};
use sonde_store::{NewEvents, SqliteStore, Store};
use std::sync::Arc;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// CPU seconds of the threads whose name starts with `name`.
fn thread_cpu(name: &str) -> f64 {
    let mut t = 0.0;
    for e in std::fs::read_dir("/proc/self/task").unwrap() {
        let p = e.unwrap().path();
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        if comm.trim().starts_with(name) {
            let stat = std::fs::read_to_string(p.join("stat")).unwrap();
            let f: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
            t += (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0;
        }
    }
    t
}

fn main() {
    let dir = std::env::args().nth(1).expect("dir");
    let n: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(200_000);
    let conc: usize = std::env::args().nth(3).map(|s| s.parse().unwrap()).unwrap_or(20);
    let test = std::env::args().nth(4).as_deref() == Some("test");
    let store = Arc::new(SqliteStore::open(std::path::Path::new(&dir)).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t0 = std::time::Instant::now();
    let c0 = thread_cpu("sonde-store");
    rt.block_on(async {
        let mut hs = Vec::new();
        for c in 0..conc {
            let store = store.clone();
            hs.push(tokio::spawn(async move {
                for r in 0..n / conc / 100 {
                    let events = (0..100)
                        .map(|i| {
                            let k = (c * 1_000_000 + r * 100 + i) as u64;
                            let inst = format!("00000000-0000-4000-8000-{:012}", k % 5000);
                            let (kind, fields) = if i.is_multiple_of(4) {
                                (
                                    EventKind::Console,
                                    json!({"event_type": format!("Action{}", k % 10), "url": format!("/page/{}", k % 10),
                                           "server_uuid": inst}),
                                )
                            } else {
                                (
                                    EventKind::Command,
                                    json!({"command": format!("tool verb{}", k % 20), "is_error": k.is_multiple_of(17),
                                           "uuid": inst, "version": "1.2.0", "os_platform": "linux"}),
                                )
                            };
                            Event {
                                id: format!("{c:08x}-{:04x}-4000-8000-{:012x}", r & 0xffff, (r >> 16) * 100 + i),
                                kind,
                                product: ProductName::parse("demo").unwrap(),
                                test,
                                occurred_at_ms: None,
                                received_at_ms: now_ms(),
                                fields: fields.as_object().unwrap().clone().into(),
                            }
                        })
                        .collect();
                    let batch = NewEvents {
                        product: ProductName::parse("demo").unwrap(),
                        source: "native",
                        events,
                        dropped: vec![],
                    };
                    store.store_events(batch).unwrap().wait().await.unwrap();
                }
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
    });
    let el = t0.elapsed().as_secs_f64();
    let c1 = thread_cpu("sonde-store");
    println!(
        "{}: events/s {:.0}  writer us/event {:.2}  commits {}",
        if test { "test (not counted)" } else { "counted" },
        n as f64 / el,
        (c1 - c0) * 1e6 / n as f64,
        store.committed_batches()
    );
}
