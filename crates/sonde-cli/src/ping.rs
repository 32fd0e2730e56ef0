//! `sonde ping`: the client library's ping for tools not written in Rust.
//!
//! ```text
//! sonde ping --product mytool --version 1.2.3 [--endpoint https://telemetry.mytool.dev]
//!            [--env-var MYTOOL_TELEMETRY] [--config-file ~/.mytool/config.json]
//!            [--runtime-version v20.20.2] [--interval-secs 43200]
//! ```
//!
//! It does exactly what an embedding tool's `run()` does — same opt-outs, same
//! state directory (`$XDG_CACHE_HOME/sonde/<product>/`), same throttle — and
//! returns at once: the request is sent by a detached uploader, which is this
//! same command re-run with `SONDE_UPLOADER` set. Cached update notices and
//! alerts are printed to stderr when stderr is a terminal.

use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `sonde ping`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PingArgs {
    /// The product name (`[a-z0-9._-]`).
    #[arg(long)]
    pub product: String,
    /// The version of the tool that pings.
    #[arg(long)]
    pub version: String,
    /// The collector's base URL.
    #[arg(long, env = "SONDE_ENDPOINT", default_value = "http://127.0.0.1:7070")]
    pub endpoint: String,
    /// The tool's own opt-out variable (`MYTOOL_TELEMETRY=0|false|off|local`).
    #[arg(long)]
    pub env_var: Option<String>,
    /// The tool's JSON config file with `"enable_telemetry": false|true|"local"`.
    #[arg(long)]
    pub config_file: Option<PathBuf>,
    /// The runtime version to report (default: the rustc that built `sonde`).
    #[arg(long)]
    pub runtime_version: Option<String>,
    /// At most one ping per this many seconds.
    #[arg(long, default_value_t = 12 * 3600)]
    pub interval_secs: u64,
}

impl PingArgs {
    /// The arguments that make the re-run process reach [`run`] again.
    fn uploader_args(&self) -> Vec<String> {
        let mut a = vec![
            "ping".to_owned(),
            "--product".to_owned(),
            self.product.clone(),
            "--version".to_owned(),
            self.version.clone(),
            "--endpoint".to_owned(),
            self.endpoint.clone(),
            "--interval-secs".to_owned(),
            self.interval_secs.to_string(),
        ];
        if let Some(v) = &self.env_var {
            a.extend(["--env-var".to_owned(), v.clone()]);
        }
        if let Some(p) = &self.config_file {
            a.extend(["--config-file".to_owned(), p.display().to_string()]);
        }
        if let Some(r) = &self.runtime_version {
            a.extend(["--runtime-version".to_owned(), r.clone()]);
        }
        a
    }

    /// Builds the client this ping uses.
    pub(crate) fn telemetry(&self) -> Result<sonde::Telemetry, sonde::Error> {
        let mut b = sonde::Telemetry::builder(&self.product, &self.version)
            .endpoint(&self.endpoint)
            .interval(Duration::from_secs(self.interval_secs))
            .uploader_args(self.uploader_args());
        if let Some(v) = &self.env_var {
            b = b.env_var(v);
        }
        if let Some(p) = &self.config_file {
            b = b.config_file(p);
        }
        if let Some(r) = &self.runtime_version {
            b = b.runtime_version(r);
        }
        b.build()
    }
}

/// Runs `sonde ping`: queues the ping if due and returns without waiting.
/// In the uploader process (re-run of this command) it uploads and exits.
/// A bad product name or endpoint is a usage error (exit 2).
pub(crate) fn run(args: &PingArgs) -> anyhow::Result<()> {
    let telemetry = args.telemetry().map_err(|e| crate::output::UsageError(e.to_string()))?;
    telemetry.run();
    telemetry.print_notices();
    Ok(())
}
