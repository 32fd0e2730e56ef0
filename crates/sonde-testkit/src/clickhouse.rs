//! ClickHouse for tests: a `clickhouse-server` process of the test's own,
//! started from a generated configuration in a temporary directory, on free
//! loopback ports (HTTP, native TCP, interserver), answering `SELECT 1`
//! before the fixture is handed out, and killed when dropped, or when the
//! test process ends however it ends (a fixture kept in a `static` is never
//! dropped): the server runs under a small shell that kills it, and removes
//! its directory, as soon as its standard input, a pipe from the test
//! process, closes. No system
//! service is used; a missing binary fails the test (install it with
//! `scripts/setup-test-deps`).
//!
//! [`Cluster`] starts two such servers that know each other as the two
//! shards of the cluster `sonde_test` (`remote_servers`).

use std::collections::BTreeSet;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tempfile::TempDir;

use crate::wait;

/// The cluster name [`Cluster`] configures.
pub const CLUSTER: &str = "sonde_test";

/// Where the server binary is: `clickhouse-server` on `PATH`, or Debian's
/// `/usr/sbin/clickhouse-server`; panics if neither exists.
pub fn server_binary() -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join("clickhouse-server"));
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!("clickhouse-server is not installed: run scripts/setup-test-deps (apt-get install clickhouse-server)");
}

/// A free loopback TCP port, never handed out before by this process, from
/// 20000–31999, below the kernel's ephemeral range: a killed server's ports
/// stay its own for its restart (no other fixture, and no outgoing
/// connection, takes them meanwhile).
fn free_port() -> u16 {
    static USED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut used = USED.lock().unwrap_or_else(|e| e.into_inner());
    let seed = std::process::id() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    for i in 0..12_000u64 {
        let port = 20_000 + ((seed.wrapping_mul(2_654_435_761) + i * 7919) % 12_000) as u16;
        if used.contains(&port) || TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        used.insert(port);
        return port;
    }
    panic!("no free loopback port in 20000-31999");
}

/// The ports of one server.
#[derive(Debug, Clone, Copy)]
struct Ports {
    http: u16,
    tcp: u16,
    interserver: u16,
}

impl Ports {
    fn free() -> Self {
        Ports {
            http: free_port(),
            tcp: free_port(),
            interserver: free_port(),
        }
    }
}

/// One `clickhouse-server` of the test's own; killed on drop.
#[derive(Debug)]
pub struct ClickHouse {
    dir: TempDir,
    ports: Ports,
    child: Option<Child>,
}

fn config(dir: &Path, ports: Ports, shards: &[Ports]) -> String {
    let d = dir.display();
    let remote = if shards.is_empty() {
        String::new()
    } else {
        let shards: String = shards
            .iter()
            .map(|p| {
                format!(
                    "<shard><replica><host>127.0.0.1</host><port>{}</port></replica></shard>",
                    p.tcp
                )
            })
            .collect();
        format!("<remote_servers><{CLUSTER}>{shards}</{CLUSTER}></remote_servers>")
    };
    format!(
        r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <interserver_http_port>{inter}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  {remote}
</yandex>
"#,
        http = ports.http,
        tcp = ports.tcp,
        inter = ports.interserver,
    )
}

const USERS: &str = r#"<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"#;

impl ClickHouse {
    /// Starts a server and waits until it answers.
    pub fn start() -> ClickHouse {
        Self::start_with(Ports::free(), &[])
    }

