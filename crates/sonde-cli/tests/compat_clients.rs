//! Real checkpoint clients, unmodified, against the real `sonde` binary.
//!
//! - Prisma's `checkpoint-client@1.1.33` from npm (`compat/prisma`), pointed
//!   at the collector with `PRISMA_TELEMETRY_ENDPOINT`, must end with the
//!   collector's answer in its cache file.
//! - HashiCorp's go-checkpoint as Debian packages it, driven by the Go harness
//!   in `compat/go-checkpoint`, reaches the collector through an HTTPS proxy
//!   (its host name is fixed) with TLS from a CA generated here, and must
//!   decode `outdated`, `current_version` and the alerts.
//!
//! The peers (Node, Go, the Debian package, `npm ci`) are installed by
//! `scripts/setup-test-deps`; a missing peer fails the test with that hint.

// Each test is one scenario that reads top to bottom.
#![allow(clippy::too_many_lines)]

mod common;

use common::{describe, mau, ok_in, repo_root, require_tool, serve, Serve};
use serde_json::Value;
use sonde_testkit::db::{ping_count as stored_pings, pings as stored_ping_rows};
use sonde_testkit::wait::for_value as wait_for;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// 2024-11-05T00:00:00Z, the date given to the newest release.
const RELEASE_DATE: i64 = 1_730_764_800;

/// Generous bound for a forked Node child or a Go build on a busy 2-core box.
const PEER_TIMEOUT: Duration = Duration::from_secs(120);

