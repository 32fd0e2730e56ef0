//! `sonde errors list|show` of the real binary, against a running collector
//! (`--server`) and against its data directory, in table and JSON form.

// The test is one scenario that reads top to bottom.
#![allow(clippy::too_many_lines)]

mod common;

use common::{ok, run};
use serde_json::{json, Value};
use sonde_testkit::collector::Collector;

/// A report of `demo` from installation `sig`, crashing in `function`.
fn report(n: u32, sig: u32, version: &str, function: &str) -> Value {
    json!({
        "schema": 1, "report_id": format!("0190f5e2-7c4a-7d3e-9a1b-{n:012x}"), "product": "demo",
        "version": version, "signature": format!("{sig:08x}-a431-40c5-9f68-24592a9f07df"), "os": "linux",
        "arch": "x86_64", "command": "demo migrate apply", "flags": ["--force"],
        "kind": "std::io::Error", "message": "No such file or directory (os error 2)",
        "chain": [{"kind": "demo::MigrateError", "message": "cannot read the migration"}],
        "frames": [{"function": function, "file": "src/migrate.rs", "line": 12, "in_app": true}]
    })
}

fn send(c: &Collector, body: &Value) -> Value {
    let mut r = sonde_testkit::http::agent()
        .post(&c.url("/api/v1/error-reports"))
        .send_json(body)
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
}

/// Where each column of `line` starts, by the header's column names.
fn starts(header: &str, names: &[&str]) -> Vec<usize> {
    names.iter().map(|n| header.find(n).unwrap()).collect()
}

#[test]
fn errors_list_and_show_print_tables_and_json_from_a_collector_and_a_data_directory() {
    let c = Collector::start();
    c.register("demo", "1.0.0");
    let a = send(&c, &report(1, 1, "1.2.3", "demo::migrate::apply"));
    send(&c, &report(2, 2, "1.3.0", "demo::migrate::apply"));
    let b = send(&c, &report(3, 1, "1.3.0", "demo::plan"));
    let (group_a, group_b) = (a["group"].as_str().unwrap(), b["group"].as_str().unwrap());
    let token = c.data_dir().join("admin-token");
    let base = c.base_url();
    let remote = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--server", &base, "--token-file", token.to_str().unwrap()]);
        ok(&all)
    };

    let json_list: Value =
        serde_json::from_str(&remote(&["errors", "list", "--product", "demo", "--format", "json"])).unwrap();
    let groups = json_list.as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["group"], group_b, "latest seen first");
    assert_eq!(
        (groups[1]["group"].as_str(), groups[1]["count"].as_u64()),
        (Some(group_a), Some(2))
    );
    assert_eq!(groups[1]["signatures"], 2);

    let table = remote(&["errors", "list", "--product", "demo"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let cols = [
        "GROUP",
        "KIND",
        "COUNT",
        "INSTALLS",
        "FIRST_SEEN",
        "LAST_SEEN",
        "VERSIONS",
        "MESSAGE",
    ];
    let at = starts(lines[0], &cols);
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{table}");
    let row = lines[2];
    assert_eq!(&row[at[0]..at[0] + group_a.len()], group_a);
    assert!(row[at[1]..].starts_with("std::io::Error"), "{table}");
    assert!(row[at[2]..].starts_with("2 "), "{table}");
    assert!(row[at[3]..].starts_with("2 "), "{table}");
    assert!(row[at[6]..].starts_with("1.2.3 (1), 1.3.0 (1)"), "{table}");
    assert!(row[at[7]..].starts_with("No such file or directory"), "{table}");

    let shown: Value = serde_json::from_str(&remote(&[
        "errors",
        "show",
        group_a,
        "--product",
        "demo",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(shown["count"], 2);
    assert_eq!(
        shown["sample"]["report"]["report_id"],
        "0190f5e2-7c4a-7d3e-9a1b-000000000002"
    );
    let text = remote(&["errors", "show", group_a, "--product", "demo"]);
    assert!(text.lines().next().unwrap().starts_with("FIELD"), "{text}");
    assert!(text.contains("demo::migrate::apply"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("command") && l.ends_with("demo migrate apply --force")),
        "{text}"
    );
    let frames = text.lines().find(|l| l.starts_with("FRAME")).unwrap();
    let frame = text
        .lines()
        .find(|l| l.starts_with("0 ") && l.contains("src/migrate.rs"))
        .unwrap();
    assert_eq!(frames.find("FUNCTION"), frame.find("demo::migrate::apply"), "{text}");

    let (code, _, err) = run(&[
        "errors",
        "show",
        "v1:0000000000000000",
        "--product",
        "demo",
        "--server",
        &base,
        "--token-file",
        token.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no error group"), "{err}");

    // The same from the data directory, once the collector has stopped.
    let data = c.shutdown().unwrap();
    let d = data.path().to_str().unwrap();
    let direct: Value = serde_json::from_str(&ok(&[
        "errors",
        "list",
        "--product",
        "demo",
        "--format",
        "json",
        "--data-dir",
        d,
    ]))
    .unwrap();
    assert_eq!(&direct, &json_list);
    assert_eq!(ok(&["errors", "list", "--product", "demo", "--data-dir", d]), table);
    let direct_show: Value = serde_json::from_str(&ok(&[
        "errors",
        "show",
        group_a,
        "--product",
        "demo",
        "--format",
        "json",
        "--data-dir",
        d,
    ]))
    .unwrap();
    assert_eq!(direct_show, shown);

    // Usage errors exit 2 with one actionable line.
    for args in [
        vec![
            "errors",
            "show",
            "v1:0000000000000000",
            "--product",
            "demo",
            "--data-dir",
            d,
        ],
        vec!["errors", "show", "not a group", "--product", "demo", "--data-dir", d],
        vec!["errors", "list", "--product", "ghost", "--data-dir", d],
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}
