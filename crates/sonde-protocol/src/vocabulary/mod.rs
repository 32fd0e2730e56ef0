//! A product's vocabulary: the command paths, flag names, metrics keys,
//! console event types, experimental feature names and database kinds its
//! clients send. Where a product has registered words of a kind, a value of
//! that kind is stored only if it is one of them (otherwise it is dropped as
//! `not_in_vocabulary`); where it has none, the value must fit a tight
//! identifier shape instead (see [`crate::shapes`]).
//!
//! Free-form identifiers are where names leak: a command word that is a
//! host name (`alices-macbook`), a metrics key or console event type that
//! is a table name. A vocabulary closes them the way route templates close
//! console routes.
//!
//! Products register words through the admin API (`POST /api/v1/vocabulary`);
//! `hasura` has its vocabulary built in ([`builtin`]).
//!
//! ```
//! use sonde_protocol::vocabulary::{Vocabulary, WordKind};
//! let mut v = Vocabulary::new();
//! v.add(WordKind::Command, "tool deploy").unwrap();
//! v.add(WordKind::MetricKey, "relationships.manual.object").unwrap();
//! assert_eq!(v.command_path(&["tool", "deploy", "prod"]), Some(2));
//! assert!(v.metric_path_allowed("relationships.manual"));
//! assert!(v.metric_path_allowed("relationships.manual.object"));
//! assert!(!v.metric_path_allowed("customers"));
//! ```

use std::collections::HashSet;

use crate::limits::{MAX_COMMAND_WORDS, MAX_COMMAND_WORD_LEN, MAX_FLAG_LEN, MAX_METRICS_KEY_LEN, MAX_TOKEN_LEN};
use crate::privacy::find_identifying;

pub mod hasura_words;

/// Most words a product may register, all kinds together.
pub const MAX_WORDS_PER_PRODUCT: usize = 5000;

/// The kinds of words a vocabulary holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WordKind {
    /// A command path (`hasura migrate apply`): space-separated command words.
    Command,
    /// A flag name with its dashes (`--endpoint`, `-v`).
    Flag,
    /// A metrics key as a dotted path (`relationships.manual.object`).
    MetricKey,
    /// A console event type (`ModifyTable/RESET`).
    EventType,
    /// An experimental feature name (`inherited_roles`).
    ExperimentalFeature,
    /// A database kind (`postgres`).
    DbKind,
}

impl WordKind {
    /// Every kind, in a stable order.
    pub const ALL: [WordKind; 6] = [
        WordKind::Command,
        WordKind::Flag,
        WordKind::MetricKey,
        WordKind::EventType,
        WordKind::ExperimentalFeature,
        WordKind::DbKind,
    ];

    /// A short stable name, as stored and in the admin API.
    pub fn as_str(self) -> &'static str {
        match self {
            WordKind::Command => "commands",
            WordKind::Flag => "flags",
            WordKind::MetricKey => "metric_keys",
            WordKind::EventType => "event_types",
            WordKind::ExperimentalFeature => "experimental_features",
            WordKind::DbKind => "db_kinds",
        }
    }

    /// The kind named `s`, the inverse of [`WordKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Why a word was refused at registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabularyError {
    /// It does not have the shape of its kind.
    #[error("{kind} word {word:?} does not have the shape of its kind (see docs/events.md)")]
    BadShape {
        /// The kind.
        kind: &'static str,
        /// The word.
        word: String,
    },
    /// It holds something that could identify a person.
    #[error("{kind} word {word:?} holds an identifying value ({hit})")]
    Identifying {
        /// The kind.
        kind: &'static str,
        /// The word.
        word: String,
        /// What was found.
        hit: &'static str,
    },
}

/// A product's registered words, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    commands: HashSet<String>,
    flags: HashSet<String>,
    metric_keys: HashSet<String>,
    /// Every proper prefix of a registered metrics key (`relationships`,
    /// `relationships.manual`): the objects on the way to a leaf.
    metric_objects: HashSet<String>,
    event_types: HashSet<String>,
    features: HashSet<String>,
    db_kinds: HashSet<String>,
}

/// A command word: `[a-z][a-z0-9_-]*`, at most 32 bytes.
pub(crate) fn is_command_word(w: &str) -> bool {
    w.len() <= MAX_COMMAND_WORD_LEN
        && w.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && w.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
}

