//! UUIDs in their text layout (`0b3f4c4e-1d2a-4c3b-8f00-0123456789ab`): the
//! one parser and formatter of the workspace, and the version 4 and 7 ids
//! (RFC 9562) built from bytes the caller supplies (the client library
//! draws them from its own random source).

/// Formats 16 bytes in the UUID layout, lower case with hyphens.
///
/// ```
/// let id = sonde_protocol::uuid::format(&[0xab; 16]);
/// assert_eq!(id, "abababab-abab-abab-abab-abababababab");
/// ```
pub fn format(bytes: &[u8; 16]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Parses the UUID layout (36 characters, hyphens at 8, 13, 18 and 23, hex
/// digits of either case elsewhere) into its 16 bytes; `None` otherwise.
/// Any version and variant is accepted.
///
/// ```
/// let bytes = sonde_protocol::uuid::parse("0B3F4C4E-1d2a-4c3b-8f00-0123456789ab").unwrap();
/// assert_eq!(bytes[0], 0x0b);
/// assert_eq!(bytes[15], 0xab);
/// assert_eq!(sonde_protocol::uuid::parse("0b3f4c4e1d2a4c3b8f000123456789ab"), None);
/// ```
pub fn parse(s: &str) -> Option<[u8; 16]> {
    let text = s.as_bytes();
    if text.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = 0;
    for (i, &c) in text.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let nibble = char::from(c).to_digit(16)?;
        out[digits / 2] |= (nibble as u8) << if digits % 2 == 0 { 4 } else { 0 };
        digits += 1;
    }
    Some(out)
}

/// Parses the UUID layout and gives it back lower case; `None` when `s` is
/// not one.
///
/// ```
/// let id = sonde_protocol::uuid::normalize("0B3F4C4E-1D2A-4C3B-8F00-0123456789AB");
/// assert_eq!(id.as_deref(), Some("0b3f4c4e-1d2a-4c3b-8f00-0123456789ab"));
/// ```
pub fn normalize(s: &str) -> Option<String> {
    parse(s).map(|bytes| format(&bytes))
}

/// A version 4 UUID from 16 random bytes (six of their bits are replaced by
/// the version and variant).
///
/// ```
/// let id = sonde_protocol::uuid::v4([0xff; 16]);
/// assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
/// ```
pub fn v4(mut random: [u8; 16]) -> String {
    set_version(&mut random, 4);
    format(&random)
}

/// A version 7 UUID: the Unix time in milliseconds (48 bits), then 74 bits
/// of `random` (its first six bytes and six more bits are not used).
/// Time-ordered: ids of later milliseconds sort after earlier ones.
///
/// ```
/// let id = sonde_protocol::uuid::v7(0x0190_1234_5678, [0xff; 16]);
/// assert_eq!(id, "01901234-5678-7fff-bfff-ffffffffffff");
/// ```
pub fn v7(unix_ms: u64, mut random: [u8; 16]) -> String {
    random[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
    set_version(&mut random, 7);
    format(&random)
}

/// Sets the version nibble and the RFC 9562 variant bits.
fn set_version(bytes: &mut [u8; 16], version: u8) {
    bytes[6] = (bytes[6] & 0x0f) | (version << 4);
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
}

#[cfg(test)]
mod tests {

    #[test]
    fn uuid_layout_to_bytes() {
        let bytes = parse("0B3F4C4E-1d2a-4c3b-8f00-0123456789ab").unwrap();
        assert_eq!(
            bytes,
            [0x0b, 0x3f, 0x4c, 0x4e, 0x1d, 0x2a, 0x4c, 0x3b, 0x8f, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab]
        );
        for bad in [
            "",
            "0b3f4c4e1d2a4c3b8f000123456789ab",
            "0b3f4c4e-1d2a-4c3b-8f00-0123456789a",
            "0b3f4c4e-1d2a-4c3b-8f00-0123456789abc",
            "0b3f4c4e-1d2a-4c3b-8f00_0123456789ab",
            "0b3f4c4e-1d2a-4c3b-8f00-0123456789ag",
            "+b3f4c4e-1d2a-4c3b-8f00-0123456789ab",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
    use super::*;

    #[test]
    fn format_and_parse_round_trip() {
        let bytes: [u8; 16] = std::array::from_fn(|i| (i as u8) * 17);
        let text = format(&bytes);
        assert_eq!(text, "00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(parse(&text), Some(bytes));
        assert_eq!(parse(&text.to_ascii_uppercase()), Some(bytes));
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "",
            "00112233-4455-6677-8899-aabbccddeef",
            "00112233-4455-6677-8899-aabbccddeeff0",
            "00112233_4455-6677-8899-aabbccddeeff",
            "0011223g-4455-6677-8899-aabbccddeeff",
            "+0112233-4455-6677-8899-aabbccddeeff",
            "00112233-4455-6677-8899-aabbccddeéf",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn version_7_ids_sort_by_time() {
        let earlier = v7(1_700_000_000_000, [0xff; 16]);
        let later = v7(1_700_000_000_001, [0x00; 16]);
        assert!(earlier < later);
        assert_eq!(&later[14..15], "7");
        assert_eq!(&later[19..20], "8");
    }
}
