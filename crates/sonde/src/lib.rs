//! Sonde's client library: privacy-first telemetry for developer tools that
//! never slows the tool down.
//!
//! A tool embeds it with a few lines: describe the tool once, call
//! [`Telemetry::run`] near the top of `main`, and print the notices.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! fn main() -> Result<(), sonde::Error> {
//!     let no_telemetry = std::env::args().any(|a| a == "--no-telemetry");
//!     let telemetry = sonde::Telemetry::builder("mytool", env!("CARGO_PKG_VERSION"))
//!         .endpoint("https://telemetry.mytool.dev")
//!         .env_var("MYTOOL_TELEMETRY")                       // MYTOOL_TELEMETRY=0|false|off|local
//!         .config_file("/home/me/.config/mytool/config.json") // {"enable_telemetry": false}
//!         .flag(no_telemetry.then_some(false))               // the tool's own flag
//!         .consent_version(1)                                // raise when the fields change
//!         .interval(Duration::from_secs(12 * 3600))
//!         .build()?;
//!     telemetry.run();            // does what is due; in the uploader process: uploads, then exits
//!     telemetry.print_notices();  // cached update notice and alerts, on stderr, on a terminal
//!     // ... the tool's own work ...
//!     Ok(())
//! }
//! ```
//!
//! # What `run` does
//!
//! 1. Decides the [`Mode`] from the opt-outs, in order ([`mode`]): the machine's
//!    policy file, the host's flag, `DO_NOT_TRACK=1`, `CHECKPOINT_DISABLE`, the
//!    host's variable, the user's saved setting, the default. When the mode is
//!    `off` nothing else happens: no directory, no file, no process.
//! 2. When the process is the library's uploader (the environment variable
//!    [`UPLOADER_ENV`] is set), sends the spool and exits the process (it
//!    decides the mode again first, and sends nothing unless it is `on`).
//! 3. On the first run on a terminal (not in CI), prints the first-run notice to
//!    stderr and sends nothing this run; again when the consent version rises.
//! 4. When a ping is due (at most one per product per interval across all
//!    processes, decided under a non-blocking lock), queues it in the spool and
//!    starts the detached uploader. In `local` mode the ping is only written to
//!    the ledger. With `SONDE_DEBUG=1` the payload is printed to stderr and
//!    nothing is sent or queued.
//!
//! The host never does network I/O and never waits. Any failure (no home
//! directory, read-only disk, corrupt state) makes telemetry quietly do nothing
//! for that run.
//!
//! # A `telemetry` subcommand
//!
//! ```no_run
//! # fn sub(telemetry: &sonde::Telemetry, cmd: &str) -> Result<(), sonde::Error> {
//! match cmd {
//!     "status" => println!("{}", telemetry.status()), // "Telemetry for mytool is off, decided by DO_NOT_TRACK=1 …"
//!     "enable" => { telemetry.enable()?; }           // writes "enable_telemetry": true, other keys kept
//!     "disable" => { telemetry.disable()?; }
//!     "log" => for e in telemetry.log() {             // exactly what was sent, when, where
//!         println!("{} {} {} {}", e.at, e.outcome, e.method, e.url);
//!     },
//!     _ => {}
//! }
//! # Ok(()) }
//! ```
//!
//! # Error reports
//!
//! With the user's consent, a panic or an unexpected error becomes a report
//! for the collector (`POST /api/v1/error-reports`, the format of
//! `sonde_protocol::error_report`):
//!
//! ```no_run
//! # fn main() -> Result<(), sonde::Error> {
//! let telemetry = sonde::Telemetry::builder("mytool", env!("CARGO_PKG_VERSION"))
//!     .app_crate("mytool")                    // frames in mytool::… are the tool's own
//!     .project_metadata("models", 12_u32)     // counts and flags only
//!     .project_metadata("uses_enums", true)
//!     .build()?;
//! telemetry.run();
//! telemetry.install_panic_hook();             // panics: the host's hook still runs first
//! telemetry.set_command(&sonde::CommandEvent::new(["mytool", "migrate"]).flags(["--force"]));
//! if let Err(e) = std::fs::read("plan.json") {
//!     telemetry.report_error(&e);             // a handled but unexpected error, sources included
//! }
//! // `mytool telemetry errors always|never|ask|send <file>`:
//! telemetry.set_error_reports(sonde::ErrorReports::Never)?;
//! # Ok(()) }
//! ```
//!
//! The report holds the product, version, OS, architecture, compiler
//! version, CI vendor, the command path and flag names, the error's type,
//! message and causes, the stack as frames (function, file relative to its
//! crate, line, whether it is the tool's own) and the project metadata the
//! host gives. Never arguments, environment variables, the schema,
//! credentials, connection details, the user's or the machine's names: every
//! text is scrubbed (home directory → `~`, user → `<user>`, host →
//! `<host>`, e-mail and IP addresses, URLs with credentials, secrets)
//! before it is shown, kept or sent.
//!
//! On an interactive terminal (stdin and stderr), outside CI, with telemetry
//! `on`, one question on stderr: `Send an error report to <host>? [y]es /
//! [n]o / [a]lways / n[e]ver / [v]iew` (Enter, end of input and the
//! [`TelemetryBuilder::prompt_timeout`] mean no; `view` shows the exact
//! report). `always` and `never` are saved per tool ([`consent`]).
//! Elsewhere nothing is asked, and a report is sent only when `always` is
//! saved and telemetry is `on` (the machine's policy wins). A report that is
//! not sent is kept in `error-reports/` in the state directory (the newest
//! [`KEEP_SAVED_REPORTS`]) and one line on stderr names it;
//! [`Telemetry::send_saved_report`] sends it later. A report that is sent
//! goes through the spool and the detached uploader, like a ping.
//!
//! # Cargo features
//!
//! - `tls` (default): `https://` endpoints, with rustls, `ring` and the
//!   platform's trust store. Without it only `http://` endpoints are accepted
//!   ([`TelemetryBuilder::build`] returns [`Error::TlsNotBuilt`]).
//! - `tls12`: offer TLS 1.2 as well as TLS 1.3. Off by default: the sonde
//!   collector and current servers speak TLS 1.3, and 1.2 adds about 0.1 MiB
//!   to the host's binary. Turn it on for a collector behind a proxy or load
//!   balancer that only speaks TLS 1.2 (its handshake is refused otherwise,
//!   and pings stay queued).
//!
//! # Files
//!
//! Everything lives in one directory, `$XDG_CACHE_HOME/sonde/<product>/`
//! (`~/.cache/sonde/<product>/`), listed in [`Telemetry::status`].

