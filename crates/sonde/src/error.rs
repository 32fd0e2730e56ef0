//! The library's error type, for the few calls that report errors to the host
//! (`enable`, `disable`, building a client, the error-report settings and
//! sending a saved report). Everything that runs on the host's
//! hot path (`run`, notices) never returns an error: it quietly does nothing.

use std::path::PathBuf;

/// What went wrong in a call that the host asked for explicitly.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The product name is not a valid Sonde product name.
    #[error("invalid product name {name:?}: {source}")]
    InvalidProduct {
        /// The name given.
        name: String,
        /// Why it was refused.
        source: sonde_protocol::product::ProductNameError,
    },
    /// The endpoint is not an `http://` or `https://` URL.
    #[error("invalid telemetry endpoint {0:?}: expected an http:// or https:// URL")]
    InvalidEndpoint(String),
    /// An `https://` endpoint in a build without the `tls` feature.
    #[error("telemetry endpoint {0:?} needs HTTPS, but sonde was built without its `tls` feature")]
    TlsNotBuilt(String),
    /// `enable`/`disable` needs the host's config file, and none was given.
    #[error("no config file was configured for this tool, so the setting cannot be saved")]
    NoConfigFile,
    /// The host's config file exists but is not a JSON object; it is left untouched.
    #[error("{path} is not a JSON object ({reason}); fix or remove it, then try again")]
    ConfigCorrupt {
        /// The config file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No state directory could be found (no home directory).
    #[error("no home directory was found, so nothing can be saved")]
    NoStateDir,
    /// A saved error report was to be sent while telemetry is not `on`.
    #[error("telemetry is {0}, so no error report is sent")]
    TelemetryNotOn(crate::mode::Mode),
    /// The file is not a saved error report.
    #[error("{path} is not a saved error report ({reason})")]
    NotAReport {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The report could not be queued for the uploader (the state directory
    /// cannot be written).
    #[error("the error report could not be queued for sending")]
    NotQueued,
}
