//! The TLS server configuration: a PEM certificate chain and private key,
//! rustls with the ring provider, and HTTP/1.1 as the only protocol offered
//! by ALPN (the collector does not speak HTTP/2).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file could not be read or holds no PEM certificate.
    #[error("certificate: {0}")]
    Certificate(#[source] rustls::pki_types::pem::Error),
    /// The key file could not be read or holds no PEM private key.
    #[error("private key: {0}")]
    Key(#[source] rustls::pki_types::pem::Error),
    /// rustls refused the pair (a key that does not match the certificate, ...).
    #[error(transparent)]
    Rustls(#[from] rustls::Error),
}

/// An acceptor for the certificate chain in `cert` and the key in `key`.
pub(crate) fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(TlsError::Certificate)?;
    if chain.is_empty() {
        return Err(TlsError::Certificate(rustls::pki_types::pem::Error::NoItemsFound));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(TlsError::Key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
