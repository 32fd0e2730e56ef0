//! The per-user identity: a random signature (UUID v4) and the salt of the
//! optional project hash. Neither is derived from anything on the machine; the
//! salt never leaves it. Kept in `id.json`; a corrupt file is replaced by a new
//! identity.

use ring::hmac;
use serde_json::Value;

use crate::layout;
use crate::state::{object, str_field, Json, StateDir};

/// Contents of `id.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// Random UUID v4, lower case.
    pub(crate) signature: String,
    /// 32 random bytes, hex.
    pub(crate) salt: String,
}

impl Json for Identity {
    fn from_json(v: &Value) -> Option<Self> {
        Some(Identity {
            signature: str_field(v, "signature")?,
            salt: str_field(v, "salt")?,
        })
    }
    fn to_json(&self) -> Value {
        object([
            ("signature", Some(self.signature.clone().into())),
            ("salt", Some(self.salt.clone().into())),
        ])
    }
}

impl Identity {
    /// A fresh identity; `None` when the operating system gives no randomness.
    fn generate() -> Option<Self> {
        Some(Self {
            signature: crate::random::uuid_v4()?,
            salt: crate::random::hex(&crate::random::bytes::<32>()?),
        })
    }

    fn is_valid(&self) -> bool {
        sonde_protocol::shapes::signature(&self.signature).is_ok()
            && self.salt.len() == 64
            && self.salt.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// Loads `id.json`, or creates (and saves) a fresh identity when it is
    /// missing or corrupt. Fails only when the new one cannot be saved.
    pub(crate) fn load_or_create(state: &StateDir) -> std::io::Result<Self> {
        if let Some(id) = state.read_json::<Identity>(layout::ID).filter(Identity::is_valid) {
            return Ok(id);
        }
        let id = Identity::generate().ok_or_else(|| std::io::Error::other("no randomness"))?;
        state.write_json(layout::ID, &id)?;
        Ok(id)
    }

    /// The salted project hash: the first 4 bytes (8 hex digits) of
    /// HMAC-SHA-256 keyed with the salt over `value`. The value itself never
    /// leaves the machine, and without the salt the hash cannot be reversed by
    /// guessing common paths.
    pub(crate) fn keyed_hash(&self, value: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.salt.as_bytes());
        let tag = hmac::sign(&key, value);
        tag.as_ref()[..4].iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_random_valid_and_replaced_when_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let a = Identity::load_or_create(&state).unwrap();
        assert!(a.is_valid());
        assert_eq!(&a.signature[14..15], "4", "UUID version 4");
        assert_eq!(Identity::load_or_create(&state).unwrap(), a);
        std::fs::write(state.path(layout::ID), "{\"signature\": \"x\"").unwrap();
        let b = Identity::load_or_create(&state).unwrap();
        assert!(b.is_valid());
        assert_ne!(a.signature, b.signature);
    }

    #[test]
    fn keyed_hash_depends_on_the_salt() {
        let a = Identity::generate().unwrap();
        let b = Identity::generate().unwrap();
        assert_eq!(a.keyed_hash(b"/src/app").len(), 8);
        assert_eq!(a.keyed_hash(b"/src/app"), a.keyed_hash(b"/src/app"));
        assert_ne!(a.keyed_hash(b"/src/app"), b.keyed_hash(b"/src/app"));
        assert!(sonde_protocol::shapes::hash(&a.keyed_hash(b"x")).is_ok());
    }
}
