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

use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::state::{self, object, str_field, Json};

/// Size at which the ledger is trimmed.
pub const MAX_LEDGER_BYTES: u64 = 256 * 1024;
/// Entries kept when the ledger is trimmed.
pub const KEEP_ENTRIES: usize = 200;

/// One payload, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// When, RFC 3339 UTC.
    pub at: String,
    /// `sent` (the collector accepted it), `local` (recorded only, `local` mode),
    /// `rejected` (the collector refused it with a 4xx; it will not be retried).
    pub outcome: String,
    /// HTTP method.
    pub method: String,
    /// The full URL, query included: exactly what was requested.
    pub url: String,
    /// The JSON body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// The HTTP status, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl Json for LedgerEntry {
    fn from_json(v: &Value) -> Option<Self> {
        Some(LedgerEntry {
            at: str_field(v, "at")?,
            outcome: str_field(v, "outcome")?,
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
            ("outcome", Some(self.outcome.clone().into())),
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
        let path = dir.path().join("ledger.jsonl");
        let entry = |i: usize| LedgerEntry {
            at: state::rfc3339(i as u64),
            outcome: "sent".into(),
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
}