#![warn(missing_docs)]

mod builder;
mod ci;
mod command;
mod config_file;
pub mod consent;
mod error;
mod heartbeat;
mod identity;
mod layout;
pub mod ledger;
pub mod mode;
mod notice;
mod ping;
mod prompt;
mod random;
mod report;
mod reporting;
mod saved;
pub mod spool;
mod state;
mod status;
#[cfg(feature = "tls")]
mod tls;
mod upload;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sonde_protocol::{EventKind, ProductName};

pub use builder::TelemetryBuilder;
pub use command::{CommandEvent, MAX_EVENTS_PER_BATCH};
pub use consent::ErrorReports;
pub use error::Error;
pub use heartbeat::{Heartbeat, HeartbeatOptions};
pub use ledger::{LedgerEntry, Outcome};
pub use mode::{Decision, Mode, Source};
pub use notice::Notice;
pub use ping::RUSTC_VERSION;
pub use report::ProjectValue;
pub use reporting::ReportOutcome;
pub use saved::KEEP_SAVED_REPORTS;
pub use spool::QueuedRequest;
pub use status::Status;
pub use upload::UPLOADER_ENV;

use heartbeat::Ids;
use identity::Identity;
use mode::HostSettings;
use state::{now_secs, StateDir};

/// Set to `1` to print each payload to stderr instead of sending it.
pub const DEBUG_ENV: &str = "SONDE_DEBUG";
/// The `User-Agent` of every request: `sonde/<library version>`.
pub const USER_AGENT: &str = concat!("sonde/", env!("CARGO_PKG_VERSION"));

