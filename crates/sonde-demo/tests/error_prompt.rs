//! Error reports with consent, end to end: the real `sonde-demo` binary
//! crashing (`crash`) or failing (`fail`) in a real pseudo-terminal
//! (`rexpect`), or without one, in its own HOME/XDG sandbox, against the
//! real collector on loopback. Each answer to the question, the saved
//! `always`/`never`, the paths that never ask, the reports kept on the
//! machine, and the groups the collector makes.

mod common;

use std::path::PathBuf;
use std::process::Stdio;

use common::*;
use rexpect::session::PtySession;
use serde_json::Value;

/// The question, after the collector's host.
const QUESTION: &str = "? [y]es / [n]o / [a]lways / n[e]ver / [v]iew";
const SAVED: &str = "sonde-demo: error report saved (not sent): ";
const QUEUED: &str = "will be sent to";

/// The demo run with `args` in a new pseudo-terminal (stdin, stdout and
/// stderr), as its session's controlling terminal.
fn pty(sandbox: &Sandbox, args: &[&str]) -> PtySession {
    let mut cmd = sandbox.demo();
    cmd.args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    rexpect::session::spawn_command(cmd, Some(30_000)).expect("the demo starts in a pty")
}

/// Expects the question naming `collector`'s host.
fn expect_question(p: &mut PtySession, collector: &Collector) {
    let host = collector.url().trim_start_matches("http://").to_owned();
    p.exp_string(&format!("Send an error report to {host}{QUESTION}"))
        .expect("the question");
}

/// Reads to the end; returns what was printed and how the process ended
/// (`Exited(.., 101)`, `Signaled(.., SIGINT, ..)`).
fn finish(p: &mut PtySession) -> (String, String) {
    let rest = p.exp_eof().expect("the demo ends");
    let status = format!("{:?}", p.process().wait().expect("its status"));
    (rest, status)
}

/// The saved reports in the sandbox.
fn saved(sandbox: &Sandbox) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(sandbox.state().join("error-reports")) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    v.sort();
    v
}

/// The collector's error groups for the demo.
fn groups(collector: &Collector) -> Vec<Value> {
    let (status, body) = collector.inner.admin_get("/api/v1/errors?product=sonde-demo");
    assert_eq!(status, 200, "{body}");
    body["groups"].as_array().cloned().unwrap_or_default()
}

/// How many reports the collector stored.
fn stored(collector: &Collector) -> u64 {
    groups(collector).iter().map(|g| g["count"].as_u64().unwrap()).sum()
}

/// The latest report of the group the collector saw first... or only.
fn sample(collector: &Collector, group: &Value) -> Value {
    let id = group["group"].as_str().unwrap();
    let (status, detail) = collector
        .inner
        .admin_get(&format!("/api/v1/errors/{id}?product=sonde-demo"));
    assert_eq!(status, 200, "{detail}");
    detail["sample"]["report"].clone()
}

/// Nothing was sent and nothing is queued: the collector stored no report,
/// the spool is empty, no uploader runs.
fn assert_nothing_sent(sandbox: &Sandbox, collector: &Collector) {
    assert!(sandbox.spool_items().is_empty(), "{:?}", sandbox.spool_items());
    assert!(!sandbox.uploader_running());
    assert_eq!(stored(collector), 0);
}

/// A collector, and a sandbox sending to it.
fn setup() -> (Collector, Sandbox) {
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url());
    (collector, sandbox)
}

