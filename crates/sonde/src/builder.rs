//! [`TelemetryBuilder`]: how a host tool describes itself (endpoint, its own
//! opt-out variable, flag and config file, intervals, timeouts) before
//! [`TelemetryBuilder::build`] makes a [`Telemetry`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use sonde_protocol::ProductName;

use crate::mode::{HostSettings, Mode};
use crate::{debug_from_env, Error, ProjectValue, Telemetry};

/// Describes the host tool; [`TelemetryBuilder::build`] makes a [`Telemetry`].
#[derive(Debug, Clone)]
pub struct TelemetryBuilder {
    pub(crate) product: String,
    pub(crate) version: String,
    pub(crate) endpoint: String,
    pub(crate) host: HostSettings,
    pub(crate) consent_version: u32,
    pub(crate) interval: Duration,
    pub(crate) reminder_interval: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) total_timeout: Duration,
    pub(crate) spool_max_age: Duration,
    pub(crate) retry_backoff: Duration,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) uploader_args: Vec<OsString>,
    pub(crate) project_path: Option<PathBuf>,
    pub(crate) runtime_version: Option<String>,
    pub(crate) notices_without_terminal: bool,
    pub(crate) first_run_notice: Option<String>,
    pub(crate) app_crate: String,
    pub(crate) prompt_timeout: Duration,
    pub(crate) project: serde_json::Map<String, serde_json::Value>,
}

impl TelemetryBuilder {
    /// The collector's base URL (`https://telemetry.mytool.dev`); pings go to
    /// `{endpoint}/v1/check/{product}`. Default `http://127.0.0.1:7070`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// The tool's own opt-out variable (`MYTOOL_TELEMETRY`): `0|false|off` turns
    /// telemetry off, `local` records without sending, `1|true|on` turns it on.
    pub fn env_var(mut self, name: impl Into<String>) -> Self {
        self.host.env_var = Some(name.into());
        self
    }

    /// The tool's JSON config file holding the user's saved choice (see
    /// [`TelemetryBuilder::config_key`]); written by [`Telemetry::enable`] and
    /// [`Telemetry::disable`].
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.host.config_file = Some(path.into());
        self
    }

    /// The key in the config file; default `enable_telemetry`.
    pub fn config_key(mut self, key: impl Into<String>) -> Self {
        self.host.config_key = key.into();
        self
    }

    /// The value of the tool's command-line flag, if the user gave one:
    /// `Some(false)` for `--no-telemetry`, `Some(true)` for `--enable-telemetry=true`.
    pub fn flag(mut self, value: Option<bool>) -> Self {
        self.host.flag = value.map(|on| if on { Mode::On } else { Mode::Off });
        self
    }

    /// The flag as a mode, for tools with `--telemetry=local`.
    pub fn flag_mode(mut self, mode: Option<Mode>) -> Self {
        self.host.flag = mode;
        self
    }

    /// The mode when nothing else decides; default [`Mode::On`].
    pub fn default_mode(mut self, mode: Mode) -> Self {
        self.host.default_mode = Some(mode);
        self
    }

    /// Raise this when the collected fields change: the first-run notice is
    /// shown again. Default 1.
    pub fn consent_version(mut self, version: u32) -> Self {
        self.consent_version = version;
        self
    }

    /// The text of the first-run notice (a default names the tool, the fields
    /// and the ways to turn it off).
    pub fn first_run_notice(mut self, text: impl Into<String>) -> Self {
        self.first_run_notice = Some(text.into());
        self
    }

    /// At most one ping per this interval; default 12 h.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Remind of the same available version at most this often; default 48 h.
    pub fn reminder_interval(mut self, interval: Duration) -> Self {
        self.reminder_interval = interval;
        self
    }

    /// The uploader's hard timeouts: to connect, and for a whole request.
    /// Defaults 3 s and 10 s.
    pub fn timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.connect_timeout = connect;
        self.total_timeout = total;
        self
    }

    /// Queued items older than this are dropped unsent; default 7 days.
    pub fn spool_max_age(mut self, age: Duration) -> Self {
        self.spool_max_age = age;
        self
    }

    /// The first wait after a failed upload, doubled after each further
    /// failure (capped at 6 h); default 1 min. Whole seconds, at least 1.
    pub fn retry_backoff(mut self, base: Duration) -> Self {
        self.retry_backoff = base;
        self
    }

    /// Keep state in this directory instead of `$XDG_CACHE_HOME/sonde/<product>`.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Arguments for the uploader process (the executable is re-run with these
    /// and [`UPLOADER_ENV`] set). Default: none. The `sonde ping` verb passes its
    /// own arguments so that the re-run reaches `run` again.
    pub fn uploader_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.uploader_args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Send a salted hash of this project directory (8 hex digits of
    /// HMAC-SHA-256 keyed with a per-user salt that never leaves the machine).
    pub fn project_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.project_path = Some(path.into());
        self
    }

    /// The runtime version to report; default the compiler that built the tool
    /// ([`RUSTC_VERSION`]). Tools in other languages pass theirs (`v20.20.2`).
    pub fn runtime_version(mut self, version: impl Into<String>) -> Self {
        self.runtime_version = Some(version.into());
        self
    }

    /// Print notices even when stderr is not a terminal (default: only on a terminal).
    pub fn notices_without_terminal(mut self, yes: bool) -> Self {
        self.notices_without_terminal = yes;
        self
    }

    /// The host's crate name, as it starts its functions' paths (`mytool`
    /// for `mytool::main`): an error report's frames in it are the tool's
    /// own (`in_app`), and they decide how reports are grouped. Default:
    /// the product name with `-` and `.` read as `_`.
    pub fn app_crate(mut self, name: impl Into<String>) -> Self {
        self.app_crate = name.into();
        self
    }

    /// How long the error-report question waits for an answer before it
    /// counts as no; default 30 s.
    pub fn prompt_timeout(mut self, timeout: Duration) -> Self {
        self.prompt_timeout = timeout;
        self
    }

    /// Project metadata sent with error reports: a count or a flag under a
    /// name (`models` → 12, `uses_enums` → true), never text. See also
    /// [`Telemetry::set_project_metadata`].
    pub fn project_metadata(mut self, name: impl Into<String>, value: impl Into<ProjectValue>) -> Self {
        self.project.insert(name.into(), value.into().0);
        self
    }

    /// Checks the product name and endpoint.
    pub fn build(self) -> Result<Telemetry, Error> {
        let product = ProductName::parse(&self.product).map_err(|source| Error::InvalidProduct {
            name: self.product.clone(),
            source,
        })?;
        let endpoint = self.endpoint.trim_end_matches('/').to_owned();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) || endpoint.contains('@') {
            return Err(Error::InvalidEndpoint(self.endpoint));
        }
        if cfg!(not(feature = "tls")) && endpoint.starts_with("https://") {
            return Err(Error::TlsNotBuilt(endpoint));
        }
        let context = crate::report::RunContext {
            command: None,
            project: self.project.clone(),
        };
        Ok(Telemetry {
            product,
            endpoint,
            debug: debug_from_env(),
            b: self,
            report_context: std::sync::Arc::new(std::sync::Mutex::new(context)),
        })
    }
}
