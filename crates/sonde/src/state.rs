//! The one directory where the library keeps its files, and the primitives it
//! uses on them: atomic writes (temporary file + rename), lenient reads (a
//! corrupt or unreadable file reads as absent and is replaced on the next
//! write), and non-blocking locks (`File::try_lock`).
//!
//! The names of the files are declared in [`crate::layout`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::layout;

/// Now, in Unix seconds.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Now, in Unix milliseconds.
pub(crate) fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The state directory of one product. Creating the value touches nothing.
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    root: PathBuf,
}

impl StateDir {
    pub(crate) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    pub(crate) fn spool_dir(&self) -> PathBuf {
        self.root.join(layout::SPOOL)
    }

    /// Creates the directory (and `spool/`) if missing.
    pub(crate) fn create(&self) -> io::Result<()> {
        fs::create_dir_all(self.spool_dir())
    }

    /// Reads a file as text; `None` when missing or unreadable.
    pub(crate) fn read_text(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.path(name)).ok()
    }

    /// Reads a JSON file; `None` when missing, unreadable or corrupt.
    pub(crate) fn read_json<T: Json>(&self, name: &str) -> Option<T> {
        read_json_file(&self.path(name))
    }

    /// Reads a file holding one integer (Unix seconds); `None` when missing or corrupt.
    pub(crate) fn read_u64(&self, name: &str) -> Option<u64> {
        self.read_text(name)?.trim().parse().ok()
    }

    /// Writes one integer; see [`replace_write`] (readers may briefly see none).
    pub(crate) fn write_u64(&self, name: &str, value: u64) -> io::Result<()> {
        replace_write(&self.path(name), value.to_string().as_bytes())
    }

    /// Sets the modification time of `name` (created empty if missing) to
    /// `secs`: a timestamp kept without writing any data.
    pub(crate) fn stamp(&self, name: &str, secs: u64) -> io::Result<()> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path(name))?;
        f.set_modified(UNIX_EPOCH + std::time::Duration::from_secs(secs))
    }

    /// The modification time of `name`, Unix seconds; `None` when missing.
    pub(crate) fn stamp_of(&self, name: &str) -> Option<u64> {
        let modified = fs::metadata(self.path(name)).ok()?.modified().ok()?;
        modified.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
    }

    pub(crate) fn write_json<T: Json>(&self, name: &str, value: &T) -> io::Result<()> {
        write_json_file(&self.path(name), value)
    }

    /// Tries to take an exclusive lock on `name` without waiting. `None` when
    /// another process holds it, or the file cannot be opened.
    pub(crate) fn try_lock(&self, name: &str) -> Option<File> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path(name))
            .ok()?;
        match file.try_lock() {
            Ok(()) => Some(file),
            Err(_) => None,
        }
    }

    /// Whether someone holds the lock `name` right now (the file is not created).
    pub(crate) fn is_locked(&self, name: &str) -> bool {
        let Ok(file) = OpenOptions::new().write(true).open(self.path(name)) else {
            return false;
        };
        let locked = file.try_lock().is_err();
        // Dropping the file releases our lock, if we got it.
        locked
    }
}

/// The library's files, to and from JSON. Every file goes through
/// `serde_json::Value` (parsed and printed by one instance of serde_json's
/// code) and each type maps its fields by hand: a derived `Deserialize` per
/// file type would add its own copy of the parser to the host's binary.
/// Reading is lenient: a field of the wrong type reads as its default, a
/// missing required field makes the whole file read as absent.
pub(crate) trait Json: Sized {
    /// The value from its JSON form; `None` when a required field is missing.
    fn from_json(v: &Value) -> Option<Self>;
    /// The JSON form.
    fn to_json(&self) -> Value;
}

impl Json for Value {
    fn from_json(v: &Value) -> Option<Self> {
        Some(v.clone())
    }
    fn to_json(&self) -> Value {
        self.clone()
    }
}

/// A string field.
pub(crate) fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(str::to_owned)
}

/// An unsigned integer field.
pub(crate) fn u64_field(v: &Value, key: &str) -> Option<u64> {
    v.get(key)?.as_u64()
}

/// A JSON object from `(key, value)` pairs, leaving out `None`s.
pub(crate) fn object<const N: usize>(fields: [(&str, Option<Value>); N]) -> Value {
    let mut map = Map::new();
    for (k, v) in fields {
        if let Some(v) = v {
            map.insert(k.to_owned(), v);
        }
    }
    Value::Object(map)
}

/// Parses JSON text; `None` when it is not JSON.
pub(crate) fn parse_json<T: Json>(bytes: &[u8]) -> Option<T> {
    T::from_json(&serde_json::from_slice::<Value>(bytes).ok()?)
}

/// Reads a JSON file; `None` when missing, unreadable or corrupt.
pub(crate) fn read_json_file<T: Json>(path: &Path) -> Option<T> {
    parse_json(&fs::read(path).ok()?)
}

/// Compact JSON text of `value`.
pub(crate) fn json_bytes<T: Json>(value: &T) -> Vec<u8> {
    // Printing a `Value` into a Vec cannot fail (keys are strings).
    serde_json::to_vec(&value.to_json()).unwrap_or_default()
}

/// Serialises `value` and writes it atomically.
pub(crate) fn write_json_file<T: Json>(path: &Path, value: &T) -> io::Result<()> {
    atomic_write(path, &json_bytes(value))
}

static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`: readers see the old content or the new, never half of it. No fsync:
/// after a power cut the newest write may be lost, but never half written.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Like [`atomic_write`], but removes `path` before renaming onto it. A
/// rename that replaces a file makes ext4 flush the new file's data
/// (`auto_da_alloc`), which costs milliseconds; a rename onto a free name does
/// not. Readers may briefly see no file, never a partial one.
pub(crate) fn replace_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    atomic_write(path, bytes)
}

/// Formats Unix seconds as RFC 3339 in UTC (`2026-11-22T01:02:03Z`), through
/// the protocol crate's formatter.
pub(crate) fn rfc3339(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    sonde_protocol::timefmt::format_rfc3339(secs).unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_309_323), "2026-11-22T01:02:03Z");
    }

    #[test]
    fn corrupt_json_reads_as_absent_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("p"));
        state.create().unwrap();
        fs::write(state.path("x.json"), b"{\"trunc").unwrap();
        assert_eq!(state.read_json::<serde_json::Value>("x.json"), None);
        state.write_json("x.json", &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(
            state.read_json::<serde_json::Value>("x.json"),
            Some(serde_json::json!({"a": 1}))
        );
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(state.root())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_held_lock_is_not_granted_twice() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let held = state.try_lock("l").unwrap();
        assert!(state.try_lock("l").is_none());
        assert!(state.is_locked("l"));
        drop(held);
        assert!(!state.is_locked("l"));
        assert!(state.try_lock("l").is_some());
    }
}
