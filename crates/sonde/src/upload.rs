//! The detached uploader: starting it from the host, and what it does once
//! started.
//!
//! The host never does network I/O. When work is queued it re-runs its own
//! executable with [`UPLOADER_ENV`] set, stdin/stdout/stderr on `/dev/null`, in
//! its own process group (so a Ctrl-C in the terminal does not reach it), and
//! does not wait for it. A short-lived host simply exits (the uploader is
//! re-parented); a long-lived host reaps it from a small background thread, so
//! no zombie is left. On Linux the uploader is started on the CPU the host is
//! running on (see [`spawn`]).
//!
//! The uploader (recognised by the library's `run()` at the top of the host's
//! `main`) takes `uploader.lock` without waiting — a second uploader exits at
//! once — and sends the queued items with hard connect and total timeouts. A
//! transport failure stops the run and sets a backoff (`retry-at`); items older
//! than the spool's age limit, or tried too often, are dropped.

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Seek, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::command;
use crate::layout;
use crate::ledger::{self, LedgerEntry, Outcome};
use crate::spool::{self, QueuedRequest};
use crate::state::{self, now_secs, StateDir};

/// Set (to the product name) on the uploader process only.
pub const UPLOADER_ENV: &str = "SONDE_UPLOADER";

/// How an uploader sends.
#[derive(Debug, Clone)]
pub(crate) struct UploadSettings {
    pub(crate) endpoint: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) total_timeout: Duration,
    pub(crate) max_age: Duration,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) user_agent: String,
}

/// Starts the uploader and returns at once.
///
/// The host pays for this on the run that finds work due, so it is kept to
/// the minimum: `/dev/null` is opened once for the three standard streams,
/// on Linux the executable is re-run through `/proc/self/exe` (no
/// `readlink`; and it is the very file the host runs, even if it was replaced
/// on disk since), and `Command` takes the `posix_spawn` path (no `pre_exec`,
/// no uid, no working directory): the host is blocked only until the child
/// has called `exec`.
///
/// On Linux the calling thread is pinned to the CPU it runs on for the
/// duration of the spawn, so the child starts there too instead of on an idle
/// CPU. Waking an idle CPU (on a VM: a halted vCPU) while the host is blocked
/// in the spawn, and again to wake the host when the child has called `exec`,
/// cost the host about 0.5 to 1.2 ms of wall time on a 2-vCPU VM
/// (bench/runs/2026-11-22/client-host-cost.md). The child
/// gets the host's own affinity back as soon as `spawn` returns (it may then
/// move to another CPU, without the host waiting for it), and so does the
/// calling thread after the reaper thread is created: the reaper keeps the
/// single-CPU mask, so that it too starts — and, when a short-lived host
/// exits, is killed — without waking another CPU. It only waits. If the
/// affinity cannot be read or set, the spawn is unchanged.
pub(crate) fn spawn(product: &str, args: &[OsString]) {
    let Some(mut command) = uploader_command() else { return };
    let Some([stdin, stdout, stderr]) = dev_null() else {
        return;
    };
    command
        .args(args)
        .env(UPLOADER_ENV, product)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr);
    detach(&mut command);
    start(command);
}

/// Spawns `command` (pinned, see [`spawn`]), leaves a thread to reap it, and
/// returns its pid.
fn start(mut command: Command) -> Option<u32> {
    let pinned = PinnedToThisCpu::new();
    let mut child = command.spawn().ok()?;
    let pid = child.id();
    if let Some(pinned) = &pinned {
        pinned.release_child(pid);
    }
    // Reap it when it ends, so a long-lived host keeps no zombie. A
    // short-lived host exits first; the thread dies with it. Its stack is
    // small: it only waits. Started while this thread is still pinned, it
    // keeps the single-CPU mask.
    let _ = std::thread::Builder::new().stack_size(REAPER_STACK).spawn(move || {
        let _ = child.wait();
    });
    drop(pinned);
    Some(pid)
}

