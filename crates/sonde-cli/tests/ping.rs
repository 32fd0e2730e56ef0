//! `sonde ping`: the client library's ping for tools in other languages, run
//! as a real process against the real collector on loopback, each case in its
//! own HOME/XDG sandbox with a clean environment.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::SONDE;
use sonde_testkit::collector::Collector;
use sonde_testkit::wait::until as wait_for;

const PRODUCT: &str = "othertool";

/// A HOME/XDG sandbox of the test kit, running `sonde ping` for [`PRODUCT`].
struct Sandbox(sonde_testkit::sandbox::Sandbox);

impl Sandbox {
    fn new() -> Self {
        Sandbox(sonde_testkit::sandbox::Sandbox::new())
    }

    fn path(&self, p: &str) -> PathBuf {
        self.0.root().join(p)
    }

    fn state(&self) -> PathBuf {
        self.0.state(PRODUCT)
    }

    fn ping(&self, endpoint: &str, extra_args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.0.command(SONDE);
        c.args([
            "ping",
            "--product",
            PRODUCT,
            "--version",
            "1.0.0",
            "--endpoint",
            endpoint,
        ])
        .args(extra_args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn drained(&self) -> bool {
        self.0.drained(PRODUCT)
    }

    fn sent(&self) -> usize {
        std::fs::read_to_string(self.state().join("ledger.jsonl"))
            .map(|s| s.lines().filter(|l| l.contains("\"sent\"")).count())
            .unwrap_or(0)
    }
}

/// Calls the admin API; asserts a 2xx answer.
fn admin(c: &Collector, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    let (status, v) = c.admin(method, path, body);
    assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
    v
}

fn mau(c: &Collector) -> u64 {
    let month = sonde_collector::clock::this_month();
    let v = admin(
        c,
        "GET",
        &format!("/api/v1/stats/mau?product={PRODUCT}&month={month}"),
        None,
    );
    v["active_signatures"].as_u64().unwrap()
}

fn start_collector(data: &std::path::Path) -> Collector {
    let c = Collector::start_in(data);
    c.register(PRODUCT, "1.0.0");
    c
}

#[test]
fn sonde_ping_sends_one_detached_ping_per_interval() {
    let data = tempfile::tempdir().unwrap();
    let collector = start_collector(data.path());
    let sandbox = Sandbox::new();
    let out = sandbox.ping(&collector.base_url(), &[], &[]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    wait_for("the ping", || mau(&collector) == 1);
    wait_for("the spool to drain", || sandbox.drained());
    // Within the interval, further pings send nothing.
    for _ in 0..3 {
        assert!(sandbox.ping(&collector.base_url(), &[], &[]).status.success());
    }
    wait_for("the spool to drain", || sandbox.drained());
    assert_eq!(sandbox.sent(), 1);
    let ledger = std::fs::read_to_string(sandbox.state().join("ledger.jsonl")).unwrap();
    assert!(ledger.contains("/v1/check/othertool?version=1.0.0"), "{ledger}");
    assert!(ledger.contains("runtime_version=rustc"), "{ledger}");
    // The runtime version of another language is passed through.
    let other = Sandbox::new();
    let out = other.ping(&collector.base_url(), &["--runtime-version", "v20.20.2"], &[]);
    assert!(out.status.success());
    wait_for("the second user's ping", || mau(&collector) == 2);
    wait_for("the spool to drain", || other.drained());
    let ledger = std::fs::read_to_string(other.state().join("ledger.jsonl")).unwrap();
    assert!(ledger.contains("runtime_version=v20.20.2"), "{ledger}");
}

#[test]
fn sonde_ping_obeys_every_opt_out() {
    let data = tempfile::tempdir().unwrap();
    let collector = start_collector(data.path());
    let url = collector.base_url();
    type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case<'_>> = vec![
        ("DO_NOT_TRACK", vec![], vec![("DO_NOT_TRACK", "1")]),
        ("CHECKPOINT_DISABLE", vec![], vec![("CHECKPOINT_DISABLE", "0")]),
        (
            "host variable",
            vec!["--env-var", "OTHERTOOL_TELEMETRY"],
            vec![("OTHERTOOL_TELEMETRY", "off")],
        ),
        ("user config", vec!["--config-file", "CONFIG"], vec![]),
        ("policy", vec![], vec![]),
    ];
    for (name, args, env) in cases {
        let sandbox = Sandbox::new();
        let config = sandbox.path("config.json");
        std::fs::write(&config, r#"{"enable_telemetry": false}"#).unwrap();
        if name == "policy" {
            std::fs::write(sandbox.path("policy.json"), r#"{"telemetry": "off"}"#).unwrap();
        }
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "CONFIG" { config.to_str().unwrap() } else { a })
            .collect();
        let out = sandbox.ping(&url, &args, &env);
        assert!(out.status.success(), "{name}: {out:?}");
        assert!(
            !sandbox.path("cache").join("sonde").exists(),
            "{name}: files were created"
        );
    }
    // Control: the same collector receives a ping from an unconfigured sandbox.
    let control = Sandbox::new();
    assert!(control.ping(&url, &[], &[]).status.success());
    wait_for("the control ping", || mau(&collector) == 1);
    wait_for("the spool to drain", || control.drained());
    assert_eq!(mau(&collector), 1);
}

#[test]
fn sonde_ping_rejects_a_bad_product_name_with_a_usage_error() {
    let sandbox = Sandbox::new();
    let out = sonde_testkit::command::clean(SONDE)
        .env("HOME", sandbox.path("home"))
        .env("XDG_CACHE_HOME", sandbox.path("cache"))
        .args(["ping", "--product", "../Etc", "--version", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid product name"),
        "{out:?}"
    );
    assert!(!sandbox.path("cache").exists());
}
