//! The command-line parser of command events: a `command` string is split
//! into its command path and the names of its flags; flag values and
//! positional arguments are dropped and counted as `argument_value`.

use crate::dropped::{DropReason, Dropped};
use crate::limits::{MAX_COMMAND_LEN, MAX_COMMAND_WORDS, MAX_COMMAND_WORD_LEN, MAX_FLAGS, MAX_FLAG_LEN};
use crate::privacy::find_identifying;

/// Splits a command line into its path (leading command words) and the names
/// of its flags. Everything else — flag values, positional arguments, any word
/// after the first flag that is not a flag — is dropped and counted as
/// `argument_value`.
///
/// ```
/// use sonde_protocol::command;
/// let mut dropped = Vec::new();
/// let (path, flags) = command::parse("hasura migrate apply --endpoint=https://h.example --admin-secret s3cret ./dir", &mut dropped).unwrap();
/// assert_eq!(path.as_deref(), Some("hasura migrate apply"));
/// assert_eq!(flags, ["--endpoint", "--admin-secret"]);
/// assert_eq!(dropped.len(), 3); // the endpoint value, "s3cret", "./dir"
/// ```
pub fn parse(s: &str, dropped: &mut Vec<Dropped>) -> Result<(Option<String>, Vec<String>), DropReason> {
    if s.len() > MAX_COMMAND_LEN {
        return Err(DropReason::TooLong);
    }
    let mut path: Vec<&str> = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    let mut in_path = true;
    for tok in s.split_whitespace() {
        if tok == "--" {
            in_path = false;
            continue;
        }
        if tok.starts_with('-') && tok.len() > 1 {
            in_path = false;
            match flag_name(tok, dropped) {
                Ok(name) if flags.len() < MAX_FLAGS => {
                    if !flags.contains(&name) {
                        flags.push(name);
                    }
                }
                Ok(_) => dropped.push(Dropped {
                    field: "command",
                    reason: DropReason::TooLong,
                }),
                Err(reason) => dropped.push(Dropped {
                    field: "command",
                    reason,
                }),
            }
        } else if in_path && path.len() < MAX_COMMAND_WORDS && is_command_word(tok) && find_identifying(tok).is_none() {
            path.push(tok);
        } else {
            in_path = false;
            dropped.push(Dropped {
                field: "command",
                reason: DropReason::ArgumentValue,
            });
        }
    }
    let path = if path.is_empty() { None } else { Some(path.join(" ")) };
    if path.is_none() && flags.is_empty() {
        return Err(DropReason::InvalidFormat);
    }
    Ok((path, flags))
}

/// A word of a command path: `[a-z][a-z0-9_:-]*`, at most 32 bytes.
fn is_command_word(w: &str) -> bool {
    w.len() <= MAX_COMMAND_WORD_LEN
        && w.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && w.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b':'))
}

/// A flag name (`--endpoint`, `-v`); a `=value` part is dropped and counted.
pub(crate) fn flag_name(t: &str, dropped: &mut Vec<Dropped>) -> Result<String, DropReason> {
    let (name, value) = match t.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (t, None),
    };
    if value.is_some() {
        dropped.push(Dropped {
            field: "flags",
            reason: DropReason::ArgumentValue,
        });
    }
    let bare = name.trim_start_matches('-');
    let dashes = name.len() - bare.len();
    if name.len() > MAX_FLAG_LEN {
        return Err(DropReason::TooLong);
    }
    let ok = (1..=2).contains(&dashes)
        && bare.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok {
        return Err(DropReason::InvalidFormat);
    }
    if let Some(hit) = find_identifying(bare) {
        return Err(hit.into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_drops_values_that_look_like_paths_or_names() {
        let mut d = Vec::new();
        let (path, flags) = parse("prisma migrate dev ./schema.prisma Alice", &mut d).unwrap();
        assert_eq!(path.as_deref(), Some("prisma migrate dev"));
        assert!(flags.is_empty());
        assert_eq!(d.len(), 2);
        assert_eq!(parse("./x", &mut d), Err(DropReason::InvalidFormat));
        assert_eq!(parse(&"a ".repeat(400), &mut d), Err(DropReason::TooLong));
    }
}