/// The telemetry client of one tool. Cheap to build; does nothing until asked.
#[derive(Debug, Clone)]
pub struct Telemetry {
    product: ProductName,
    endpoint: String,
    /// [`DEBUG_ENV`] as it was when the client was built.
    debug: bool,
    b: TelemetryBuilder,
    /// The command and project metadata for error reports, shared by clones.
    report_context: Arc<Mutex<report::RunContext>>,
}

/// Whether [`DEBUG_ENV`] asks for debug output (`1`, `true`, `on`, …).
fn debug_from_env() -> bool {
    std::env::var(DEBUG_ENV).is_ok_and(|v| matches!(Mode::parse_loose(&v), Some(Mode::On)))
}

impl Telemetry {
    /// Starts describing a tool: its product name (`[a-z0-9._-]`) and version.
    pub fn builder(product: impl Into<String>, version: impl Into<String>) -> TelemetryBuilder {
        let product: String = product.into();
        TelemetryBuilder {
            app_crate: product.replace(['-', '.'], "_"),
            prompt_timeout: Duration::from_secs(30),
            project: serde_json::Map::new(),
            product,
            version: version.into(),
            endpoint: "http://127.0.0.1:7070".into(),
            host: HostSettings {
                config_key: "enable_telemetry".into(),
                ..HostSettings::default()
            },
            consent_version: 1,
            interval: Duration::from_secs(12 * 3600),
            reminder_interval: Duration::from_secs(48 * 3600),
            connect_timeout: Duration::from_secs(3),
            total_timeout: Duration::from_secs(10),
            spool_max_age: Duration::from_secs(7 * 24 * 3600),
            retry_backoff: Duration::from_secs(60),
            state_dir: None,
            uploader_args: Vec::new(),
            project_path: None,
            runtime_version: None,
            notices_without_terminal: false,
            first_run_notice: None,
        }
    }

    /// The product name.
    pub fn product(&self) -> &str {
        self.product.as_str()
    }

    /// Resolves the opt-outs (reads only: environment and at most two small files).
    pub fn decision(&self) -> Decision {
        mode::resolve(&self.b.host, &|k| std::env::var(k).ok())
    }

