//! `sonde serve`: runs the collector until Ctrl-C or SIGTERM, then drains
//! in-flight requests and the write queue and exits 0.
//!
//! Configuration comes from flags, environment variables and an optional TOML
//! file, with the same names (`--data-dir`, `SONDE_DATA_DIR`, `data_dir`).
//! Precedence: flag > environment > file > default. Relative paths in the
//! file are relative to the file's directory.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::output::UsageError;
use crate::target::{GlobalArgs, DEFAULT_DATA_DIR};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Arguments of `sonde serve` (plus the global `--data-dir`).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:7070; port 0 picks a free port).
    #[arg(long, env = "SONDE_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// TOML file with the same keys: listen, data_dir, tls_cert, tls_key, log_format, event_retention_days, durability, workers,
    /// header_timeout_secs, body_timeout_secs, idle_timeout_secs, max_connections, min_group_size, queue_capacity,
    /// rate_limit, rate_limit_burst, store, metrics_listen.
    #[arg(long, env = "SONDE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where to store: `sqlite` (default: a file in the data directory) or
    /// `clickhouse://host:8123/database` (the data directory then holds the
    /// admin token and the spill).
    #[arg(long, env = "SONDE_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// PEM certificate chain: serve HTTPS (needs --tls-key).
    #[arg(long, env = "SONDE_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "SONDE_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Log format.
    #[arg(long, env = "SONDE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Print the resolved configuration as JSON and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Delete raw events older than this many days (their counts are kept); default 400.
    #[arg(long, env = "SONDE_EVENT_RETENTION_DAYS", value_name = "DAYS")]
    pub event_retention_days: Option<u64>,
    /// What an acknowledged ping or event survives: `machine` (default; fsync
    /// per group commit) or `process` (a collector crash only; faster).
    #[arg(long, env = "SONDE_DURABILITY", value_enum)]
    pub durability: Option<DurabilityArg>,
    /// Threads answering HTTP requests (default: one per CPU core but one,
    /// the core left to the store's writer thread; at least 1).
    #[arg(long, env = "SONDE_WORKERS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
    /// Seconds a new connection has to send a request's headers, TLS
    /// handshake included (default 10).
    #[arg(long, env = "SONDE_HEADER_TIMEOUT_SECS", value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: Option<u64>,
    /// Seconds a request's body may take to arrive whole (default 30); then 408.
    #[arg(long, env = "SONDE_BODY_TIMEOUT_SECS", value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: Option<u64>,
    /// Seconds a kept-alive connection may wait idle for its next request (default 60).
    #[arg(long, env = "SONDE_IDLE_TIMEOUT_SECS", value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: Option<u64>,
    /// Most connections open at once (default 4096, lowered to fit under the
    /// open-file limit); past it idle connections are closed, or new ones
    /// answered 503.
    #[arg(long, env = "SONDE_MAX_CONNECTIONS", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Analytics answers fold groups of fewer distinct signatures into
    /// "other" and give smaller figures as "fewer than N" (default 5).
    #[arg(long, env = "SONDE_MIN_GROUP_SIZE", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub min_group_size: Option<u64>,
    /// Writes queued for the store before new ones are answered 503 with
    /// Retry-After (default 16384).
    #[arg(long, env = "SONDE_QUEUE_CAPACITY", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub queue_capacity: Option<u32>,
    /// Requests a second each client address may send before it is answered
    /// 429 with Retry-After (default 5000; 0 turns the limit off). Kept in
    /// memory only; the address is never logged or stored.
    #[arg(long, env = "SONDE_RATE_LIMIT", value_name = "PER_SEC")]
    pub rate_limit: Option<u32>,
    /// Requests an address may send at once after a quiet spell (default
    /// 20000, or four seconds' worth of --rate-limit when that is set).
    #[arg(long, env = "SONDE_RATE_LIMIT_BURST", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_burst: Option<u32>,
    /// Also serve `GET /metrics` without the admin token on this address (for
    /// a Prometheus scraper on a private network). Without it, `/metrics` is
    /// an admin route on --listen only.
    #[arg(long, env = "SONDE_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
}

/// `--durability` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DurabilityArg {
    /// Survives a crash of the machine: SQLite `synchronous=FULL`.
    #[default]
    Machine,
    /// Survives a crash of the collector, not of the machine: `synchronous=NORMAL`.
    Process,
}

impl From<DurabilityArg> for sonde_store::Durability {
    fn from(d: DurabilityArg) -> Self {
        match d {
            DurabilityArg::Machine => sonde_store::Durability::Machine,
            DurabilityArg::Process => sonde_store::Durability::Process,
        }
    }
}