    fn start_with(ports: Ports, shards: &[Ports]) -> ClickHouse {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("config.xml"), config(dir.path(), ports, shards)).expect("write config");
        std::fs::write(dir.path().join("users.xml"), USERS).expect("write users");
        let mut ch = ClickHouse {
            dir,
            ports,
            child: None,
        };
        ch.restart();
        ch
    }

    /// Starts the server again (after [`ClickHouse::kill`] or
    /// [`ClickHouse::stop`]) on the same
    /// ports and data, and waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = std::fs::File::create(self.dir.path().join("stdout.log")).expect("log file");
        let child = Command::new("sh")
            .arg("-c")
            // Ends the server when a line arrives or the pipe closes: `stop`
            // shuts it down (SIGTERM: it finishes the queries under way),
            // anything else kills it (SIGKILL). Removes its directory unless
            // that line was `keep` or `stop` (a restart follows).
            .arg(concat!(
                r#""$0" --config-file="$1" & pid=$!; read -r how; "#,
                r#"if [ "$how" = stop ]; then kill $pid; else kill -9 $pid; fi; wait $pid; "#,
                r#"[ "$how" = keep ] || [ "$how" = stop ] || rm -rf "$2""#
            ))
            .arg(server_binary())
            .arg(self.dir.path().join("config.xml"))
            .arg(self.dir.path())
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start clickhouse-server");
        self.child = Some(child);
        let agent = crate::http::agent();
        let url = format!("http://127.0.0.1:{}/?query=SELECT%201", self.ports.http);
        wait::for_value("clickhouse-server to answer SELECT 1", Duration::from_secs(90), || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "clickhouse-server exited with {status}: {}",
                    std::fs::read_to_string(self.dir.path().join("server.err.log")).unwrap_or_default()
                );
            }
            let mut resp = agent.get(&url).call().ok()?;
            let body = resp.body_mut().read_to_string().ok()?;
            (body.trim() == "1").then_some(())
        });
    }

    /// Kills the server (SIGKILL) and waits for it to exit; its data stays
    /// for [`ClickHouse::restart`].
    pub fn kill(&mut self) {
        self.end(Some("keep"));
    }

    /// Shuts the server down (SIGTERM: it stops listening and finishes the
    /// queries under way, so every insert it accepted was answered) and
    /// waits for it to exit; its data stays for [`ClickHouse::restart`].
    pub fn stop(&mut self) {
        self.end(Some("stop"));
    }

    /// Ends the server with `how` (see [`ClickHouse::restart`]'s shell);
    /// `None` kills it and removes its directory.
    fn end(&mut self, how: Option<&str>) {
        if let Some(mut child) = self.child.take() {
            if let Some(mut stdin) = child.stdin.take() {
                if let Some(how) = how {
                    let _ = stdin.write_all(format!("{how}\n").as_bytes());
                }
            }
            let _ = child.wait();
        }
    }

    /// The HTTP port.
    pub fn http_port(&self) -> u16 {
        self.ports.http
    }

    /// The store URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("clickhouse://127.0.0.1:{}/{db}", self.ports.http)
    }

    /// Runs `sql` over HTTP and returns the answer's body; panics on an error status.
    pub fn query(&self, sql: &str) -> String {
        let agent = crate::http::agent();
        let mut resp = agent
            .post(&format!("http://127.0.0.1:{}/", self.ports.http))
            .send(sql)
            .expect("ClickHouse answers");
        let body = resp.body_mut().read_to_string().expect("ClickHouse body");
        assert_eq!(resp.status().as_u16(), 200, "{sql}: {body}");
        body
    }
}

impl Drop for ClickHouse {
    fn drop(&mut self) {
        self.end(None);
    }
}

/// Two servers configured as the two shards of [`CLUSTER`].
#[derive(Debug)]
pub struct Cluster {
    /// The shards, in the order the cluster lists them.
    pub shards: [ClickHouse; 2],
}

impl Cluster {
    /// The store URL of database `db` on the cluster, entered through the
    /// first shard.
    pub fn url(&self, db: &str) -> String {
        let [a, b] = &self.shards;
        format!(
            "clickhouse://127.0.0.1:{}/{db}?cluster={CLUSTER}&shards=127.0.0.1:{},127.0.0.1:{}",
            a.http_port(),
            a.http_port(),
            b.http_port()
        )
    }

    /// Starts both shards and waits until each answers.
    pub fn start() -> Cluster {
        let ports = [Ports::free(), Ports::free()];
        Cluster {
            shards: [
                ClickHouse::start_with(ports[0], &ports),
                ClickHouse::start_with(ports[1], &ports),
            ],
        }
    }
}
