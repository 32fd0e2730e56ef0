//! A test certificate authority and the leaf certificates it signs, for TLS
//! peers on loopback (an HTTPS front, a fake well-known host).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// A CA made for one test.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM.
    pub pem: String,
    /// The CA certificate, DER.
    pub der: Vec<u8>,
}

#[derive(Debug)]
/// A leaf certificate signed by a [`TestCa`], and its key.
pub struct Leaf {
    /// The leaf certificate, PEM.
    pub cert_pem: String,
    /// The leaf certificate, DER.
    pub cert_der: Vec<u8>,
    /// The leaf's private key, PKCS #8 PEM.
    pub key_pem: String,
    /// The leaf's private key, PKCS #8 DER.
    pub key_der: Vec<u8>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").field("pem", &self.pem).finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA whose certificate is named `name`.
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).expect("self-sign the CA");
        TestCa {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `host`, signed by this CA.
    pub fn leaf(&self, host: &str) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::new(vec![host.to_owned()]).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, host);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.issuer).expect("sign the leaf");
        Leaf {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        }
    }

    /// Writes `ca.pem`, and for a leaf for `host`, `chain.pem` (leaf then CA)
    /// and `key.pem`, into `dir`; returns the three paths in that order.
    pub fn write_files(&self, dir: &Path, host: &str) -> (PathBuf, PathBuf, PathBuf) {
        let leaf = self.leaf(host);
        let (ca, chain, key) = (dir.join("ca.pem"), dir.join("chain.pem"), dir.join("key.pem"));
        std::fs::write(&ca, &self.pem).expect("write ca.pem");
        std::fs::write(&chain, leaf.cert_pem + &self.pem).expect("write chain.pem");
        std::fs::write(&key, leaf.key_pem).expect("write key.pem");
        (ca, chain, key)
    }
}
