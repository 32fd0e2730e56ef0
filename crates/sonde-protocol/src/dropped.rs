//! What the collector drops before storage, and why: [`DropReason`] and the
//! [`Dropped`] record that names the field.
//!
//! A malformed value in a known field never breaks the answer to a real
//! client: the collector drops that one field from the stored row and counts
//! the reason.

use crate::privacy::PrivacyHit;

/// Why a value (or a whole field) was dropped before storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// A field the allowlist does not know.
    UnknownField,
    /// Longer than the field's limit.
    TooLong,
    /// Empty where a value is required, or characters outside the field's set.
    InvalidFormat,
    /// Not a UUID layout (8-4-4-4-12 hex).
    InvalidSignature,
    /// Looked like an e-mail address.
    Email,
    /// Looked like an IP address.
    IpAddress,
    /// Looked like a URL.
    Url,
    /// Looked like a path in a home directory.
    HomePath,
    /// Looked like a credential.
    Secret,
    /// A string where only numbers and booleans are allowed (metrics leaves).
    NotANumber,
    /// A route that matches none of the product's registered route templates.
    UnknownRoute,
    /// A flag value or positional argument in a command (only the command
    /// path and flag names are kept).
    ArgumentValue,
    /// Free text or a payload object (error messages, `payload`), which is
    /// never stored.
    FreeText,
    /// Looked like a database connection string.
    ConnectionString,
    /// Looked like a host name.
    Hostname,
    /// Looked like a `user@host` login.
    UserAtHost,
    /// Looked like a path to a database file.
    DatabasePath,
    /// Looked like a payment card number.
    CardNumber,
    /// Looked like an IBAN.
    Iban,
    /// Looked like a MAC address.
    MacAddress,
    /// Looked like a phone number.
    PhoneNumber,
    /// Shaped like a social security number.
    Ssn,
    /// A well-formed value outside the field's closed list (an `os` that is
    /// no known operating system, a CI vendor not in the table) or outside
    /// the product's registered vocabulary (a command word, flag name,
    /// metrics key or console event type it did not register).
    NotInVocabulary,
}

impl DropReason {
    /// Every reason, in a stable order.
    pub const ALL: [DropReason; 23] = [
        DropReason::UnknownField,
        DropReason::TooLong,
        DropReason::InvalidFormat,
        DropReason::InvalidSignature,
        DropReason::Email,
        DropReason::IpAddress,
        DropReason::Url,
        DropReason::HomePath,
        DropReason::Secret,
        DropReason::NotANumber,
        DropReason::UnknownRoute,
        DropReason::ArgumentValue,
        DropReason::FreeText,
        DropReason::ConnectionString,
        DropReason::Hostname,
        DropReason::UserAtHost,
        DropReason::DatabasePath,
        DropReason::CardNumber,
        DropReason::Iban,
        DropReason::MacAddress,
        DropReason::PhoneNumber,
        DropReason::Ssn,
        DropReason::NotInVocabulary,
    ];

    /// A short stable name, as stored and shown by `sonde stats rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::UnknownField => "unknown_field",
            DropReason::TooLong => "too_long",
            DropReason::InvalidFormat => "invalid_format",
            DropReason::InvalidSignature => "invalid_signature",
            DropReason::Email => "email",
            DropReason::IpAddress => "ip_address",
            DropReason::Url => "url",
            DropReason::HomePath => "home_path",
            DropReason::Secret => "secret",
            DropReason::NotANumber => "not_a_number",
            DropReason::UnknownRoute => "unknown_route",
            DropReason::ArgumentValue => "argument_value",
            DropReason::FreeText => "free_text",
            DropReason::ConnectionString => "connection_string",
            DropReason::Hostname => "hostname",
            DropReason::UserAtHost => "user_at_host",
            DropReason::DatabasePath => "database_path",
            DropReason::CardNumber => "card_number",
            DropReason::Iban => "iban",
            DropReason::MacAddress => "mac_address",
            DropReason::PhoneNumber => "phone_number",
            DropReason::Ssn => "ssn",
            DropReason::NotInVocabulary => "not_in_vocabulary",
        }
    }

    /// The reason named `s`, the inverse of [`DropReason::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl From<PrivacyHit> for DropReason {
    fn from(hit: PrivacyHit) -> Self {
        match hit {
            PrivacyHit::Email => DropReason::Email,
            PrivacyHit::IpAddress => DropReason::IpAddress,
            PrivacyHit::Url => DropReason::Url,
            PrivacyHit::HomePath => DropReason::HomePath,
            PrivacyHit::Secret => DropReason::Secret,
            PrivacyHit::ConnectionString => DropReason::ConnectionString,
            PrivacyHit::Hostname => DropReason::Hostname,
            PrivacyHit::UserAtHost => DropReason::UserAtHost,
            PrivacyHit::DatabasePath => DropReason::DatabasePath,
            PrivacyHit::CardNumber => DropReason::CardNumber,
            PrivacyHit::Iban => DropReason::Iban,
            PrivacyHit::MacAddress => DropReason::MacAddress,
            PrivacyHit::PhoneNumber => DropReason::PhoneNumber,
            PrivacyHit::Ssn => DropReason::Ssn,
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value dropped before storage: which field, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dropped {
    /// The field's name (`"*"` for unknown fields, whose names are not kept).
    pub field: &'static str,
    /// Why it was dropped.
    pub reason: DropReason,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip() {
        for r in DropReason::ALL {
            assert_eq!(DropReason::parse(r.as_str()), Some(r));
        }
    }
}