/// Environment variables that would change what a client does (opt-outs,
/// debug modes, proxies of the machine running the tests).
const CLIENT_ENV_TO_CLEAR: &[&str] = &[
    "CHECKPOINT_DISABLE",
    "CHECKPOINT_DEBUG_STDOUT",
    "CHECKPOINT_ENABLE",
    "PRISMA_TELEMETRY_INFORMATION",
    "DO_NOT_TRACK",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn clean_env(cmd: &mut Command) -> &mut Command {
    for var in CLIENT_ENV_TO_CLEAR {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs a real client's harness to completion (no stdin) and returns the JSON
/// report it prints; on failure, shows its output and the collector's log.
fn run_peer(cmd: &mut Command, what: &str, collector: &Serve) -> Value {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}\n--- collector log\n{}",
        describe(&output),
        collector.drain_log()
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{what} prints JSON: {e}"))
}

fn new_data_dir(root: &Path) -> PathBuf {
    let dir = root.join("data");
    std::fs::create_dir_all(&dir).expect("create data dir");
    dir
}

fn alerts_by_level(alerts: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = alerts
        .as_array()
        .unwrap_or_else(|| panic!("alerts is not an array: {alerts}"))
        .iter()
        .map(|a| {
            (
                a["level"].as_str().unwrap_or_default().to_owned(),
                a["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The collector's alert for `message`, from `sonde alert list --format json`.
fn published_alert(data: &Path, product: &str, message: &str) -> Value {
    let out = ok_in(data, &["alert", "list", "--product", product, "--format", "json"]);
    let list: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("alert list JSON: {e}: {out}"));
    list.as_array()
        .and_then(|a| a.iter().find(|x| x["message"] == message).cloned())
        .unwrap_or_else(|| panic!("no alert {message:?} in {out}"))
}

/// Asserts that a client decoded exactly the collector's alert: same id,
/// date, level, message and url.
fn assert_same_alert(decoded: &Value, published: &Value) {
    for key in ["id", "date", "level", "message"] {
        assert_eq!(
            decoded[key], published[key],
            "{key}: decoded {decoded} vs published {published}"
        );
    }
    // An alert without a URL: the Go client decodes a missing/null url as "".
    let url = published["url"].as_str().unwrap_or("");
    assert_eq!(
        decoded["url"].as_str().unwrap_or(""),
        url,
        "url: decoded {decoded} vs published {published}"
    );
}

// ---------------------------------------------------------------- Prisma --

#[test]
fn prisma_checkpoint_client_caches_the_collectors_answer() {
    require_tool("node");
    let prisma_dir = repo_root().join("compat/prisma");
    assert!(
        prisma_dir.join("node_modules/checkpoint-client/package.json").exists(),
        "compat/prisma/node_modules is missing; run `bash scripts/setup-test-deps`"
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let data = new_data_dir(tmp.path());
    ok_in(
        &data,
        &[
            "release",
            "publish",
            "--product",
            "prisma",
            "--version",
            "5.21.1",
            "--date",
            "2024-10-17T00:00:00Z",
        ],
    );
    ok_in(
        &data,
        &[
            "release",
            "publish",
            "--product",
            "prisma",
            "--version",
            "5.22.0",
            "--date",
            "2024-11-05T00:00:00Z",
            "--download-url",
            "https://www.npmjs.com/package/prisma",
            "--changelog-url",
            "https://github.com/prisma/prisma/releases/tag/5.22.0",
            "--website",
            "https://www.prisma.io",
            "--package",
            "prisma",
            "--release-tag",
            "latest",
            "--install-command",
            "npm i --save-dev prisma@latest",
        ],
    );
    ok_in(
        &data,
        &[
            "alert",
            "add",
            "--product",
            "prisma",
            "--level",
            "warn",
            "--message",
            "Prisma 4 reaches end of support; upgrade to 5",
            "--url",
            "https://www.prisma.io/docs/orm/more/upgrade-guides",
            "--affects",
            "<5.0.0",
        ],
    );
    ok_in(
        &data,
        &[
            "alert",
            "add",
            "--product",
            "prisma",
            "--level",
            "critical",
            "--message",
            "only for Prisma 3",
            "--affects",
            "<4.0.0",
        ],
    );

    let collector = serve(&data, &[]);
    let xdg_cache = tmp.path().join("xdg-cache");
    let mut node = Command::new("node");
    let output = clean_env(&mut node)
        .arg("check.js")
        .arg("4.16.2")
        .current_dir(&prisma_dir)
        .env("PRISMA_TELEMETRY_ENDPOINT", format!("http://{}", collector.addr()))
        .env("XDG_CACHE_HOME", &xdg_cache)
        .env("CHECKPOINT_TIMEOUT", "60000")
        .env("SONDE_COMPAT_WAIT_MS", PEER_TIMEOUT.as_millis().to_string());
    let report = run_peer(output, "compat/prisma/check.js", &collector);

    // The cache file the detached child wrote holds the collector's answer.
    assert_eq!(report["first"]["status"], "waiting", "{report:#}");
    let cache = &report["cache"];
    assert_eq!(cache["version"], "4.16.2", "{report:#}");
    let answer = &cache["output"];
    assert_eq!(answer["product"], "prisma", "{answer:#}");
    assert_eq!(answer["outdated"], true, "{answer:#}");
    assert_eq!(answer["current_version"], "5.22.0", "{answer:#}");
    assert_eq!(answer["previous_version"], "4.16.2", "{answer:#}");
    assert_eq!(answer["current_release_date"], RELEASE_DATE, "{answer:#}");
    assert_eq!(answer["package"], "prisma", "{answer:#}");
    assert_eq!(answer["release_tag"], "latest", "{answer:#}");
    assert_eq!(
        answer["install_command"], "npm i --save-dev prisma@latest",
        "{answer:#}"
    );
    assert_eq!(
        answer["current_download_url"], "https://www.npmjs.com/package/prisma",
        "{answer:#}"
    );
    assert_eq!(answer["project_website"], "https://www.prisma.io", "{answer:#}");
    let event_id = answer["client_event_id"].as_str().unwrap_or_default();
    assert_eq!(event_id.len(), 36, "client_event_id echoed: {answer:#}");
    assert_eq!(
        alerts_by_level(&answer["alerts"]),
        vec![(
            "warn".to_owned(),
            "Prisma 4 reaches end of support; upgrade to 5".to_owned()
        )],
        "only the alert whose range holds 4.16.2: {answer:#}"
    );
    assert_same_alert(
        &answer["alerts"][0],
        &published_alert(&data, "prisma", "Prisma 4 reaches end of support; upgrade to 5"),
    );

    // The next CLI run reads the update notice from that cache.
    assert_eq!(report["second"]["status"], "ok", "{report:#}");
    assert_eq!(report["second"]["data"]["outdated"], true, "{report:#}");
    assert_eq!(report["second"]["data"]["current_version"], "5.22.0");

    // Both checks were stored: the first (answered before the cache was
    // written) and the second, whose detached child nobody waits for.
    let signature = report["signature"].as_str().expect("signature");
    assert_eq!(signature.len(), 36);
    wait_for("the second Prisma ping to be stored", PEER_TIMEOUT, || {
        (stored_pings(&data, "prisma") >= 2).then_some(())
    });
    let rows = stored_ping_rows(&data, "prisma");
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for row in &rows {
        assert_eq!(row.version.as_deref(), Some("4.16.2"), "{row:?}");
        assert_eq!(row.os.as_deref(), Some("linux"), "{row:?}");
        assert_eq!(row.arch.as_deref(), Some("x64"), "{row:?}");
        assert!(
            row.runtime_version.as_deref().is_some_and(|v| v.starts_with('v')),
            "{row:?}"
        );
        assert_eq!(row.signature.as_deref(), Some(signature), "{row:?}");
        assert_eq!(row.client_family, "prisma", "{row:?}");
    }
    assert_eq!(mau(&data, "prisma"), 1, "one signature this month");
    assert!(collector.stop(), "collector exits 0 on SIGTERM");
}

// ----------------------------------------------------------- go-checkpoint --

/// go-checkpoint's fixed host.
const HASHICORP_HOST: &str = "checkpoint-api.hashicorp.com";

/// Writes a CA and a leaf for [`HASHICORP_HOST`] signed by it, as PEM files:
/// (ca.pem, leaf chain.pem, leaf key.pem).
fn generate_pki(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    sonde_testkit::tls::TestCa::new("Sonde compatibility test CA").write_files(dir, HASHICORP_HOST)
}

/// Builds compat/go-checkpoint against Debian's packaged library (GOPATH
/// mode, nothing downloaded) and returns the binary.
fn build_go_harness(out_dir: &Path) -> PathBuf {
    require_tool("go");
    let gopath = Path::new("/usr/share/gocode");
    assert!(
        gopath.join("src/github.com/hashicorp/go-checkpoint/check.go").exists(),
        "golang-github-hashicorp-go-checkpoint-dev is not installed; run `bash scripts/setup-test-deps`"
    );
    let binary = out_dir.join("go-checkpoint-harness");
    let output = Command::new("go")
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(repo_root().join("compat/go-checkpoint"))
        .env("GOPATH", gopath)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .env("GOPROXY", "off")
        .env("GOENV", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOCACHE", Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache"))
        .stdin(Stdio::null())
        .output()
        .expect("run go build");
    assert!(output.status.success(), "go build failed: {}", describe(&output));
    binary
}

#[test]
fn go_checkpoint_through_an_https_proxy_decodes_outdated_and_alerts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let harness = build_go_harness(tmp.path());
    let (ca_pem, chain_pem, key_pem) = generate_pki(tmp.path());

    let data = new_data_dir(tmp.path());
    ok_in(
        &data,
        &[
            "release",
            "publish",
            "--product",
            "terraform",
            "--version",
            "1.6.0",
            "--date",
            "2024-11-05T00:00:00Z",
            "--download-url",
            "https://releases.example.com/terraform/1.6.0",
            "--changelog-url",
            "https://releases.example.com/terraform/1.6.0/CHANGELOG.md",
            "--website",
            "https://www.terraform.io",
        ],
    );
    ok_in(
        &data,
        &[
            "alert",
            "add",
            "--product",
            "terraform",
            "--level",
            "critical",
            "--message",
            "state corruption fixed in 1.5.7",
            "--url",
            "https://releases.example.com/terraform/advisories/1",
            "--affects",
            "<1.5.7",
        ],
    );
    ok_in(
        &data,
        &[
            "alert",
            "add",
            "--product",
            "terraform",
            "--level",
            "info",
            "--message",
            "a survey is open",
        ],
    );
    ok_in(
        &data,
        &[
            "alert",
            "add",
            "--product",
            "terraform",
            "--level",
            "warn",
            "--message",
            "only for 0.x",
            "--affects",
            "<1.0.0",
        ],
    );

    let collector = serve(
        &data,
        &[
            "--tls-cert",
            chain_pem.to_str().expect("utf-8 path"),
            "--tls-key",
            key_pem.to_str().expect("utf-8 path"),
        ],
    );
    let state = tmp.path().join("go-state");
    let mut go = Command::new(&harness);
    let output = clean_env(&mut go)
        .arg("-collector")
        .arg(collector.addr().to_string())
        .args(["-product", "terraform", "-version", "1.5.0", "-state-dir"])
        .arg(&state)
        .env("SSL_CERT_FILE", &ca_pem)
        .env("SSL_CERT_DIR", tmp.path().join("no-system-certs"))
        .env("CHECKPOINT_ENABLE", "1")
        .env("CHECKPOINT_TIMEOUT", "60000");
    let report = run_peer(output, "go-checkpoint harness", &collector);

    // The library asked its proxy for its own fixed host; TLS to the collector
    // verified against the test CA.
    let hosts = report["connect_hosts"].as_array().expect("connect_hosts");
    assert!(!hosts.is_empty(), "{report:#}");
    assert!(
        hosts.iter().all(|h| h == &format!("{HASHICORP_HOST}:443")),
        "{report:#}"
    );

    // What go-checkpoint decoded into its CheckResponse.
    let check = &report["check"];
    assert_eq!(check["product"], "terraform", "{check:#}");
    assert_eq!(check["outdated"], true, "{check:#}");
    assert_eq!(check["current_version"], "1.6.0", "{check:#}");
    assert_eq!(check["current_release_date"], RELEASE_DATE, "{check:#}");
    assert_eq!(
        check["current_download_url"],
        "https://releases.example.com/terraform/1.6.0"
    );
    assert_eq!(
        check["current_changelog_url"],
        "https://releases.example.com/terraform/1.6.0/CHANGELOG.md"
    );
    assert_eq!(check["project_website"], "https://www.terraform.io");
    assert_eq!(
        alerts_by_level(&check["alerts"]),
        vec![
            ("critical".to_owned(), "state corruption fixed in 1.5.7".to_owned()),
            ("info".to_owned(), "a survey is open".to_owned()),
        ],
        "alerts for 1.5.0 only: {check:#}"
    );
    let alerts = check["alerts"].as_array().expect("alerts");
    for message in ["state corruption fixed in 1.5.7", "a survey is open"] {
        let decoded = alerts.iter().find(|a| a["message"] == message).expect("decoded alert");
        assert_same_alert(decoded, &published_alert(&data, "terraform", message));
    }

    // The second Check was answered from go-checkpoint's cache file: same
    // answer, no new tunnel.
    assert_eq!(report["cached_check"], report["check"], "{report:#}");
    assert_eq!(report["tunnels_after_first_check"], 1, "{report:#}");
    assert_eq!(report["tunnels_after_cached_check"], 1, "{report:#}");

    // Versions and telemetry Report (201) through the same proxy.
    assert_eq!(report["versions"]["service"], "terraform", "{report:#}");
    assert_eq!(report["versions"]["product"], "terraform", "{report:#}");
    assert_eq!(report["report_sent"], true, "{report:#}");

    // The check and the telemetry report are each stored as a ping (the
    // cached check sent nothing, a versions lookup is not a ping), both with
    // the signature from go-checkpoint's signature file; one signature this month.
    let signature = report["signature"].as_str().expect("signature");
    assert_eq!(signature.len(), 36, "{report:#}");
    let rows = stored_ping_rows(&data, "terraform");
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for row in &rows {
        assert_eq!(row.version.as_deref(), Some("1.5.0"), "{row:?}");
        assert_eq!(row.os.as_deref(), Some(std::env::consts::OS), "{row:?}");
        assert_eq!(row.signature.as_deref(), Some(signature), "{row:?}");
        assert_eq!(row.client_family, "go-checkpoint", "{row:?}");
    }
    assert_eq!(mau(&data, "terraform"), 1);
    assert!(collector.stop(), "collector exits 0 on SIGTERM");
}

// ------------------------------------------------------------ raw requests --

/// A GET exactly as Prisma's checkpoint-client 1.1.33 (node-fetch 2) sent it
/// to a local server through compat/prisma/check.js: repeated keys, empty
/// values, percent-encoded command.
const PRISMA_REQUEST: &str = "GET /v1/check/prisma?checkpoint_version=4&local_timestamp=2026-11-22T01%3A21%3A53Z\
&information=&schema_providers=postgresql&schema_preview_features=fullTextSearch\
&schema_preview_features=metrics&schema_generators_providers=prisma-client-js\
&command=migrate%20dev%20--name%20%5Bredacted%5D&client_event_id=05366bb5-d03b-44a4-907b-006f74dbff13\
&signature=3cbb5d4d-c257-4f25-972f-044167692257&project_hash=ea4e393a&cli_path_hash=6a417062\
&arch=x64&os=linux&node_version=v20.20.2&version=4.16.2&ci=false&ci_name=&cli_install_type=local\
&previous_client_event_id=&check_if_update_available=true HTTP/1.1\r\n\
Accept: application/json\r\nUser-Agent: prisma/js-checkpoint\r\nAccept-Encoding: gzip,deflate\r\n\
Host: HOST\r\nConnection: close\r\n\r\n";

/// go-checkpoint 0.5.0 (Debian) requests, as seen inside the TLS tunnel of
/// compat/go-checkpoint: a check, a versions lookup and a telemetry report
/// (a JSON body with no Content-Type header).
const GO_CHECK_REQUEST: &str = "GET /v1/check/terraform?arch=amd64&os=linux\
&signature=dfb78fb1-2544-bb00-31ac-3fd2663fc365&version=1.5.0 HTTP/1.1\r\n\
Host: HOST\r\nUser-Agent: HashiCorp/go-checkpoint\r\nAccept: application/json\r\n\
Accept-Encoding: gzip\r\nConnection: close\r\n\r\n";

const GO_VERSIONS_REQUEST: &str = "GET /v1/versions/terraform?product=terraform HTTP/1.1\r\n\
Host: HOST\r\nUser-Agent: HashiCorp/go-checkpoint\r\nAccept: application/json\r\n\
Accept-Encoding: gzip\r\nConnection: close\r\n\r\n";

const GO_REPORT_BODY: &str = r#"{"signature":"dfb78fb1-2544-bb00-31ac-3fd2663fc365","start_time":"2026-11-22T01:27:12.064149373Z","end_time":"2026-11-22T01:27:14.064151819Z","arch":"amd64","os":"linux","payload":{"command":"plan"},"product":"terraform","run_id":"a58d58ca-d468-1f46-9af2-6ef36d9e9dd8","schema_version":"1","version":"1.5.0"}"#;

/// Sends `request` (with `HOST` replaced) on a fresh connection and returns
/// (status, body) of the answer, which must close the connection.
fn raw_exchange(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    let answer = sonde_testkit::http::exchange(addr, request.replace("HOST", &addr.to_string()).as_bytes());
    (answer.status, answer.text())
}

#[test]
fn captured_raw_requests_of_both_clients_are_answered() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = new_data_dir(tmp.path());
    ok_in(
        &data,
        &["release", "publish", "--product", "prisma", "--version", "5.22.0"],
    );
    ok_in(
        &data,
        &["release", "publish", "--product", "terraform", "--version", "1.6.0"],
    );
    let collector = serve(&data, &[]);
    let addr = collector.addr();

    let (status, body) = raw_exchange(addr, PRISMA_REQUEST);
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["outdated"], true, "{answer:#}");
    assert_eq!(answer["current_version"], "5.22.0", "{answer:#}");
    assert_eq!(answer["previous_version"], "4.16.2", "{answer:#}");
    assert_eq!(
        answer["client_event_id"], "05366bb5-d03b-44a4-907b-006f74dbff13",
        "{answer:#}"
    );
    assert!(answer["alerts"].is_array(), "{answer:#}");

    let (status, body) = raw_exchange(addr, GO_CHECK_REQUEST);
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["outdated"], true, "{answer:#}");
    assert_eq!(answer["current_version"], "1.6.0", "{answer:#}");
    assert!(answer["current_release"].is_i64(), "{answer:#}");
    assert!(answer["current_release_date"].is_i64(), "{answer:#}");

    let (status, body) = raw_exchange(addr, GO_VERSIONS_REQUEST);
    assert_eq!(status, 200, "{body}");
    let versions: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(versions["service"], "terraform", "{versions:#}");
    assert!(versions["excluding"].is_array(), "{versions:#}");

    let report = format!(
        "POST /v1/telemetry/terraform HTTP/1.1\r\nHost: HOST\r\nUser-Agent: HashiCorp/go-checkpoint\r\n\
         Content-Length: {}\r\nAccept: application/json\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n{}",
        GO_REPORT_BODY.len(),
        GO_REPORT_BODY
    );
    let (status, body) = raw_exchange(addr, &report);
    assert_eq!(status, 201, "{body}");

    // The two checks and the report are stored; the versions lookup is not.
    assert_eq!(stored_pings(&data, "prisma"), 1);
    assert_eq!(stored_pings(&data, "terraform"), 2);
    assert!(collector.stop(), "collector exits 0 on SIGTERM");
}
