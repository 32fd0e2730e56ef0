//! Starting and stopping the collector: [`start`] and [`Running`] for async
//! callers, [`start_in_background`] and [`BackgroundCollector`] (its own
//! runtime thread) for synchronous tests and tools.
//!
//! Shutdown order: stop accepting, let in-flight requests finish (each waits
//! for its ping's commit), stop the catalog poller, then close the store,
//! which commits everything still queued.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sonde_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::conn::{Clock, Shared, Timeouts};
use crate::open::{open, Opened};
use crate::{app, CollectorError, Config};

/// A collector serving in the current tokio runtime.
pub struct Running {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    admin_token: String,
    data_dir: PathBuf,
    tls: bool,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    poller: JoinHandle<()>,
    store: Arc<dyn Store>,
    grace: std::time::Duration,
    /// For closing the open WebSockets at shutdown.
    state: crate::AppState,
    /// Held for the collector's life: one collector per data directory.
    _lock: std::fs::File,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// Opens the data directory ([`crate::open`]), binds, and starts serving.
pub async fn start(config: Config) -> Result<Running, CollectorError> {
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        (None, None) => None,
        _ => return Err(CollectorError::TlsHalfConfigured),
    };
    let kanon = crate::analytics::kanon::KAnon::new(config.min_group_size)?;
    let Opened {
        state,
        store,
        catalog,
        admin_token,
        lock,
    } = open(&config).await?;
    let data_dir = config.data_dir.clone();
    let router = app(state.clone());

    let tls_acceptor = match &tls {
        None => None,
        Some((cert, key)) => Some(crate::tls::acceptor(cert, key).map_err(|source| CollectorError::Tls {
            cert: cert.clone(),
            key: key.clone(),
            source,
        })?),
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(|source| CollectorError::Bind {
        addr: config.listen,
        source,
    })?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let (stop, stop_rx) = watch::channel(false);
    let metrics_addr = match config.metrics_listen {
        None => None,
        Some(addr) => Some(crate::metrics::listen(addr, state.metrics(), stop_rx.clone())?),
    };

    let fd_limit = crate::listener::raise_fd_limit();
    // Upgraded WebSockets leave the listener's cap but keep a descriptor:
    // they get a quarter of the budget, plain connections the rest.
    let budget = crate::listener::cap(config.max_connections, fd_limit);
    let max_sockets = (budget / 4).max(1);
    let max_connections = budget.saturating_sub(max_sockets).max(1);
    state.set_socket_cap(max_sockets);
    state.set_min_group_size(kanon);
    state.set_tls(tls.is_some());
    let timeouts = Timeouts {
        header: config.header_timeout,
        body: config.body_timeout,
        idle: config.idle_timeout,
    };
    // The router is cloned per request (one reference count): never
    // `with_state` per connection, which re-boxes every route (see
    // bench/runs/2026-11-22/check.md).
    let shared = Arc::new(Shared::new(router, timeouts, Clock::new(), config.rate_limit));
    let server = tokio::spawn(crate::listener::run(
        listener,
        tls_acceptor,
        shared,
        max_connections,
        stop_rx.clone(),
        config.shutdown_grace,
    ));
    tokio::spawn(crate::retention::task(
        store.clone(),
        config.event_retention,
        config.retention_interval,
        stop_rx.clone(),
    ));
    let poller = tokio::spawn(crate::catalog::poll(
        catalog,
        store.clone(),
        config.catalog_poll,
        stop_rx,
    ));
    tracing::info!(
        %local_addr,
        metrics_addr = ?metrics_addr,
        tls = tls.is_some(),
        data_dir = %data_dir.display(),
        max_connections,
        fd_limit,
        "collector listening"
    );
    Ok(Running {
        local_addr,
        metrics_addr,
        admin_token,
        data_dir,
        tls: tls.is_some(),
        stop,
        server,
        poller,
        store,
        grace: config.shutdown_grace,
        state,
        _lock: lock,
    })
}

impl Running {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The separate metrics address, when [`Config::metrics_listen`] asks for one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The collector's metrics.
    pub fn metrics(&self) -> Arc<crate::metrics::Metrics> {
        self.state.metrics()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `http://addr` or `https://addr`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.local_addr)
    }

    /// Stops accepting, drains in-flight requests, commits the writer queue,
    /// and closes the store.
    pub async fn shutdown(self) -> Result<(), CollectorError> {
        // WebSockets first: each commits the frame it holds and closes with
        // "going away", so no received frame is lost silently.
        let open = self.state.close_sockets(self.grace).await;
        if open > 0 {
            tracing::warn!(open, "WebSockets did not close within the shutdown grace period");
        }
        let _ = self.stop.send(true);
        // The listener gives in-flight requests `shutdown_grace` to finish,
        // then closes what is left, so it ends soon after.
        let served = self.server.await;
        let _ = self.poller.await;
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.close())
            .await
            .map_err(CollectorError::Task)??;
        tracing::info!("collector stopped; every queued write committed");
        served.map_err(CollectorError::Task)
    }
}

/// A collector on its own runtime thread, for synchronous callers.
/// Dropping it shuts it down.
#[derive(Debug)]
pub struct BackgroundCollector {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    metrics: Arc<crate::metrics::Metrics>,
    base_url: String,
    admin_token: String,
    data_dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), CollectorError>>>,
}

/// What the collector's thread hands back once it listens.
struct Started {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    metrics: Arc<crate::metrics::Metrics>,
    base_url: String,
    admin_token: String,
    data_dir: PathBuf,
}

/// Starts a collector on a new thread with its own tokio runtime and waits
/// until it listens.
pub fn start_in_background(config: Config) -> Result<BackgroundCollector, CollectorError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("sonde-collector".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                match start(config).await {
                    Ok(running) => {
                        let info = Started {
                            local_addr: running.local_addr(),
                            metrics_addr: running.metrics_addr(),
                            metrics: running.metrics(),
                            base_url: running.base_url(),
                            admin_token: running.admin_token().to_owned(),
                            data_dir: running.data_dir().to_owned(),
                        };
                        let _ = ready_tx.send(Ok(info));
                        let _ = stop_rx.await;
                        running.shutdown().await
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        Ok(())
                    }
                }
            })
        })?;
    match ready_rx.recv() {
        Ok(Ok(Started {
            local_addr,
            metrics_addr,
            metrics,
            base_url,
            admin_token,
            data_dir,
        })) => Ok(BackgroundCollector {
            local_addr,
            metrics_addr,
            metrics,
            base_url,
            admin_token,
            data_dir,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => match thread.join() {
            Ok(Err(e)) => Err(e),
            _ => Err(CollectorError::ThreadStopped),
        },
    }
}

impl BackgroundCollector {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The separate metrics address, when [`Config::metrics_listen`] asks for one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The collector's metrics.
    pub fn metrics(&self) -> Arc<crate::metrics::Metrics> {
        self.metrics.clone()
    }

    /// `http://127.0.0.1:port` (or `https://`).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The admin token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Shuts down and waits: in-flight requests finish, queued writes commit.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            match t.join() {
                Ok(Err(e)) => tracing::error!(error = %e, "collector shutdown failed"),
                Err(_) => tracing::error!("collector thread panicked"),
                Ok(Ok(())) => {}
            }
        }
    }
}

impl Drop for BackgroundCollector {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
