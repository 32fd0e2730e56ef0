//! `sonde stats active [--rolling N]|versions|platforms|retention|alerts|errors|upgrades` in each format, read
//! from a data directory and from a running collector, on pings recorded in
//! the test with known answers.

mod common;

use common::{ok, ok_in, serve};
use sonde_protocol::{ClientFamily, ProductName, UsagePing};
use sonde_store::{Day, NewPing, SqliteStore, Store};

/// 2 November 2026 at noon: signatures 0..5 on 1.0.0 (Linux), 5..7 on
/// 0.9.0 (macOS), each twice; signature 7 from CI on 1.0.0.
fn record_pings(dir: &std::path::Path) {
    let store = SqliteStore::open(dir).unwrap();
    let noon = "2026-11-02".parse::<Day>().unwrap().start_ms() + 43_200_000;
    for round in 0..2 {
        for i in 0..8u32 {
            let ping = UsagePing {
                product: ProductName::parse("demo").unwrap(),
                version: Some(if i < 5 || i == 7 { "1.0.0" } else { "0.9.0" }.into()),
                os: Some(if i < 5 || i == 7 { "linux" } else { "darwin" }.into()),
                arch: None,
                runtime_version: None,
                signature: Some(format!("{i:08x}-0000-4000-8000-000000000000")),
                ci: Some(i == 7),
                ci_name: None,
                client_family: ClientFamily::GoCheckpoint,
                project_hash: None,
                cli_path_hash: None,
                received_at_ms: noon + round,
            };
            store
                .record_ping(NewPing {
                    ping,
                    source: "check",
                    dropped: Vec::new(),
                    told_outdated: false,
                })
                .unwrap()
                .wait_blocking()
                .unwrap();
        }
    }
    let release = sonde_store::NewRelease {
        product: "demo".into(),
        version: "1.0.0".into(),
        date: "2026-10-01".parse::<Day>().unwrap().start_ms() / 1000,
        ..Default::default()
    };
    store.publish_release(release, 0).unwrap().wait_blocking().unwrap();
    let alert = sonde_store::NewAlert {
        product: "demo".into(),
        level: "critical".into(),
        message: "upgrade".into(),
        url: None,
        affects: Some("<1.0.0".into()),
        date: 0,
    };
    store.add_alert(alert).unwrap().wait_blocking().unwrap();
    store.close().unwrap();
}

const RANGE: [&str; 6] = ["--product", "demo", "--from", "2026-11-01", "--to", "2026-11-03"];

fn stats(dir: &std::path::Path, verb: &[&str], extra: &[&str]) -> String {
    let mut args = vec!["stats"];
    args.extend(verb);
    args.extend(RANGE);
    args.extend(extra);
    ok_in(dir, &args)
}

