//! One HTTP/1.1 connection's life, held to the collector's timeouts.
//!
//! A connection is in one of two phases, kept in its [`Slot`] as a single
//! number:
//!
//! - **waiting** for a request's headers: a new connection (its TLS handshake
//!   included) has [`Timeouts::header`] to send them, a kept-alive one
//!   [`Timeouts::idle`] after its last response. A waiting connection is
//!   *evictable*: the listener may close it to make room for a new one.
//! - **busy** from the moment its request's headers are read until the
//!   router has answered. It is never evicted; its body is held to
//!   [`Timeouts::body`] by [`DeadlineBody`], and the handler answers once
//!   the body stops (408 on time-out).
//!
//! A connection that overstays its phase, is evicted, or outlives the
//! shutdown grace period is dropped, which closes the socket. A connection
//! closed after an answer sent before its request body was read (a 413 by
//! `Content-Length`, ...) lingers first ([`Lingering`]): it shuts down its
//! sending side and reads and discards what the client still sends, for at
//! most [`LINGER`], so that the close does not reset the connection before the
//! client has read the answer. Only HTTP/1.1 is
//! spoken: hyper's HTTP/1 server alone is used, so an HTTP/2 preface is a
//! malformed request and the connection is closed.

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, Notify};
use tokio::time::Sleep;

use crate::ratelimit::Verdict;
use crate::ApiError;

/// The per-connection timeouts (see the module docs for what each covers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// A new connection: accept to a request's headers, TLS handshake included.
    pub(crate) header: Duration,
    /// A request's body, from its headers to its end.
    pub(crate) body: Duration,
    /// A kept-alive connection: its last response to the next request's headers.
    pub(crate) idle: Duration,
}

/// Milliseconds since the listener started: deadlines fit in one atomic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: Instant,
}

impl Clock {
    /// A clock starting now.
    pub(crate) fn new() -> Self {
        Clock { epoch: Instant::now() }
    }

    /// `d` from now, in this clock's milliseconds.
    pub(crate) fn after(self, d: Duration) -> u64 {
        let ms = self.epoch.elapsed().saturating_add(d).as_millis();
        u64::try_from(ms).unwrap_or(BUSY - 1)
    }

    /// Now, in this clock's milliseconds.
    fn now(self) -> u64 {
        self.after(Duration::ZERO)
    }
}

/// The deadline of a busy connection: none.
const BUSY: u64 = u64::MAX;

/// How long a connection closed with a request body unread keeps reading
/// (and discarding) it before it closes.
const LINGER: Duration = Duration::from_secs(5);

/// A connection's phase and the signal that closes it.
#[derive(Debug)]
pub(crate) struct Slot {
    /// When a waiting connection is closed ([`Clock`] milliseconds), or
    /// [`BUSY`].
    deadline: AtomicU64,
    /// A request body was left unread: linger before closing.
    unread_body: AtomicBool,
    cut: Notify,
}

impl Slot {
    /// A new connection, waiting for its first request's headers until `deadline`.
    pub(crate) fn new(deadline: u64) -> Self {
        Slot {
            deadline: AtomicU64::new(deadline),
            unread_body: AtomicBool::new(false),
            cut: Notify::new(),
        }
    }

    /// When it will be closed if it stays waiting; `None` while busy (it
    /// cannot be evicted then).
    pub(crate) fn evictable_until(&self) -> Option<u64> {
        let d = self.deadline.load(Ordering::Relaxed);
        (d != BUSY).then_some(d)
    }

    /// Closes the connection now, whatever it is doing.
    pub(crate) fn cut(&self) {
        self.cut.notify_one();
    }

    /// Resolves when the connection must close: its waiting phase ran out or
    /// it was cut. A busy connection is looked at again every `recheck`.
    pub(crate) async fn ended(&self, clock: Clock, recheck: Duration) {
        let expired = async {
            loop {
                let deadline = self.deadline.load(Ordering::Relaxed);
                let now = clock.now();
                if deadline == BUSY {
                    tokio::time::sleep(recheck).await;
                } else if now >= deadline {
                    return;
                } else {
                    tokio::time::sleep(Duration::from_millis(deadline - now)).await;
                }
            }
        };
        tokio::select! {
            () = expired => {}
            () = self.cut.notified() => {}
        }
    }
}

/// What every connection of a listener shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) router: Router,
    pub(crate) timeouts: Timeouts,
    pub(crate) clock: Clock,
    pub(crate) http: hyper::server::conn::http1::Builder,
    /// The per-client-address rate limit, if on.
    pub(crate) limiter: Option<crate::ratelimit::Limiter>,
}

impl Shared {
    /// The HTTP/1.1 server settings: keep-alive on, hyper's own header
    /// timeout off (the [`Slot`] deadlines cover it, with a different
    /// allowance for new and kept-alive connections).
    pub(crate) fn new(router: Router, timeouts: Timeouts, clock: Clock, rate_limit: Option<crate::RateLimit>) -> Self {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.keep_alive(true).header_read_timeout(None);
        Shared {
            router,
            timeouts,
            clock,
            http,
            limiter: rate_limit.map(crate::ratelimit::Limiter::new),
        }
    }