/// The keys of the TOML file (`-` or `_` in names).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    #[serde(alias = "data-dir")]
    data_dir: Option<PathBuf>,
    #[serde(alias = "tls-cert")]
    tls_cert: Option<PathBuf>,
    #[serde(alias = "tls-key")]
    tls_key: Option<PathBuf>,
    #[serde(alias = "log-format")]
    log_format: Option<LogFormat>,
    #[serde(alias = "event-retention-days")]
    event_retention_days: Option<u64>,
    durability: Option<DurabilityArg>,
    workers: Option<u16>,
    #[serde(alias = "header-timeout-secs")]
    header_timeout_secs: Option<u64>,
    #[serde(alias = "body-timeout-secs")]
    body_timeout_secs: Option<u64>,
    #[serde(alias = "idle-timeout-secs")]
    idle_timeout_secs: Option<u64>,
    #[serde(alias = "max-connections")]
    max_connections: Option<u32>,
    #[serde(alias = "min-group-size")]
    min_group_size: Option<u64>,
    #[serde(alias = "queue-capacity")]
    queue_capacity: Option<u32>,
    #[serde(alias = "rate-limit")]
    rate_limit: Option<u32>,
    #[serde(alias = "rate-limit-burst")]
    rate_limit_burst: Option<u32>,
    store: Option<String>,
    #[serde(alias = "metrics-listen")]
    metrics_listen: Option<String>,
}

/// The configuration after merging every source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Resolved {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// TLS certificate.
    pub tls_cert: Option<PathBuf>,
    /// TLS key.
    pub tls_key: Option<PathBuf>,
    /// Log format.
    pub log_format: LogFormat,
    /// Raw-event retention, in days.
    pub event_retention_days: u64,
    /// What an acknowledged write survives.
    pub durability: DurabilityArg,
    /// Threads answering HTTP requests.
    pub workers: u16,
    /// Seconds a new connection has to send a request's headers.
    pub header_timeout_secs: u64,
    /// Seconds a request's body may take to arrive.
    pub body_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait idle.
    pub idle_timeout_secs: u64,
    /// Most connections open at once (before the open-file limit lowers it).
    pub max_connections: u32,
    /// The minimum group size of analytics answers.
    pub min_group_size: u64,
    /// Writes queued for the store before 503.
    pub queue_capacity: u32,
    /// Requests a second per client address (0: no limit).
    pub rate_limit: u32,
    /// Burst per client address.
    pub rate_limit_burst: u32,
    /// Where to store: `sqlite` or a `clickhouse://` URL.
    pub store: String,
    /// The separate, token-less metrics address, if any.
    pub metrics_listen: Option<SocketAddr>,
}

/// One request thread per core but the one the store's single writer thread
/// keeps busy under load: on two cores, one of each instead of three threads
/// taking turns on two CPUs (see bench/runs/2026-11-22/check.md).
fn default_workers() -> u16 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u16::try_from(cores.saturating_sub(1).max(1)).unwrap_or(u16::MAX)
}

fn parse_listen(s: &str) -> anyhow::Result<SocketAddr> {
    s.trim().parse().map_err(|_| {
        UsageError(format!(
            "invalid listen address {s:?}: expected IP:PORT, e.g. 127.0.0.1:7070"
        ))
        .into()
    })
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| UsageError(format!("config file {}: {}", path.display(), e.message())).into())
}

/// The queue capacity, rate limit and burst, from the flags, the file or
/// the defaults.
fn limits(
    args: &ServeArgs,
    file: [Option<u32>; 3],
    defaults: &sonde_collector::Config,
) -> anyhow::Result<(u32, u32, u32)> {
    let [file_queue_capacity, file_rate_limit, file_rate_limit_burst] = file;
    let queue_capacity = match args.queue_capacity.or(file_queue_capacity) {
        Some(0) => return Err(UsageError("queue_capacity must be at least 1".into()).into()),
        Some(n) => n,
        None => u32::try_from(defaults.queue_capacity).unwrap_or(u32::MAX),
    };
    let default_limit = sonde_collector::RateLimit::default();
    let rate_limit = args.rate_limit.or(file_rate_limit).unwrap_or(default_limit.per_second);
    let rate_limit_burst = match args.rate_limit_burst.or(file_rate_limit_burst) {
        Some(0) => return Err(UsageError("rate_limit_burst must be at least 1".into()).into()),
        Some(n) => n,
        None if args.rate_limit.or(file_rate_limit).is_some() => rate_limit.saturating_mul(4).max(1),
        None => default_limit.burst,
    };
    Ok((queue_capacity, rate_limit, rate_limit_burst))
}