/// A flag name: one or two dashes, then `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 64 bytes.
pub(crate) fn is_flag_name(name: &str) -> bool {
    let bare = name.trim_start_matches('-');
    let dashes = name.len() - bare.len();
    name.len() <= MAX_FLAG_LEN
        && (1..=2).contains(&dashes)
        && bare.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A metrics key segment: `[a-z][a-z0-9_]*`, at most 64 bytes.
pub(crate) fn is_metric_segment(s: &str) -> bool {
    s.len() <= MAX_METRICS_KEY_LEN
        && s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A console event type shape: an optional `@@` (and a lower-case module), then up to four
/// `/`-separated segments, each PascalCase (`ModifyTable`) or UPPER_SNAKE
/// (`RESET`): a lower-case table or schema name does not fit.
pub(crate) fn is_event_type(s: &str) -> bool {
    // Redux's own actions (`@@router/LOCATION_CHANGE`) name their module in
    // lower case.
    let body = match s.strip_prefix("@@") {
        Some(rest) => match rest.split_once('/') {
            Some((module, rest)) if !module.is_empty() && module.bytes().all(|b| b.is_ascii_lowercase()) => rest,
            _ => rest,
        },
        None => s,
    };
    !body.is_empty()
        && s.len() <= crate::limits::MAX_ACTION_LEN
        && body.split('/').count() <= 4
        && body.split('/').all(|seg| {
            seg.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
                && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !(seg.bytes().any(|b| b.is_ascii_lowercase()) && seg.contains('_'))
        })
}

/// A short lower-case token: `[a-z0-9_-]`, at most 48 bytes.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_TOKEN_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
}

impl Vocabulary {
    /// An empty vocabulary: every kind falls back to its shape.
    pub fn new() -> Self {
        Vocabulary::default()
    }

    /// Checks a word of `kind` as registration does, without adding it.
    pub fn check(kind: WordKind, word: &str) -> Result<(), VocabularyError> {
        let shaped = match kind {
            WordKind::Command => {
                let n = word.split(' ').count();
                n <= MAX_COMMAND_WORDS && word.split(' ').all(is_command_word)
            }
            WordKind::Flag => is_flag_name(word),
            WordKind::MetricKey => {
                word.split('.').count() <= crate::limits::MAX_METRICS_DEPTH && word.split('.').all(is_metric_segment)
            }
            WordKind::EventType => {
                // Registered event types may use any action characters.
                !word.is_empty()
                    && word.len() <= crate::limits::MAX_ACTION_LEN
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b':' | b'.' | b'@' | b'-'))
            }
            WordKind::ExperimentalFeature | WordKind::DbKind => is_token(word),
        };
        if !shaped {
            return Err(VocabularyError::BadShape {
                kind: kind.as_str(),
                word: word.to_owned(),
            });
        }
        if let Some(hit) = find_identifying(word) {
            return Err(VocabularyError::Identifying {
                kind: kind.as_str(),
                word: word.to_owned(),
                hit: hit.as_str(),
            });
        }
        Ok(())
    }

    /// Adds a word of `kind` after [`Vocabulary::check`]; returns whether it
    /// was new.
    pub fn add(&mut self, kind: WordKind, word: &str) -> Result<bool, VocabularyError> {
        Self::check(kind, word)?;
        let set = match kind {
            WordKind::Command => &mut self.commands,
            WordKind::Flag => &mut self.flags,
            WordKind::MetricKey => {
                let mut at = 0;
                while let Some(dot) = word[at..].find('.') {
                    self.metric_objects.insert(word[..at + dot].to_owned());
                    at += dot + 1;
                }
                &mut self.metric_keys
            }
            WordKind::EventType => &mut self.event_types,
            WordKind::ExperimentalFeature => &mut self.features,
            WordKind::DbKind => &mut self.db_kinds,
        };
        Ok(set.insert(word.to_owned()))
    }

    /// Adds every word of `other`.
    pub fn extend(&mut self, other: &Vocabulary) {
        self.commands.extend(other.commands.iter().cloned());
        self.flags.extend(other.flags.iter().cloned());
        self.metric_keys.extend(other.metric_keys.iter().cloned());
        self.metric_objects.extend(other.metric_objects.iter().cloned());
        self.event_types.extend(other.event_types.iter().cloned());
        self.features.extend(other.features.iter().cloned());
        self.db_kinds.extend(other.db_kinds.iter().cloned());
    }

    /// The words of `kind`, sorted.
    pub fn words(&self, kind: WordKind) -> Vec<String> {
        let mut v: Vec<String> = self.set(kind).iter().cloned().collect();
        v.sort();
        v
    }

    fn set(&self, kind: WordKind) -> &HashSet<String> {
        match kind {
            WordKind::Command => &self.commands,
            WordKind::Flag => &self.flags,
            WordKind::MetricKey => &self.metric_keys,
            WordKind::EventType => &self.event_types,
            WordKind::ExperimentalFeature => &self.features,
            WordKind::DbKind => &self.db_kinds,
        }
    }

    /// Whether any word of `kind` is registered (then values of that kind
    /// must be registered words; otherwise they must fit the kind's shape).
    pub fn has(&self, kind: WordKind) -> bool {
        !self.set(kind).is_empty()
    }

    /// Whether `word` is a registered word of `kind`.
    pub fn contains(&self, kind: WordKind, word: &str) -> bool {
        self.set(kind).contains(word)
    }

    /// How many leading `words` form the longest registered command path, if
    /// any does.
    pub fn command_path(&self, words: &[&str]) -> Option<usize> {
        let mut path = String::new();
        let mut best = None;
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                path.push(' ');
            }
            path.push_str(w);
            if self.commands.contains(&path) {
                best = Some(i + 1);
            }
        }
        best
    }

    /// Whether a metrics object or leaf at the dotted `path` may be kept: it
    /// is a registered key, or on the way to one.
    pub fn metric_path_allowed(&self, path: &str) -> bool {
        self.metric_keys.contains(path) || self.metric_objects.contains(path)
    }

    /// How many words it holds, all kinds together.
    pub fn len(&self) -> usize {
        WordKind::ALL.iter().map(|k| self.set(*k).len()).sum()
    }

    /// Whether it holds no word.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The built-in vocabulary of `product` (only `hasura` has one), built once.
