//! End-to-end tests of the client library: the real `sonde-demo` binary run as
//! a process, each in its own HOME/XDG sandbox, against the real collector on
//! loopback (or a closed port, or a listener that never answers).

mod common;

use std::process::Stdio;

use common::*;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_ping_reaches_the_collector_with_the_seed_fields() {
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url());
    let out = sandbox.run_work();
    assert_eq!(stderr(&out), "", "nothing on stderr without a terminal");
    wait_for("the ping to be stored", || collector.ping_count() == 1);
    sandbox.wait_drained();
    let id = read_json(&sandbox.state().join("id.json"));
    assert_eq!(collector.signatures(), [id["signature"].as_str().unwrap()]);
    // The answer is saved, and the ledger shows exactly what was sent.
    let saved = read_json(&sandbox.state().join("check.json"));
    assert_eq!(saved["answer"]["product"], "sonde-demo");
    let log = sandbox.run(&["telemetry", "log"]);
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(log.contains(" sent (200) GET "), "{log}");
    assert!(
        log.contains(&format!("{}/v1/check/sonde-demo?version=", collector.url())),
        "{log}"
    );
    assert!(log.contains(id["signature"].as_str().unwrap()), "{log}");
    // A second run within the interval sends nothing more.
    sandbox.run_work();
    sandbox.wait_drained();
    assert_eq!(collector.ping_count(), 1);
}

#[test]
fn hundred_concurrent_runs_send_exactly_one_ping() {
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url());
    let children: Vec<_> = (0..100)
        .map(|_| {
            sandbox
                .demo()
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "sonde-demo did its work\n");
        assert_eq!(stderr(&out), "");
    }
    wait_for("the ping to be stored", || collector.ping_count() >= 1);
    // Once the spool is empty and no uploader holds the lock, nothing else can be sent.
    sandbox.wait_drained();
    assert_eq!(collector.ping_count(), 1);
    let sent = std::fs::read_to_string(sandbox.state().join("ledger.jsonl")).unwrap();
    assert_eq!(sent.lines().count(), 1, "{sent}");
}

