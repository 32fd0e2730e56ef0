//! One HTTP/1.1 exchange, written byte for byte as a client sends it, over a
//! kept-alive connection or a fresh one, and what became of it.
//!
//! The request bytes are the caller's (see [`super::wire`]), so the
//! collector sees exactly the headers real clients send; responses are
//! parsed with `httparse`. Whether a request may have been stored matters
//! to the checker, so a failure is told apart by when it happened: before
//! anything was sent ([`Exchange::NotSent`]) or after ([`Exchange::NoAnswer`]).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long an answer may take (the collector answers after a commit; a
/// SIGKILLed one never answers, and the connection then ends at once).
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest answer read (the collector's answers are a few KiB).
const MAX_ANSWER: usize = 1 << 20;

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchange {
    /// A complete answer.
    Answered {
        /// Its status code.
        status: u16,
        /// Its `Retry-After`, in seconds, if any.
        retry_after: Option<u64>,
        /// Its body.
        body: Vec<u8>,
    },
    /// The connection could not be opened: nothing was sent.
    NotSent,
    /// The request was (perhaps partly) sent and no complete answer came:
    /// the collector may or may not have stored it.
    NoAnswer,
}

/// A client's connection to the collector: kept alive between requests, or
/// opened for each one.
#[derive(Debug)]
pub struct Connection {
    addr: SocketAddr,
    keep_alive: bool,
    stream: Option<TcpStream>,
}

impl Connection {
    /// A connection to `addr`; `keep_alive` reuses it between requests.
    pub fn new(addr: SocketAddr, keep_alive: bool) -> Self {
        Connection {
            addr,
            keep_alive,
            stream: None,
        }
    }

    /// Whether requests share one connection.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Sends `request` and reads its answer.
    pub fn exchange(&mut self, request: &[u8]) -> Exchange {
        let stream = match self.stream.take() {
            Some(s) => s,
            None => match TcpStream::connect(self.addr) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let _ = s.set_read_timeout(Some(READ_TIMEOUT));
                    s
                }
                Err(_) => return Exchange::NotSent,
            },
        };
        let mut stream = stream;
        if stream.write_all(request).is_err() {
            return Exchange::NoAnswer;
        }
        match read_answer(&mut stream) {
            Some((answer, close)) => {
                if self.keep_alive && !close {
                    self.stream = Some(stream);
                }
                answer
            }
            None => Exchange::NoAnswer,
        }
    }

    /// The underlying stream for an upgrade (a WebSocket): a fresh connection.
    pub fn open(&self) -> Option<TcpStream> {
        let s = TcpStream::connect(self.addr).ok()?;
        let _ = s.set_nodelay(true);
        let _ = s.set_read_timeout(Some(READ_TIMEOUT));
        Some(s)
    }
}

/// Reads one answer; returns it and whether the server closes the
/// connection after it.
fn read_answer(stream: &mut TcpStream) -> Option<(Exchange, bool)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(head) = response.parse(&buf).ok()? else {
            if buf.len() > MAX_ANSWER {
                return None;
            }
            continue;
        };
        let status = response.code?;
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .and_then(|h| std::str::from_utf8(h.value).ok())
        };
        let retry_after = header("retry-after").and_then(|v| v.trim().parse().ok());
        let close = header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let length: usize = header("content-length").and_then(|v| v.trim().parse().ok())?;
        if length > MAX_ANSWER {
            return None;
        }
        let mut body = buf[head..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(length);
        return Some((
            Exchange::Answered {
                status,
                retry_after,
                body,
            },
            close,
        ));
    }
}
