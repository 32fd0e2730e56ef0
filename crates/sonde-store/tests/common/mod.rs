//! Helpers shared by the store's test files: pings, releases, signatures and
//! the instants they are received at.

#![allow(dead_code)]

use sonde_protocol::{ClientFamily, ProductName, UsagePing};
use sonde_store::{NewPing, NewRelease, Store};

pub(crate) fn product(name: &str) -> ProductName {
    ProductName::parse(name).unwrap()
}

pub(crate) fn sig(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

pub(crate) fn ping(p: &str, signature: Option<String>, received_at_ms: i64) -> UsagePing {
    UsagePing {
        product: product(p),
        version: Some("1.0.0".into()),
        os: Some("linux".into()),
        arch: Some("amd64".into()),
        runtime_version: None,
        signature,
        ci: Some(false),
        ci_name: None,
        client_family: ClientFamily::GoCheckpoint,
        project_hash: None,
        cli_path_hash: None,
        received_at_ms,
    }
}

pub(crate) fn ping_op(p: &str, signature: Option<String>, at: i64) -> NewPing {
    NewPing {
        ping: ping(p, signature, at),
        source: "check",
        dropped: Vec::new(),
        told_outdated: false,
    }
}

/// Records a ping and waits for its batch to commit.
pub(crate) fn record(store: &dyn Store, ping: NewPing) {
    store.record_ping(ping).unwrap().wait_blocking().unwrap()
}

pub(crate) fn release(p: &str, v: &str) -> NewRelease {
    NewRelease {
        product: p.into(),
        version: v.into(),
        date: 1_700_000_000,
        download_url: Some("https://example.com/dl".into()),
        ..Default::default()
    }
}

/// Publishes `p`'s release `v` and waits for its batch to commit.
pub(crate) fn publish(store: &dyn Store, p: &str, v: &str) {
    store
        .publish_release(release(p, v), NOV)
        .unwrap()
        .wait_blocking()
        .unwrap();
}

/// 2026-10-15 and 2026-11-15, in Unix milliseconds.
pub(crate) const OCT: i64 = 1_792_022_400_000;
pub(crate) const NOV: i64 = 1_794_700_800_000;

/// A report id: a UUID layout numbered `n`.
pub(crate) fn report_id(n: u32) -> String {
    format!("0190f5e2-0000-7000-8000-{n:012x}")
}

/// An error report of `demo` whose innermost in-app frame is `function` at
/// `line`, from installation `sig(signature)`.
pub(crate) fn error_report(
    n: u32,
    signature: u32,
    version: &str,
    os: &str,
    function: &str,
    line: u32,
) -> sonde_protocol::error_report::ErrorReport {
    use sonde_protocol::error_report::{ErrorReport, Frame};
    ErrorReport {
        schema: 1,
        report_id: report_id(n),
        product: "demo".into(),
        version: Some(version.into()),
        signature: Some(sig(signature)),
        os: Some(os.into()),
        arch: Some("x86_64".into()),
        runtime: None,
        ci: None,
        command: Some("demo migrate".into()),
        flags: vec!["--force".into()],
        kind: "std::io::Error".into(),
        message: format!("report {n}"),
        chain: Vec::new(),
        panic: false,
        frames: vec![Frame {
            function: function.into(),
            file: Some("src/main.rs".into()),
            line: Some(line),
            in_app: true,
        }],
        project: serde_json::Map::new(),
        occurred_at: None,
    }
}

/// Stores `report` as received at `at` and waits for the commit.
pub(crate) fn store_report(
    store: &dyn Store,
    report: sonde_protocol::error_report::ErrorReport,
    at: i64,
) -> sonde_store::ReportStored {
    let new = sonde_store::NewErrorReport::new(product("demo"), report, at, Vec::new());
    store.store_error_report(new).unwrap().wait_blocking().unwrap()
}