    /// The state directory: the builder's, or `$XDG_CACHE_HOME/sonde/<product>`.
    /// `None` when no home directory can be found. Nothing is created.
    pub fn state_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = &self.b.state_dir {
            return Some(dir.clone());
        }
        use etcetera::BaseStrategy;
        let base = etcetera::choose_base_strategy().ok()?;
        Some(base.cache_dir().join("sonde").join(self.product.as_str()))
    }

    /// Does everything due; see the [crate docs](crate#what-run-does). Never
    /// blocks on the network, never panics, never prints except the first-run
    /// notice and debug output. In the uploader process it uploads and exits.
    pub fn run(&self) {
        if std::env::var_os(UPLOADER_ENV).is_some_and(|p| p == self.product.as_str()) {
            self.run_uploader();
            std::process::exit(0);
        }
        let decision = self.decision();
        if decision.mode == Mode::Off {
            return;
        }
        let Some(dir) = self.state_dir() else { return };
        let state = StateDir::new(dir);
        let now = now_secs();
        let debug = self.debug;

        if !debug && std::io::stderr().is_terminal() && self.first_run_notice_due(&state) {
            // Nothing is sent on the run that tells the user about it.
            let _ = self.show_first_run_notice(&state, &decision);
            return;
        }
        if debug {
            self.debug_print(&state, now);
            return;
        }

        let mut queued_now = false;
        if self.ping_due(&state, now) {
            if state.create().is_err() {
                return;
            }
            // Whoever holds the lock claims the ping; everyone else does nothing.
            let Some(_lock) = state.try_lock(layout::PING_LOCK) else {
                return;
            };
            if !self.ping_due(&state, now) {
                return;
            }
            let Ok(id) = Identity::load_or_create(&state) else {
                return;
            };
            let item = self.ping_request(&id, now);
            match decision.mode {
                Mode::On => {
                    if spool::enqueue(&state.spool_dir(), &item).is_err() {
                        return;
                    }
                    queued_now = true;
                }
                Mode::Local => {
                    let url = format!("{}{}", self.endpoint, item.path);
                    upload::record(&state, &item, &url, ledger::Outcome::Local, None);
                }
                Mode::Off => return,
            }
            // The stamp is `last-ping`'s modification time: updating it is
            // one metadata write, no data block (a rename over an existing
            // file costs ext4 a flush: milliseconds on the host's path).
            if state.stamp(layout::LAST_PING, now).is_err() {
                return;
            }
        }
        if decision.mode == Mode::On {
            self.maybe_start_uploader(&state, now, queued_now);
        }
    }

    /// Queues a request for the uploader (command events, heartbeats …) and
    /// starts the uploader if none runs. Does nothing when telemetry is not
    /// `on`; in `local` mode the request is only recorded in the ledger; with
    /// `SONDE_DEBUG=1` it is printed to stderr. Returns whether it was queued.
    pub fn enqueue(&self, item: &QueuedRequest) -> bool {
        let decision = self.decision();
        if decision.mode == Mode::Off {
            return false;
        }
        let Some(dir) = self.state_dir() else { return false };
        let state = StateDir::new(dir);
        if self.debug {
            self.debug_print_item(item);
            return false;
        }
        if state.create().is_err() {
            return false;
        }
        if decision.mode == Mode::Local {
            let url = format!("{}{}", self.endpoint, item.path);
            upload::record(&state, item, &url, ledger::Outcome::Local, None);
            return false;
        }
        if spool::enqueue(&state.spool_dir(), item).is_err() {
            return false;
        }
        self.maybe_start_uploader(&state, now_secs(), true);
        true
    }

    /// The update notice and alerts due now, from the last answer on disk (no
    /// network), marking them as shown. Empty when telemetry is off.
    pub fn notices(&self) -> Vec<Notice> {
        if self.decision().mode == Mode::Off {
            return Vec::new();
        }
        let Some(dir) = self.state_dir() else { return Vec::new() };
        let state = StateDir::new(dir);
        let now = now_secs();
        let mut book = notice::Book::load(&state);
        let due = notice::due(
            &state,
            self.product.as_str(),
            &self.b.version,
            self.b.reminder_interval.as_secs(),
            now,
            &mut book,
        );
        if !due.is_empty() && state.root().is_dir() {
            let _ = state.write_json(layout::NOTICES, &book);
        }
        due
    }

    /// Prints [`Telemetry::notices`] to stderr — only when stderr is a terminal,
    /// unless the host asked otherwise ([`TelemetryBuilder::notices_without_terminal`]).
    pub fn print_notices(&self) {
        if !self.b.notices_without_terminal && !std::io::stderr().is_terminal() {
            return;
        }
        for n in self.notices() {
            let _ = writeln!(std::io::stderr(), "{n}");
        }
    }

    /// Whether telemetry is on, which setting decided it, and where the files are.
    pub fn status(&self) -> Status {
        let decision = self.decision();
        let dir = self.state_dir();
        let exists = dir.as_deref().is_some_and(Path::is_dir);
        let (last_ping, queued) = match dir.as_ref().filter(|_| exists) {
            Some(d) => {
                let state = StateDir::new(d.clone());
                (
                    state.stamp_of(layout::LAST_PING).map(state::rfc3339),
                    spool::list(&state.spool_dir()).len(),
                )
            }
            None => (None, 0),
        };
        Status {
            error_reports: self.error_reports(),
            saved_reports: self.saved_reports().len(),
            product: self.product.to_string(),
            decision,
            state_dir: dir,
            state_dir_exists: exists,
            last_ping,
            queued,
            endpoint: self.endpoint.clone(),
        }
    }

    /// Saves "on" in the host's config file (other keys are kept). Returns the file.
    pub fn enable(&self) -> Result<PathBuf, Error> {
        self.set_mode(Mode::On)
    }

    /// Saves "off" in the host's config file (other keys are kept). Returns the file.
    pub fn disable(&self) -> Result<PathBuf, Error> {
        self.set_mode(Mode::Off)
    }

    /// Saves `mode` in the host's config file (`true`, `false` or `"local"`).
    pub fn set_mode(&self, mode: Mode) -> Result<PathBuf, Error> {
        let path = self.b.host.config_file.clone().ok_or(Error::NoConfigFile)?;
        config_file::set(&path, &self.b.host.config_key, mode)?;
        Ok(path)
    }

    /// What was sent (or recorded), oldest first, from the local ledger.
    pub fn log(&self) -> Vec<LedgerEntry> {
        match self.state_dir() {
            Some(dir) => ledger::read(&dir.join(layout::LEDGER)),
            None => Vec::new(),
        }
    }

    fn ping_due(&self, state: &StateDir, now: u64) -> bool {
        match state.stamp_of(layout::LAST_PING) {
            // A time in the future (clock changed, corrupt file) counts as due.
            Some(last) => last > now || now - last >= self.b.interval.as_secs(),
            None => true,
        }
    }

    fn ping_request(&self, id: &Identity, now: u64) -> QueuedRequest {
        let fields = ping::PingFields {
            product: self.product.as_str(),
            version: &self.b.version,
            runtime_version: self.b.runtime_version.as_deref().unwrap_or(RUSTC_VERSION),
            project: self.b.project_path.as_deref(),
        };
        ping::build(&fields, id, now)
    }

    /// Starts the uploader when there is work, the backoff after the last
    /// failure has passed (new items do not cut it short: an unreachable
    /// collector is not retried on every run), and no uploader runs.
    fn maybe_start_uploader(&self, state: &StateDir, now: u64, queued_now: bool) {
        // A backoff beyond the longest possible one is a corrupt file or a clock change.
        let backing_off = state
            .read_u64(layout::RETRY_AT)
            .is_some_and(|t| t > now && t <= now + upload::MAX_BACKOFF);
        if backing_off {
            return;
        }
        let due = queued_now || spool::has_items(&state.spool_dir());
        if due && !state.is_locked(layout::UPLOADER_LOCK) {
            upload::spawn(self.product.as_str(), &self.b.uploader_args);
        }
    }

    /// The uploader process's work ([`upload::run_uploader`]).
    fn run_uploader(&self) {
        let Some(dir) = self.state_dir() else { return };
        let settings = upload::UploadSettings {
            endpoint: self.endpoint.clone(),
            connect_timeout: self.b.connect_timeout,
            total_timeout: self.b.total_timeout,
            max_age: self.b.spool_max_age,
            max_attempts: 20,
            backoff_base: self.b.retry_backoff,
            user_agent: USER_AGENT.to_owned(),
        };
        let is_on = || self.decision().mode == Mode::On;
        upload::run_uploader(&StateDir::new(dir), self.product.as_str(), &settings, &is_on);
    }

    /// Records one command execution; see [`CommandEvent`]. Does nothing when
    /// telemetry is off, records only to the ledger in `local` mode, prints in
    /// debug mode. Never blocks on the network. Returns whether the event was
    /// kept for sending.
    pub fn record_command(&self, event: CommandEvent) -> bool {
        let mode = self.decision().mode;
        if mode == Mode::Off {
            return false;
        }
        let Some(dir) = self.state_dir() else { return false };
        let state = StateDir::new(dir);
        if state.create().is_err() {
            return false;
        }
        let Ok(id) = Identity::load_or_create(&state) else {
            return false;
        };
        let object = command::event_object(EventKind::Command, event.fields(&self.b.version, &id.signature));
        if mode == Mode::Local || self.debug {
            // The ledger (local) or stderr (debug) shows it; nothing is staged.
            self.enqueue(&command::batch_request(self.product(), vec![object]));
            return false;
        }
        self.stage_event(&state, object)
    }

    /// Moves every staged event into the spool now (in batches) and starts
    /// the uploader. A host calls this before a long pause, if it likes.
    pub fn flush_events(&self) -> bool {
        let Some(dir) = self.state_dir() else { return false };
        let state = StateDir::new(dir);
        let Some(_lock) = state.try_lock(layout::EVENTS_LOCK) else {
            return false;
        };
        let moved = command::move_stage_to_spool(&state, self.product());
        if moved > 0 {
            self.maybe_start_uploader(&state, now_secs(), true);
        }
        moved > 0
    }

    fn stage_event(&self, state: &StateDir, object: serde_json::Value) -> bool {
        let Some(_lock) = state.try_lock(layout::EVENTS_LOCK) else {
            // Another process is staging right now: send this one on its own.
            return self.enqueue(&command::batch_request(self.product(), vec![object]));
        };
        let Some(staged) = command::append_to_stage(state, &object) else {
            return false;
        };
        // A running uploader sweeps the stage when its pass ends; otherwise
        // (or when the stage is full) move it now and start one.
        if staged >= MAX_EVENTS_PER_BATCH || !state.is_locked(layout::UPLOADER_LOCK) {
            command::move_stage_to_spool(state, self.product());
            self.maybe_start_uploader(state, now_secs(), true);
        }
        true
    }

    /// Starts the heartbeat thread: one heartbeat now, then one per
    /// `options.interval`, each with the metrics `metrics` returns. Returns
    /// `None` (and starts nothing) when telemetry is off or no state
    /// directory can be used.
    pub fn start_heartbeat<F>(&self, options: HeartbeatOptions, metrics: F) -> Option<Heartbeat>
    where
        F: Fn() -> serde_json::Value + Send + 'static,
    {
        if self.decision().mode == Mode::Off {
            return None;
        }
        let state = StateDir::new(self.state_dir()?);
        state.create().ok()?;
        let mut ids = Ids::load_or_create(&state).ok()?;
        if let Some(db) = options.db_id.as_deref().and_then(sonde_protocol::uuid::normalize) {
            ids.db_uid = db;
        }
        let telemetry = self.clone();
        Heartbeat::start(options.interval, move || {
            telemetry.send_heartbeat(&ids, &metrics());
        })
    }

    /// Queues one heartbeat now (the thread's work).
    fn send_heartbeat(&self, ids: &Ids, metrics: &serde_json::Value) -> bool {
        if self.decision().mode == Mode::Off {
            return false;
        }
        self.enqueue(&heartbeat::request(self.product(), &self.b.version, ids, metrics))
    }

    fn first_run_notice_due(&self, state: &StateDir) -> bool {
        if ci::detect().ci {
            return false;
        }
        notice::Book::load(state).consent_version < self.b.consent_version
    }

    fn show_first_run_notice(&self, state: &StateDir, decision: &Decision) -> std::io::Result<()> {
        state.create()?;
        let mut book = notice::Book::load(state);
        book.consent_version = self.b.consent_version;
        state.write_json(layout::NOTICES, &book)?;
        let text = match &self.b.first_run_notice {
            Some(t) => t.clone(),
            None => self.default_first_run_notice(decision),
        };
        let _ = writeln!(std::io::stderr(), "{text}");
        Ok(())
    }

    fn default_first_run_notice(&self, decision: &Decision) -> String {
        let p = self.product.as_str();
        let mut ways = vec!["DO_NOT_TRACK=1".to_owned()];
        if let Some(v) = &self.b.host.env_var {
            ways.push(format!("{v}=0"));
        }
        if self.b.host.config_file.is_some() {
            ways.push(format!("`{p} telemetry disable`"));
        }
        let local = if decision.mode == Mode::Local {
            " (currently local-only: nothing is sent)"
        } else {
            ""
        };
        format!(
            "{p} collects anonymous usage data{local}: its version, OS, architecture, runtime version, \
             whether it runs in CI, and a random id, at most once every {} hours. \
             It never collects file contents, paths, names or arguments. \
             To turn it off: {}. See what was sent: `{p} telemetry log`.",
            self.b.interval.as_secs() / 3600,
            ways.join(", "),
        )
    }

    fn debug_print(&self, state: &StateDir, now: u64) {
        // The signature must be real to show the exact payload.
        if state.create().is_err() {
            return;
        }
        let Ok(id) = Identity::load_or_create(state) else {
            return;
        };
        self.debug_print_item(&self.ping_request(&id, now));
    }

    fn debug_print_item(&self, item: &QueuedRequest) {
        let _ = writeln!(
            std::io::stderr(),
            "[sonde debug] would send (nothing is sent): {} {}{}",
            item.method,
            self.endpoint,
            item.path
        );
        if let Some(body) = &item.body {
            let _ = writeln!(std::io::stderr(), "[sonde debug] body: {body}");
        }
    }
}
