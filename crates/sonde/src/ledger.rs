//! The ledger: a bounded local record of every payload that left the machine
//! (or, in `local` mode, would have), so `<tool> telemetry log` can show
//! exactly what was sent, when and where.
//!
//! One JSON object per line in `ledger.jsonl`. Appends are cheap; when the file
//! grows past [`MAX_LEDGER_BYTES`] it is rewritten (atomically) keeping the
//! newest [`KEEP_ENTRIES`] entries.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use std::fmt;

use serde_json::Value;

use crate::state::{self, object, str_field, Json};

/// Size at which the ledger is trimmed.
pub const MAX_LEDGER_BYTES: u64 = 256 * 1024;
/// Entries kept when the ledger is trimmed.
pub const KEEP_ENTRIES: usize = 200;

/// What became of a recorded payload; written in the ledger as `sent`,
/// `local` or `rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The collector accepted it.
    Sent,
    /// Recorded only (`local` mode); nothing was sent.
    Local,
    /// The collector refused it with a 4xx; it will not be retried.
    Rejected,
}

impl Outcome {
    /// The word written in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Local => "local",
            Outcome::Rejected => "rejected",
        }
    }

    /// The outcome a ledger word names; `None` for any other word.
    pub fn parse(word: &str) -> Option<Self> {
        [Outcome::Sent, Outcome::Local, Outcome::Rejected]
            .into_iter()
            .find(|o| o.as_str() == word)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One payload, as recorded. Its JSON form (one line of `ledger.jsonl`) is
/// mapped by hand, like every state file (see `state::Json`).
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    /// When, RFC 3339 UTC.
    pub at: String,
    /// What became of it.
    pub outcome: Outcome,
    /// HTTP method.
    pub method: String,
    /// The full URL, query included: exactly what was requested.
    pub url: String,
    /// The JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// The HTTP status, when sent.
    pub status: Option<u16>,
}

impl Json for LedgerEntry {
    fn from_json(v: &Value) -> Option<Self> {
        Some(LedgerEntry {
            at: str_field(v, "at")?,
            outcome: Outcome::parse(&str_field(v, "outcome")?)?,
            method: str_field(v, "method")?,
            url: str_field(v, "url")?,
            body: v.get("body").filter(|b| !b.is_null()).cloned(),
            status: v
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok()),
        })
    }
    fn to_json(&self) -> Value {
        object([
            ("at", Some(self.at.clone().into())),
            ("outcome", Some(self.outcome.as_str().into())),
            ("method", Some(self.method.clone().into())),
            ("url", Some(self.url.clone().into())),
            ("body", self.body.clone()),
            ("status", self.status.map(Value::from)),
        ])
    }
}

/// Appends `entry`; trims the file when it is too large. Errors are ignored by
/// callers: a ledger that cannot be written must not break telemetry or the host.
pub(crate) fn append(path: &Path, entry: &LedgerEntry) -> std::io::Result<()> {
    let mut line = state::json_bytes(entry);
    line.push(b'\n');
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(&line)?;
    let len = f.metadata()?.len();
    drop(f);
    if len > MAX_LEDGER_BYTES {
        let kept = read(path);
        let start = kept.len().saturating_sub(KEEP_ENTRIES);
        let mut out = Vec::new();
        for e in &kept[start..] {
            out.extend(state::json_bytes(e));
            out.push(b'\n');
        }
        state::atomic_write(path, &out)?;
    }
    Ok(())
}

/// Every readable entry, oldest first; unreadable lines are skipped.
pub(crate) fn read(path: &Path) -> Vec<LedgerEntry> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines().filter_map(|l| state::parse_json(l.as_bytes())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::layout::LEDGER);
        let entry = |i: usize| LedgerEntry {
            at: state::rfc3339(i as u64),
            outcome: Outcome::Sent,
            method: "POST".into(),
            url: format!("http://127.0.0.1/x/{i}"),
            body: Some(serde_json::json!({"pad": "x".repeat(500)})),
            status: Some(201),
        };
        for i in 0..2000 {
            append(&path, &entry(i)).unwrap();
        }
        assert!(std::fs::metadata(&path).unwrap().len() <= MAX_LEDGER_BYTES + 1024);
        let all = read(&path);
        assert!(all.len() >= KEEP_ENTRIES && all.len() < 2000);
        assert_eq!(all.last().unwrap(), &entry(1999));
    }

    #[test]
    fn outcomes_keep_their_words_on_disk() {
        for (outcome, word) in [
            (Outcome::Sent, "sent"),
            (Outcome::Local, "local"),
            (Outcome::Rejected, "rejected"),
        ] {
            assert_eq!(outcome.to_string(), word);
            assert_eq!(Outcome::parse(word), Some(outcome));
        }
        let line =
            br#"{"at":"2026-11-22T01:02:03Z","outcome":"rejected","method":"GET","url":"http://x/","status":400}"#;
        let entry: LedgerEntry = state::parse_json(line).unwrap();
        assert_eq!((entry.outcome, entry.status), (Outcome::Rejected, Some(400)));
        let written = state::json_bytes(&entry);
        assert!(String::from_utf8_lossy(&written).contains(r#""outcome":"rejected""#));
        assert_eq!(state::parse_json::<LedgerEntry>(&written), Some(entry));
    }
}
