//! The accept loop: every connection, plain or TLS, is counted against a cap
//! set below the process's file-descriptor limit and served by
//! [`crate::conn`] under the collector's timeouts.
//!
//! At the cap, a new connection makes room by closing the waiting connection
//! (new and still without a request, or kept alive and idle) closest to its
//! deadline, as nginx does. When every connection is busy, the new one is
//! answered `503` with `Retry-After` and closed (a TLS one is closed without
//! an answer: there is no handshake to answer it in), so descriptors never
//! run out. Shutdown stops accepting, lets busy connections finish for the
//! grace period, then closes what is left.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::conn::{self, Shared, Slot};

/// Descriptors kept out of the connection cap: the store's files and reader
/// connections, the runtime's own, logs, and connections being refused.
pub(crate) const RESERVED_FDS: u64 = 128;

/// Refused connections being answered `503` at once; beyond this they are
/// closed without an answer.
const MAX_REFUSING: usize = 32;

/// How long a refused connection's request is read (and discarded) after the
/// `503`, so that closing does not reset the connection before the client
/// has read the answer.
const REFUSE_LINGER: Duration = Duration::from_secs(1);

/// The answer to a connection refused because every slot is busy.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 98\r\n\r\n\
{\"error\":{\"code\":\"unavailable\",\"message\":\"the collector is at its connection limit, retry later\"}}";

/// The open connections, each with its [`Slot`].
#[derive(Debug)]
struct Tracker {
    cap: usize,
    slots: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    next_id: u64,
    open: HashMap<u64, Arc<Slot>>,
}

/// A connection's place in the [`Tracker`]; dropping it frees the place.
#[derive(Debug)]
struct Admitted {
    tracker: Arc<Tracker>,
    id: u64,
    slot: Arc<Slot>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.tracker.lock().open.remove(&self.id);
    }
}

impl Tracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a new connection waiting until `deadline`: at the cap, the
    /// waiting connection closest to its deadline is cut to make room; `None`
    /// when every connection is busy.
    fn admit(self: &Arc<Self>, deadline: u64) -> Option<Admitted> {
        let mut slots = self.lock();
        if slots.open.len() >= self.cap {
            let victim = slots
                .open
                .iter()
                .filter_map(|(id, s)| s.evictable_until().map(|d| (d, *id)))
                .min()
                .map(|(_, id)| id)?;
            if let Some(slot) = slots.open.remove(&victim) {
                slot.cut();
            }
        }
        let id = slots.next_id;
        slots.next_id += 1;
        let slot = Arc::new(Slot::new(deadline));
        slots.open.insert(id, slot.clone());
        Some(Admitted {
            tracker: self.clone(),
            id,
            slot,
        })
    }

    /// Cuts every open connection.
    fn cut_all(&self) {
        for slot in self.lock().open.values() {
            slot.cut();
        }
    }
}

/// Serves `shared.router` on `listener` (over TLS with `tls`) with at most
/// `cap` connections, until `stop` turns true; then waits up to `grace` for
/// busy connections before closing them.
pub(crate) async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    cap: usize,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let tracker = Arc::new(Tracker {
        cap: cap.max(1),
        slots: Mutex::default(),
    });
    let refusing = Arc::new(AtomicUsize::new(0));
    // Each connection task holds a receiver: the sender sees when all are gone.
    let (done_tx, done_rx) = watch::channel(());
    let (drain_tx, drain_rx) = watch::channel(false);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors or a connection reset before it was
                // accepted: wait a moment rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let Some(admitted) = tracker.admit(shared.clock.after(shared.timeouts.header)) else {
            refuse(tcp, tls.is_some(), &refusing);
            continue;
        };
        let (shared, drain, done, tls) = (shared.clone(), drain_rx.clone(), done_rx.clone(), tls.clone());
        let peer = peer.ip();
        tokio::spawn(async move {
            let slot = admitted.slot.clone();
            match tls {
                None => conn::serve(tcp, peer, slot, shared, drain).await,
                Some(acceptor) => {
                    let handshake = tokio::select! {
                        r = acceptor.accept(tcp) => r,
                        () = slot.ended(shared.clock, shared.timeouts.header) => return,
                    };
                    match handshake {
                        Ok(io) => conn::serve(io, peer, slot, shared, drain).await,
                        Err(e) => tracing::debug!(error = %e, "TLS handshake failed"),
                    }
                }
            }
            drop((admitted, done));
        });
    }
    drop(listener);
    let _ = drain_tx.send(true);
    drop(done_rx);
    if tokio::time::timeout(grace, done_tx.closed()).await.is_err() {
        tracing::warn!("in-flight requests did not finish within the shutdown grace period; closing them");
        tracker.cut_all();
        done_tx.closed().await;
    }
}

/// Answers a connection there is no room for: `503` on plain HTTP (then
/// reads and discards what the client sent for a moment, so the answer is not
/// lost to a reset), nothing on TLS.
fn refuse(mut tcp: TcpStream, tls: bool, refusing: &Arc<AtomicUsize>) {
    tracing::debug!("at the connection limit with every connection busy: refusing one");
    if tls || refusing.fetch_add(1, Ordering::Relaxed) >= MAX_REFUSING {
        if !tls {
            refusing.fetch_sub(1, Ordering::Relaxed);
        }
        return;
    }
    let refusing = refusing.clone();
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSE_LINGER, async {
            tcp.write_all(REFUSED).await?;
            tcp.shutdown().await?;
            let mut sink = [0u8; 4096];
            while tcp.read(&mut sink).await? > 0 {}
            std::io::Result::Ok(())
        })
        .await;
        refusing.fetch_sub(1, Ordering::Relaxed);
    });
}

/// The connection cap: `wanted`, lowered to fit under the descriptor limit
/// `fd_limit` with [`RESERVED_FDS`] to spare (at least 1).
pub(crate) fn cap(wanted: usize, fd_limit: u64) -> usize {
    let room = usize::try_from(fd_limit.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
    wanted.min(room).max(1)
}

/// Raises the soft limit on open files to the hard limit where the system
/// allows it, and returns the soft limit in force (`u64::MAX` where there is
/// no such limit).
pub(crate) fn raise_fd_limit() -> u64 {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read or raise the open-file limit");
                rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    {
        u64::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_well_formed() {
        let text = std::str::from_utf8(REFUSED).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "unavailable");
    }

    #[test]
    fn the_cap_fits_under_the_descriptor_limit() {
        assert_eq!(cap(4096, 1024), 1024 - RESERVED_FDS as usize);
        assert_eq!(cap(100, 1024), 100);
        assert_eq!(cap(4096, 10), 1);
        assert_eq!(cap(4096, u64::MAX), 4096);
    }
}