/// The calling thread pinned to the CPU it runs on; its own affinity mask is
/// restored on drop.
#[cfg(target_os = "linux")]
struct PinnedToThisCpu {
    saved: rustix::thread::CpuSet,
}

#[cfg(target_os = "linux")]
impl PinnedToThisCpu {
    /// `None` (nothing changed) when the mask cannot be read or set, e.g. on
    /// a machine with more CPUs than a `CpuSet` holds.
    fn new() -> Option<Self> {
        use rustix::thread::{sched_getaffinity, sched_getcpu, sched_setaffinity, CpuSet};
        let saved = sched_getaffinity(None).ok()?;
        let mut one = CpuSet::new();
        one.set(sched_getcpu());
        sched_setaffinity(None, &one).ok()?;
        Some(Self { saved })
    }

    /// Gives the child (started while pinned, so pinned too) the host's mask.
    fn release_child(&self, pid: u32) {
        let pid = i32::try_from(pid).ok().and_then(rustix::thread::Pid::from_raw);
        if let Some(pid) = pid {
            let _ = rustix::thread::sched_setaffinity(Some(pid), &self.saved);
        }
    }
}

#[cfg(target_os = "linux")]
impl Drop for PinnedToThisCpu {
    fn drop(&mut self) {
        let _ = rustix::thread::sched_setaffinity(None, &self.saved);
    }
}

/// Elsewhere the spawn is not pinned.
#[cfg(not(target_os = "linux"))]
struct PinnedToThisCpu;

#[cfg(not(target_os = "linux"))]
impl PinnedToThisCpu {
    fn new() -> Option<Self> {
        None
    }

    fn release_child(&self, _pid: u32) {}
}

/// Stack of the reaper thread (it calls `wait` and nothing else).
const REAPER_STACK: usize = 32 * 1024;

/// The host's own executable, to be re-run.
#[cfg(target_os = "linux")]
fn uploader_command() -> Option<Command> {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new("/proc/self/exe");
    // Keep the host's argv[0], as a re-run from the shell would have it.
    if let Some(arg0) = std::env::args_os().next() {
        command.arg0(arg0);
    }
    Some(command)
}

/// The host's own executable, to be re-run.
#[cfg(not(target_os = "linux"))]
fn uploader_command() -> Option<Command> {
    std::env::current_exe().ok().map(Command::new)
}

/// Three handles on `/dev/null` from one `open`.
fn dev_null() -> Option<[Stdio; 3]> {
    let null = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(if cfg!(windows) { "NUL" } else { "/dev/null" })
        .ok()?;
    Some([
        null.try_clone().ok()?.into(),
        null.try_clone().ok()?.into(),
        null.into(),
    ])
}

/// The longest backoff, seconds.
pub(crate) const MAX_BACKOFF: u64 = 6 * 3600;

/// Its own process group: a Ctrl-C in the host's terminal does not reach it.
#[cfg(unix)]
fn detach(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
}

/// No console, its own process group (untested: the project's CI is Linux).
#[cfg(windows)]
fn detach(command: &mut Command) {
    use std::os::windows::process::CommandExt;
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    command.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
}

#[cfg(not(any(unix, windows)))]
fn detach(_command: &mut Command) {}

/// Backoff after the `attempts`-th failure: `base`, 2×, 4× … capped at 6 h
/// (with the default base of 1 min: 1, 2, 4, 8 … minutes).
pub(crate) fn backoff(attempts: u32, base: Duration) -> u64 {
    let exp = attempts.saturating_sub(1).min(16);
    (base.as_secs().max(1) << exp).min(MAX_BACKOFF)
}

enum Sent {
    Ok { status: u16, answer: Option<Vec<u8>> },
    Rejected { status: u16 },
    Retry,
}

