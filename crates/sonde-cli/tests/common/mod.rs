//! What the tests of the `sonde` binary share on top of the workspace's test
//! kit (`sonde-testkit`): the binary Cargo built for them, run with a clean
//! environment, its verbs against a data directory, and `sonde serve` as a
//! child process.

#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) use sonde_testkit::command::{describe, require_tool};
pub(crate) use sonde_testkit::serve::Serve;

/// The `sonde` binary Cargo built for these tests.
pub(crate) const SONDE: &str = env!("CARGO_BIN_EXE_sonde");

/// `sonde` with a clean environment and no standard input.
pub(crate) fn sonde() -> Command {
    sonde_testkit::command::clean(SONDE)
}

/// Runs `c`; returns (exit code, stdout, stderr).
pub(crate) fn run_cmd(mut c: Command) -> (i32, String, String) {
    let f = sonde_testkit::command::run(&mut c);
    (f.code, f.stdout, f.stderr)
}

/// Runs `sonde <args>`; returns (exit code, stdout, stderr).
pub(crate) fn run(args: &[&str]) -> (i32, String, String) {
    let mut c = sonde();
    c.args(args);
    run_cmd(c)
}

/// Runs `sonde <args>`, asserts exit 0, returns stdout.
pub(crate) fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "sonde {args:?}: {out}{err}");
    out
}

/// Runs `sonde <args> --data-dir DIR`; returns (exit code, stdout, stderr).
pub(crate) fn run_in(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = sonde();
    c.args(args).arg("--data-dir").arg(data_dir);
    run_cmd(c)
}

/// Runs `sonde <args> --data-dir DIR`, asserts exit 0, returns stdout.
pub(crate) fn ok_in(data_dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run_in(data_dir, args);
    assert_eq!(code, 0, "sonde {args:?} failed: {out}{err}");
    out
}

/// `sonde serve` on a free loopback port over `data_dir`.
pub(crate) fn serve(data_dir: &Path, extra: &[&str]) -> Serve {
    Serve::start(SONDE, data_dir, extra)
}

/// The workspace root (two levels above this crate).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `sonde stats mau --product P --format json`: exact distinct signatures this month.
pub(crate) fn mau(data_dir: &Path, product: &str) -> u64 {
    let out = ok_in(data_dir, &["stats", "mau", "--product", product, "--format", "json"]);
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("stats mau JSON: {e}: {out}"));
    v["active_signatures"]
        .as_u64()
        .unwrap_or_else(|| panic!("no active_signatures in {out}"))
}