/// Merges flags/env (clap already put flag before env), the file, and defaults.
pub(crate) fn resolve(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<Resolved> {
    let (file, base) = match &args.config {
        Some(p) => (read_file(p)?, p.parent().map(Path::to_owned).unwrap_or_default()),
        None => (FileConfig::default(), PathBuf::new()),
    };
    let from_file = |p: Option<PathBuf>| p.map(|p| if p.is_absolute() { p } else { base.join(p) });
    let listen = match args.listen.as_deref().or(file.listen.as_deref()) {
        Some(s) => parse_listen(s)?,
        None => SocketAddr::from(([127, 0, 0, 1], 7070)),
    };
    let data_dir = global
        .data_dir
        .clone()
        .or_else(|| from_file(file.data_dir))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let tls_cert = args.tls_cert.clone().or_else(|| from_file(file.tls_cert));
    let tls_key = args.tls_key.clone().or_else(|| from_file(file.tls_key));
    if tls_cert.is_some() != tls_key.is_some() {
        return Err(UsageError("give both --tls-cert and --tls-key, or neither".into()).into());
    }
    let log_format = args.log_format.or(file.log_format).unwrap_or_default();
    let event_retention_days = args.event_retention_days.or(file.event_retention_days).unwrap_or(400);
    let durability = args.durability.or(file.durability).unwrap_or_default();
    let workers = match args.workers.or(file.workers) {
        Some(0) => return Err(UsageError("workers must be at least 1".into()).into()),
        Some(n) => n,
        None => default_workers(),
    };
    let defaults = sonde_collector::Config::default();
    let secs = |arg: Option<u64>, file: Option<u64>, name: &str, default: std::time::Duration| match arg.or(file) {
        Some(0) => Err(UsageError(format!("{name} must be at least 1 second"))),
        Some(n) => Ok(n),
        None => Ok(default.as_secs()),
    };
    let header_timeout_secs = secs(
        args.header_timeout_secs,
        file.header_timeout_secs,
        "header_timeout_secs",
        defaults.header_timeout,
    )?;
    let body_timeout_secs = secs(
        args.body_timeout_secs,
        file.body_timeout_secs,
        "body_timeout_secs",
        defaults.body_timeout,
    )?;
    let idle_timeout_secs = secs(
        args.idle_timeout_secs,
        file.idle_timeout_secs,
        "idle_timeout_secs",
        defaults.idle_timeout,
    )?;
    let max_connections = match args.max_connections.or(file.max_connections) {
        Some(0) => return Err(UsageError("max_connections must be at least 1".into()).into()),
        Some(n) => n,
        None => u32::try_from(defaults.max_connections).unwrap_or(u32::MAX),
    };
    let min_group_size = match args.min_group_size.or(file.min_group_size) {
        Some(0) => return Err(UsageError("min_group_size must be at least 1".into()).into()),
        Some(n) => n,
        None => defaults.min_group_size,
    };
    let (queue_capacity, rate_limit, rate_limit_burst) = limits(
        args,
        [file.queue_capacity, file.rate_limit, file.rate_limit_burst],
        &defaults,
    )?;
    let store = args.store.clone().or(file.store).unwrap_or_else(|| "sqlite".to_owned());
    sonde_collector::StoreChoice::parse(&store).map_err(|e| UsageError(format!("--store: {e}")))?;
    let metrics_listen = args
        .metrics_listen
        .as_deref()
        .or(file.metrics_listen.as_deref())
        .map(parse_listen)
        .transpose()?;
    Ok(Resolved {
        store,
        metrics_listen,
        listen,
        data_dir,
        tls_cert,
        tls_key,
        log_format,
        event_retention_days,
        durability,
        workers,
        header_timeout_secs,
        body_timeout_secs,
        idle_timeout_secs,
        max_connections,
        min_group_size,
        queue_capacity,
        rate_limit,
        rate_limit_burst,
    })
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        // axum's accept loop logs each peer's address at trace level: never
        // let an IP address into the logs, whatever RUST_LOG says (the
        // collector's own loop logs none).
        .add_directive("axum::serve=off".parse().expect("valid directive"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Runs `sonde serve`.
pub(crate) fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let resolved = resolve(global, &args)?;
    if args.print_config {
        return crate::output::json(&resolved);
    }
    init_logging(resolved.log_format);
    let config = sonde_collector::Config {
        listen: resolved.listen,
        data_dir: resolved.data_dir.clone(),
        tls_cert: resolved.tls_cert.clone(),
        tls_key: resolved.tls_key.clone(),
        event_retention: std::time::Duration::from_secs(resolved.event_retention_days.saturating_mul(86_400)),
        durability: resolved.durability.into(),
        header_timeout: std::time::Duration::from_secs(resolved.header_timeout_secs),
        body_timeout: std::time::Duration::from_secs(resolved.body_timeout_secs),
        idle_timeout: std::time::Duration::from_secs(resolved.idle_timeout_secs),
        max_connections: usize::try_from(resolved.max_connections).unwrap_or(usize::MAX),
        min_group_size: resolved.min_group_size,
        queue_capacity: usize::try_from(resolved.queue_capacity).unwrap_or(usize::MAX),
        rate_limit: (resolved.rate_limit > 0).then_some(sonde_collector::RateLimit {
            per_second: resolved.rate_limit,
            burst: resolved.rate_limit_burst,
        }),
        store: sonde_collector::StoreChoice::parse(&resolved.store)?,
        metrics_listen: resolved.metrics_listen,
        ..sonde_collector::Config::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(resolved.workers))
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let running = sonde_collector::start(config).await?;
        // The banner is for people; a closed stdout (a parent that read the
        // first line and went away) must not stop the collector.
        let banner = format!(
            "sonde collector listening on {}\ndata directory: {}\nadmin token: {} (send it as `Authorization: Bearer <token>`, or pass --token-file to sonde verbs)\ndashboard: {}/ (sign in with the admin token)\n",
            running.base_url(),
            resolved.data_dir.display(),
            sonde_collector::token::token_path(&resolved.data_dir).display(),
            running.base_url()
        );
        let banner = match running.metrics_addr() {
            Some(addr) => format!("{banner}metrics without a token: http://{addr}/metrics\n"),
            None => banner,
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
        drop(out);
        wait_for_signal().await;
        tracing::info!("shutting down: draining in-flight requests and the write queue");
        running.shutdown().await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(data_dir: Option<&str>) -> GlobalArgs {
        GlobalArgs {
            data_dir: data_dir.map(PathBuf::from),
            server: None,
            token_file: None,
        }
    }

    #[test]
    fn flag_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sonde.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"from-file\"\nlog_format = \"json\"\ndurability = \"process\"\nworkers = 3\nheader_timeout_secs = 2\nmax_connections = 100\nmin_group_size = 10\n",
        )
        .unwrap();
        let defaults = resolve(&global(None), &ServeArgs::default()).unwrap();
        assert_eq!(defaults.listen.to_string(), "127.0.0.1:7070");
        assert_eq!(defaults.data_dir, PathBuf::from("./sonde-data"));
        assert_eq!(defaults.durability, DurabilityArg::Machine);
        assert_eq!(defaults.workers, default_workers());
        assert_eq!(
            (
                defaults.header_timeout_secs,
                defaults.body_timeout_secs,
                defaults.idle_timeout_secs,
                defaults.max_connections
            ),
            (10, 30, 60, 4096)
        );
        assert!(defaults.workers >= 1);
        assert_eq!(defaults.min_group_size, 5);
        let args = ServeArgs {
            config: Some(file.clone()),
            ..ServeArgs::default()
        };
        let from_file = resolve(&global(None), &args).unwrap();
        assert_eq!(from_file.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(from_file.data_dir, dir.path().join("from-file"));
        assert_eq!(from_file.log_format, LogFormat::Json);
        assert_eq!(from_file.durability, DurabilityArg::Process);
        assert_eq!(from_file.workers, 3);
        assert_eq!((from_file.header_timeout_secs, from_file.max_connections), (2, 100));
        assert_eq!(from_file.min_group_size, 10);
        let args = ServeArgs {
            config: Some(file),
            listen: Some("127.0.0.1:9100".into()),
            durability: Some(DurabilityArg::Machine),
            workers: Some(1),
            ..ServeArgs::default()
        };
        let flags = resolve(&global(Some("/flag")), &args).unwrap();
        assert_eq!(flags.workers, 1);
        assert_eq!(flags.listen.to_string(), "127.0.0.1:9100");
        assert_eq!(flags.durability, DurabilityArg::Machine);
        assert_eq!(flags.data_dir, PathBuf::from("/flag"));
    }

    #[test]
    fn unknown_keys_and_half_tls_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:1\"\n").unwrap();
        let err = resolve(
            &global(None),
            &ServeArgs {
                config: Some(file),
                ..ServeArgs::default()
            },
        )
        .unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_some(), "{err:#}");
        let err = resolve(
            &global(None),
            &ServeArgs {
                tls_cert: Some("c.pem".into()),
                ..ServeArgs::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("--tls-key"), "{err:#}");
    }
}