/// Each opt-out source, alone: the host works, no directory is created, no
/// uploader runs, the collector gets nothing.
#[test]
fn every_opt_out_alone_suppresses_all_files_and_processes() {
    let collector = Collector::start();
    type Setup = fn(Sandbox) -> Sandbox;
    let cases: Vec<(&str, Setup, &[&str], &str)> = vec![
        (
            "policy off",
            |s| {
                std::fs::write(s.policy_file(), r#"{"telemetry": "off"}"#).unwrap();
                s
            },
            &[],
            "policy file",
        ),
        ("host flag", |s| s, &["--no-telemetry"], "command-line flag"),
        ("DO_NOT_TRACK", |s| s.env("DO_NOT_TRACK", "1"), &[], "DO_NOT_TRACK=1"),
        (
            "CHECKPOINT_DISABLE=1",
            |s| s.env("CHECKPOINT_DISABLE", "1"),
            &[],
            "CHECKPOINT_DISABLE",
        ),
        (
            "CHECKPOINT_DISABLE=0",
            |s| s.env("CHECKPOINT_DISABLE", "0"),
            &[],
            "CHECKPOINT_DISABLE",
        ),
        (
            "host var false",
            |s| s.env("SONDE_DEMO_TELEMETRY", "false"),
            &[],
            "SONDE_DEMO_TELEMETRY=false",
        ),
        (
            "host var 0",
            |s| s.env("SONDE_DEMO_TELEMETRY", "0"),
            &[],
            "SONDE_DEMO_TELEMETRY=0",
        ),
        (
            "host var off",
            |s| s.env("SONDE_DEMO_TELEMETRY", "off"),
            &[],
            "SONDE_DEMO_TELEMETRY=off",
        ),
        (
            "user config",
            |s| {
                std::fs::create_dir_all(s.config_file().parent().unwrap()).unwrap();
                std::fs::write(s.config_file(), r#"{"enable_telemetry": false, "theme": "dark"}"#).unwrap();
                s
            },
            &[],
            "saved setting",
        ),
    ];
    for (name, setup, args, says) in cases {
        let sandbox = setup(Sandbox::new(&collector.url()));
        let out = sandbox.run(args);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "sonde-demo did its work\n",
            "{name}"
        );
        assert_eq!(stderr(&out), "", "{name}");
        // Debug output and notices are off too.
        let out = sandbox.demo().args(args).env("SONDE_DEBUG", "1").output().unwrap();
        assert_eq!(stderr(&out), "", "{name}");
        assert!(!sandbox.sonde_cache().exists(), "{name}: the cache dir was created");
        if args.is_empty() {
            let status = sandbox.run(&["telemetry", "status"]);
            let status = String::from_utf8_lossy(&status.stdout);
            assert!(
                status.contains("is off, decided by") && status.contains(says),
                "{name}: {status}"
            );
            assert!(status.contains("Nothing has been written"), "{name}: {status}");
            assert!(!sandbox.sonde_cache().exists(), "{name}: status created the cache dir");
        }
    }
    // The same collector does receive a ping from an unconfigured sandbox, so
    // "nothing arrived" above is meaningful.
    let control = Sandbox::new(&collector.url());
    control.run_work();
    wait_for("the control ping", || collector.ping_count() == 1);
    control.wait_drained();
    assert_eq!(collector.ping_count(), 1);
}

#[test]
fn the_policy_file_beats_the_users_enable() {
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url());
    std::fs::write(sandbox.policy_file(), r#"{"telemetry": "off"}"#).unwrap();
    let out = sandbox.run(&["telemetry", "enable"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("is off, decided by the machine's policy file"), "{text}");
    assert_eq!(read_json(&sandbox.config_file())["enable_telemetry"], true);
    sandbox.run_work();
    let out = sandbox.demo().env("SONDE_DEMO_TELEMETRY", "on").output().unwrap();
    assert!(out.status.success());
    assert!(!sandbox.sonde_cache().exists());

    // A policy of "local" records to the ledger and sends nothing.
    std::fs::write(sandbox.policy_file(), r#"{"telemetry": "local"}"#).unwrap();
    sandbox.run_work();
    let log = sandbox.run(&["telemetry", "log"]);
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(
        log.contains(" local GET ") && log.contains("/v1/check/sonde-demo?"),
        "{log}"
    );
    assert!(sandbox.spool_items().is_empty());
    assert!(
        !sandbox.state().join("uploader.lock").exists(),
        "no uploader was started"
    );
    // Control: the same sandbox without the policy pings (on the next interval).
    std::fs::remove_file(sandbox.policy_file()).unwrap();
    std::fs::remove_file(sandbox.state().join("last-ping")).unwrap();
    sandbox.run_work();
    wait_for("the ping", || collector.ping_count() == 1);
}

#[test]
fn user_disable_then_enable_round_trips_and_keeps_other_keys() {
    let sandbox = Sandbox::new(&format!("http://{}", closed_port()));
    std::fs::create_dir_all(sandbox.config_file().parent().unwrap()).unwrap();
    std::fs::write(sandbox.config_file(), r#"{"uuid": "keep-me"}"#).unwrap();
    let out = sandbox.run(&["telemetry", "disable"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("is off, decided by the saved setting"));
    assert_eq!(
        read_json(&sandbox.config_file()),
        serde_json::json!({"uuid": "keep-me", "enable_telemetry": false})
    );
    sandbox.run(&["telemetry", "enable"]);
    assert_eq!(
        read_json(&sandbox.config_file()),
        serde_json::json!({"uuid": "keep-me", "enable_telemetry": true})
    );
    // A config file that is not JSON is not overwritten, and the error says so.
    std::fs::write(sandbox.config_file(), "{broken").unwrap();
    let out = sandbox.demo().args(["telemetry", "disable"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not a JSON object"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(sandbox.config_file()).unwrap(), "{broken");
}

#[test]
fn corrupt_state_is_replaced_without_a_word() {
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url());
    let state = sandbox.state();
    std::fs::create_dir_all(state.join("spool")).unwrap();
    std::fs::write(state.join("id.json"), "{\"signature\": \"0000").unwrap();
    std::fs::write(state.join("last-ping"), "\0\0garbage").unwrap();
    // A throttle stamp in the future (clock change, corruption) counts as due.
    let future = std::time::SystemTime::now() + std::time::Duration::from_secs(10 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(state.join("last-ping"))
        .unwrap()
        .set_modified(future)
        .unwrap();
    std::fs::write(state.join("check.json"), "[1, 2").unwrap();
    std::fs::write(state.join("notices.json"), "nope").unwrap();
    std::fs::write(state.join("retry-at"), "x").unwrap();
    std::fs::write(state.join("ledger.jsonl"), "not json\n").unwrap();
    std::fs::write(state.join("spool").join("q-0000000000000001-x.json"), "{\"method\":").unwrap();
    let out = sandbox.run_work();
    assert_eq!(stderr(&out), "");
    wait_for("the ping", || collector.ping_count() == 1);
    sandbox.wait_drained();
    let id = read_json(&state.join("id.json"));
    let sig = id["signature"].as_str().unwrap();
    assert_eq!(sonde_protocol::shapes::signature(sig).unwrap(), sig);
    assert_eq!(collector.signatures(), [sig]);
    assert!(read_json(&state.join("check.json"))["answer"].is_object());
    let stamped = std::fs::metadata(state.join("last-ping")).unwrap().modified().unwrap();
    assert!(
        stamped <= std::time::SystemTime::now(),
        "the stamp was replaced by the real time"
    );
    assert!(sandbox.spool_items().is_empty(), "the corrupt item was dropped");
}

#[test]
fn an_unwritable_or_missing_home_means_telemetry_quietly_does_nothing() {
    let collector = Collector::start();
    // The cache "directory" is a file: nothing can be created below it
    // (works even as root, where permission bits do not stop writes).
    let sandbox = Sandbox::new(&collector.url());
    let blocker = sandbox.root().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let sandbox = sandbox.env("XDG_CACHE_HOME", blocker.join("cache").to_str().unwrap());
    let out = sandbox.run_work();
    assert_eq!(stderr(&out), "");
    let out = sandbox.demo().env("SONDE_DEBUG", "1").output().unwrap();
    assert!(out.status.success());
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    // No HOME and no XDG variables at all.
    let out = sandbox
        .demo()
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sonde-demo did its work\n");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    let status = sandbox.run(&["telemetry", "status"]);
    assert!(String::from_utf8_lossy(&status.stdout).contains("Telemetry for sonde-demo is on"));
}

#[test]
fn collector_down_then_up_the_spooled_ping_arrives_on_a_later_run() {
    let addr = closed_port();
    let sandbox = Sandbox::new(&format!("http://{addr}")).env("SONDE_DEMO_RETRY_SECS", "1");
    sandbox.run_work();
    // The uploader tried, failed, and left the ping queued with a backoff.
    wait_for("the failed attempt", || {
        sandbox.spool_items().len() == 1
            && !sandbox.uploader_running()
            && read_json(&sandbox.spool_items()[0])["attempts"] == 1
    });
    assert!(!sandbox.state().join("ledger.jsonl").exists(), "nothing was sent");
    let collector = Collector::start_on(addr);
    // Runs within the interval queue no new ping; once the backoff has passed
    // one of them starts an uploader that delivers the queued one.
    wait_for("the spooled ping to arrive", || {
        sandbox.run_work();
        collector.ping_count() >= 1
    });
    sandbox.wait_drained();
    assert_eq!(collector.ping_count(), 1);
}

#[test]
fn a_blackholed_collector_makes_the_uploader_give_up_and_leave_no_process() {
    let hole = Blackhole::start();
    let sandbox = Sandbox::new(&format!("http://{}", hole.addr));
    let out = sandbox.run_work();
    assert_eq!(stderr(&out), "");
    // The uploader writes its pid into its lock file once it holds the lock.
    let lock = sandbox.state().join("uploader.lock");
    let mut pid = 0u32;
    wait_for("the uploader's pid", || {
        pid = std::fs::read_to_string(&lock)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        pid != 0
    });
    wait_for("the blackhole to accept the uploader", || {
        hole.accepted.load(std::sync::atomic::Ordering::SeqCst) >= 1
    });
    // Hard timeouts (1 s connect, 3 s total here): it gives up and exits,
    // leaving nothing in its process group.
    wait_for("the uploader to exit", || process_gone(pid));
    wait_for("its process group to be empty", || live_in_group(pid).is_empty());
    let items = sandbox.spool_items();
    assert_eq!(items.len(), 1, "the ping stays queued for a later attempt");
    assert_eq!(read_json(&items[0])["attempts"], 1);
    assert!(!sandbox.uploader_running());
    // A run during the backoff starts no new uploader.
    sandbox.run_work();
    let accepted = hole.accepted.load(std::sync::atomic::Ordering::SeqCst);
    sandbox.run_work();
    assert!(!sandbox.uploader_running());
    assert_eq!(hole.accepted.load(std::sync::atomic::Ordering::SeqCst), accepted);
}

#[test]
fn debug_prints_the_payload_and_sends_nothing() {
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url()).env("SONDE_DEBUG", "1");
    let out = sandbox.run_work();
    let err = stderr(&out);
    assert!(
        err.contains("[sonde debug] would send (nothing is sent): GET "),
        "{err}"
    );
    assert!(err.contains("/v1/check/sonde-demo?version="), "{err}");
    assert!(sandbox.spool_items().is_empty());
    assert!(!sandbox.state().join("uploader.lock").exists());
    assert!(!sandbox.state().join("last-ping").exists());
    // Without debug, the ping goes out: the collector was reachable all along.
    let sandbox = Sandbox {
        extra_env: Vec::new(),
        ..sandbox
    };
    sandbox.run_work();
    wait_for("the ping", || collector.ping_count() == 1);
}

/// `script` gives the demo a real terminal on stderr.
fn run_on_tty(sandbox: &Sandbox, extra: &[(&str, &str)]) -> String {
    let mut cmd = sandbox.command("script");
    cmd.args(["-qec", &format!("'{DEMO}'"), "/dev/null"]);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

#[test]
fn notices_come_from_the_cached_answer_on_a_terminal_only() {
    let collector = Collector::start();
    collector.admin_post(
        "/api/v1/releases",
        serde_json::json!({"product": "sonde-demo", "version": "2.0.0", "date": 1_750_000_000,
                           "install_command": "cargo install sonde-demo"}),
    );
    collector.admin_post(
        "/api/v1/alerts",
        serde_json::json!({"product": "sonde-demo", "level": "critical", "message": "1.x leaks tokens",
                           "url": "https://example.com/sa-1", "affects": "<2.0.0"}),
    );
    let sandbox = Sandbox::new(&collector.url()).env("SONDE_DEMO_VERSION", "1.0.0");
    // No terminal: no notice, not even the first-run one; the ping goes out.
    let out = sandbox.run_work();
    assert_eq!(stderr(&out), "");
    wait_for("the answer to be saved", || sandbox.state().join("check.json").exists());
    sandbox.wait_drained();

    // On a terminal: first-run notice, then the cached update notice and alert.
    let first = run_on_tty(&sandbox, &[]);
    assert!(first.contains("collects anonymous usage data"), "{first}");
    assert!(first.contains("SECURITY: 1.x leaks tokens"), "{first}");
    assert!(
        first.contains("A new version of sonde-demo is available: 1.0.0 -> 2.0.0"),
        "{first}"
    );
    assert!(first.contains("install: cargo install sonde-demo"), "{first}");
    // Again: the alert was shown once, the update reminder is rate-limited,
    // the first-run notice is not repeated.
    let second = run_on_tty(&sandbox, &[]);
    assert_eq!(second, "sonde-demo did its work\n");
    // A raised consent version shows the first-run notice again; CI never does.
    let ci = run_on_tty(&sandbox, &[("SONDE_DEMO_CONSENT_VERSION", "2"), ("CI", "true")]);
    assert!(!ci.contains("collects anonymous usage data"), "{ci}");
    let raised = run_on_tty(&sandbox, &[("SONDE_DEMO_CONSENT_VERSION", "2")]);
    assert!(raised.contains("collects anonymous usage data"), "{raised}");
    // No network was involved: one ping in all.
    assert_eq!(collector.ping_count(), 1);
}

#[test]
fn status_names_the_deciding_setting_and_the_files() {
    let sandbox = Sandbox::new(&format!("http://{}", closed_port()));
    let out = sandbox.run(&["telemetry", "status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Telemetry for sonde-demo is on, decided by the default"),
        "{text}"
    );
    assert!(
        text.contains(&format!("files would go to {}", sandbox.state().display())),
        "{text}"
    );
    let sandbox = sandbox.env("SONDE_DEMO_TELEMETRY", "local");
    let out = sandbox.run(&["telemetry", "status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("is local-only") && text.contains("SONDE_DEMO_TELEMETRY=local"),
        "{text}"
    );
}

#[test]
fn https_proxy_is_used_and_no_proxy_bypasses_it() {
    let collector = Collector::start();
    let (proxy, seen) = recording_proxy();
    let proxy_url = format!("http://{proxy}");
    let sandbox = Sandbox::new(&collector.url()).env("HTTPS_PROXY", &proxy_url);
    sandbox.run_work();
    wait_for("the proxied ping", || collector.ping_count() == 1);
    sandbox.wait_drained();
    let target = collector.url().trim_start_matches("http://").to_owned();
    assert_eq!(*seen.lock().unwrap(), [format!("CONNECT {target} HTTP/1.1")]);

    let direct = Sandbox::new(&collector.url())
        .env("HTTPS_PROXY", &proxy_url)
        .env("NO_PROXY", "127.0.0.1");
    direct.run_work();
    wait_for("the direct ping", || collector.ping_count() == 2);
    direct.wait_drained();
    assert_eq!(seen.lock().unwrap().len(), 1, "NO_PROXY bypassed the proxy");
}

#[test]
fn a_long_lived_host_reaps_its_uploader() {
    use std::io::{BufRead, BufReader};
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url());
    let mut host = sandbox
        .demo()
        .arg("linger")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(host.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    wait_for("the ping", || collector.ping_count() == 1);
    sandbox.wait_drained();
    let pid: u32 = std::fs::read_to_string(sandbox.state().join("uploader.lock"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Not even a zombie: the host (still running) has waited for it.
    wait_for("the uploader to be reaped", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    drop(host.stdin.take());
    assert!(host.wait().unwrap().success());
}

#[test]
fn an_unreadable_state_file_means_telemetry_quietly_does_nothing() {
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url());
    // A directory where the identity file should be: it can be neither read
    // nor replaced (permission bits would not stop root, this does).
    std::fs::create_dir_all(sandbox.state().join("id.json").join("x")).unwrap();
    for _ in 0..3 {
        let out = sandbox.run_work();
        assert_eq!(stderr(&out), "");
    }
    assert!(sandbox.spool_items().is_empty());
    assert!(
        !sandbox.state().join("uploader.lock").exists(),
        "no uploader was started"
    );
    // Once the file is fixed, the next run pings.
    std::fs::remove_dir_all(sandbox.state().join("id.json")).unwrap();
    sandbox.run_work();
    wait_for("the ping", || collector.ping_count() == 1);
}

#[test]
fn a_closed_stderr_never_makes_the_host_panic() {
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url()).env("SONDE_DEBUG", "1");
    // A pipe whose reading end is already closed: every write fails (EPIPE).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = sandbox.demo().stderr(writer).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sonde-demo did its work\n");
}

#[test]
fn a_full_disk_means_telemetry_quietly_does_nothing_and_a_later_run_pings() {
    let collector = Collector::start();
    let sandbox = Sandbox::new(&collector.url());
    let out_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(sandbox.home.cache()).unwrap();
    // The cache directory becomes a 64 KiB tmpfs, filled up, in a private
    // mount namespace (nothing is mounted on the machine itself): every file
    // write there fails with ENOSPC. The demo runs once on the full disk,
    // then once more after the filler is removed. The second run's detached
    // uploader stays in the namespace, so the mount lives until it is done.
    let script = r#"
        set -eu
        mount -t tmpfs -o size=64k sonde-full-disk-test "$XDG_CACHE_HOME"
        dd if=/dev/zero of="$XDG_CACHE_HOME/filler" bs=4096 2>/dev/null || true
        test "$(df -P "$XDG_CACHE_HOME" | awk 'NR == 2 { print $4 }')" = 0
        status=0; "$DEMO_BIN" >"$OUT/full.stdout" 2>"$OUT/full.stderr" || status=$?
        echo "$status" >"$OUT/full.status"
        find "$XDG_CACHE_HOME" -type f ! -name filler -size +0 >"$OUT/full.files"
        rm "$XDG_CACHE_HOME/filler"
        "$DEMO_BIN" >"$OUT/freed.stdout" 2>"$OUT/freed.stderr"
    "#;
    let out = sandbox
        .command("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .env("DEMO_BIN", DEMO)
        .env("OUT", out_dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the full-disk script failed (it needs `unshare --user --mount`: root, or \
         unprivileged user namespaces enabled): {out:?}"
    );
    let read = |name: &str| std::fs::read_to_string(out_dir.path().join(name)).unwrap();
    // The run on the full disk: the host did its work, exit 0, not a word on
    // stderr (no panic, no backtrace), and no file with content was left.
    assert_eq!(read("full.status").trim(), "0");
    assert_eq!(read("full.stdout"), "sonde-demo did its work\n");
    assert_eq!(read("full.stderr"), "");
    assert_eq!(read("full.files"), "", "files written on a full disk");
    // With space again, the next run pings.
    assert_eq!(read("freed.stdout"), "sonde-demo did its work\n");
    assert_eq!(read("freed.stderr"), "");
    wait_for("the ping after space was freed", || collector.ping_count() == 1);
    assert_eq!(collector.ping_count(), 1);
}
