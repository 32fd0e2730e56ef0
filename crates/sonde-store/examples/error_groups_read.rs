//! Diagnostic: how long reading a product's error groups takes on SQLite,
//! from the group roll-ups (`Store::error_groups`) and by the scan of every
//! report they replaced (the scan is reproduced here on the same file), on a
//! generated set of reports; both answers are checked to be equal.
//!
//! `cargo run --release -p sonde-store --example error_groups_read -- DIR
//! [REPORTS] [REPEAT]` (DIR: an empty directory; 20,000 reports and 21
//! reads of each kind by default). Reports are spread over 50 groups with
//! weights 1/rank, as `sonde-gen` spreads them, from 5,000 signatures, 6
//! versions and 3 OS.

use std::time::Instant;

use rusqlite::{params, OpenFlags};
use sonde_protocol::error_report::{ErrorReport, Frame};
use sonde_protocol::ProductName;
use sonde_store::{Aggregate, ErrorGroupDetail, NewErrorReport, ReportRow, SqliteStore, Store, StoredErrorReport};

const GROUPS: u64 = 50;
const START_MS: i64 = 1_792_022_400_000;

/// A seeded 64-bit generator (splitmix64), so every run stores the same set.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn report(rng: &mut Rng, n: u64, weights: &[u64]) -> ErrorReport {
    let total: u64 = weights.iter().sum();
    let mut pick = rng.below(total);
    let group = weights
        .iter()
        .position(|w| {
            if pick < *w {
                true
            } else {
                pick -= w;
                false
            }
        })
        .unwrap_or(0) as u64;
    let module = [
        "config", "fs", "net", "plugin", "build", "deploy", "registry", "cache", "lockfile", "template",
    ][(group % 10) as usize];
    let verb = ["load", "write", "resolve", "parse", "fetch"][(group / 10 % 5) as usize];
    ErrorReport {
        schema: 1,
        report_id: format!("0190f5e2-0000-7000-8000-{n:012x}"),
        product: "acme".into(),
        version: Some(format!("1.{}.0", rng.below(6))),
        signature: Some(format!("{:08x}-0000-4000-8000-000000000000", rng.below(5000))),
        os: Some(["linux", "macos", "windows"][rng.below(3) as usize].into()),
        arch: Some("x86_64".into()),
        runtime: Some("1.89.0".into()),
        ci: None,
        command: Some("acme build".into()),
        flags: vec!["--release".into()],
        kind: "std::io::Error".into(),
        message: format!(
            "failed to {verb} the {module} entry after {} attempts",
            1 + rng.below(5)
        ),
        chain: Vec::new(),
        panic: false,
        frames: vec![
            Frame {
                function: format!("acme::{module}::{verb}"),
                file: Some(format!("src/{module}.rs")),
                line: Some(10 + rng.below(390) as u32),
                in_app: true,
            },
            Frame {
                function: "acme::main".into(),
                file: Some("src/main.rs".into()),
                line: Some(42),
                in_app: true,
            },
        ],
        project: serde_json::Map::new(),
        occurred_at: None,
    }
}

/// The read the roll-ups replaced: every report of the product summed by
/// [`Aggregate`], then each group's latest report read and parsed.
fn scan(c: &mut rusqlite::Connection, product: &str) -> rusqlite::Result<Vec<ErrorGroupDetail>> {
    let tx = c.transaction()?;
    let mut agg = Aggregate::default();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT group_id, version, os, signature, received_at_ms, seq FROM error_reports WHERE product = ?1",
        )?;
        let mut rows = stmt.query(params![product])?;
        while let Some(r) = rows.next()? {
            agg.add(ReportRow {
                group: r.get_ref(0)?.as_str()?,
                version: r.get_ref(1)?.as_str_or_null()?,
                os: r.get_ref(2)?.as_str_or_null()?,
                signature: r.get_ref(3)?.as_str_or_null()?,
                received_at_ms: r.get(4)?,
                seq: r.get(5)?,
            });
        }
    }
    let mut sample = tx.prepare_cached("SELECT received_at_ms, report FROM error_reports WHERE seq = ?1")?;
    agg.finish(|seq| {
        sample.query_row([seq], |r| {
            let text: String = r.get(1)?;
            Ok(StoredErrorReport {
                received_at_ms: r.get(0)?,
                report: serde_json::from_str(&text).expect("stored reports are valid"),
            })
        })
    })
}

fn median_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: error_groups_read DIR [REPORTS] [REPEAT]");
    let n: u64 = std::env::args().nth(2).map_or(20_000, |s| s.parse().expect("REPORTS"));
    let repeat: usize = std::env::args().nth(3).map_or(21, |s| s.parse().expect("REPEAT"));
    let store = SqliteStore::open(std::path::Path::new(&dir)).expect("open the store");
    let product = ProductName::parse("acme").expect("a product name");
    let weights: Vec<u64> = (1..=GROUPS).map(|rank| 10_000 / rank).collect();
    let mut rng = Rng(1);
    let t = Instant::now();
    let mut pending = Vec::new();
    for i in 0..n {
        let new = NewErrorReport::new(
            product.clone(),
            report(&mut rng, i, &weights),
            START_MS + i as i64 * 1000,
            Vec::new(),
        );
        pending.push(store.store_error_report(new).expect("queued"));
        if pending.len() == 1000 {
            pending.drain(..).for_each(|p| drop(p.wait_blocking().expect("stored")));
        }
    }
    pending
        .into_iter()
        .for_each(|p| drop(p.wait_blocking().expect("stored")));
    println!("stored {n} reports in {:.2} s", t.elapsed().as_secs_f64());

    let mut c = rusqlite::Connection::open_with_flags(
        store.path(),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("a read connection");
    let rolled = store.error_groups("acme").expect("read the roll-ups");
    let scanned: Vec<_> = scan(&mut c, "acme")
        .expect("scan")
        .into_iter()
        .map(|d| d.group)
        .collect();
    assert_eq!(rolled, scanned, "the roll-ups answer as the scan does");
    println!(
        "{} groups, {} reports",
        rolled.len(),
        rolled.iter().map(|g| g.count).sum::<u64>()
    );

    let mut times = (Vec::new(), Vec::new());
    for _ in 0..repeat {
        let t = Instant::now();
        std::hint::black_box(scan(&mut c, "acme").expect("scan"));
        times.0.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        std::hint::black_box(store.error_groups("acme").expect("roll-ups"));
        times.1.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "median of {repeat} reads: scan of every report {:.2} ms, roll-ups {:.2} ms",
        median_ms(times.0),
        median_ms(times.1)
    );
}