/// The uploader process's work, start to end: sweep staged events into
/// the spool, send the spool, and again while events were staged or
/// requests queued meanwhile (a host that saw this uploader's lock did not
/// start another) — unless a pass stopped on a transport failure. The stage
/// and spool are checked *after* the uploader lock is released, and a host
/// stages or queues *before* it looks at that lock, so a request is either
/// sent by this uploader or starts a new one. `is_on` decides the mode
/// again before each step: nothing is sent unless telemetry is `on`.
pub(crate) fn run_uploader(state: &StateDir, product: &str, settings: &UploadSettings, is_on: &dyn Fn() -> bool) {
    let sweep = || {
        if is_on() {
            command::sweep_stage(state, product)
        } else {
            0
        }
    };
    sweep();
    for _ in 0..5 {
        if is_on() && state.root().is_dir() {
            run(state, settings);
        }
        let swept = sweep();
        if swept == 0 && (state.path(layout::RETRY_AT).exists() || !command::has_untried_items(state)) {
            break;
        }
    }
}

/// One pass over the spool: returns when done.
pub(crate) fn run(state: &StateDir, settings: &UploadSettings) {
    let Some(mut lock) = state.try_lock(layout::UPLOADER_LOCK) else {
        return;
    };
    let _ = lock.set_len(0);
    let _ = lock.rewind();
    let _ = write!(lock, "{}", std::process::id());

    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(settings.connect_timeout))
        .timeout_global(Some(settings.total_timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(settings.user_agent.as_str())
        .build();
    #[cfg(feature = "tls")]
    let agent = crate::tls::agent(config);
    #[cfg(not(feature = "tls"))]
    let agent: ureq::Agent = config.into();

    let started = Instant::now();
    // Never run longer than a few requests' worth, whatever the spool holds.
    let budget = settings.total_timeout * 4;
    let base = settings.endpoint.trim_end_matches('/');
    let now = now_secs();
    let mut retry_at: Option<u64> = None;
    // After a transport failure nothing more is sent this run, but the rest of
    // the spool is still cleaned (corrupt, expired and exhausted items).
    let mut stop_sending = false;
    for path in spool::list(&state.spool_dir()) {
        let Some(mut item) = state::read_json_file::<QueuedRequest>(&path) else {
            let _ = fs::remove_file(&path);
            continue;
        };
        if now.saturating_sub(item.created_at) > settings.max_age.as_secs() || item.attempts >= settings.max_attempts {
            let _ = fs::remove_file(&path);
            continue;
        }
        if item.next_attempt_at > now {
            retry_at = Some(retry_at.map_or(item.next_attempt_at, |r| r.min(item.next_attempt_at)));
            continue;
        }
        if stop_sending {
            continue;
        }
        if started.elapsed() >= budget {
            retry_at = Some(now);
            stop_sending = true;
            continue;
        }
        let url = format!("{base}{}", item.path);
        match send(&agent, &item, &url) {
            Sent::Ok { status, answer } => {
                if let (Some(name), Some(body)) = (&item.save_answer_as, answer) {
                    if let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&body) {
                        let saved = serde_json::json!({"saved_at": now_secs(), "path": item.path, "answer": answer});
                        let _ = state.write_json(name, &saved);
                    }
                }
                record(state, &item, &url, Outcome::Sent, Some(status));
                let _ = fs::remove_file(&path);
            }
            Sent::Rejected { status } => {
                // A 4xx other than 408/429 will never succeed: keep a record, drop it.
                record(state, &item, &url, Outcome::Rejected, Some(status));
                let _ = fs::remove_file(&path);
            }
            Sent::Retry => {
                item.attempts += 1;
                item.next_attempt_at = now_secs() + backoff(item.attempts, settings.backoff_base);
                let _ = state::replace_write(&path, &state::json_bytes(&item));
                retry_at = Some(item.next_attempt_at);
                // The collector is unreachable or failing: do not try the rest now.
                stop_sending = true;
            }
        }
    }
    match retry_at {
        Some(t) => {
            let _ = state.write_u64(layout::RETRY_AT, t);
        }
        None => {
            let _ = fs::remove_file(state.path(layout::RETRY_AT));
        }
    }
}

