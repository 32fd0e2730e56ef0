//! Error reports kept on this machine: every report that is not sent (the
//! user said no, nobody could be asked, telemetry is off or `never` is
//! saved) is written, scrubbed, to `error-reports/<report id>.json` in the
//! state directory, so that the user can read it, attach it to an issue, or
//! send it later (`<tool> telemetry errors send <file>`). Only the newest
//! [`KEEP_SAVED_REPORTS`] are kept; report ids are UUID v7, so their names
//! sort by time and the oldest are removed first.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;
use crate::layout;
use crate::state::{self, StateDir};

/// How many saved reports are kept per tool.
pub const KEEP_SAVED_REPORTS: usize = 10;

/// Writes the report `body` (its wire JSON, pretty-printed so a person can
/// read it) and removes the oldest beyond the bound. Returns its path.
pub(crate) fn save(state: &StateDir, report_id: &str, body: &Value) -> io::Result<PathBuf> {
    let dir = state.path(layout::ERROR_REPORTS_DIR);
    fs::create_dir_all(&dir)?;
    let name: String = report_id
        .chars()
        .filter(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    let path = dir.join(format!("{name}.json"));
    let mut text = serde_json::to_string_pretty(body).unwrap_or_default();
    text.push('\n');
    state::atomic_write(&path, text.as_bytes())?;
    let all = list(state);
    for old in all.iter().take(all.len().saturating_sub(KEEP_SAVED_REPORTS)) {
        let _ = fs::remove_file(old);
    }
    Ok(path)
}

/// The saved reports, oldest first.
pub(crate) fn list(state: &StateDir) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(state.path(layout::ERROR_REPORTS_DIR)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    paths
}

/// Reads a saved report: a JSON object with a `schema`, a `report_id` and a
/// `kind`, as [`save`] writes it.
pub(crate) fn read(path: &Path) -> Result<Value, Error> {
    let bad = |reason: &str| Error::NotAReport {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let bytes = fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
    for field in ["schema", "report_id", "kind"] {
        if value.get(field).is_none_or(Value::is_null) {
            return Err(bad(&format!("no \"{field}\"")));
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_reports_are_kept_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_owned());
        let mut ids = Vec::new();
        for i in 0..KEEP_SAVED_REPORTS + 3 {
            let id = sonde_protocol::uuid::v7(1_700_000_000_000 + i as u64, [7; 16]);
            let body = serde_json::json!({"schema": 1, "report_id": id, "kind": "panic"});
            save(&state, &id, &body).unwrap();
            ids.push(id);
        }
        let kept = list(&state);
        assert_eq!(kept.len(), KEEP_SAVED_REPORTS);
        assert!(kept[0].ends_with(format!("{}.json", ids[3])), "{kept:?}");
        assert_eq!(read(&kept[9]).unwrap()["report_id"], ids[12].as_str());
        std::fs::write(dir.path().join("other.json"), "{\"a\": 1}").unwrap();
        assert!(matches!(
            read(&dir.path().join("other.json")),
            Err(Error::NotAReport { .. })
        ));
    }
}
