//! The spool: requests waiting for the detached uploader, one JSON file each
//! under `spool/`.
//!
//! An item is a generic request — method, path (with query) relative to the
//! endpoint, optional JSON body, when it was queued and how often it was tried
//! — so any kind of telemetry (the checkpoint ping, command events, server
//! heartbeats) goes through the same queue, the same uploader and the same
//! ledger. An item with a `key` replaces any queued item with the same key
//! (one pending ping, one pending heartbeat); others get a unique file name.
//!
//! Files are written atomically; a corrupt file is deleted by the uploader.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::state::{self, now_millis, now_secs, object, str_field, u64_field, Json};

/// One queued request. Its JSON form (one file under `spool/`) is mapped by
/// hand, like every state file (see `state::Json`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// Path and query relative to the endpoint, starting with `/`
    /// (`/v1/check/mytool?version=1.2.3`).
    pub path: String,
    /// JSON body, sent with `Content-Type: application/json` (POST only).
    pub body: Option<serde_json::Value>,
    /// When it was queued, Unix seconds.
    pub created_at: u64,
    /// How many times sending was tried and failed.
    pub attempts: u32,
    /// Not before this time (Unix seconds), after a failed attempt.
    pub next_attempt_at: u64,
    /// Coalescing key: a newer item with the same key replaces this one.
    pub key: Option<String>,
    /// If set, a successful answer's JSON body is saved under this file name in
    /// the state directory (the checkpoint answer goes to `check.json`).
    pub save_answer_as: Option<String>,
}

impl Json for QueuedRequest {
    fn from_json(v: &Value) -> Option<Self> {
        Some(QueuedRequest {
            method: str_field(v, "method")?,
            path: str_field(v, "path")?,
            body: v.get("body").filter(|b| !b.is_null()).cloned(),
            created_at: u64_field(v, "created_at")?,
            attempts: u64_field(v, "attempts")
                .and_then(|a| u32::try_from(a).ok())
                .unwrap_or(0),
            next_attempt_at: u64_field(v, "next_attempt_at").unwrap_or(0),
            key: str_field(v, "key"),
            save_answer_as: str_field(v, "save_answer_as"),
        })
    }
    fn to_json(&self) -> Value {
        object([
            ("method", Some(self.method.clone().into())),
            ("path", Some(self.path.clone().into())),
            ("body", self.body.clone()),
            ("created_at", Some(self.created_at.into())),
            ("attempts", Some(self.attempts.into())),
            ("next_attempt_at", Some(self.next_attempt_at.into())),
            ("key", self.key.clone().map(Value::from)),
            ("save_answer_as", self.save_answer_as.clone().map(Value::from)),
        ])
    }
}

impl QueuedRequest {
    /// A `GET` of `path` (which may carry a query).
    pub fn get(path: impl Into<String>) -> Self {
        Self::new("GET", path.into(), None)
    }

    /// A `POST` of `body` as JSON to `path`.
    pub fn post_json(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self::new("POST", path.into(), Some(body))
    }

    fn new(method: &str, path: String, body: Option<serde_json::Value>) -> Self {
        Self {
            method: method.to_owned(),
            path,
            body,
            created_at: now_secs(),
            attempts: 0,
            next_attempt_at: 0,
            key: None,
            save_answer_as: None,
        }
    }

    /// Sets the coalescing key (`[a-z0-9_-]`, other characters are replaced).
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The file name this item is stored under.
    fn file_name(&self) -> String {
        match &self.key {
            Some(k) => {
                let safe: String = k
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .take(64)
                    .collect();
                format!("k-{safe}.json")
            }
            None => format!("q-{:016}-{}.json", now_millis(), crate::random::unique_id()),
        }
    }
}

/// Writes `item` into `spool_dir` (which must exist); returns its path.
pub(crate) fn enqueue(spool_dir: &Path, item: &QueuedRequest) -> io::Result<PathBuf> {
    let path = spool_dir.join(item.file_name());
    let bytes = state::json_bytes(item);
    // Keyed items replace their predecessor; see `replace_write` for why the
    // old file is removed first.
    state::replace_write(&path, &bytes)?;
    Ok(path)
}

/// Whether the spool holds at least one item (cheap: stops at the first file).
pub(crate) fn has_items(spool_dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(spool_dir) else {
        return false;
    };
    entries
        .flatten()
        .any(|e| is_item_name(&e.file_name().to_string_lossy()))
}

fn is_item_name(name: &str) -> bool {
    !name.starts_with('.') && name.ends_with(".json")
}

/// Every item file, keyed items first, then queued ones oldest first.
pub(crate) fn list(spool_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(spool_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if is_item_name(&name) {
            names.push(name);
        } else if name.starts_with('.') && name.ends_with(".tmp") {
            // A temporary file left by a process that died mid-write.
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if old {
                let _ = fs::remove_file(e.path());
            }
        }
    }
    names.sort();
    names.into_iter().map(|n| spool_dir.join(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_items_coalesce_and_others_accumulate() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_items(dir.path()));
        enqueue(
            dir.path(),
            &QueuedRequest::get("/v1/check/p?version=1").with_key("check"),
        )
        .unwrap();
        enqueue(
            dir.path(),
            &QueuedRequest::get("/v1/check/p?version=2").with_key("check"),
        )
        .unwrap();
        enqueue(
            dir.path(),
            &QueuedRequest::post_json("/api/v1/events", serde_json::json!({"a": 1})),
        )
        .unwrap();
        enqueue(
            dir.path(),
            &QueuedRequest::post_json("/api/v1/events", serde_json::json!({"a": 2})),
        )
        .unwrap();
        let items = list(dir.path());
        assert_eq!(items.len(), 3);
        let first: QueuedRequest = state::read_json_file(&items[0]).unwrap();
        assert_eq!(first.path, "/v1/check/p?version=2");
        assert!(has_items(dir.path()));
    }
}
