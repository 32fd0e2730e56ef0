//! Diagnostic: the store writer's CPU time per ping under concurrent group
//! commit, without HTTP. `cargo run --release -p sonde-store --example
//! writer_cost -- DIR [PINGS] [CONCURRENCY]` (DIR: an empty directory).
use sonde_protocol::{ClientFamily, ProductName, UsagePing};
use sonde_store::{NewPing, NewRelease, SqliteStore, Store};
use std::sync::Arc;

/// Milliseconds since the Unix epoch (the store keeps no clock; its caller does).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

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
    let conc: usize = std::env::args().nth(3).map(|s| s.parse().unwrap()).unwrap_or(50);
    let store = Arc::new(SqliteStore::open(std::path::Path::new(&dir)).unwrap());
    store
        .publish_release(
            NewRelease {
                product: "prisma".into(),
                version: "5.22.0".into(),
                ..Default::default()
            },
            now_ms(),
        )
        .unwrap()
        .wait_blocking()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t0 = std::time::Instant::now();
    let c0 = thread_cpu("sonde-store");
    let w0 = thread_cpu("tokio-rt");
    rt.block_on(async {
        let mut hs = Vec::new();
        for c in 0..conc {
            let store = store.clone();
            hs.push(tokio::spawn(async move {
                for i in 0..n / conc {
                    let sig = format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", c, i & 0xffff, i >> 16, 0, i);
                    let ping = UsagePing {
                        product: ProductName::parse("prisma").unwrap(),
                        version: Some("5.1.0".into()),
                        os: Some("linux".into()),
                        arch: Some("x64".into()),
                        runtime_version: Some("v20.20.2".into()),
                        signature: Some(sig),
                        ci: Some(false),
                        ci_name: None,
                        client_family: ClientFamily::Prisma,
                        project_hash: Some("a1b2c3d4".into()),
                        cli_path_hash: Some("deadbeef".into()),
                        received_at_ms: now_ms(),
                    };
                    store
                        .record_ping(NewPing {
                            ping,
                            source: "check",
                            dropped: vec![],
                            told_outdated: false,
                        })
                        .unwrap()
                        .wait()
                        .await
                        .unwrap();
                }
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
    });
    let el = t0.elapsed().as_secs_f64();
    let c1 = thread_cpu("sonde-store");
    let w1 = thread_cpu("tokio-rt");
    println!(
        "pings/s {:.0}  writer us/ping {:.2}  workers us/ping {:.2} commits {}",
        n as f64 / el,
        (c1 - c0) * 1e6 / n as f64,
        (w1 - w0) * 1e6 / n as f64,
        store.committed_batches()
    );
}
