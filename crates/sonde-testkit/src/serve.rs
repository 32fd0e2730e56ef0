//! The real `sonde serve` as a child process on an ephemeral loopback port:
//! started with a clean environment, its output collected line by line, and
//! stopped with SIGTERM (or killed) by the test.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::process;

/// How long a collector may take to print its address on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A `sonde serve` child process; killed when dropped.
pub struct Serve {
    child: Option<Child>,
    addr: SocketAddr,
    /// Every line it printed up to and including the one with its address.
    pub startup: Vec<String>,
    log: mpsc::Receiver<String>,
}

impl Serve {
    /// Starts `<sonde> serve --listen 127.0.0.1:0 --data-dir DIR [extra...]`
    /// with `RUST_LOG=info`, and waits until it prints the address it bound.
    pub fn start(sonde: &str, data_dir: &Path, extra: &[&str]) -> Serve {
        let mut child = crate::command::clean(sonde)
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sonde serve");
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);

        let deadline = Instant::now() + START_TIMEOUT;
        let mut startup = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let addr = find_loopback_addr(&line);
                    startup.push(line);
                    if let Some(addr) = addr {
                        return Serve {
                            child: Some(child),
                            addr,
                            startup,
                            log: rx,
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    panic!(
                        "sonde serve exited or did not print a 127.0.0.1 address within {START_TIMEOUT:?} \
                         (exit status: {status:?}); output:\n{}",
                        startup.join("\n")
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

    /// The next line it prints, waiting up to `timeout`.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.log.recv_timeout(timeout).ok()
    }

    /// Everything it printed since the last call (or since its address).
    pub fn drain_log(&self) -> String {
        self.log.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// Sends SIGTERM without waiting.
    pub fn terminate(&self) {
        assert!(process::terminate(self.pid()), "kill -TERM {}", self.pid());
    }

    /// Sends SIGKILL and reaps it.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = child.kill();
        child.wait().ok()
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
        self.kill();
    }
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
        assert_eq!(find_loopback_addr("listen 127.0.0.1:0 then 127.0.0.1:81"), Some("127.0.0.1:81".parse().unwrap()));
        assert_eq!(find_loopback_addr("nothing here"), None);
    }
}
