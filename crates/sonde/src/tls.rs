//! The uploader's TLS: rustls with `ring`, trimmed to what a telemetry
//! client needs, and the ureq connector that uses it.
//!
//! The connector is the library's own rather than ureq's `rustls` feature,
//! because that feature turns on rustls's `tls12` and `logging` features for
//! every build: TLS 1.2 is opt-in here (the `tls12` feature of this crate;
//! by default only TLS 1.3 is offered, which every current server and the
//! sonde collector speak), and the library never logs. Together about
//! 0.2 MiB of the host's binary in Cargo's default release profile
//! (bench/runs/2026-11-22/client-size.md). It uses ureq's transport API (`ureq::unversioned`, which
//! ureq may change in a minor release; docs/client.md says how that is
//! checked and what ureq's own TLS would cost instead) in the
//! same chain as ureq's default connector: CONNECT proxy (`HTTPS_PROXY`,
//! `NO_PROXY`), TCP, then TLS.
//!
//! `rustls::crypto::ring::default_provider()` brings every cipher suite and a
//! key provider for client certificates. Sonde never presents a client
//! certificate, and AES-GCM is mandatory for every TLS 1.3 server (RFC 8446
//! §9.1) and offered by every current TLS 1.2 server, so the provider here
//! offers the AES-GCM suites only (TLS 1.3, and with the `tls12` feature
//! ECDHE with ECDSA or RSA for TLS 1.2) and refuses private keys.
//! Certificate verification is unchanged: every signature algorithm rustls
//! verifies with `ring`, through the
//! platform's verifier. Leaving out ChaCha20-Poly1305 and the signing code
//! keeps about 0.1 MiB out of the host's binary.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::crypto::ring::{cipher_suite as cs, kx_group};
use rustls::crypto::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::SignatureScheme as S;
use webpki::ring as alg;

/// What the verifier accepts: every algorithm `rustls-webpki` verifies with
/// `ring`, for certificate chains (`all`) and, per TLS signature scheme, for
/// the server's handshake signature (`mapping`). RSA keys from 2048 bits.
/// Taken from the library constants rather than from
/// `ring::default_provider()`, whose use would link the parts left out above.
static VERIFY: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::ED25519,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        (
            S::ECDSA_NISTP256_SHA256,
            &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
        ),
        (
            S::ECDSA_NISTP384_SHA384,
            &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
        ),
        (S::ED25519, &[alg::ED25519]),
        (S::RSA_PSS_SHA256, &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY]),
        (S::RSA_PSS_SHA384, &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY]),
        (S::RSA_PSS_SHA512, &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY]),
        (S::RSA_PKCS1_SHA256, &[alg::RSA_PKCS1_2048_8192_SHA256]),
        (S::RSA_PKCS1_SHA384, &[alg::RSA_PKCS1_2048_8192_SHA384]),
        (S::RSA_PKCS1_SHA512, &[alg::RSA_PKCS1_2048_8192_SHA512]),
    ],
};

/// Randomness from the operating system, through `ring`.
#[derive(Debug)]
struct SystemRandom;

impl SecureRandom for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        use ring::rand::SecureRandom as _;
        ring::rand::SystemRandom::new().fill(buf).map_err(|_| GetRandomFailed)
    }
}

/// Client certificates are never used: no private key is ever loaded.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(&self, _key: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General("sonde does not use client certificates".into()))
    }
}

/// The provider the uploader's agent uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_AES_256_GCM_SHA384,
            #[cfg(feature = "tls12")]
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            #[cfg(feature = "tls12")]
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            #[cfg(feature = "tls12")]
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            #[cfg(feature = "tls12")]
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        signature_verification_algorithms: VERIFY,
        secure_random: &SystemRandom,
        key_provider: &NoClientKeys,
    })
}

/// The protocol versions offered: TLS 1.3, and 1.2 with the `tls12` feature.
/// (Not `rustls::ALL_VERSIONS`: another crate in the host may turn on
/// rustls's `tls12` without this crate's feature, and then no 1.2 suite is
/// in the provider.)
#[cfg(not(feature = "tls12"))]
static VERSIONS: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
#[cfg(feature = "tls12")]
static VERSIONS: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// An agent with `config` that speaks HTTPS through the provider above and
/// the platform's verifier. If the verifier cannot be set up (no trust
/// store), every HTTPS connection fails as a transport error would: the item
/// stays queued and the uploader backs off.
pub(crate) fn agent(config: ureq::config::Config) -> ureq::Agent {
    use ureq::unversioned::resolver::DefaultResolver;
    use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
    // The order of ureq's default connector: a CONNECT proxy when the
    // config has one for this host, else a TCP connection; then TLS.
    let connector =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(TlsConnector(client_config()));
    ureq::Agent::with_parts(config, connector, DefaultResolver::default())
}

fn client_config() -> Option<Arc<rustls::ClientConfig>> {
    let provider = provider();
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).ok()?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)
        .ok()?
        .dangerous() // not dangerous: the platform's verifier
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Some(Arc::new(config))
}

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

/// Wraps the chained transport in TLS for `https://` URLs (`None`: no
/// verifier could be set up, and every HTTPS connection fails).
#[derive(Debug)]
struct TlsConnector(Option<Arc<rustls::ClientConfig>>);

impl<In: Transport> ureq::unversioned::transport::Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(&self, details: &ConnectionDetails<'_>, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::Tls("no connection to wrap in TLS"));
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let Some(config) = &self.0 else {
            return Err(ureq::Error::Tls("no certificate verifier (trust store not found)"));
        };
        let host = details.uri.host().unwrap_or_default();
        // An IPv6 literal is `[::1]` in the URL.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = rustls::pki_types::ServerName::try_from(host)
            .map_err(|_| ureq::Error::Tls("invalid server name"))?
            .to_owned();
        let mut conn = rustls::ClientConnection::new(config.clone(), name).map_err(tls_error)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        // The handshake gets what is left of the connection's timeout.
        sock.set_timeout(remaining(details));
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: rustls::StreamOwned { conn, sock },
        })))
    }
}

/// `details.timeout` less the time since `details.now`.
fn remaining(details: &ConnectionDetails<'_>) -> NextTimeout {
    use ureq::unversioned::transport::time::{Duration, Instant};
    let mut timeout = details.timeout;
    if let (Duration::Exact(limit), Instant::Exact(now), Instant::Exact(start)) =
        (timeout.after, (details.current_time)(), details.now)
    {
        timeout.after = Duration::Exact(limit.saturating_sub(now.saturating_duration_since(start)));
    }
    timeout
}

fn tls_error(e: rustls::Error) -> ureq::Error {
    ureq::Error::Io(std::io::Error::other(e))
}

/// A TLS connection, as ureq's own rustls transport.
struct TlsTransport {
    buffers: LazyBuffers,
    stream: rustls::StreamOwned<rustls::ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
