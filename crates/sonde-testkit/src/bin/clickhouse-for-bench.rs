//! `clickhouse-for-bench`: the test kit's own `clickhouse-server`
//! ([`sonde_testkit::clickhouse::ClickHouse`]) for a benchmark script.
//! Starts it on free loopback ports (its files in a temporary directory
//! under `$TMPDIR`), prints `http://127.0.0.1:PORT` once it answers, and
//! keeps it until this program's standard input closes; the server is then
//! killed and its directory removed (also when this program is killed).
//!
//! ```text
//! exec 3< <(clickhouse-for-bench </dev/fd/4)   # or: coproc clickhouse-for-bench
//! ```

use std::io::Read;

fn main() {
    let server = sonde_testkit::clickhouse::ClickHouse::start();
    println!("http://127.0.0.1:{}", server.http_port());
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    drop(server);
}
