//! [`Status`]: what `<tool> telemetry status` shows a person.

use std::fmt;
use std::path::PathBuf;

use crate::consent::ErrorReports;
use crate::mode::{Decision, Mode};

/// What [`Telemetry::status`] reports; its `Display` is a sentence for people.
#[derive(Debug, Clone)]
pub struct Status {
    /// The product.
    pub product: String,
    /// What was decided, and by which setting.
    pub decision: Decision,
    /// Where the files are (or would be); `None` when no home directory is known.
    pub state_dir: Option<PathBuf>,
    /// Whether that directory exists.
    pub state_dir_exists: bool,
    /// When the last ping was queued, RFC 3339, if ever.
    pub last_ping: Option<String>,
    /// How many requests wait in the spool.
    pub queued: usize,
    /// The collector's base URL.
    pub endpoint: String,
    /// The saved error-report setting.
    pub error_reports: ErrorReports,
    /// How many error reports are kept on this machine, unsent.
    pub saved_reports: usize,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.decision.mode {
            Mode::On => "on",
            Mode::Local => "local-only (recorded on this machine, never sent)",
            Mode::Off => "off",
        };
        write!(
            f,
            "Telemetry for {} is {what}, decided by {}.",
            self.product, self.decision.source
        )?;
        match (&self.state_dir, self.state_dir_exists) {
            (None, _) => write!(f, " No home directory was found, so nothing is written.")?,
            (Some(dir), true) => write!(f, " Files: {}.", dir.display())?,
            (Some(dir), false) => write!(f, " Nothing has been written; files would go to {}.", dir.display())?,
        }
        if self.decision.mode == Mode::On {
            write!(f, " Pings go to {}.", self.endpoint)?;
        }
        if let Some(at) = &self.last_ping {
            write!(f, " Last ping: {at}.")?;
        }
        if self.queued > 0 {
            write!(f, " Waiting to be sent: {}.", self.queued)?;
        }
        let reports = match self.error_reports {
            ErrorReports::Ask => "ask before sending each one",
            ErrorReports::Always => "always sent, without asking, while telemetry is on",
            ErrorReports::Never => "never sent, kept on this machine",
        };
        write!(f, " Error reports: {reports} ({}).", self.error_reports)?;
        if self.saved_reports > 0 {
            write!(f, " Error reports kept here, unsent: {}.", self.saved_reports)?;
        }
        Ok(())
    }
}
