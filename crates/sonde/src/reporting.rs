//! What happens to an error report, from the failure to the spool: the
//! panic hook, [`Telemetry::report_error`], the decision to ask, send or
//! keep, and the calls behind `<tool> telemetry errors …`.
//!
//! | where | setting | what happens |
//! | --- | --- | --- |
//! | a terminal (stdin and stderr), not CI, telemetry `on` | `ask` | the question ([`crate::prompt`]) |
//! | anywhere, telemetry `on` | `always` | sent, no question |
//! | anywhere | `never` | kept on this machine |
//! | no terminal, CI, telemetry `off` or `local` | `ask` | kept on this machine |
//!
//! The report is written, scrubbed, to the state directory before anything
//! else ([`crate::saved`]), so an interrupted question loses nothing. To
//! send it, it goes into the spool and the detached uploader posts it to
//! `/api/v1/error-reports`: the failing process does no network I/O, and
//! the report survives its exit. Whenever it is not sent, one line on
//! stderr names the file.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sonde_protocol::error_report::{ErrorReport, ENDPOINT};

use crate::consent::{self, ErrorReports};
use crate::mode::Mode;
use crate::prompt::{self, Answer};
use crate::report::{self, Failure, Tool};
use crate::spool::QueuedRequest;
use crate::state::{now_secs, StateDir};
use crate::{ci, saved, CommandEvent, Error, ProjectValue, Telemetry, RUSTC_VERSION, UPLOADER_ENV};

/// What became of an error report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Queued for the uploader, which sends it in the background.
    Queued {
        /// The report's id.
        report_id: String,
    },
    /// Not sent; kept on this machine in this file.
    Saved {
        /// The saved report.
        path: PathBuf,
    },
    /// Neither sent nor kept: no state directory could be written (or a
    /// report is already being handled in this process).
    Dropped,
}

/// One panic report per process: a second panic (another thread, or one
/// while the first is being reported) only runs the host's hook.
static PANIC_REPORTED: AtomicBool = AtomicBool::new(false);

