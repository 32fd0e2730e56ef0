//! The collector's configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where and how the collector runs. Every field has a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on; `127.0.0.1:7070` by default. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Directory holding `sonde.db` and `admin-token`; `./sonde-data` by default.
    pub data_dir: PathBuf,
    /// PEM certificate chain; with `tls_key`, serve HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key.
    pub tls_key: Option<PathBuf>,
    /// How often the catalog generation is polled (250 ms).
    pub catalog_poll: Duration,
    /// Writes the store queues before answering 503 (16384).
    pub queue_capacity: usize,
    /// How long shutdown waits for in-flight requests before closing them (10 s).
    pub shutdown_grace: Duration,
    /// Raw events older than this are deleted (their counts are kept in
    /// roll-ups); 400 days.
    pub event_retention: Duration,
    /// How often retention runs (1 h; also once at start).
    pub retention_interval: Duration,
    /// What an acknowledged write survives: the machine (default, fsync per
    /// group commit) or only the collector process.
    pub durability: sonde_store::Durability,
    /// How long a new connection has to send a request's headers, TLS
    /// handshake included (10 s); then it is closed.
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive whole, from its headers
    /// (30 s); then the request is answered 408 and the connection closed.
    pub body_timeout: Duration,
    /// How long a kept-alive connection may stay idle after an answer before
    /// the next request's headers are in (60 s); then it is closed.
    pub idle_timeout: Duration,
    /// Most connections open at once (4096), lowered to fit under the
    /// open-file limit with descriptors to spare. A quarter of it (at least
    /// one) is for open WebSockets, the rest for plain connections. At the
    /// plain connections' cap the longest-waiting idle connection is closed
    /// for a new one; when every connection is busy, the new one is answered
    /// 503.
    pub max_connections: usize,
    /// The minimum group size of analytics answers (5): a group of fewer
    /// distinct signatures is folded into "other", a figure below it is given
    /// as "fewer than k" (see [`crate::analytics::kanon`]). At least 1.
    pub min_group_size: u64,
    /// The per-client-address rate limit ([`crate::RateLimit::default`]:
    /// 5,000 requests a second, bursts of 20,000); `None` turns it off.
    pub rate_limit: Option<crate::RateLimit>,
    /// Which store to open (SQLite in the data directory by default).
    pub store: StoreChoice,
    /// With ClickHouse: the most bytes of inserts the on-disk spill holds
    /// while ClickHouse is unreachable (256 MiB); past it writes are answered
    /// 503 with `Retry-After`.
    pub spill_max_bytes: u64,
    /// A separate address serving `GET /metrics` without the admin token
    /// (none by default: `/metrics` is then only an admin route on `listen`).
    /// Meant for a private network where a Prometheus scraper has no token.
    pub metrics_listen: Option<SocketAddr>,
}

/// Which store the collector opens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StoreChoice {
    /// SQLite, `sonde.db` in the data directory.
    #[default]
    Sqlite,
    /// ClickHouse at this `clickhouse://host:port/database` URL.
    ClickHouse(String),
}

/// A `--store` value that is neither `sqlite` nor a valid ClickHouse URL.
#[derive(Debug, thiserror::Error)]
#[error("store {url:?}: use sqlite or clickhouse://host:8123/database ({source})")]
pub struct StoreChoiceError {
    url: String,
    #[source]
    source: sonde_clickhouse::ClickHouseError,
}

impl StoreChoice {
    /// Parses `sqlite` (or an empty value) or `clickhouse://host:port/database`.
    pub fn parse(s: &str) -> Result<Self, StoreChoiceError> {
        if s.is_empty() || s == "sqlite" {
            return Ok(StoreChoice::Sqlite);
        }
        sonde_clickhouse::Endpoint::parse(s).map_err(|source| StoreChoiceError {
            url: s.to_owned(),
            source,
        })?;
        Ok(StoreChoice::ClickHouse(s.to_owned()))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 7070)),
            data_dir: PathBuf::from("./sonde-data"),
            tls_cert: None,
            tls_key: None,
            catalog_poll: Duration::from_millis(250),
            queue_capacity: sonde_store::sqlite::QUEUE_CAPACITY,
            shutdown_grace: Duration::from_secs(10),
            event_retention: Duration::from_secs(400 * 24 * 3600),
            retention_interval: Duration::from_secs(3600),
            durability: sonde_store::Durability::default(),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
            min_group_size: crate::analytics::kanon::DEFAULT_K,
            rate_limit: Some(crate::RateLimit::default()),
            store: StoreChoice::Sqlite,
            spill_max_bytes: sonde_clickhouse::ClickHouseOptions::default().spill_max_bytes,
            metrics_listen: None,
        }
    }
}
