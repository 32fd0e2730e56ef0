//! `sonde ping`: the client library's ping for tools in other languages, run
//! as a real process against the real collector on loopback, each case in its
//! own HOME/XDG sandbox with a clean environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const SONDE: &str = env!("CARGO_BIN_EXE_sonde");
const PRODUCT: &str = "othertool";

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("timed out waiting for {what}");
}

struct Sandbox(tempfile::TempDir);

impl Sandbox {
    fn new() -> Self {
        Sandbox(tempfile::tempdir().unwrap())
    }

    fn path(&self, p: &str) -> PathBuf {
        self.0.path().join(p)
    }

    fn state(&self) -> PathBuf {
        self.path("cache").join("sonde").join(PRODUCT)
    }

    fn ping(&self, endpoint: &str, extra_args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(SONDE);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("SONDE_POLICY_FILE", self.path("policy.json"))
            .args([
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
        let spool_empty = std::fs::read_dir(self.state().join("spool"))
            .map(|rd| {
                rd.flatten()
                    .all(|e| !e.file_name().to_string_lossy().ends_with(".json"))
            })
            .unwrap_or(true);
        let uploader_idle = std::fs::OpenOptions::new()
            .write(true)
            .open(self.state().join("uploader.lock"))
            .map(|f| f.try_lock().is_ok())
            .unwrap_or(true);
        spool_empty && uploader_idle
    }

    fn sent(&self) -> usize {
        std::fs::read_to_string(self.state().join("ledger.jsonl"))
            .map(|s| s.lines().filter(|l| l.contains("\"sent\"")).count())
            .unwrap_or(0)
    }
}

fn admin(
    c: &sonde_collector::BackgroundCollector,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("{}{path}", c.base_url());
    let auth = format!("Bearer {}", c.admin_token());
    let mut resp = match body {
        Some(b) => agent
            .post(&url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(serde_json::to_vec(&b).unwrap().as_slice())
            .unwrap(),
        None => {
            assert_eq!(method, "GET");
            agent.get(&url).header("Authorization", &auth).call().unwrap()
        }
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    assert!((200..300).contains(&status), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

fn mau(c: &sonde_collector::BackgroundCollector) -> u64 {
    let month = sonde_collector::clock::this_month();
    let v = admin(
        c,
        "GET",
        &format!("/api/v1/stats/mau?product={PRODUCT}&month={month}"),
        None,
    );
    v["active_signatures"].as_u64().unwrap()
}

fn start_collector(data: &Path) -> sonde_collector::BackgroundCollector {
    let config = sonde_collector::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_path_buf(),
        ..sonde_collector::Config::default()
    };
    let c = sonde_collector::start_in_background(config).unwrap();
    admin(
        &c,
        "POST",
        "/api/v1/releases",
        Some(serde_json::json!({"product": PRODUCT, "version": "1.0.0"})),
    );
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
    let cases: Vec<Case> = vec![
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
    let mut c = Command::new(SONDE);
    let out = c
        .env_clear()
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