fn send(agent: &ureq::Agent, item: &QueuedRequest, url: &str) -> Sent {
    let result = match item.method.as_str() {
        "POST" => {
            let body = item.body.clone().unwrap_or(serde_json::Value::Null);
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            agent
                .post(url)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .send(&bytes[..])
        }
        _ => agent.get(url).header("Accept", "application/json").call(),
    };
    let Ok(mut response) = result else { return Sent::Retry };
    let status = response.status().as_u16();
    match status {
        200..=299 => {
            let mut answer = Vec::new();
            let limited = response
                .body_mut()
                .as_reader()
                .take(256 * 1024)
                .read_to_end(&mut answer);
            Sent::Ok {
                status,
                answer: limited.ok().map(|_| answer),
            }
        }
        408 | 429 => Sent::Retry,
        400..=499 => Sent::Rejected { status },
        _ => Sent::Retry,
    }
}

/// Records a payload in the ledger (errors ignored: the ledger must not break sending).
pub(crate) fn record(state: &StateDir, item: &QueuedRequest, url: &str, outcome: Outcome, status: Option<u16>) {
    let entry = LedgerEntry {
        at: state::rfc3339(now_secs()),
        outcome,
        method: item.method.clone(),
        url: url.to_owned(),
        body: item.body.clone(),
        status,
    };
    let _ = ledger::append(&state.path(layout::LEDGER), &entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: String) -> UploadSettings {
        UploadSettings {
            endpoint,
            connect_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(4),
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_attempts: 3,
            backoff_base: Duration::from_secs(60),
            user_agent: "sonde/test".into(),
        }
    }

    #[test]
    fn old_and_exhausted_items_are_dropped_and_failures_back_off() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        state.create().unwrap();
        let spool = state.spool_dir();
        let mut old = QueuedRequest::get("/old");
        old.created_at = now_secs() - 8 * 24 * 3600;
        spool::enqueue(&spool, &old.with_key("old")).unwrap();
        let mut tired = QueuedRequest::get("/tired");
        tired.attempts = 3;
        spool::enqueue(&spool, &tired.with_key("tired")).unwrap();
        spool::enqueue(&spool, &QueuedRequest::get("/fresh").with_key("fresh")).unwrap();
        std::fs::write(spool.join("k-corrupt.json"), "{").unwrap();
        // Nothing listens on the port: a transport failure.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        run(&state, &settings(format!("http://127.0.0.1:{port}")));
        let left = spool::list(&spool);
        assert_eq!(left.len(), 1, "{left:?}");
        let fresh: QueuedRequest = state::read_json_file(&left[0]).unwrap();
        assert_eq!((fresh.path.as_str(), fresh.attempts), ("/fresh", 1));
        assert!(fresh.next_attempt_at >= now_secs() + 59);
        assert_eq!(state.read_u64(layout::RETRY_AT), Some(fresh.next_attempt_at));
        // Before the backoff has passed the item is not tried again.
        run(&state, &settings(format!("http://127.0.0.1:{port}")));
        let again: QueuedRequest = state::read_json_file(&left[0]).unwrap();
        assert_eq!(again.attempts, 1);
        assert!(!state.path(layout::LEDGER).exists(), "nothing was sent");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_spawn_leaves_the_host_and_the_child_with_the_host_affinity() {
        use rustix::thread::{sched_getaffinity, Pid};
        let before = sched_getaffinity(None).unwrap();
        let mut sleep = Command::new("sleep");
        sleep.arg("2");
        let pid = start(sleep).expect("spawned");
        assert_eq!(sched_getaffinity(None).unwrap(), before, "the host's thread");
        let child = Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
        assert_eq!(sched_getaffinity(Some(child)).unwrap(), before, "the child");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let min = Duration::from_secs(60);
        assert_eq!(backoff(1, min), 60);
        assert_eq!(backoff(2, min), 120);
        assert_eq!(backoff(5, min), 960);
        assert_eq!(backoff(50, min), 6 * 3600);
    }
}
