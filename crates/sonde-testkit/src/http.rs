//! HTTP as the tests speak it: byte-exact HTTP/1.1 exchanges on a fresh
//! connection (for requests exactly as a real client's bytes), a raw
//! connection kept open across requests ([`Conn`], for keep-alive and for
//! clients that stall), and a `ureq` agent that returns every status instead
//! of failing on 4xx/5xx.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long an exchange waits for the answer.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A `ureq` agent that hands back every status as a response.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked when the answer was chunked.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    /// `error.code` of an error body; panics when there is none.
    pub fn error_code(&self) -> String {
        let v: serde_json::Value = self.json();
        v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {v}"))
            .to_owned()
    }
}

/// Sends `request` byte for byte on a new connection and reads the whole
/// answer (the request must ask for `Connection: close`). Errors when the
/// connection fails, e.g. while the server is down.
pub fn try_exchange(addr: SocketAddr, request: &[u8]) -> std::io::Result<RawResponse> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(READ_TIMEOUT))?;
    s.write_all(request)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    parse(&buf).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP/1.1 response"))
}

/// Sends `request` byte for byte on a new connection and reads one answer
/// (by its `Content-Length` or chunked end), for requests that keep the
/// connection alive as real clients do (Go's `net/http` sends no
/// `Connection: close`). Panics when the connection fails.
pub fn exchange_one(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let fail = |e: std::io::Error| -> RawResponse { panic!("HTTP exchange with {addr}: {e}") };
    let mut s = match TcpStream::connect(addr) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if let Err(e) = s
        .set_read_timeout(Some(READ_TIMEOUT))
        .and_then(|()| s.write_all(request))
    {
        return fail(e);
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(r) = complete(&buf) {
            return r;
        }
        match s.read(&mut chunk) {
            Ok(0) => return parse(&buf).unwrap_or_else(|| panic!("connection to {addr} closed mid-answer")),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return fail(e),
        }
    }
}

/// The answer in `buf`, once all of it has arrived.
fn complete(buf: &[u8]) -> Option<RawResponse> {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..split]).ok()?.to_ascii_lowercase();
    let body = &buf[split + 4..];
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let done = match length {
        Some(n) => body.len() >= n,
        None => body.ends_with(b"0\r\n\r\n"),
    };
    done.then(|| parse(buf)).flatten()
}

/// [`try_exchange`] that panics when the connection fails.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
    try_exchange(addr, request).unwrap_or_else(|e| panic!("HTTP exchange with {addr}: {e}"))
}

/// `GET path` with `Connection: close`.
pub fn get(addr: SocketAddr, path: &str) -> RawResponse {
    exchange(addr, get_request(path).as_bytes())
}

/// `GET path` with `Connection: close`, or `None` when the connection fails.
pub fn try_get(addr: SocketAddr, path: &str) -> Option<RawResponse> {
    try_exchange(addr, get_request(path).as_bytes()).ok()
}

fn get_request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
}

/// A raw TCP connection to a server, kept open across requests: send any
/// bytes, read one answer at a time, see whether the server closed it.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`; panics when it cannot.
    pub fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        stream.set_read_timeout(Some(READ_TIMEOUT)).expect("read timeout");
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// The connection's local port (what would name this client in a log).
    pub fn local_port(&self) -> u16 {
        self.stream.local_addr().map_or(0, |a| a.port())
    }

    /// Sends `bytes`; `false` when the server has closed the connection.
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).and_then(|()| self.stream.flush()).is_ok()
    }

    /// Reads one answer (headers and a `Content-Length` body); `None` when
    /// the connection closes first or nothing comes within `timeout`.
    pub fn read_response(&mut self, timeout: Duration) -> Option<RawResponse> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(split) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = parse(&self.buf[..split + 4])?;
                let len: usize = head.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                if self.buf.len() >= split + 4 + len {
                    let rest = self.buf.split_off(split + 4 + len);
                    let whole = std::mem::replace(&mut self.buf, rest);
                    return parse(&whole);
                }
            }
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .ok()?;
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Sends `request` and reads its answer (waiting up to a minute).
    pub fn request(&mut self, request: &[u8]) -> Option<RawResponse> {
        if !self.send(request) {
            return None;
        }
        self.read_response(READ_TIMEOUT)
    }

    /// Waits up to `timeout` for the server to close the connection,
    /// discarding whatever it sends first; whether it did.
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) else {
                return false;
            };
            if self
                .stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .is_err()
            {
                return true;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    return false
                }
                Err(_) => return true,
            }
        }
    }

    /// What the server sent that no [`Conn::read_response`] consumed.
    pub fn received(&self) -> &[u8] {
        &self.buf
    }
}

fn parse(buf: &[u8]) -> Option<RawResponse> {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut response = RawResponse {
        status,
        headers,
        body: buf[split + 4..].to_vec(),
    };
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        response.body = dechunk(&response.body)?;
    }
    Some(response)
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..eol]).ok()?;
        let n = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if n == 0 {
            return Some(out);
        }
        let chunk = body.get(eol + 2..eol + 2 + n)?;
        out.extend_from_slice(chunk);
        body = body.get(eol + 4 + n..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = parse(raw).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"abcde");
        let plain = parse(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!((plain.status, plain.text().as_str()), (404, "{}"));
        assert!(parse(b"garbage").is_none());
    }
}
