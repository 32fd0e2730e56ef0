//! Product names: the key under which releases, alerts and pings are kept.

use std::fmt;

use crate::limits::MAX_PRODUCT_LEN;

/// A validated product name: 1 to 64 bytes of lower-case ASCII letters, digits,
/// `-`, `_` and `.`, starting with a letter or digit.
///
/// ```
/// use sonde_protocol::ProductName;
/// assert!(ProductName::parse("terraform").is_ok());
/// assert!(ProductName::parse("prisma-cli").is_ok());
/// assert!(ProductName::parse("../etc").is_err());
/// assert!(ProductName::parse("").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductName(String);

/// Why a product name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductNameError {
    /// The name was empty.
    #[error("product name is empty")]
    Empty,
    /// The name was longer than [`MAX_PRODUCT_LEN`].
    #[error("product name is longer than {MAX_PRODUCT_LEN} bytes")]
    TooLong,
    /// The name held a character outside `[a-z0-9._-]`, or did not start with a
    /// letter or digit.
    #[error("product name may only hold a-z, 0-9, '.', '_' and '-', starting with a letter or digit")]
    InvalidCharacter,
}

impl ProductName {
    /// Checks `name` and wraps it.
    pub fn parse(name: &str) -> Result<Self, ProductNameError> {
        if name.is_empty() {
            return Err(ProductNameError::Empty);
        }
        if name.len() > MAX_PRODUCT_LEN {
            return Err(ProductNameError::TooLong);
        }
        let bytes = name.as_bytes();
        if !bytes[0].is_ascii_lowercase() && !bytes[0].is_ascii_digit() {
            return Err(ProductNameError::InvalidCharacter);
        }
        if !bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(ProductNameError::InvalidCharacter);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProductName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ProductName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