#[test]
fn yes_sends_the_scrubbed_report_through_the_uploader() {
    let (collector, sandbox) = setup();
    let mut p = pty(&sandbox, &["crash", "--verbose"]);
    expect_question(&mut p, &collector);
    p.send_line("y").unwrap();
    let (rest, status) = finish(&mut p);
    assert!(rest.contains(QUEUED), "{rest}");
    assert!(status.contains("101"), "{status}");
    wait_for("the report to be stored", || stored(&collector) == 1);
    sandbox.wait_drained();
    assert!(saved(&sandbox).is_empty(), "a sent report is not kept");
    let report = sample(&collector, &groups(&collector)[0]);
    let text = report.to_string();
    let home = sandbox.home().display().to_string();
    assert!(!text.contains(&home), "{text}");
    assert!(
        report["message"].as_str().unwrap().starts_with("could not parse "),
        "{text}"
    );
    assert_eq!(report["kind"], "panic");
    assert_eq!(report["panic"], true);
    assert_eq!(report["command"], "sonde-demo crash");
    assert_eq!(report["flags"], serde_json::json!(["--verbose"]));
    assert_eq!(report["project"], serde_json::json!({"models": 3, "uses_enums": true}));
    let frame = report["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["in_app"] == true)
        .unwrap_or_else(|| panic!("no in-app frame: {text}"))
        .clone();
    assert_eq!(frame["function"], "sonde_demo::crash_here");
    assert_eq!(frame["file"], "src/main.rs");
    // The ledger shows what left the machine.
    let log = String::from_utf8_lossy(&sandbox.run(&["telemetry", "log"]).stdout).into_owned();
    assert!(
        log.contains("sent (200) POST ") && log.contains("/api/v1/error-reports"),
        "{log}"
    );
}

#[test]
fn no_sends_nothing_and_keeps_the_report_here() {
    let (collector, sandbox) = setup();
    let mut p = pty(&sandbox, &["crash"]);
    expect_question(&mut p, &collector);
    p.send_line("n").unwrap();
    let (rest, status) = finish(&mut p);
    assert!(rest.contains(SAVED), "{rest}");
    assert!(status.contains("101"), "{status}");
    let kept = saved(&sandbox);
    assert_eq!(kept.len(), 1);
    assert!(rest.contains(&kept[0].display().to_string()), "{rest}");
    assert_nothing_sent(&sandbox, &collector);
}

#[test]
fn enter_alone_means_no() {
    let (collector, sandbox) = setup();
    let mut p = pty(&sandbox, &["crash"]);
    expect_question(&mut p, &collector);
    p.send_line("").unwrap();
    let (rest, _) = finish(&mut p);
    assert!(rest.contains(SAVED), "{rest}");
    assert_eq!(saved(&sandbox).len(), 1);
    assert_nothing_sent(&sandbox, &collector);
}

#[test]
fn end_of_input_means_no() {
    let (collector, sandbox) = setup();
    let mut p = pty(&sandbox, &["crash"]);
    expect_question(&mut p, &collector);
    p.send_control('d').unwrap();
    let (rest, _) = finish(&mut p);
    assert!(rest.contains(SAVED), "{rest}");
    assert_eq!(saved(&sandbox).len(), 1);
    assert_nothing_sent(&sandbox, &collector);
}

#[test]
fn ctrl_c_interrupts_and_the_report_is_already_kept() {
    let (collector, sandbox) = setup();
    let mut p = pty(&sandbox, &["crash"]);
    expect_question(&mut p, &collector);
    p.send_control('c').unwrap();
    let (_, status) = finish(&mut p);
    assert!(status.contains("SIGINT"), "{status}");
    assert_eq!(saved(&sandbox).len(), 1);
    assert_nothing_sent(&sandbox, &collector);
}

#[test]
fn no_answer_in_time_means_no() {
    let (collector, sandbox) = setup();
    let sandbox = sandbox.env("SONDE_DEMO_PROMPT_TIMEOUT_MS", "1000");
    let mut p = pty(&sandbox, &["crash"]);
    expect_question(&mut p, &collector);
    let (rest, status) = finish(&mut p);
    assert!(rest.contains(SAVED), "{rest}");
    assert!(status.contains("101"), "{status}");
    assert_eq!(saved(&sandbox).len(), 1);
    assert_nothing_sent(&sandbox, &collector);
}

#[test]
fn view_shows_the_scrubbed_report_then_asks_again() {
    let (collector, sandbox) = setup();
    let mut p = pty(&sandbox, &["crash"]);
    expect_question(&mut p, &collector);
    p.send_line("v").unwrap();
    let shown = p.exp_string(QUESTION).expect("asked again");
    let home = sandbox.home().display().to_string();
    assert!(shown.contains("\"report_id\""), "{shown}");
    assert!(shown.contains("could not parse "), "{shown}");
    assert!(!shown.contains(&home), "{shown}");
    p.send_line("n").unwrap();
    let (rest, _) = finish(&mut p);
    assert!(rest.contains(SAVED), "{rest}");
    // What was shown is what is kept (pretty JSON, the same report).
    let kept = std::fs::read_to_string(&saved(&sandbox)[0]).unwrap();
    let kept: Value = serde_json::from_str(&kept).unwrap();
    assert!(shown.contains(kept["report_id"].as_str().unwrap()), "{shown}");
    assert_nothing_sent(&sandbox, &collector);
}

#[test]
fn always_is_saved_and_the_next_crash_is_sent_without_asking() {
    let (collector, sandbox) = setup();
    let mut p = pty(&sandbox, &["crash"]);
    expect_question(&mut p, &collector);
    p.send_line("a").unwrap();
    let (rest, _) = finish(&mut p);
    assert!(rest.contains(QUEUED), "{rest}");
    let config = read_json(&sandbox.config_file());
    assert_eq!(config["error_reports"], "always");
    let status = String::from_utf8_lossy(&sandbox.run(&["telemetry", "status"]).stdout).into_owned();
    assert!(status.contains("Error reports: always sent"), "{status}");
    let mut p = pty(&sandbox, &["crash"]);
    let (rest, _) = finish(&mut p);
    assert!(!rest.contains(QUESTION), "{rest}");
    assert!(rest.contains(QUEUED), "{rest}");
    wait_for("both reports to be stored", || stored(&collector) == 2);
    sandbox.wait_drained();
    assert!(saved(&sandbox).is_empty());
}

#[test]
fn never_is_saved_and_the_next_crash_asks_nothing() {
    let (collector, sandbox) = setup();
    let mut p = pty(&sandbox, &["crash"]);
    expect_question(&mut p, &collector);
    p.send_line("e").unwrap();
    let (rest, _) = finish(&mut p);
    assert!(rest.contains(SAVED), "{rest}");
    assert_eq!(read_json(&sandbox.config_file())["error_reports"], "never");
    let mut p = pty(&sandbox, &["crash"]);
    let (rest, _) = finish(&mut p);
    assert!(!rest.contains(QUESTION), "{rest}");
    assert!(rest.contains(SAVED), "{rest}");
    assert_eq!(saved(&sandbox).len(), 2);
    assert_nothing_sent(&sandbox, &collector);
    // `ask` again: the question is back.
    sandbox.run(&["telemetry", "errors", "ask"]);
    let mut p = pty(&sandbox, &["crash"]);
    expect_question(&mut p, &collector);
    p.send_line("n").unwrap();
    finish(&mut p);
}

#[test]
fn in_ci_nothing_is_asked() {
    let (collector, sandbox) = setup();
    let sandbox = sandbox.env("CI", "true");
    let mut p = pty(&sandbox, &["crash"]);
    let (rest, status) = finish(&mut p);
    assert!(!rest.contains(QUESTION), "{rest}");
    assert!(rest.contains(SAVED), "{rest}");
    assert!(status.contains("101"), "{status}");
    assert_nothing_sent(&sandbox, &collector);
}

#[test]
fn without_a_terminal_nothing_is_asked_and_one_line_names_the_file() {
    let (collector, sandbox) = setup();
    let out = sandbox.demo().arg("crash").output().unwrap();
    assert_eq!(out.status.code(), Some(101));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains(QUESTION), "{stderr}");
    let ours: Vec<&str> = stderr.lines().filter(|l| l.starts_with("sonde-demo:")).collect();
    assert_eq!(ours.len(), 1, "{stderr}");
    let path = ours[0].strip_prefix(SAVED).expect("the saved line");
    assert_eq!(saved(&sandbox), [PathBuf::from(path)]);
    // The host's own panic message (the default hook) is still printed.
    assert!(stderr.contains("panicked at"), "{stderr}");
    assert_nothing_sent(&sandbox, &collector);

    // Sent later, on request: the same path as a yes.
    let out = sandbox.run(&["telemetry", "errors", "send", path]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("queued"));
    wait_for("the report to be stored", || stored(&collector) == 1);
    sandbox.wait_drained();
    assert!(saved(&sandbox).is_empty());
}

