//! The admin verbs of the real binary, against a data directory and against
//! a running collector; usage errors; config precedence.

// Each test is one scenario that reads top to bottom.
#![allow(clippy::too_many_lines)]

mod common;

use std::process::{Command, Stdio};

use common::{ok, run, run_cmd, serve, sonde, Serve};

/// The base URL a `sonde serve` prints.
fn url(s: &Serve) -> String {
    format!("http://{}", s.addr())
}

#[test]
fn verbs_work_on_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = ok(&[
        "release",
        "publish",
        "--data-dir",
        d,
        "--product",
        "demo",
        "--version",
        "1.2.0",
        "--date",
        "2026-11-01T00:00:00Z",
        "--download-url",
        "https://example.com/dl",
        "--changelog-url",
        "https://example.com/cl",
        "--website",
        "https://example.com",
        "--package",
        "demo-cli",
        "--release-tag",
        "latest",
        "--install-command",
        "npm i demo-cli",
    ]);
    assert!(out.contains("published demo 1.2.0"), "{out}");
    let list: serde_json::Value = serde_json::from_str(&ok(&[
        "release",
        "list",
        "--data-dir",
        d,
        "--product",
        "demo",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(list[0]["version"], "1.2.0");
    assert_eq!(list[0]["date"], nov_first());
    assert_eq!(list[0]["install_command"], "npm i demo-cli");
    let table = ok(&["release", "list", "--data-dir", d, "--product", "demo"]);
    assert!(table.starts_with("VERSION") && table.contains("1.2.0"), "{table}");

    let out = ok(&[
        "alert",
        "add",
        "--data-dir",
        d,
        "--product",
        "demo",
        "--level",
        "warn",
        "--message",
        "upgrade",
        "--affects",
        "<1.2.0",
    ]);
    assert!(out.contains("added alert 1"), "{out}");
    let alerts: serde_json::Value =
        serde_json::from_str(&ok(&["alert", "list", "--data-dir", d, "--format", "json"])).unwrap();
    assert_eq!(alerts[0]["affects"], "<1.2.0");
    ok(&["alert", "remove", "--data-dir", d, "1"]);
    let (code, _, err) = run(&["alert", "remove", "--data-dir", d, "1"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no alert with id 1"), "{err}");

    let mau: serde_json::Value = serde_json::from_str(&ok(&[
        "stats",
        "mau",
        "--data-dir",
        d,
        "--product",
        "demo",
        "--month",
        "2026-11",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        mau,
        serde_json::json!({"product": "demo", "month": "2026-11", "active_signatures": 0})
    );
    let rejected = ok(&["stats", "rejected", "--data-dir", d]);
    assert!(rejected.starts_with("PRODUCT"), "{rejected}");
    ok(&[
        "versions",
        "set",
        "--data-dir",
        d,
        "--product",
        "demo",
        "--service",
        "db",
        "--minimum",
        "1.0.0",
        "--exclude",
        "1.1.0",
    ]);
}

fn nov_first() -> i64 {
    1_793_491_200
}

#[test]
fn verbs_work_against_a_running_collector() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path(), &[]);
    let server = url(&s);
    let token = dir.path().join("admin-token");
    let token = token.to_str().unwrap();
    let remote = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--server", server.as_str(), "--token-file", token]);
        ok(&all)
    };
    remote(&["release", "publish", "--product", "demo", "--version", "2.0.0"]);
    remote(&[
        "alert",
        "add",
        "--product",
        "demo",
        "--level",
        "critical",
        "--message",
        "fix",
        "--affects",
        "<2.0.0",
    ]);
    let list: serde_json::Value =
        serde_json::from_str(&remote(&["release", "list", "--product", "demo", "--format", "json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let alerts: serde_json::Value =
        serde_json::from_str(&remote(&["alert", "list", "--product", "demo", "--format", "json"])).unwrap();
    let id = alerts[0]["id"].as_i64().unwrap().to_string();
    let mau: serde_json::Value =
        serde_json::from_str(&remote(&["stats", "mau", "--product", "demo", "--format", "json"])).unwrap();
    assert_eq!(mau["active_signatures"], 0);
    remote(&["alert", "remove", &id]);

    // The wrong token: a clear error, exit 1.
    let bad = dir.path().join("wrong-token");
    std::fs::write(&bad, "0".repeat(64)).unwrap();
    let (code, _, err) = run(&[
        "alert",
        "list",
        "--server",
        &server,
        "--token-file",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("401") && err.lines().count() <= 2, "{err}");
    // Validation happens locally first, with the collector library's rules.
    let (code, _, err) = run(&[
        "release",
        "publish",
        "--product",
        "demo",
        "--version",
        "2",
        "--server",
        &server,
        "--token-file",
        token,
    ]);
    assert_eq!(code, 0, "short versions are semver: {err}");
    // Nothing listening: exit 1, one line.
    let (code, _, err) = run(&["alert", "list", "--server", "http://127.0.0.1:1", "--token-file", token]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot reach the collector"), "{err}");
}

#[test]
fn usage_errors_exit_2_with_an_actionable_line_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    ok(&[
        "release",
        "publish",
        "--data-dir",
        d,
        "--product",
        "demo",
        "--version",
        "1.0.0",
    ]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["release", "publish", "--product", "demo", "--version", "banana"],
            "version",
        ),
        (
            &["release", "publish", "--product", "Demo", "--version", "1.0.0"],
            "product",
        ),
        (
            &[
                "release",
                "publish",
                "--product",
                "demo",
                "--version",
                "1.0.0",
                "--date",
                "soon",
            ],
            "date",
        ),
        (
            &[
                "release",
                "publish",
                "--product",
                "demo",
                "--version",
                "1.0.0",
                "--download-url",
                "ftp:/x",
            ],
            "download_url",
        ),
        (
            &["alert", "add", "--product", "demo", "--level", "loud", "--message", "m"],
            "level",
        ),
        (
            &[
                "alert",
                "add",
                "--product",
                "demo",
                "--level",
                "info",
                "--message",
                "m",
                "--affects",
                "<<2",
            ],
            "affects",
        ),
        (
            &[
                "alert",
                "add",
                "--product",
                "ghost",
                "--level",
                "info",
                "--message",
                "m",
            ],
            "ghost",
        ),
        (&["stats", "mau", "--product", "demo", "--month", "2026-13"], "month"),
        (&["release", "list", "--product", "nothing"], "nothing"),
        (&["alert", "list", "--server", "http://127.0.0.1:1"], "--token-file"),
        (&["release", "frobnicate"], "frobnicate"),
    ];
    for (args, needle) in cases {
        let mut c = sonde();
        c.args(*args).arg("--data-dir").arg(d);
        let (code, out, err) = run_cmd(c);
        assert_eq!(code, 2, "sonde {args:?}: {out}{err}");
        assert!(err.contains(needle), "sonde {args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    }
    // Reading an empty directory is an error, and creates nothing.
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&[
        "stats",
        "rejected",
        "--data-dir",
        empty.path().join("none").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(!empty.path().join("none").exists());
}

#[test]
fn config_precedence_is_flag_then_env_then_file_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sonde.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9000\"\ndata_dir = \"file-data\"\nlog_format = \"json\"\n",
    )
    .unwrap();
    let resolved = |configure: &dyn Fn(&mut Command)| -> serde_json::Value {
        let mut c = sonde();
        c.args(["serve", "--print-config"]);
        configure(&mut c);
        let (code, out, err) = run_cmd(c);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let v = resolved(&|_| {});
    assert_eq!(
        (v["listen"].as_str(), v["data_dir"].as_str(), v["log_format"].as_str()),
        (Some("127.0.0.1:7070"), Some("./sonde-data"), Some("text"))
    );
    let v = resolved(&|c| {
        c.arg("--config").arg(&file);
    });
    assert_eq!(v["listen"], "127.0.0.1:9000");
    assert_eq!(v["data_dir"], dir.path().join("file-data").to_str().unwrap());
    assert_eq!(v["log_format"], "json");
    let v = resolved(&|c| {
        c.env("SONDE_CONFIG", &file)
            .env("SONDE_LISTEN", "127.0.0.1:9001")
            .env("SONDE_DATA_DIR", "/env-data");
    });
    assert_eq!(
        (v["listen"].as_str(), v["data_dir"].as_str()),
        (Some("127.0.0.1:9001"), Some("/env-data"))
    );
    let v = resolved(&|c| {
        c.env("SONDE_CONFIG", &file)
            .env("SONDE_LISTEN", "127.0.0.1:9001")
            .args(["--listen", "127.0.0.1:9002", "--log-format", "text"]);
    });
    assert_eq!(
        (v["listen"].as_str(), v["log_format"].as_str()),
        (Some("127.0.0.1:9002"), Some("text"))
    );

    // The file really drives `serve`: it listens where the file says and keeps its data there.
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\ndata-dir = \"from-file\"\n").unwrap();
    let mut c = sonde();
    c.args(["serve", "--config"]).arg(&file);
    let s = Serve::spawn(c);
    let line = &s.startup[0];
    assert!(line.contains("http://127.0.0.1:"), "{line}");
    assert!(dir.path().join("from-file").join("admin-token").exists());

    let mut c = sonde();
    c.args(["serve", "--print-config", "--listen", "localhost"]);
    let (code, _, err) = run_cmd(c);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn stats_into_a_reader_that_stops_early_exits_0_without_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    ok(&[
        "release",
        "publish",
        "--data-dir",
        dir,
        "--product",
        "demo",
        "--version",
        "1.0.0",
    ]);
    // Far more output than a pipe buffers, so the writes must meet the closed pipe.
    let mut db = rusqlite::Connection::open(tmp.path().join("sonde.db")).unwrap();
    let tx = db.transaction().unwrap();
    for i in 0..5000 {
        tx.execute(
            "INSERT INTO rejections (product, source, field, reason, count) VALUES ('demo', 'check', ?1, 'too_long', 1)",
            [format!("field_{i:05}")],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    drop(db);
    for format in ["table", "json"] {
        let mut child = sonde()
            .args(["stats", "rejected", "--data-dir", dir, "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close the read end, as `head -c 1` does.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {stderr}");
        assert!(stderr.is_empty(), "{format}: nothing on stderr, no panic: {stderr}");
    }
}