///
/// ```
/// use sonde_protocol::vocabulary::{builtin, WordKind};
/// assert!(builtin("hasura").contains(WordKind::Command, "hasura migrate apply"));
/// assert!(builtin("my-tool").is_empty());
/// ```
pub fn builtin(product: &str) -> &'static Vocabulary {
    static EMPTY: std::sync::OnceLock<Vocabulary> = std::sync::OnceLock::new();
    static HASURA: std::sync::OnceLock<Vocabulary> = std::sync::OnceLock::new();
    match product {
        "hasura" => HASURA.get_or_init(|| {
            let mut v = Vocabulary::new();
            for (kind, words) in hasura_words::ALL {
                for w in *words {
                    // The lists are checked by a unit test; a word that fails
                    // its shape is left out rather than break ingestion.
                    let _ = v.add(*kind, w);
                }
            }
            for path in service_timing_paths() {
                let _ = v.add(WordKind::MetricKey, &path);
            }
            v
        }),
        _ => EMPTY.get_or_init(Vocabulary::new),
    }
}

/// Every metrics path a Hasura server's service timings are stored under
/// (`service_timings.<query type>_<locality>_<transport>.<bucket>.<counter>`,
/// see [`crate::hasura::vocab::SERVICE_TIMING_QUERY_TYPES`]).
fn service_timing_paths() -> Vec<String> {
    use crate::hasura::vocab::{
        SERVICE_TIMING_BUCKETS, SERVICE_TIMING_COUNTERS, SERVICE_TIMING_LOCALITIES, SERVICE_TIMING_QUERY_TYPES,
        SERVICE_TIMING_TRANSPORTS,
    };
    let mut out = Vec::new();
    for q in SERVICE_TIMING_QUERY_TYPES {
        for l in SERVICE_TIMING_LOCALITIES {
            for t in SERVICE_TIMING_TRANSPORTS {
                for (_, bucket) in SERVICE_TIMING_BUCKETS {
                    for counter in SERVICE_TIMING_COUNTERS {
                        out.push(format!("service_timings.{q}_{l}_{t}.{bucket}.{counter}").to_ascii_lowercase());
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_hasura_lists_all_pass_their_shapes() {
        for (kind, words) in hasura_words::ALL {
            for w in *words {
                assert_eq!(Vocabulary::check(*kind, w), Ok(()), "{w}");
            }
        }
        for path in service_timing_paths() {
            assert_eq!(Vocabulary::check(WordKind::MetricKey, &path), Ok(()), "{path}");
        }
        let h = builtin("hasura");
        assert!(h.metric_path_allowed("service_timings.query_local_http.gt_0_05.count"));
        assert!(h.metric_path_allowed("relationships"));
        assert!(h.contains(WordKind::Flag, "--endpoint"));
    }

    #[test]
    fn registration_refuses_bad_and_identifying_words() {
        let mut v = Vocabulary::new();
        assert!(v.add(WordKind::Command, "tool Deploy").is_err());
        assert!(v.add(WordKind::MetricKey, "Customers").is_err());
        assert!(matches!(
            v.add(WordKind::EventType, "Open/glpat-xxxxxxxxxxxxxxxxxxxx"),
            Err(VocabularyError::Identifying { .. })
        ));
        assert_eq!(v.add(WordKind::Flag, "--force"), Ok(true));
        assert_eq!(v.add(WordKind::Flag, "--force"), Ok(false));
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn event_type_shape_refuses_lower_case_names() {
        for ok in [
            "ModifyTable/RESET",
            "@@router/LOCATION_CHANGE",
            "Data/UPDATE_CURRENT_SCHEMA",
            "X",
        ] {
            assert!(is_event_type(ok), "{ok}");
        }
        for bad in ["ModifyTable/customers", "public.users", "Data/orders_2024", "a/b"] {
            assert!(!is_event_type(bad), "{bad}");
        }
    }
}
