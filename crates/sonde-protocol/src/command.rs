//! The command-line parser of command events: a `command` string is split
//! into its command path and the names of its flags; flag values and
//! positional arguments are dropped and counted as `argument_value`.
//!
//! When the product registered command paths or flag names
//! ([`crate::vocabulary`]), only those are kept: the path is the longest
//! registered path the leading words form, and an unregistered flag is
//! dropped as `not_in_vocabulary`. When it registered none, command words
//! must be `[a-z][a-z0-9_-]*` and flag names `--[A-Za-z0-9][A-Za-z0-9._-]*`,
//! with nothing identifying in either.

use crate::dropped::{DropReason, Dropped};
use crate::limits::{MAX_COMMAND_LEN, MAX_COMMAND_WORDS, MAX_FLAGS, MAX_FLAG_LEN};
use crate::privacy::find_identifying;
use crate::vocabulary::{is_command_word, is_flag_name, Vocabulary, WordKind};

fn count(dropped: &mut Vec<Dropped>, field: &'static str, reason: DropReason) {
    dropped.push(Dropped { field, reason });
}

/// Splits a command line into its path (leading command words) and the names
/// of its flags. Everything else — flag values, positional arguments, any word
/// after the first flag that is not a flag — is dropped and counted as
/// `argument_value`.
///
/// ```
/// use sonde_protocol::{command, vocabulary::Vocabulary};
/// let mut dropped = Vec::new();
/// let none = Vocabulary::new();
/// let (path, flags) = command::parse("hasura migrate apply --endpoint=https://h.example --admin-secret s3cret ./dir", &none, &mut dropped).unwrap();
/// assert_eq!(path.as_deref(), Some("hasura migrate apply"));
/// assert_eq!(flags, ["--endpoint", "--admin-secret"]);
/// assert_eq!(dropped.len(), 3); // the endpoint value, "s3cret", "./dir"
/// ```
pub fn parse(
    s: &str,
    vocab: &Vocabulary,
    dropped: &mut Vec<Dropped>,
) -> Result<(Option<String>, Vec<String>), DropReason> {
    if s.len() > MAX_COMMAND_LEN {
        return Err(DropReason::TooLong);
    }
    let mut lead: Vec<&str> = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    let mut in_path = true;
    for tok in s.split_whitespace() {
        if tok == "--" {
            in_path = false;
            continue;
        }
        if tok.starts_with('-') && tok.len() > 1 {
            in_path = false;
            match flag_name(tok, vocab, dropped) {
                Ok(name) if flags.len() < MAX_FLAGS => {
                    if !flags.contains(&name) {
                        flags.push(name);
                    }
                }
                Ok(_) => count(dropped, "command", DropReason::TooLong),
                Err(reason) => count(dropped, "command", reason),
            }
        } else if in_path && lead.len() < MAX_COMMAND_WORDS && is_command_word(tok) {
            lead.push(tok);
        } else {
            in_path = false;
            count(dropped, "command", DropReason::ArgumentValue);
        }
    }
    let path = command_path(&lead, vocab, dropped);
    if path.is_none() && flags.is_empty() {
        return Err(DropReason::InvalidFormat);
    }
    Ok((path, flags))
}

/// The command path among the leading words: the longest registered path,
/// or (nothing registered) the words up to the first identifying one. The
/// words left out are counted.
fn command_path(lead: &[&str], vocab: &Vocabulary, dropped: &mut Vec<Dropped>) -> Option<String> {
    let n = if vocab.has(WordKind::Command) {
        let n = vocab.command_path(lead).unwrap_or(0);
        if n == 0 && !lead.is_empty() {
            count(dropped, "command", DropReason::NotInVocabulary);
            for _ in 1..lead.len() {
                count(dropped, "command", DropReason::ArgumentValue);
            }
            return None;
        }
        n
    } else {
        lead.iter()
            .position(|w| find_identifying(w).is_some())
            .unwrap_or(lead.len())
    };
    for w in &lead[n..] {
        let reason = find_identifying(w).map_or(DropReason::ArgumentValue, DropReason::from);
        count(dropped, "command", reason);
    }
    (n > 0).then(|| lead[..n].join(" "))
}

/// A flag name (`--endpoint`, `-v`); a `=value` part is dropped and counted.
pub(crate) fn flag_name(t: &str, vocab: &Vocabulary, dropped: &mut Vec<Dropped>) -> Result<String, DropReason> {
    let (name, value) = match t.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (t, None),
    };
    if value.is_some() {
        count(dropped, "flags", DropReason::ArgumentValue);
    }
    if name.len() > MAX_FLAG_LEN {
        return Err(DropReason::TooLong);
    }
    if vocab.has(WordKind::Flag) {
        if vocab.contains(WordKind::Flag, name) {
            return Ok(name.to_owned());
        }
        return Err(find_identifying(name).map_or(DropReason::NotInVocabulary, DropReason::from));
    }
    if let Some(hit) = find_identifying(name.trim_start_matches('-')) {
        return Err(hit.into());
    }
    if !is_flag_name(name) {
        return Err(DropReason::InvalidFormat);
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_drops_values_that_look_like_paths_or_names() {
        let mut d = Vec::new();
        let none = Vocabulary::new();
        let (path, flags) = parse("prisma migrate dev ./schema.prisma Alice", &none, &mut d).unwrap();
        assert_eq!(path.as_deref(), Some("prisma migrate dev"));
        assert!(flags.is_empty());
        assert_eq!(d.len(), 2);
        assert_eq!(parse("./x", &none, &mut d), Err(DropReason::InvalidFormat));
        assert_eq!(parse(&"a ".repeat(400), &none, &mut d), Err(DropReason::TooLong));
    }

    #[test]
    fn registered_paths_and_flags_are_all_that_is_kept() {
        let mut v = Vocabulary::new();
        v.add(WordKind::Command, "tool deploy").unwrap();
        v.add(WordKind::Flag, "--force").unwrap();
        let mut d = Vec::new();
        let (path, flags) = parse("tool deploy prodbox --force --region=eu", &v, &mut d).unwrap();
        assert_eq!(path.as_deref(), Some("tool deploy"));
        assert_eq!(flags, ["--force"]);
        let reasons: Vec<_> = d.iter().map(|x| x.reason).collect();
        assert_eq!(
            reasons,
            [
                DropReason::ArgumentValue,
                DropReason::NotInVocabulary,
                DropReason::ArgumentValue
            ]
        );
        d.clear();
        assert_eq!(parse("alices-macbook", &v, &mut d), Err(DropReason::InvalidFormat));
        assert_eq!(d[0].reason, DropReason::NotInVocabulary);
    }
}