#[test]
fn active_with_a_rolling_window_prints_one_window_per_day() {
    let dir = tempfile::tempdir().unwrap();
    record_pings(dir.path());
    let d = dir.path();
    // Rolling windows: the 7 humans of the 2nd stay in every 7-day window
    // ending from the 2nd to the 8th.
    assert_eq!(
        stats(d, &["active"], &["--rolling", "7", "--format", "csv"]),
        "period,count\n2026-11-01,0\n2026-11-02,7\n2026-11-03,7\n"
    );
    let table = stats(d, &["active"], &["--rolling", "28", "--include-ci"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["DAY", "ACTIVE_IN_WINDOW"]
    );
    assert_eq!(
        lines[3].split_whitespace().collect::<Vec<_>>(),
        ["2026-11-03", "8"],
        "{table}"
    );
    assert_eq!(lines[4], "▁██", "{table}");
    let (code, _, err) = common::run_in(d, &["stats", "active", "--rolling", "14", "--product", "demo"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("window must be 7, 28 or 30"), "{err}");
}

#[test]
fn analytics_verbs_print_table_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    record_pings(dir.path());
    let d = dir.path();

    assert_eq!(
        stats(d, &["active"], &["--format", "csv"]),
        "period,count,new,returning\n2026-11-01,0,0,0\n2026-11-02,7,7,0\n2026-11-03,0,0,0\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stats(d, &["active"], &["--format", "json", "--include-ci"])).unwrap();
    assert_eq!(
        json["rows"][1],
        serde_json::json!({"period": "2026-11-02", "count": 8, "new": 8, "returning": 0})
    );
    assert_eq!(json["min_group_size"], 5);
    let table = stats(d, &["active"], &[]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["PERIOD", "ACTIVE", "NEW", "RETURNING"]
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["2026-11-02", "7", "7", "0"]
    );
    assert_eq!(lines[4], "▁█▁", "{table}");

    // Versions: 0.9.0 has 2 signatures, below 5, and "other" takes 1.0.0
    // too; with a minimum group size of 2 both are shown.
    assert_eq!(
        stats(d, &["versions"], &["--interval", "month", "--format", "csv"]),
        "period,value,count\n2026-11,(other),7\n"
    );
    assert_eq!(
        stats(
            d,
            &["versions"],
            &["--interval", "month", "--format", "csv", "--min-group-size", "2"]
        ),
        "period,value,count\n2026-11,0.9.0,2\n2026-11,1.0.0,5\n"
    );
    let table = stats(d, &["versions"], &["--interval", "month", "--min-group-size", "2"]);
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().eq(["2026-11", "1.0.0", "5"])),
        "{table}"
    );
    assert_eq!(
        stats(
            d,
            &["platforms"],
            &[
                "--by",
                "os",
                "--interval",
                "week",
                "--format",
                "csv",
                "--min-group-size",
                "2"
            ]
        ),
        "period,value,count\n2026-11-02,darwin,2\n2026-11-02,linux,5\n"
    );
    assert_eq!(
        stats(d, &["retention"], &["--format", "csv", "--include-ci"]),
        "cohort,month,count\n2026-11,2026-11,8\n"
    );
    let json: serde_json::Value = serde_json::from_str(&stats(
        d,
        &["retention"],
        &["--format", "json", "--min-group-size", "10"],
    ))
    .unwrap();
    assert_eq!(json["rows"][0]["count"], serde_json::json!({"fewer_than": 10}));

    // The newest release (1.0.0, published in October) and who runs it.
    let k2 = ["--min-group-size", "2"];
    assert_eq!(
        stats(
            d,
            &["versions", "--latest"],
            &[&k2[..], &["--interval", "month", "--format", "csv"]].concat()
        ),
        "period,latest,on_latest,active\n2026-11,1.0.0,5,7\n"
    );
    // The alert on <1.0.0 reaches the 2 on 0.9.0; under k = 5, fewer than 5.
    assert_eq!(
        stats(
            d,
            &["alerts"],
            &[&k2[..], &["--interval", "month", "--format", "csv"]].concat()
        ),
        "alert,level,affects,period,reach,active\n1,critical,<1.0.0,2026-11,2,7\n"
    );
    let table = stats(d, &["alerts"], &["--interval", "month"]);
    assert!(
        table.lines().any(|l| l
            .split_whitespace()
            .eq(["1", "critical", "<1.0.0", "2026-11", "<5", "7"])),
        "{table}"
    );
    // No error reports: the header alone.
    assert_eq!(
        stats(d, &["errors"], &["--format", "csv"]),
        "group,kind,reports,signatures,versions\n"
    );
}

/// 2 November 2026: signatures 0..8 are told 1.0.0 is outdated; 0..5
/// come back on 1.1.0 two days later, 5 the next day; 6 and 7 never do.
fn record_notices(dir: &std::path::Path) {
    let store = SqliteStore::open(dir).unwrap();
    let day = |d: &str| d.parse::<Day>().unwrap().start_ms() + 43_200_000;
    let send = |i: u32, version: &str, at: i64, told_outdated: bool| {
        let ping = UsagePing {
            product: ProductName::parse("demo").unwrap(),
            version: Some(version.into()),
            os: None,
            arch: None,
            runtime_version: None,
            signature: Some(format!("{i:08x}-0000-4000-8000-000000000000")),
            ci: Some(false),
            ci_name: None,
            client_family: ClientFamily::GoCheckpoint,
            project_hash: None,
            cli_path_hash: None,
            received_at_ms: at,
        };
        let op = NewPing {
            ping,
            source: "check",
            dropped: Vec::new(),
            told_outdated,
        };
        store.record_ping(op).unwrap().wait_blocking().unwrap();
    };
    for i in 0..8 {
        send(i, "1.0.0", day("2026-11-02"), true);
    }
    send(5, "1.1.0", day("2026-11-03"), false);
    for i in 0..5 {
        send(i, "1.1.0", day("2026-11-04"), false);
    }
    store.close().unwrap();
}