impl Telemetry {
    /// Installs a panic hook that reports panics (see the
    /// [crate docs](crate#error-reports)). The hook installed before it (the
    /// host's, or the default one printing the message) still runs, first.
    /// Only the first panic of the process is reported; none in the
    /// uploader process.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), sonde::Error> {
    /// let telemetry = sonde::Telemetry::builder("mytool", "1.2.3").build()?;
    /// telemetry.run();
    /// telemetry.install_panic_hook();
    /// # Ok(()) }
    /// ```
    pub fn install_panic_hook(&self) {
        let telemetry = self.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            if std::env::var_os(UPLOADER_ENV).is_some() || PANIC_REPORTED.swap(true, Ordering::SeqCst) {
                return;
            }
            telemetry.handle(&Failure::from_panic(info));
        }));
    }

    /// Reports a handled but unexpected error, its sources included; its
    /// kind is `E`'s type name. Asks, sends or keeps it as the panic hook
    /// does, and returns what became of it.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), sonde::Error> {
    /// let telemetry = sonde::Telemetry::builder("mytool", "1.2.3").build()?;
    /// if let Err(e) = std::fs::read("/etc/mytool/plan.json") {
    ///     telemetry.report_error(&e);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn report_error<E: std::error::Error + ?Sized>(&self, err: &E) -> ReportOutcome {
        self.handle(&Failure::from_error(err))
    }

    /// The command running now (path and flag names), for the error
    /// reports of this run; shared by every clone of this `Telemetry`,
    /// the panic hook's included.
    pub fn set_command(&self, command: &CommandEvent) {
        self.context().command = Some(command.clone());
    }

    /// Adds project metadata (a count or a flag) to the error reports of
    /// this run, like [`crate::TelemetryBuilder::project_metadata`].
    pub fn set_project_metadata(&self, name: impl Into<String>, value: impl Into<ProjectValue>) {
        self.context().project.insert(name.into(), value.into().0);
    }

    /// The saved error-report setting (`ask` when none is saved).
    pub fn error_reports(&self) -> ErrorReports {
        let state = self.state_dir().map(StateDir::new);
        consent::load(&self.b.host, state.as_ref())
    }

    /// Saves the error-report setting (`<tool> telemetry errors always|never|ask`);
    /// returns the file it is saved in: the host's config file, else one in
    /// the state directory.
    pub fn set_error_reports(&self, setting: ErrorReports) -> Result<PathBuf, Error> {
        let state = self.state_dir().map(StateDir::new);
        consent::save(&self.b.host, state.as_ref(), setting)
    }

    /// The error reports kept on this machine, oldest first.
    pub fn saved_reports(&self) -> Vec<PathBuf> {
        match self.state_dir() {
            Some(dir) => saved::list(&StateDir::new(dir)),
            None => Vec::new(),
        }
    }

    /// Sends a saved report (`<tool> telemetry errors send <file>`): the
    /// same path as a yes at the question, through the spool and the
    /// uploader. The file is removed once queued. Returns the report's id.
    pub fn send_saved_report(&self, path: &Path) -> Result<String, Error> {
        let mode = self.decision().mode;
        if mode != Mode::On {
            return Err(Error::TelemetryNotOn(mode));
        }
        let body = saved::read(path)?;
        let report_id = body["report_id"].as_str().unwrap_or_default().to_owned();
        if !self.enqueue(&report_request(body)) {
            return Err(Error::NotQueued);
        }
        let _ = std::fs::remove_file(path);
        Ok(report_id)
    }

    fn context(&self) -> std::sync::MutexGuard<'_, report::RunContext> {
        self.report_context.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Builds, keeps, asks about and sends one report.
    fn handle(&self, failure: &Failure) -> ReportOutcome {
        let tool = Tool {
            product: self.product.as_str(),
            version: &self.b.version,
            runtime: self.b.runtime_version.as_deref().unwrap_or(RUSTC_VERSION),
            app_crate: &self.b.app_crate,
        };
        let context = self.context().clone();
        let mut report = report::build(
            tool,
            &context,
            failure,
            &report::machine_scrubber(),
            crate::random::unique_id(),
            now_secs(),
        );
        // The installation's random signature, as pings send it, so the
        // collector counts how many installations a group reaches; only when
        // telemetry is on (otherwise no identity is created for it).
        if self.decision().mode == Mode::On {
            report.signature = self
                .state_dir()
                .map(StateDir::new)
                .and_then(|s| crate::identity::Identity::load_or_create(&s).ok())
                .map(|i| i.signature);
        }
        self.deliver(&report)
    }

    fn deliver(&self, report: &ErrorReport) -> ReportOutcome {
        let mode = self.decision().mode;
        let state = self.state_dir().map(StateDir::new);
        let setting = consent::load(&self.b.host, state.as_ref());
        let body = serde_json::to_value(report).unwrap_or_default();
        // Kept first: a question interrupted by Ctrl-C loses nothing.
        let kept = state
            .as_ref()
            .and_then(|s| saved::save(s, &report.report_id, &body).ok());
        let interactive = mode == Mode::On
            && setting == ErrorReports::Ask
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal()
            && !ci::detect().ci;
        let send = if interactive {
            let pretty = serde_json::to_string_pretty(&body).unwrap_or_default();
            let answer = prompt::ask(self.endpoint_host(), &pretty, self.b.prompt_timeout);
            let remember = match answer {
                Answer::Always => Some(ErrorReports::Always),
                Answer::Never => Some(ErrorReports::Never),
                Answer::Yes | Answer::No => None,
            };
            if let Some(setting) = remember {
                if let Err(e) = consent::save(&self.b.host, state.as_ref(), setting) {
                    let _ = writeln!(std::io::stderr(), "{}: cannot save the answer: {e}", self.product());
                }
            }
            matches!(answer, Answer::Yes | Answer::Always)
        } else {
            mode == Mode::On && setting == ErrorReports::Always
        };
        let mut err = std::io::stderr();
        if send && self.enqueue(&report_request(body)) {
            if let Some(path) = &kept {
                let _ = std::fs::remove_file(path);
            }
            let _ = writeln!(
                err,
                "{}: error report {} will be sent to {} in the background.",
                self.product(),
                report.report_id,
                self.endpoint_host()
            );
            return ReportOutcome::Queued {
                report_id: report.report_id.clone(),
            };
        }
        match kept {
            Some(path) => {
                let _ = writeln!(
                    err,
                    "{}: error report saved (not sent): {}",
                    self.product(),
                    path.display()
                );
                ReportOutcome::Saved { path }
            }
            None => ReportOutcome::Dropped,
        }
    }

    /// The collector's host (and port), as the question names it.
    fn endpoint_host(&self) -> &str {
        let rest = self
            .endpoint
            .split_once("://")
            .map_or(self.endpoint.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}

/// The spool item that posts a report.
fn report_request(body: serde_json::Value) -> QueuedRequest {
    QueuedRequest::post_json(ENDPOINT, body)
}
