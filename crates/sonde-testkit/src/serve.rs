//! The real `sonde serve` as a child process on an ephemeral loopback port:
//! started with a clean environment, its output collected line by line, and
//! stopped with SIGTERM (or killed) by the test.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::process;

/// How long a collector may take to print its address on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A `sonde serve` child process; killed when dropped.
#[derive(Debug)]
pub struct Serve {
    child: Option<Child>,
    addr: SocketAddr,
    /// Every line of standard output up to and including the one with its address.
    pub startup: Vec<String>,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

/// A thread that forwards each line of `stream` into the returned channel.
fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Serve {
    /// Starts `<sonde> serve --listen 127.0.0.1:0 --data-dir DIR [extra...]`
    /// with a clean environment and `RUST_LOG=info`, and waits until it
    /// prints the address it bound.
    pub fn start(sonde: &str, data_dir: &Path, extra: &[&str]) -> Serve {
        Self::start_at(sonde, data_dir, "127.0.0.1:0", extra)
    }

    /// Like [`Serve::start`] on the address `listen` (a collector restarted
    /// on the port it had, for clients that keep sending there).
    pub fn start_at(sonde: &str, data_dir: &Path, listen: &str, extra: &[&str]) -> Serve {
        let mut cmd = crate::command::clean(sonde);
        cmd.arg("serve")
            .arg("--listen")
            .arg(listen)
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info");
        Self::spawn(cmd)
    }

    /// Spawns `cmd` (a `sonde serve` the caller configured) and waits until
    /// its standard output names the 127.0.0.1 address it bound.
    pub fn spawn(mut cmd: Command) -> Serve {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sonde serve");
        let stdout = lines_of(child.stdout.take().expect("stdout"));
        let stderr = lines_of(child.stderr.take().expect("stderr"));
        let deadline = Instant::now() + START_TIMEOUT;
        let mut startup = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stdout.recv_timeout(left) {
                Ok(line) => {
                    let addr = find_loopback_addr(&line);
                    startup.push(line);
                    if let Some(addr) = addr {
                        return Serve {
                            child: Some(child),
                            addr,
                            startup,
                            stdout,
                            stderr,
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    let errors: Vec<String> = stderr.try_iter().collect();
                    panic!(
                        "sonde serve exited or did not print a 127.0.0.1 address within {START_TIMEOUT:?} \
                         (exit status: {status:?}); stdout:\n{}\nstderr:\n{}",
                        startup.join("\n"),
                        errors.join("\n")
                    );
                }
            }
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The next line of its standard output, waiting up to `timeout`.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.stdout.recv_timeout(timeout).ok()
    }

    /// Everything it printed (standard output, then its log on standard
    /// error) since the last call.
    pub fn drain_log(&self) -> String {
        let out = self.stdout.try_iter();
        let err = self.stderr.try_iter();
        out.chain(err).collect::<Vec<_>>().join("\n")
    }

    /// Everything it printed after the last [`Serve::drain_log`] until it
    /// closed both streams: blocks until the process has exited.
    pub fn output_until_exit(&self) -> String {
        let out = self.stdout.iter();
        let err = self.stderr.iter();
        out.chain(err).collect::<Vec<_>>().join("\n")
    }

    /// Sends SIGTERM without waiting.
    pub fn terminate(&self) {
        assert!(process::terminate(self.pid()), "kill -TERM {}", self.pid());
    }

    /// Sends SIGKILL without waiting (see [`Serve::wait_exit`]).
    pub fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
        }
    }

    /// Waits (up to 60 s) for it to exit; panics if it does not.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("the collector was already reaped");
        let status = crate::wait::for_value("sonde serve to exit", crate::wait::PATIENCE, || {
            child.try_wait().expect("try_wait")
        });
        self.child = None;
        status
    }

    /// Sends SIGTERM and waits for the exit; returns whether it exited 0.
    pub fn stop(mut self) -> bool {
        self.terminate();
        self.wait_exit().success()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The admin token a collector created in `data_dir`.
pub fn admin_token(data_dir: &Path) -> String {
    let path = data_dir.join("admin-token");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_owned()
}

/// Finds `127.0.0.1:PORT` (PORT not 0) in a log line.
fn find_loopback_addr(line: &str) -> Option<SocketAddr> {
    let mut rest = line;
    while let Some(i) = rest.find("127.0.0.1:") {
        let after = &rest[i + "127.0.0.1:".len()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(port) = digits.parse::<u16>() {
            if port != 0 {
                return Some(SocketAddr::from(([127, 0, 0, 1], port)));
            }
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_found_in_a_log_line() {
        assert_eq!(
            find_loopback_addr("sonde collector listening on http://127.0.0.1:7070"),
            Some("127.0.0.1:7070".parse().unwrap())
        );
        assert_eq!(
            find_loopback_addr("listen 127.0.0.1:0 then 127.0.0.1:81"),
            Some("127.0.0.1:81".parse().unwrap())
        );
        assert_eq!(find_loopback_addr("nothing here"), None);
    }
}
