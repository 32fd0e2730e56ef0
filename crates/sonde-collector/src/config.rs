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
    /// A separate address serving `GET /metrics` without the admin token
    /// (none by default: `/metrics` is then only an admin route on `listen`).
    /// Meant for a private network where a Prometheus scraper has no token.
    pub metrics_listen: Option<SocketAddr>,
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
            metrics_listen: None,
        }
    }
}
