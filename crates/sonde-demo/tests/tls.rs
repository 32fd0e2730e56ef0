//! HTTPS end to end: the uploader reaches the real collector through a
//! TLS-terminating front (rustls, a certificate from a test CA), with the
//! library's own trimmed crypto provider and the platform verifier, which on
//! Linux trusts the CA named by `SSL_CERT_FILE`. Without that CA the
//! handshake is refused and the ping stays queued. Also: HTTPS through a
//! CONNECT proxy (`HTTPS_PROXY`), and a collector that only speaks TLS 1.2 is
//! refused by a default build (TLS 1.2 is the library's opt-in `tls12`
//! feature).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;

/// A CA and a leaf for `localhost` signed by it: (ca.pem, leaf chain, leaf key).
fn pki(
    dir: &Path,
) -> (
    PathBuf,
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    let ca = sonde_testkit::tls::TestCa::new("Sonde client TLS test CA");
    let leaf = ca.leaf("localhost");
    let ca_pem = dir.join("ca.pem");
    std::fs::write(&ca_pem, &ca.pem).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf.key_der.into());
    (ca_pem, vec![leaf.cert_der.into(), ca.der.into()], key)
}

/// Terminates TLS on loopback and forwards each request to `backend` as
/// plain HTTP (one request per connection). Returns its address.
fn tls_front(
    backend: SocketAddr,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                // The request head (the uploader's pings are GETs: no body).
                let mut head = Vec::new();
                {
                    let mut reader = BufReader::new(&mut tls);
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return; // handshake refused or connection closed
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if !line.to_ascii_lowercase().starts_with("connection:") {
                            head.extend_from_slice(line.as_bytes());
                        }
                    }
                }
                head.extend_from_slice(b"Connection: close\r\n\r\n");
                let mut upstream = TcpStream::connect(backend).unwrap();
                upstream.write_all(&head).unwrap();
                let mut answer = Vec::new();
                upstream.read_to_end(&mut answer).unwrap();
                tls.write_all(&answer).unwrap();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

/// The real collector behind a TLS front speaking `versions`, with a test CA
/// (`ca_pem`) that signed the front's certificate for `localhost`.
struct Https {
    collector: Collector,
    ca_pem: PathBuf,
    front: SocketAddr,
    _pki_dir: tempfile::TempDir,
}

impl Https {
    fn start(versions: &[&'static rustls::SupportedProtocolVersion]) -> Self {
        let collector = Collector::start();
        let backend: SocketAddr = collector.url().trim_start_matches("http://").parse().unwrap();
        let pki_dir = tempfile::tempdir().unwrap();
        let (ca_pem, chain, key) = pki(pki_dir.path());
        let front = tls_front(backend, chain, key, versions);
        Https {
            collector,
            ca_pem,
            front,
            _pki_dir: pki_dir,
        }
    }

    /// The front's `https://` URL, by the name its certificate is for.
    fn endpoint(&self) -> String {
        format!("https://localhost:{}", self.front.port())
    }

    /// A sandbox sending to [`Self::endpoint`] that trusts the test CA.
    fn trusting_sandbox(&self) -> Sandbox {
        Sandbox::new(&self.endpoint()).env("SSL_CERT_FILE", self.ca_pem.to_str().unwrap())
    }
}

#[test]
fn a_ping_over_https_reaches_the_collector_and_an_untrusted_certificate_is_refused() {
    let https = Https::start(rustls::DEFAULT_VERSIONS);
    let endpoint = https.endpoint();

    // Without the test CA in the trust store the handshake fails: nothing
    // is stored and the ping stays queued for a retry.
    let untrusting = Sandbox::new(&endpoint).env("SSL_CERT_FILE", "/nonexistent/ca.pem");
    untrusting.run_work();
    wait_for("the uploader to give up", || {
        untrusting.state().join("retry-at").exists() && !untrusting.uploader_running()
    });
    assert_eq!(untrusting.spool_items().len(), 1);
    assert_eq!(https.collector.ping_count(), 0);

    // With it, the ping goes through.
    let sandbox = https.trusting_sandbox();
    sandbox.run_work();
    wait_for("the ping to be stored", || https.collector.ping_count() == 1);
    sandbox.wait_drained();
    let log = sandbox.run(&["telemetry", "log"]);
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(
        log.contains(&format!(" sent (200) GET {endpoint}/v1/check/sonde-demo?")),
        "{log}"
    );
    assert!(sandbox.state().join("check.json").exists());
}

#[test]
fn https_goes_through_the_connect_proxy() {
    let https = Https::start(rustls::DEFAULT_VERSIONS);
    let (proxy, seen) = recording_proxy();
    let sandbox = https.trusting_sandbox().env("HTTPS_PROXY", &format!("http://{proxy}"));
    sandbox.run_work();
    wait_for("the ping to be stored", || https.collector.ping_count() == 1);
    sandbox.wait_drained();
    assert_eq!(
        *seen.lock().unwrap(),
        [format!("CONNECT localhost:{} HTTP/1.1", https.front.port())]
    );
}

#[test]
fn a_collector_that_only_speaks_tls_1_2_is_refused_by_a_default_build() {
    let https = Https::start(&[&rustls::version::TLS12]);
    let sandbox = https.trusting_sandbox();
    sandbox.run_work();
    wait_for("the uploader to give up", || {
        sandbox.state().join("retry-at").exists() && !sandbox.uploader_running()
    });
    assert_eq!(sandbox.spool_items().len(), 1);
    assert_eq!(https.collector.ping_count(), 0);
}
