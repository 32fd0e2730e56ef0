//! Commands with a clean environment, and what a finished process printed.
//!
//! Every program under test starts from an empty environment plus `PATH`:
//! the `SONDE_*` variables of the collector and the CLI, a tool's own
//! telemetry variable, `DO_NOT_TRACK`, `CI`, proxies and `HOME` of the
//! machine running the tests never leak in. A test adds exactly what it means
//! to set.

use std::ffi::OsStr;
use std::process::{Command, Output, Stdio};

/// `program` with an empty environment but `PATH`, and no standard input.
pub fn clean(program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    c
}

/// A finished process: exit code (-1 when killed by a signal) and both streams.
#[derive(Debug)]
pub struct Finished {
    /// The exit code.
    pub code: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl From<Output> for Finished {
    fn from(out: Output) -> Self {
        Finished {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `cmd` to completion.
pub fn run(cmd: &mut Command) -> Finished {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
        .into()
}

/// Formats a finished process's output for an assertion message.
pub fn describe(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Panics with the installer's name when `tool` is not on `PATH`: tests that
/// run real clients must fail, not pass silently, without them.
pub fn require_tool(tool: &str) {
    let found = Command::new(tool)
        .arg(if tool == "go" { "version" } else { "--version" })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{tool}` is not installed; run `bash scripts/setup-test-deps` (or `bash scripts/test`)"
    );
}