    /// How often a busy connection's phase is looked at again.
    fn recheck(&self) -> Duration {
        self.timeouts.header.min(self.timeouts.idle)
    }
}

/// Serves one connection whose TLS handshake (if any) `io` already
/// completed, until the client is done, its phase times out, it is cut, or
/// shutdown closes it (in-flight requests finish; idle connections close at
/// once). `peer` is the client's address, used only as the rate limit's key.
pub(crate) async fn serve<I>(
    io: I,
    peer: IpAddr,
    slot: Arc<Slot>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = Service {
        slot: slot.clone(),
        shared: shared.clone(),
        peer,
    };
    let io = Lingering {
        io,
        slot: slot.clone(),
        timer: None,
        shut: false,
    };
    let conn = shared.http.serve_connection(TokioIo::new(io), service).with_upgrades();
    tokio::pin!(conn);
    let mut draining = *shutdown.borrow();
    if draining {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = slot.ended(shared.clock, shared.recheck()) => return,
            changed = shutdown.changed(), if !draining => {
                if changed.is_err() || *shutdown.borrow() {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The router, as hyper calls it for each request of one connection: the
/// connection is busy while the router answers, and the request body is held
/// to its deadline. A request over its address's rate limit is answered
/// 429 without reaching the router.
#[derive(Debug, Clone)]
struct Service {
    slot: Arc<Slot>,
    shared: Arc<Shared>,
    /// The client's address: the rate limit's key, never logged or stored.
    peer: IpAddr,
}

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        if let Some(limiter) = &self.shared.limiter {
            if let Verdict::Limited { retry_after } = limiter.check(self.peer) {
                drop(req);
                let (clock, idle) = (self.shared.clock, self.shared.timeouts.idle);
                self.slot.deadline.store(clock.after(idle), Ordering::Relaxed);
                let response = ApiError::RateLimited { retry_after }.into_response();
                return Box::pin(std::future::ready(Ok(response)));
            }
        }
        self.slot.deadline.store(BUSY, Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + self.shared.timeouts.body;
        let slot = self.slot.clone();
        let req = req.map(|body| Body::new(DeadlineBody::new(body, deadline, slot)));
        let answer = tower_service::Service::call(&mut self.shared.router.clone(), req);
        let (slot, clock, idle) = (self.slot.clone(), self.shared.clock, self.shared.timeouts.idle);
        Box::pin(async move {
            let response = answer.await;
            slot.deadline.store(clock.after(idle), Ordering::Relaxed);
            response
        })
    }
}

/// A request body that fails with [`BodyError::TimedOut`] once its deadline has
/// passed. The timer is only armed when the body is not all there on the
/// first read, so a request whose body arrived with its headers costs none.
#[derive(Debug)]
struct DeadlineBody {
    inner: Incoming,
    deadline: tokio::time::Instant,
    timer: Option<Pin<Box<Sleep>>>,
    /// Told when the body is dropped before its end.
    slot: Arc<Slot>,
}

impl DeadlineBody {
    fn new(inner: Incoming, deadline: tokio::time::Instant, slot: Arc<Slot>) -> Self {
        DeadlineBody {
            inner,
            deadline,
            timer: None,
            slot,
        }
    }
}

impl Drop for DeadlineBody {
    fn drop(&mut self) {
        if !self.inner.is_end_stream() {
            self.slot.unread_body.store(true, Ordering::Relaxed);
        }
    }
}

/// Why reading a request body failed: it timed out, or hyper refused it
/// (malformed chunked encoding, a connection closed mid-body).
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// The body did not arrive whole within the body timeout.
    #[error("the request body did not arrive within the body timeout")]
    TimedOut,
    /// hyper's error.
    #[error(transparent)]
    Read(#[from] hyper::Error),
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if let Some(timer) = this.timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Some(Err(BodyError::TimedOut)));
            }
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(BodyError::Read))),
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(BodyError::TimedOut)));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's I/O that, when hyper shuts it down after a request body was
/// left unread, shuts down its sending side and then reads and discards what
/// the client still sends until the client closes or [`LINGER`] has passed.
#[derive(Debug)]
struct Lingering<I> {
    io: I,
    slot: Arc<Slot>,
    timer: Option<Pin<Box<Sleep>>>,
    shut: bool,
}

impl<I: AsyncRead + Unpin> AsyncRead for Lingering<I> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<I> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if !this.shut {
            std::task::ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
            this.shut = true;
        }
        if !this.slot.unread_body.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(()));
        }
        let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(LINGER)));
        let mut sink = [0u8; 8192];
        loop {
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut sink);
            match Pin::new(&mut this.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {}
                Poll::Ready(_) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