#[test]
fn upgrades_verb_prints_table_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    record_notices(d);
    let month = ["--interval", "month"];
    let k2 = ["--min-group-size", "2"];
    assert_eq!(
        stats(d, &["upgrades"], &[&k2[..], &month, &["--format", "csv"]].concat()),
        "period,told,upgraded,share,median_days\n2026-11,8,6,0.75,2\n(total),8,6,0.75,2\n"
    );
    let json: serde_json::Value = serde_json::from_str(&stats(
        d,
        &["upgrades"],
        &[&k2[..], &month, &["--format", "json"]].concat(),
    ))
    .unwrap();
    assert_eq!(json["metric"], "upgrades");
    assert_eq!(
        json["rows"][0],
        serde_json::json!({"period": "2026-11", "told": 8, "upgraded": 6, "share": 0.75, "median_days": 2})
    );
    // Under k = 5 the 2 who did not upgrade could be had from "upgraded":
    // it is withheld, and so are the share and the median.
    let table = stats(d, &["upgrades"], &month);
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().eq(["2026-11", "8", "-", "-", "-"])),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().eq(["(total)", "8", "-", "-", "-"])),
        "{table}"
    );
    let table = stats(d, &["upgrades"], &[&k2[..], &month].concat());
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().eq(["2026-11", "8", "6", "75.0%", "2"])),
        "{table}"
    );
}

#[test]
fn analytics_verbs_ask_a_running_collector() {
    let dir = tempfile::tempdir().unwrap();
    record_pings(dir.path());
    let s = serve(dir.path(), &["--min-group-size", "2"]);
    let token = dir.path().join("admin-token");
    let server = format!("http://{}", s.addr());
    let mut args = vec!["stats", "versions"];
    args.extend(RANGE);
    args.extend(["--interval", "month", "--format", "csv"]);
    args.extend(["--server", server.as_str(), "--token-file", token.to_str().unwrap()]);
    assert_eq!(ok(&args), "period,value,count\n2026-11,0.9.0,2\n2026-11,1.0.0,5\n");
    // The collector's minimum group size (2) applies: 0.9.0 is answered;
    // macOS on 1.0.0 selects nobody and is refused (exit 2).
    let remote = |filter: &str| {
        let mut args = vec!["stats", "active"];
        args.extend(RANGE);
        args.extend(["--filter", filter, "--format", "csv"]);
        args.extend(["--server", server.as_str(), "--token-file", token.to_str().unwrap()]);
        common::run(&args)
    };
    let (code, out, err) = remote("version:0.9.0");
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "period,count,new,returning\n2026-11-01,0,,\n2026-11-02,2,,\n2026-11-03,0,,\n"
        ),
        "{err}"
    );
    let (code, _, err) = remote("os:windows");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("HTTP 403"), "{err}");
    // A rolling window is asked of the collector too (`window=30`).
    let mut args = vec!["stats", "active", "--rolling", "30", "--include-ci", "--format", "csv"];
    args.extend(RANGE);
    args.extend(["--server", server.as_str(), "--token-file", token.to_str().unwrap()]);
    assert_eq!(ok(&args), "period,count\n2026-11-01,0\n2026-11-02,8\n2026-11-03,8\n");
    args[3] = "14";
    let (code, _, err) = common::run(&args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("HTTP 400") && err.contains("window"), "{err}");
}