#[test]
fn saved_reports_are_bounded() {
    let (collector, sandbox) = setup();
    sandbox.run(&["telemetry", "errors", "never"]);
    for _ in 0..12 {
        let out = sandbox.demo().arg("crash").output().unwrap();
        assert_eq!(out.status.code(), Some(101));
    }
    assert_eq!(saved(&sandbox).len(), 10);
    assert_nothing_sent(&sandbox, &collector);
}

#[test]
fn always_sends_without_a_terminal_but_the_policy_wins() {
    let (collector, sandbox) = setup();
    sandbox.run(&["telemetry", "errors", "always"]);
    std::fs::write(sandbox.policy_file(), r#"{"telemetry": "local"}"#).unwrap();
    let out = sandbox.demo().arg("fail").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(SAVED));
    assert_nothing_sent(&sandbox, &collector);

    std::fs::remove_file(sandbox.policy_file()).unwrap();
    let out = sandbox.demo().arg("fail").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(QUEUED));
    wait_for("the report to be stored", || stored(&collector) == 1);
    sandbox.wait_drained();
    // A handled error: its type, its cause, scrubbed.
    let report = sample(&collector, &groups(&collector)[0]);
    let text = report.to_string();
    assert!(report["kind"].as_str().unwrap().ends_with("PlanError"), "{text}");
    assert_eq!(report["panic"], false);
    assert_eq!(report["message"], "could not load the migration plan");
    let cause = report["chain"][0]["message"].as_str().unwrap();
    assert!(cause.contains("No such file"), "{text}");
    assert!(!text.contains(&sandbox.home().display().to_string()), "{text}");
}

#[test]
fn crashes_at_one_place_make_one_group_and_another_place_a_second() {
    let (collector, sandbox) = setup();
    sandbox.run(&["telemetry", "errors", "always"]);
    let crash = |args: &[&str], version: &str| {
        let out = sandbox
            .demo()
            .args(args)
            .env("SONDE_DEMO_VERSION", version)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(101), "{out:?}");
    };
    crash(&["crash"], "0.1.0");
    crash(&["crash", "--later"], "0.2.0");
    crash(&["crash", "--other"], "0.2.0");
    wait_for("three reports to be stored", || stored(&collector) == 3);
    sandbox.wait_drained();
    let groups = groups(&collector);
    let mut counts: Vec<u64> = groups.iter().map(|g| g["count"].as_u64().unwrap()).collect();
    counts.sort();
    assert_eq!(counts, [1, 2], "{groups:?}");
    let two = groups.iter().find(|g| g["count"] == 2).unwrap();
    assert_eq!(
        two["versions"],
        serde_json::json!([{"value": "0.1.0", "count": 1}, {"value": "0.2.0", "count": 1}])
    );
    // Both crashes came from one installation: its random signature, once.
    assert_eq!(two["signatures"], 1, "{two}");
}
